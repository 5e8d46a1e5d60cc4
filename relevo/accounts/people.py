"""People management over HTTP: the admins' (and the inbox supervisors')
API behind ``/admin/personas``.

Routes (all answer JSON; all need a live sign-in session — the cookie)::

    GET   /admin/personas               the page (anyone; its data needs the API)
    GET   /api/people                   the people the caller manages, with last sign-in
    POST  /api/people                   {username, name, roles, tenant?} → a temporary password
    GET   /api/people/audit?limit=      sign-ins and failures of those people
    PATCH /api/people/{id}              {name?, roles?}
    POST  /api/people/{id}/password     reset: a new temporary password, shown once
    POST  /api/people/{id}/deactivate   sessions and live connections end at once
    POST  /api/people/{id}/activate

Who manages whom (:class:`Manager`): a **global admin** (``admin`` among the
roles of every app, ``"*"``) manages everyone; an inbox **supervisor** only
the people of their own tenant whose roles are inbox roles (``agente``,
``supervisor``) — never an admin, never another tenant. Anyone else: 403.
A person out of the caller's reach answers 404, exactly as a missing one.

Only the session cookie counts (not a Bearer JWT): a JWT's flat ``roles``
cannot tell a global admin from an app's admin, and the session is looked up
in the database on every call, so a deactivated manager stops at once. The
cross-site guard (:mod:`relevo.web.csrf`) has refused cookie posts from other
origins before a route runs.

A temporary password is made by the server (:func:`temporary_password`),
returned once in the answer to the call that made it, and must be changed at
the next sign-in (``must_change_password``); it is never logged.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route

from relevo.accounts.errors import AccountExists, AccountNotFound, InvalidAccount
from relevo.accounts.http import SignIn, no_store
from relevo.accounts.model import ALL_APPS, Account, normalize_roles
from relevo.protocol.errors import (
    AuthError,
    Conflict,
    NotFound,
    PermissionDenied,
    ProtocolError,
    RelevoError,
)
from relevo.web import error_response, json_response, read_json
from relevo.web.cookies import session_cookie

__all__ = ["ADMIN", "Manager", "People", "temporary_password"]

log = logging.getLogger("relevo.accounts")

ADMIN = "admin"
#: The app whose supervisors manage their own tenant's people, and the roles
#: they may give.
TENANT_APP = "inbox"
SUPERVISOR = "supervisor"
TENANT_ROLES = frozenset({"agente", "supervisor"})
MAX_BODY = 4096
MAX_AUDIT = 500
#: Letters and digits nobody confuses when reading them aloud (no 0/o, 1/l/i).
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"

PAGE = resources.files("relevo.server") / "static" / "people.html"

MENSAJES = {
    "unauthorized": "Tu sesión terminó. Vuelve a entrar.",
    "forbidden": "No tienes permiso para gestionar personas.",
    "not_found": "Esa persona no existe o no la gestionas tú.",
    "exists": "Ese usuario ya existe. Elige otro.",
    "self": "No puedes desactivarte a ti mismo.",
    "bad_request": "Revisa los datos del formulario.",
    "change_first": "Cambia tu contraseña antes de seguir.",
}
#: Spanish for the store's refusals, by how its English message starts.
_INVALID = (
    ("a username", "El usuario tiene de 1 a 64 letras minúsculas, dígitos, «.», «_», «@» o «-»."),
    ("a display name", "El nombre tiene de 1 a 100 caracteres."),
    ("a tenant", "El tenant tiene hasta 64 letras, dígitos, «.», «_» o «-»."),
    ("roles [", "No puedes dar esos roles."),
    ("a person needs", "Elige al menos un rol."),
    ("role", "Elige los roles de la lista."),
    ("an app", "Elige los roles de la lista."),
    ("name", "Escribe el nombre."),
    ("username", "Escribe el usuario."),
)


def temporary_password() -> str:
    """Twelve random characters in three groups (``k7mq-2xhe-9rtp``): about
    59 bits, readable over the phone, and longer than the policy's minimum."""
    chars = "".join(secrets.choice(_ALPHABET) for _ in range(12))
    return "-".join(chars[i : i + 4] for i in range(0, 12, 4))


