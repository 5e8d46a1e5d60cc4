"""What an app's HTTP layer shares: endpoints that turn relevo errors into
their body (``{"code", "message", "retry", "mensaje"?, ...}``), the caller as
an :class:`~relevo.records.Actor`, the request body, and ids from a URL.

API answers are ``Cache-Control: no-store`` (they are about people, and a
stale one misleads a screen); a ``rate_limited`` one carries ``Retry-After``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from relevo.protocol.errors import ProtocolError, RelevoError
from relevo.records import Actor, Records
from relevo.records.http import actor_of_request
from relevo.web import error_response
from relevo.web.body import DEFAULT_LIMIT
from relevo.web.body import read_json as _read_json

from .errors import bad_request

__all__ = [
    "Endpoint",
    "Handler",
    "acting_as",
    "endpoint",
    "error_reply",
    "optional_actor",
    "public",
    "read_json",
    "valid_id",
]

Endpoint = Callable[[Request], Awaitable[Response]]
Handler = Callable[[Request, Actor], Awaitable[Response]]

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")


def error_reply(exc: RelevoError) -> Response:
    response = error_response(exc)
    retry_after = exc.extra.get("retry_after")
    if retry_after is not None:
        response.headers["Retry-After"] = str(max(1, round(retry_after)))
    return response


def public(handler: Endpoint) -> Endpoint:
    """A Starlette endpoint for ``handler``; relevo errors → their body."""

    async def run(request: Request) -> Response:
        try:
            response = await handler(request)
        except RelevoError as exc:
            response = error_reply(exc)
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    run.__name__ = getattr(handler, "__name__", "endpoint")
    run.__doc__ = handler.__doc__
    return run


def endpoint(records: Records, handler: Handler) -> Endpoint:
    """:func:`public`, for a caller that must say who it is (a JWT or the
    API key): ``handler(request, actor)``; nobody is ``unauthorized``."""

    async def with_actor(request: Request) -> Response:
        return await handler(request, actor_of_request(request, records))

    with_actor.__name__ = handler.__name__
    with_actor.__doc__ = handler.__doc__
    return public(with_actor)


def optional_actor(request: Request, records: Records) -> Actor | None:
    """The caller, or None when the request names nobody (no token, no key)."""
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() in ("bearer ", "apikey ") or request.headers.get("x-api-key"):
        return actor_of_request(request, records)
    return None


def acting_as(actor: Actor) -> Actor:
    """The caller as a trusted writer, still named by its user: app code has
    checked the permission (role, own row, tenant) before it writes, and the
    records layer keeps the user in the history."""
    return actor if actor.privileged else dataclasses.replace(actor, privileged=True)


async def read_json(request: Request, limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
    """The body as a JSON object (empty: ``{}``), at most ``limit`` bytes
    (``413 too_large`` past it); a malformed one is ``bad_request`` with
    its mensaje."""
    try:
        return await _read_json(request, limit)
    except ProtocolError as exc:
        raise bad_request(exc.message, "Solicitud mal formada (se espera JSON).") from None


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
