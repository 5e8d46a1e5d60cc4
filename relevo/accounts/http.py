"""Signing in over HTTP: the sign-in page, the session cookie, the short
relevo JWTs pages get from it, and ending sessions with their connections.

Routes::

    GET  /login         the sign-in page (the UI kit's login page, no app)
    POST /auth/login    {"username", "password", "next"?} (JSON or a form) → session cookie
    POST /auth/logout   ends the cookie's session and cuts its live connections
    POST /auth/password {"current", "new"} → the cookie's account gets a new password
    GET  /auth/token    a relevo JWT for the cookie's session (?app=<app>: that app's roles)

A session's JWTs carry ``sid`` (the session's id, the SHA-256 of the cookie
token, never the token): ending the session (sign-out, deactivation, a
password reset) refuses them on every node and cuts the connections opened
with them (:meth:`relevo.hub.hub.Hub.end_sessions`). A node that started
after the session ended learns it from the database on ``connect``
(:meth:`SignIn.check_connect`, answers cached for :data:`CHECK_TTL`).

Wrong password, unknown user and disabled account get one answer (status,
body); the accounts store makes their timing alike and throttles failures.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from relevo.accounts.errors import InvalidAccount, SignInFailed, SignInThrottled, WeakPassword
from relevo.accounts.model import Account
from relevo.accounts.store import Accounts
from relevo.hub.auth import Identity, mint_token
from relevo.hub.hub import Hub
from relevo.protocol.errors import (
    AuthError,
    Conflict,
    PermissionDenied,
    ProtocolError,
    RelevoError,
)
from relevo.settings import ConfigError
from relevo.web import error_response, json_response, read_body, read_json
from relevo.web.cookies import (
    clear_session_cookie,
    safe_next,
    same_site_request,
    session_cookie,
    set_session_cookie,
)

__all__ = [
    "CHECK_TTL",
    "DEMO_PASSWORD",
    "SESSION_TTL",
    "WATCH_EVERY",
    "TOKEN_TTL",
    "SignIn",
    "no_store",
]

log = logging.getLogger("relevo.accounts")

#: How long a sign-in lasts without signing in again (seconds).
SESSION_TTL = 12 * 3600
#: How long a JWT minted from a session lives; pages refresh it before.
TOKEN_TTL = 300
#: How long a connect check's answer about a session is believed.
CHECK_TTL = 2.0
#: How often a node looks for sessions ended elsewhere (seconds).
WATCH_EVERY = 0.5
#: How far back it reads, for ends stamped by a clock a little behind its own.
WATCH_MARGIN = 5.0
#: The password of every demo account (``relevo demo`` only; shown on the page).
DEMO_PASSWORD = "relevo-demo"
MAX_LOGIN_BODY = 4096
MAX_FIELD = 1024

LOGIN_PAGE = resources.files("relevo.server") / "static" / "ui" / "login.html"

FAILED_MENSAJE = "Usuario o contraseña incorrectos."
SIGNED_OUT_MENSAJE = "Tu sesión terminó. Vuelve a entrar."
CHANGE_FIRST_MENSAJE = "Cambia tu contraseña para continuar."
WRONG_CURRENT_MENSAJE = "La contraseña actual no es correcta."
WEAK_MENSAJE = (
    "La nueva contraseña necesita al menos 10 caracteres, distinta de tu usuario y de la actual."
)
THROTTLED_MENSAJE = "Demasiados intentos fallidos. Espera un momento y vuelve a intentarlo."


@dataclass
class SignIn:
    """The sign-in routes of one server, over its accounts store and hub.

    ``homes`` maps an app to its roles' landing pages (``{"leads": {"gtr":
    "/leads/gtr", ...}}``), in the order apps are tried; ``allowed_origins``
    are the other origins whose pages may post here (``server.allowed_origins``).
    """

    accounts: Accounts
    hub: Hub
    secret: str
    homes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    allowed_origins: tuple[str, ...] = ()
    session_ttl: int = SESSION_TTL
    token_ttl: int = TOKEN_TTL
    _checked: dict[str, tuple[bool, float]] = field(default_factory=dict)
    _demo_done: set[tuple[str, str]] = field(default_factory=set)

    def __post_init__(self) -> None:
        if not self.secret:
            raise ConfigError("signing in needs auth.secret (HS256) to mint the pages' tokens")
        self.hub.add_connect_check(self.check_connect)

    # -- routes ----------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/login", self.login_page),
            Route("/auth/login", self.login, methods=["POST"]),
            Route("/auth/logout", self.logout, methods=["POST"]),
            Route("/auth/token", self.token, methods=["GET"]),
            Route("/auth/password", self.change_password, methods=["POST"]),
        ]

    async def login_page(self, request: Request) -> Response:
        return FileResponse(
            str(LOGIN_PAGE), media_type="text/html", headers={"Cache-Control": "no-cache"}
        )

    async def login(self, request: Request) -> Response:
        form = _is_form(request)
        try:
            if not same_site_request(request, self.allowed_origins):
                # Login CSRF: another site signing this browser in as someone else.
                raise PermissionDenied("cross-site request refused: Origin is not allowed")
            fields = await _read_fields(request)
            username, password = fields.get("username", ""), fields.get("password", "")
            target = safe_next(fields.get("next"))
            address = request.client.host if request.client else ""
            try:
                account = await self.accounts.authenticate(username, password, address=address)
            except InvalidAccount:
                raise SignInFailed() from None
            old = session_cookie(request)
            if old:
                await self._end(await self.accounts.end_session(old))
            raw = await self.accounts.start_session(
                account,
                address=address,
                user_agent=request.headers.get("user-agent", ""),
                ttl=self.session_ttl,
            )
        except RelevoError as exc:
            if form:
                query = {"error": str(exc.code)}
                given = safe_next(request.query_params.get("next"))
                if given:
                    query["next"] = given
                return no_store(RedirectResponse(f"/login?{urlencode(query)}", 303))
            return _sign_in_error(exc)
        home = self.home_of(account)
        destination = target or home or "/"
        response: Response = (
            RedirectResponse(destination, 303)
            if form
            else json_response(
                {
                    "user": _person(account),
                    "home": home,
                    "next": destination,
                    "must_change_password": account.must_change_password,
                }
            )
        )
        set_session_cookie(response, request, raw, self.session_ttl)
        return no_store(response)

    async def logout(self, request: Request) -> Response:
        # The cross-site guard (relevo.web.csrf) has refused other origins.
        raw = session_cookie(request)
        if raw:
            await self._end(await self.accounts.end_session(raw))
        response: Response = (
            RedirectResponse("/login", 303) if _is_form(request) else json_response({"ok": True})
        )
        clear_session_cookie(response, request)
        return no_store(response)

    async def change_password(self, request: Request) -> Response:
        """The signed-in person sets a new password, giving the current one
        (throttled like a sign-in). Their other sessions end; this one stays
        and leaves ``must_change_password``."""
        # The cross-site guard (relevo.web.csrf) has refused other origins.
        raw = session_cookie(request)
        try:
            found = await self.accounts.session(raw) if raw else None
            if found is None or raw is None:
                raise AuthError(
                    "not signed in (no session, or it has ended)",
                    extra={"mensaje": SIGNED_OUT_MENSAJE},
                )
            account = found[0]
            data = await read_json(request, MAX_LOGIN_BODY)
            current, new = data.get("current"), data.get("new")
            if not isinstance(current, str) or not isinstance(new, str) or len(new) > MAX_FIELD:
                raise ProtocolError("current and new are strings", extra={"mensaje": WEAK_MENSAJE})
            if new == current:
                raise WeakPassword("the new password is the current one")
            address = request.client.host if request.client else ""
            try:
                await self.accounts.authenticate(
                    account.username, current, address=address, sign_in=False
                )
            except SignInFailed:
                raise PermissionDenied(
                    "the current password is wrong",
                    extra={"field": "current", "mensaje": WRONG_CURRENT_MENSAJE},
                ) from None
            ended = await self.accounts.set_password(
                account.username, new, keep_session=raw, actor=account.username
            )
        except RelevoError as exc:
            if isinstance(exc, WeakPassword):
                exc.extra.update(field="new", mensaje=WEAK_MENSAJE)
            return _sign_in_error(exc)
        await self.sessions_ended(ended)
        return no_store(json_response({"ok": True, "home": self.home_of(account)}))

    async def token(self, request: Request) -> Response:
        raw = session_cookie(request)
        found = await self.accounts.session(raw) if raw else None
        if found is None:
            response = error_response(AuthError("not signed in (no session, or it has ended)"))
            if raw:
                clear_session_cookie(response, request)
            return no_store(response)
        account, info = found
        if account.must_change_password:
            # A temporary password (a reset, a new person) opens nothing but
            # the change-password step of the login page.
            return no_store(
                error_response(
                    PermissionDenied(
                        "change your password first (POST /auth/password)",
                        extra={"password_change_required": True, "mensaje": CHANGE_FIRST_MENSAJE},
                    )
                )
            )
        app = request.query_params.get("app", "")
        roles = account.roles_for(app) if app in self.homes else account.all_roles()
        expires = int(self.hub.clock.now()) + self.token_ttl
        jwt = mint_token(
            self.secret,
            account.username,
            list(roles),
            account.tenant,
            ttl=self.token_ttl,
            extra={"name": account.display_name, "sid": info.id},
        )
        self._checked[info.id] = (True, self.hub.clock.monotonic())
        return no_store(
            json_response(
                {
                    "token": jwt,
                    "expires": expires,
                    "user": _person(account),
                    "roles": list(roles),
                    "home": self.home_of(account, app),
                    "must_change_password": account.must_change_password,
                }
            )
        )

    # -- where a person lands ------------------------------------------------------

    def home_of(self, account: Account, app: str = "") -> str | None:
        """The landing page of the account's first role that has one (in
        ``app`` first when given)."""
        apps: Sequence[str] = [app, *self.homes] if app in self.homes else list(self.homes)
        for name in apps:
            pages = self.homes[name]
            for role in account.roles_for(name):
                if role in pages:
                    return pages[role]
        return None

    # -- demo ------------------------------------------------------------------------

    async def ensure_demo_accounts(
        self, app: str, people: Sequence[tuple[str, str, Sequence[str], str]]
    ) -> None:
        """Accounts for an app's demo users ``(id, name, roles, tenant)``, all
        with :data:`DEMO_PASSWORD` (``relevo demo`` only: the picker signs
        them in through :meth:`login`); a user of two apps gets both roles."""
        for username, name, roles, tenant in people:
            if (app, username) in self._demo_done:
                continue
            account = await self.accounts.get(username)
            if account is None:
                try:
                    await self.accounts.create(
                        username,
                        DEMO_PASSWORD,
                        display_name=name,
                        roles={app: list(roles)},
                        tenant=tenant,
                        actor="demo",
                    )
                except Conflict:
                    account = await self.accounts.get(username)  # created meanwhile
            if account is not None and set(roles) - set(account.roles_for(app)):
                merged = {k: list(v) for k, v in account.roles.items()}
                merged[app] = sorted({*merged.get(app, ()), *roles})
                await self.accounts.update(username, roles=merged, actor="demo")
            self._demo_done.add((app, username))

    # -- ending sessions ---------------------------------------------------------------

    async def end_account(self, account_id: int) -> list[str]:
        """End every session of an account and cut their live connections at
        once, on every node (for the people screens: deactivating someone,
        resetting their password). The ended session ids."""
        ended = await self.accounts.end_sessions(account_id)
        await self.sessions_ended(ended)
        return ended

    async def deactivate(self, username: str, *, actor: str = "") -> list[str]:
        """Disable an account; its sessions and connections end at once."""
        ended = await self.accounts.set_active(username, False, actor=actor)
        await self.sessions_ended(ended)
        return ended

    async def sessions_ended(self, sids: Sequence[str]) -> None:
        """Sessions the accounts store has ended: refuse their tokens and cut
        their connections everywhere."""
        for sid in sids:
            self._checked[sid] = (False, self.hub.clock.monotonic())
        await self.hub.end_sessions(sids, self.hub.clock.now() + self.token_ttl + 60)

    async def watch_ended(self, every: float = WATCH_EVERY) -> None:
        """Cut, within ``every`` seconds, the connections of sessions ended in
        the database by anyone else: another node (its broker message may
        have been missed), the command line, an administrator's SQL. Runs
        until cancelled. Ends written with a clock a little behind ours are
        caught by reading back a margin; what was already cut is not cut again."""
        clock = self.hub.clock
        since = clock.now() - WATCH_MARGIN
        seen: dict[str, float] = {}
        while True:
            await clock.sleep(every)
            try:
                rows = await self.accounts.ended_since(since)
            except Exception:  # the database is away: try again on the next tick
                log.warning("could not read ended sessions", exc_info=True)
                continue
            fresh = [sid for sid, _ in rows if sid not in seen]
            seen.update(rows)
            if fresh:
                await self.sessions_ended(fresh)
            if rows:
                since = max(since, rows[-1][1] - WATCH_MARGIN)
            for sid in [k for k, at in seen.items() if at < since]:
                del seen[sid]

    async def _end(self, sid: str | None) -> None:
        if sid:
            await self.sessions_ended([sid])

    async def check_connect(self, identity: Identity) -> None:
        """A hub connect check: a token minted from a session that has ended
        since (on this node or another, before or after a restart) is refused."""
        sid = identity.claims.get("sid")
        if not isinstance(sid, str):
            return
        now = self.hub.clock.monotonic()
        cached = self._checked.get(sid)
        if cached is None or now - cached[1] > CHECK_TTL:
            alive = await self._session_alive(identity.user, sid)
            if len(self._checked) > 10_000:
                self._checked.clear()
            cached = self._checked[sid] = (alive, now)
        if not cached[0]:
            raise AuthError("the session of this token has ended; sign in again")

    async def _session_alive(self, username: str, sid: str) -> bool:
        try:
            account = await self.accounts.get(username)
        except InvalidAccount:
            return False
        if account is None or not account.active:
            return False
        return any(s.id == sid for s in await self.accounts.sessions_of(account.id))


def _person(account: Account) -> dict[str, Any]:
    return {
        "username": account.username,
        "name": account.display_name,
        "tenant": account.tenant,
        "roles": {app: list(roles) for app, roles in account.roles.items()},
    }


def _is_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return kind == "application/x-www-form-urlencoded"


async def _read_fields(request: Request) -> dict[str, str]:
    data: dict[str, Any]
    if _is_form(request):
        raw = await read_body(request, MAX_LOGIN_BODY)
        data = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    else:
        data = await read_json(request, MAX_LOGIN_BODY)
    out: dict[str, str] = {}
    for name in ("username", "password", "next"):
        value = data.get(name, "")
        if not isinstance(value, str) or len(value) > MAX_FIELD:
            raise ProtocolError(f"{name} must be a string of at most {MAX_FIELD} characters")
        out[name] = value
    return out


def _sign_in_error(exc: RelevoError) -> Response:
    if isinstance(exc, SignInThrottled):
        exc.extra.setdefault("mensaje", THROTTLED_MENSAJE)
        response = error_response(exc)
        response.headers["Retry-After"] = str(exc.retry_after)
    else:
        if isinstance(exc, AuthError):
            exc.extra.setdefault("mensaje", FAILED_MENSAJE)
        response = error_response(exc)
    return no_store(response)


def no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response