@dataclass(frozen=True, slots=True)
class Manager:
    """Who is asking and whom they may manage: ``tenant`` is ``None`` for a
    global admin (everyone), else the only tenant they reach."""

    account: Account
    tenant: str | None
    roles: Mapping[str, frozenset[str]]
    """The roles they may give, per app (``"*"``: in every app)."""

    @classmethod
    def of(cls, account: Account, known: Mapping[str, frozenset[str]]) -> Manager:
        if ADMIN in account.roles.get(ALL_APPS, ()):
            return cls(account, None, known)
        if TENANT_APP in known and SUPERVISOR in account.roles_for(TENANT_APP) and account.tenant:
            give = {TENANT_APP: known[TENANT_APP] & TENANT_ROLES}
            return cls(account, account.tenant, give)
        raise PermissionDenied("managing people needs the admin role (or inbox supervisor)")

    def reaches(self, person: Account) -> bool:
        if self.tenant is None:
            return True
        # someone of their tenant holding only roles they may give (and some)
        return (
            person.tenant == self.tenant
            and bool(person.roles)
            and all(
                app in self.roles and set(roles) <= self.roles[app]
                for app, roles in person.roles.items()
            )
        )

    def check_roles(self, raw: Any) -> dict[str, tuple[str, ...]]:
        """``raw`` as stored roles, each one this manager may give; at least one."""
        if not isinstance(raw, Mapping):
            raise InvalidAccount('roles are an object of app to roles: {"leads": ["asesor"]}')
        roles = normalize_roles(raw)
        for app, names in roles.items():
            allowed = self.roles.get(app, frozenset())
            unknown = sorted(set(names) - allowed)
            if unknown:
                raise InvalidAccount(f"roles {unknown} cannot be given in {app!r}")
        if not roles:
            raise InvalidAccount("a person needs at least one role")
        return roles


def person(account: Account) -> dict[str, Any]:
    """What the people API shows of an account: no hash, no session."""
    return {
        "id": account.id,
        "username": account.username,
        "name": account.display_name,
        "tenant": account.tenant,
        "roles": {app: list(roles) for app, roles in account.roles.items()},
        "active": account.active,
        "must_change_password": account.must_change_password,
        "created_at": account.created_at,
        "last_sign_in_at": account.last_sign_in_at,
    }


