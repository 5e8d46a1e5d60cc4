"""The sign-in session cookie, where a request comes from, and where a
browser may be sent after signing in.

The cookie is ``HttpOnly`` (no script reads it), ``SameSite=Lax`` (another
site's forms and fetches do not carry it on a POST), ``Path=/``; over https
it is ``Secure`` and named ``__Host-relevo_session``, a prefix browsers
accept only on a secure, host-only, ``Path=/`` cookie, so a sibling
subdomain cannot plant one. Whether a request is https is the request's own
scheme: behind a reverse proxy uvicorn takes it from ``X-Forwarded-Proto``,
but only from ``server.trusted_proxies``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import HTTPConnection
from starlette.responses import Response

__all__ = [
    "PLAIN_COOKIE",
    "SECURE_COOKIE",
    "clear_session_cookie",
    "cookie_name",
    "has_session_cookie",
    "is_https",
    "origin_of",
    "request_origin",
    "safe_next",
    "same_site_request",
    "session_cookie",
    "set_session_cookie",
]

PLAIN_COOKIE = "relevo_session"
SECURE_COOKIE = "__Host-relevo_session"
#: Longest cookie value read: the accounts store's tokens are 43 characters.
MAX_COOKIE = 256
MAX_NEXT = 512


def is_https(request: HTTPConnection) -> bool:
    return request.url.scheme in ("https", "wss")


def cookie_name(request: HTTPConnection) -> str:
    return SECURE_COOKIE if is_https(request) else PLAIN_COOKIE


def session_cookie(request: HTTPConnection) -> str | None:
    """The session token the browser sent, if any (the secure name over https
    only: a plain-http cookie must not authenticate an https request)."""
    value = request.cookies.get(cookie_name(request))
    if not value or len(value) > MAX_COOKIE:
        return None
    return value


def has_session_cookie(request: HTTPConnection) -> bool:
    return PLAIN_COOKIE in request.cookies or SECURE_COOKIE in request.cookies


def set_session_cookie(
    response: Response, request: HTTPConnection, token: str, max_age: int
) -> None:
    response.set_cookie(
        cookie_name(request),
        token,
        max_age=max_age,
        path="/",
        secure=is_https(request),
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(response: Response, request: HTTPConnection) -> None:
    response.delete_cookie(
        cookie_name(request), path="/", secure=is_https(request), httponly=True, samesite="lax"
    )


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an absolute http(s) URL, else None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def request_origin(request: HTTPConnection) -> str:
    """This server's origin as the browser sees it (scheme from the request,
    after a trusted proxy's ``X-Forwarded-Proto``; host from ``Host``)."""
    scheme = "https" if is_https(request) else "http"
    host = request.headers.get("host") or request.url.netloc
    return f"{scheme}://{host}".lower()


def same_site_request(request: HTTPConnection, allowed: tuple[str, ...] = ()) -> bool:
    """Whether a state-changing request comes from a page of this server (or
    of a listed origin): its ``Origin``, else its ``Referer``'s origin. A
    request that names neither is refused (every browser sends ``Origin`` on
    a POST); ``"*"`` in ``allowed`` does not count here, it would let every
    site use the cookie."""
    given = request.headers.get("origin")
    origin = origin_of(given) if given and given != "null" else None
    if origin is None and not given:
        referer = request.headers.get("referer")
        origin = origin_of(referer) if referer else None
    if origin is None:
        return False
    if origin == request_origin(request):
        return True
    return origin in {o.lower().rstrip("/") for o in allowed if o != "*"}


def safe_next(value: str | None) -> str | None:
    """``value`` when it is a path on this server (``/leads/gtr?x=1``), else
    None: never another site (``//evil``, ``https://…``, ``/\\evil``), never
    a scheme (``javascript:``), never a control character."""
    if not value or len(value) > MAX_NEXT or not value.startswith("/"):
        return None
    if value.startswith(("//", "/\\")) or "\\" in value:
        return None
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value
