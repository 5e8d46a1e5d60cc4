"""The server API key: ``Authorization: apikey <key>`` or ``X-API-Key``,
compared in constant time. The key is the hub's settings' (``app.state.hub``)."""

from __future__ import annotations

import hmac

from starlette.requests import Request

from relevo.protocol.errors import AuthError

__all__ = ["configured_api_key", "given_api_key", "require_api_key"]


def configured_api_key(request: Request) -> str:
    hub = getattr(request.app.state, "hub", None)
    return str(hub.settings.auth.api_key) if hub is not None else ""


def given_api_key(request: Request) -> str:
    auth = request.headers.get("authorization", "")
    given = auth[7:].strip() if auth[:7].lower() == "apikey " else ""
    return given or request.headers.get("x-api-key", "")


def require_api_key(request: Request) -> None:
    expected = configured_api_key(request)
    given = given_api_key(request)
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise AuthError("a valid API key is required (Authorization: apikey <key>)")