@dataclass
class People:
    """The people routes over a server's sign-in. ``known``: the roles that
    may be given per app (``"*"``: every app), the server's known set."""

    sign_in: SignIn
    known: Mapping[str, frozenset[str]] = field(default_factory=dict)
    listeners: list[Callable[[Account], Awaitable[None]]] = field(default_factory=list)
    """Told of every account this API creates or changes (the apps'
    directories, :mod:`relevo.apps.kit.directory`)."""

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/admin/personas", self.page, methods=["GET"]),
            Route("/api/people", self.listing, methods=["GET"]),
            Route("/api/people", self.create, methods=["POST"]),
            Route("/api/people/audit", self.audit, methods=["GET"]),
            Route("/api/people/{id:int}", self.update, methods=["PATCH"]),
            Route("/api/people/{id:int}/password", self.reset, methods=["POST"]),
            Route("/api/people/{id:int}/deactivate", self.deactivate, methods=["POST"]),
            Route("/api/people/{id:int}/activate", self.activate, methods=["POST"]),
        ]

    async def page(self, request: Request) -> Response:
        return FileResponse(
            str(PAGE), media_type="text/html", headers={"Cache-Control": "no-cache"}
        )

    # -- routes -------------------------------------------------------------------

    async def listing(self, request: Request) -> Response:
        async def run(me: Manager) -> Response:
            accounts = await self.sign_in.accounts.list(me.tenant)
            return json_response(
                {
                    "people": [person(a) for a in accounts if me.reaches(a)],
                    "me": {"id": me.account.id, "username": me.account.username},
                    "scope": {
                        "tenant": me.tenant,
                        "roles": {app: sorted(r) for app, r in me.roles.items()},
                    },
                }
            )

        return await self._call(request, run)

    async def create(self, request: Request) -> Response:
        async def run(me: Manager) -> Response:
            body = await read_json(request, MAX_BODY)
            roles = me.check_roles(body.get("roles"))
            tenant = body.get("tenant", "") if me.tenant is None else me.tenant
            if me.tenant is not None and body.get("tenant", me.tenant) != me.tenant:
                raise PermissionDenied("a supervisor creates people of their own tenant only")
            if not isinstance(tenant, str):
                raise InvalidAccount("tenant must be a string")
            password = temporary_password()
            try:
                account = await self.sign_in.accounts.create(
                    _text(body, "username"),
                    password,
                    display_name=_text(body, "name"),
                    roles=roles,
                    tenant=tenant,
                    must_change=True,
                    actor=me.account.username,
                )
            except AccountExists as exc:
                raise Conflict(
                    "that username is taken", extra={"mensaje": MENSAJES["exists"]}
                ) from exc
            await self.changed(account)
            return json_response(
                {"person": person(account), "temporary_password": password}, status=201
            )

        return await self._call(request, run)

    async def update(self, request: Request) -> Response:
        async def run(me: Manager) -> Response:
            target = await self._target(request, me)
            body = await read_json(request, MAX_BODY)
            name = body.get("name")
            roles = me.check_roles(body["roles"]) if "roles" in body else None
            if name is not None and not isinstance(name, str):
                raise InvalidAccount("name must be a string")
            account = await self.sign_in.accounts.update(
                target.username, display_name=name, roles=roles, actor=me.account.username
            )
            await self.changed(account)
            return json_response({"person": person(account)})

        return await self._call(request, run)

    async def reset(self, request: Request) -> Response:
        async def run(me: Manager) -> Response:
            target = await self._target(request, me)
            password = temporary_password()
            accounts = self.sign_in.accounts
            ended = await accounts.set_password(
                target.username, password, must_change=True, actor=me.account.username
            )
            await self.sign_in.sessions_ended(ended)
            await accounts.clear_throttle(target.username)
            fresh = await accounts.get_by_id(target.id)
            assert fresh is not None
            return json_response({"person": person(fresh), "temporary_password": password})

        return await self._call(request, run)

    async def deactivate(self, request: Request) -> Response:
        async def run(me: Manager) -> Response:
            target = await self._target(request, me)
            if target.id == me.account.id:
                raise Conflict(
                    "you cannot deactivate yourself", extra={"mensaje": MENSAJES["self"]}
                )
            await self.sign_in.deactivate(target.username, actor=me.account.username)
            return await self._answer(target.id)

        return await self._call(request, run)

    async def activate(self, request: Request) -> Response:
        async def run(me: Manager) -> Response:
            target = await self._target(request, me)
            await self.sign_in.accounts.set_active(target.username, True, actor=me.account.username)
            return await self._answer(target.id)

        return await self._call(request, run)

    async def audit(self, request: Request) -> Response:
        async def run(me: Manager) -> Response:
            raw = request.query_params.get("limit", "100")
            if not raw.isdigit() or not 1 <= int(raw) <= MAX_AUDIT:
                raise ProtocolError(f"limit is a number from 1 to {MAX_AUDIT}")
            entries = await self.sign_in.accounts.audit_log(int(raw), tenant=me.tenant)
            if me.tenant is not None:  # only the entries of people they manage
                mine = {a.id for a in await self.sign_in.accounts.list(me.tenant) if me.reaches(a)}
                entries = [e for e in entries if e.account_id in mine]
            return json_response(
                {
                    "entries": [
                        {
                            "at": e.at,
                            "username": e.username,
                            "event": e.event,
                            "detail": e.detail,
                            "address": e.address,
                        }
                        for e in entries
                    ]
                }
            )

        return await self._call(request, run)

    # -- helpers ------------------------------------------------------------------

    async def manager(self, request: Request) -> Manager:
        """The caller as a :class:`Manager`: 401 without a live session, 403
        when their account manages nobody or must change its password first."""
        raw = session_cookie(request)
        found = await self.sign_in.accounts.session(raw) if raw else None
        if found is None:
            raise AuthError("sign in first (no session, or it has ended)")
        account, _ = found
        if account.must_change_password:
            raise PermissionDenied(
                "change your password first", extra={"password_change_required": True}
            )
        return Manager.of(account, self.known)

    async def _target(self, request: Request, me: Manager) -> Account:
        target = await self.sign_in.accounts.get_by_id(int(request.path_params["id"]))
        if target is None or not me.reaches(target):
            raise NotFound("no such person among those you manage")
        return target

    async def _answer(self, account_id: int) -> Response:
        fresh = await self.sign_in.accounts.get_by_id(account_id)
        if fresh is None:
            raise AccountNotFound(str(account_id))
        await self.changed(fresh)
        return json_response({"person": person(fresh)})

    async def changed(self, account: Account) -> None:
        """Tell the listeners (the apps' directories) an account changed."""
        for listener in self.listeners:
            try:
                await listener(account)
            except Exception:  # the change stands; the next start reconciles
                log.warning("could not update a directory for %s", account.username, exc_info=True)

    async def _call(
        self, request: Request, run: Callable[[Manager], Awaitable[Response]]
    ) -> Response:
        try:
            return no_store(await run(await self.manager(request)))
        except RelevoError as exc:
            return no_store(error_response(_spanish(exc)))


def _text(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str):
        raise InvalidAccount(f"{name} is required (a string)")
    return value


def _spanish(exc: RelevoError) -> RelevoError:
    if "mensaje" not in exc.extra:
        code = str(exc.code)
        if exc.extra.get("password_change_required"):
            exc.extra["mensaje"] = MENSAJES["change_first"]
        elif code == "bad_request":
            text = str(exc)
            found = (es for start, es in _INVALID if text.startswith(start))
            exc.extra["mensaje"] = next(found, MENSAJES["bad_request"])
        elif code in MENSAJES:
            exc.extra["mensaje"] = MENSAJES[code]
    return exc
