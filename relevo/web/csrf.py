"""Cross-site request forgery: a state-changing request authenticated by the
session cookie alone must come from a page of this server.

A pure ASGI middleware: a ``POST``/``PUT``/``PATCH``/``DELETE`` that carries
the session cookie and no ``Authorization``/``X-API-Key`` header (the cookie
would be its only credential) passes only when its ``Origin`` (or, lacking
one, its ``Referer``) is this server's origin or one of
``server.allowed_origins``; anything else is ``403 forbidden``, before the
route runs. Requests with a bearer token or the API key are not affected:
another site cannot make a browser add those headers."""

from __future__ import annotations

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from relevo.protocol.errors import PermissionDenied
from relevo.web.cookies import has_session_cookie, same_site_request
from relevo.web.responses import error_response

__all__ = ["CrossSiteGuard"]

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class CrossSiteGuard:
    def __init__(self, app: ASGIApp, allowed_origins: tuple[str, ...] = ()) -> None:
        self.app = app
        self.allowed = tuple(allowed_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in UNSAFE_METHODS:
            request = HTTPConnection(scope)
            headers = request.headers
            if (
                has_session_cookie(request)
                and "authorization" not in headers
                and "x-api-key" not in headers
                and not same_site_request(request, self.allowed)
            ):
                denied = PermissionDenied("cross-site request refused: Origin is not allowed")
                await error_response(denied)(scope, receive, send)
                return
        await self.app(scope, receive, send)
