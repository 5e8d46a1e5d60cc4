"""Security headers on every HTTP response.

Pages load their scripts only from this server (no inline script, no eval),
so an injected ``<script>`` or ``onerror=`` has nowhere to run; nothing may
frame them (clickjacking); types are not sniffed; URLs don't leak to other
sites in ``Referer``. Inline *styles* stay allowed: the UI kit sets a few
``style`` attributes, and a style cannot run code.

A pure ASGI middleware: it touches the response head only, and WebSocket
scopes pass through untouched (the hot path never sees it)."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["SecurityHeaders", "content_security_policy"]


def content_security_policy(connect_to: Iterable[str] = ()) -> str:
    """The policy; ``connect_to`` adds origins pages may ``fetch`` (a
    deployment's own token endpoint on another host)."""
    origins = sorted({_origin(url) for url in connect_to if _origin(url)})
    connect = " ".join(["'self'", *origins])
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "media-src 'self' data: blob:",
            "font-src 'self' data:",
            f"connect-src {connect}",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}"


class SecurityHeaders:
    def __init__(self, app: ASGIApp, csp: str | None = None) -> None:
        self.app = app
        policy = csp if csp is not None else content_security_policy()
        self.headers = [
            (b"content-security-policy", policy.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"same-origin"),
        ]
        self._names = {name for name, _ in self.headers}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [h for h in message.get("headers", []) if h[0].lower() not in self._names]
                message["headers"] = kept + self.headers
            await send(message)

        await self.app(scope, receive, with_headers)
