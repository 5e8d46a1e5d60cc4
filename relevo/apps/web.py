"""HTTP plumbing the cargue and inbox apps share: JSON bodies, errors with a
Spanish ``mensaje``, the caller as an :class:`~relevo.records.Actor`, page
routes, and the development login of ``relevo demo``.

Errors keep relevo's stable codes and English ``message``; ``mensaje`` is the
sentence a screen shows as is::

    {"code": "conflict", "message": "item 7 is pendiente; d needs v first",
     "retry": false, "mensaje": "El vendedor aún no marcó V en este producto."}

The demo login mints a development token for a seeded user, and answers
only when the server runs with ``demo = true`` (``not_found`` otherwise): a
real deployment hands the pages its own users' tokens.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from relevo.hub.auth import mint_token
from relevo.protocol.errors import (
    Conflict,
    ErrorCode,
    NotFound,
    PermissionDenied,
    ProtocolError,
    RelevoError,
)
from relevo.records import Actor, Records
from relevo.records.http import actor_of_request
from relevo.settings import Settings
from relevo.web import error_response, json_response
from relevo.web import read_json as read_json_object

__all__ = [
    "DemoUser",
    "Handler",
    "Mensaje",
    "TooLarge",
    "acting_as",
    "bad_request",
    "conflict",
    "demo_login_routes",
    "endpoint",
    "forbidden",
    "not_found",
    "page_routes",
    "read_json",
    "valid_id",
]

MAX_BODY = 65_536
DEMO_TOKEN_TTL = 12 * 3600
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
_decode = msgspec.json.Decoder(dict[str, Any])

Handler = Callable[[Request, Actor], Awaitable[Response]]


class Mensaje:
    """Mixed into an error: ``mensaje`` (Spanish, for the screen) and extra
    fields added to the error body."""

    extra: dict[str, Any]


class _BadRequest(ProtocolError, Mensaje):
    pass


class _Forbidden(PermissionDenied, Mensaje):
    pass


class _NotFound(NotFound, Mensaje):
    pass


class _Conflict(Conflict, Mensaje):
    pass


class TooLarge(RelevoError):
    code = ErrorCode.TOO_LARGE
    status = 413


def _make(cls: type[Any], message: str, mensaje: str, extra: Mapping[str, Any]) -> RelevoError:
    exc: Any = cls(message)
    exc.extra = {"mensaje": mensaje, **extra}
    result: RelevoError = exc
    return result


def bad_request(message: str, mensaje: str, **extra: Any) -> RelevoError:
    return _make(_BadRequest, message, mensaje, extra)


def forbidden(message: str, mensaje: str, **extra: Any) -> RelevoError:
    return _make(_Forbidden, message, mensaje, extra)


def not_found(message: str, mensaje: str, **extra: Any) -> RelevoError:
    return _make(_NotFound, message, mensaje, extra)


def conflict(message: str, mensaje: str, **extra: Any) -> RelevoError:
    return _make(_Conflict, message, mensaje, extra)


def valid_id(value: Any, name: str) -> str:
    """An id from a URL or a body: 1–64 letters, digits and ``_ . @ -``."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _ID.match(value):
        raise bad_request(
            f"{name} must be 1-64 letters, digits or _ . @ -",
            f"Identificador inválido: {name}.",
            field=name,
        )
    return value


async def read_json(request: Request, max_bytes: int = MAX_BODY) -> dict[str, Any]:
    """The request body as a JSON object (empty body: ``{}``), at most
    ``max_bytes`` read; a malformed one is a ``bad_request`` with its mensaje."""
    try:
        return await read_json_object(request, max_bytes)
    except ProtocolError as exc:
        raise bad_request(exc.message, "Solicitud mal formada (se espera JSON).") from None


def acting_as(actor: Actor) -> Actor:
    """The caller as a trusted writer, still named by its user: app code has
    checked the permission (role, own row, tenant) before it writes, and the
    records layer keeps the user in the history."""
    return actor if actor.privileged else dataclasses.replace(actor, privileged=True)


def endpoint(records: Records, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint: the caller (JWT or API key) → ``handler``; relevo
    errors → ``{"code", "message", "retry", ...}`` with their HTTP status."""

    async def run(request: Request) -> Response:
        try:
            return await handler(request, actor_of_request(request, records))
        except RelevoError as exc:
            return error_response(exc)

    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


def page_routes(
    app: str, static: Traversable, pages: Mapping[str, str], *, home: str
) -> list[BaseRoute]:
    """``/<app>/<page>`` → an HTML file of ``static`` (``""`` is ``/<app>/``),
    ``/<app>`` → ``home``, and ``/<app>/static/...`` for the app's assets."""

    def serve(filename: str) -> Callable[[Request], Awaitable[Response]]:
        path = str(static / filename)

        async def page(request: Request) -> Response:
            return FileResponse(path, media_type="text/html", headers={"Cache-Control": "no-cache"})

        return page

    async def to_home(request: Request) -> Response:
        return RedirectResponse(home)

    routes: list[BaseRoute] = [Route(f"/{app}", to_home)]
    routes += [Route(f"/{app}/{name}", serve(file)) for name, file in pages.items()]
    routes.append(Mount(f"/{app}/static", StaticFiles(directory=str(static)), name=f"{app}-static"))
    return routes


# -- the development login ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DemoUser:
    id: str
    nombre: str
    roles: tuple[str, ...]
    tenant: str = ""
    info: Mapping[str, Any] = field(default_factory=dict)
    """Shown on the login page (``ruta``, the tenant's name, ...)."""

    def as_dict(self) -> dict[str, Any]:
        out = {"id": self.id, "nombre": self.nombre, "roles": list(self.roles), **self.info}
        if self.tenant:
            out["tenant"] = self.tenant
        return out


def demo_login_routes(
    app: str, settings: Settings, users: Callable[[], Awaitable[Iterable[DemoUser]]]
) -> list[BaseRoute]:
    """``GET /api/<app>/demo/users`` and ``POST /api/<app>/demo/token``
    (``{"user": id}`` → ``{"token", "user"}``): a development token for a
    seeded user, in demo mode only."""

    def check() -> None:
        if not settings.demo:
            raise not_found(
                "demo login is off; a real deployment passes its own tokens",
                "El acceso de demostración está apagado: entra desde el portal de tu empresa.",
            )
        if not settings.auth.secret:
            raise RelevoError("demo login needs auth.secret (HS256) to mint tokens")

    async def list_users(request: Request) -> Response:
        try:
            check()
            return json_response({"users": [u.as_dict() for u in await users()]})
        except RelevoError as exc:
            return error_response(exc)

    async def token(request: Request) -> Response:
        try:
            check()
            body = await read_json(request)
            uid = body.get("user")
            if not isinstance(uid, str):
                raise bad_request('send {"user": "<id>"}', "Falta el usuario.", field="user")
            user = next((u for u in await users() if u.id == uid), None)
            if user is None:
                raise not_found(f"no demo user {uid!r}", "Ese usuario no existe.")
        except RelevoError as exc:
            return error_response(exc)
        jwt = mint_token(
            settings.auth.secret,
            user.id,
            list(user.roles),
            user.tenant,
            ttl=DEMO_TOKEN_TTL,
            extra={"name": user.nombre},
        )
        return json_response({"token": jwt, "user": user.as_dict()})

    return [
        Route(f"/api/{app}/demo/users", list_users),
        Route(f"/api/{app}/demo/token", token, methods=["POST"]),
    ]
