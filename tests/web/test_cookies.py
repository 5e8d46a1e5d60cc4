"""The session cookie's flags, the cross-site guard, and where a browser may
be sent after signing in (no open redirect)."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from relevo.web import json_response
from relevo.web.cookies import safe_next, session_cookie, set_session_cookie
from relevo.web.csrf import CrossSiteGuard


async def sign_in(request: Request) -> Response:
    response = json_response({"ok": True})
    set_session_cookie(response, request, "tok", 3600)
    return response


async def whoami(request: Request) -> Response:
    return json_response({"token": session_cookie(request)})


APP = Starlette(
    routes=[
        Route("/in", sign_in, methods=["POST"]),
        Route("/who", whoami, methods=["GET", "POST"]),
    ]
)
GUARDED = CrossSiteGuard(APP, ("https://panel.example",))


def client(base: str = "http://relevo.test") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=GUARDED), base_url=base)


async def test_cookie_flags_over_http_and_https() -> None:
    async with client() as http:
        res = await http.post("/in", headers={"Origin": "http://relevo.test"})
    cookie = res.headers["set-cookie"]
    assert cookie.startswith("relevo_session=tok;")
    for flag in ("HttpOnly", "Path=/", "SameSite=lax", "Max-Age=3600"):
        assert flag in cookie
    assert "Secure" not in cookie
    async with client("https://relevo.test") as https:
        res = await https.post("/in", headers={"Origin": "https://relevo.test"})
    cookie = res.headers["set-cookie"]
    assert cookie.startswith("__Host-relevo_session=tok;")
    for flag in ("HttpOnly", "Path=/", "SameSite=lax", "Secure"):
        assert flag in cookie
    assert "Domain" not in cookie


async def test_a_plain_cookie_does_not_authenticate_https() -> None:
    async with client("https://relevo.test") as https:
        res = await https.get("/who", headers={"Cookie": "relevo_session=planted"})
    assert res.json() == {"token": None}


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Referer": "https://evil.example/page"},
        {},  # neither Origin nor Referer: refused, a browser always sends one on a POST
        {"Origin": "http://relevo.test.evil.example"},
    ],
)
async def test_a_cookie_post_from_another_origin_is_forbidden(headers: dict[str, str]) -> None:
    async with client() as http:
        http.cookies.set("relevo_session", "tok")
        res = await http.post("/who", headers=headers)
    assert res.status_code == 403
    assert res.json() == {
        "code": "forbidden",
        "message": "cross-site request refused: Origin is not allowed",
        "retry": False,
    }


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://relevo.test"},
        {"Origin": "https://panel.example"},
        {"Referer": "http://relevo.test/leads/gtr"},
        {"Origin": "https://evil.example", "Authorization": "Bearer x"},
        {"Origin": "https://evil.example", "X-API-Key": "k"},
    ],
)
async def test_same_origin_listed_or_not_cookie_authenticated_passes(
    headers: dict[str, str],
) -> None:
    async with client() as http:
        http.cookies.set("relevo_session", "tok")
        res = await http.post("/who", headers=headers)
    assert res.status_code == 200


async def test_no_cookie_and_safe_methods_pass() -> None:
    async with client() as http:
        assert (await http.post("/who", headers={"Origin": "https://evil.example"})).is_success
        http.cookies.set("relevo_session", "tok")
        assert (await http.get("/who", headers={"Origin": "https://evil.example"})).is_success


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/leads/gtr", "/leads/gtr"),
        ("/inbox/?c=4#m", "/inbox/?c=4#m"),
        ("//evil.example/x", None),
        ("/\\evil.example", None),
        ("/a\\b", None),
        ("https://evil.example/", None),
        ("javascript:alert(1)", None),
        ("leads/gtr", None),
        ("/x\r\nSet-Cookie: a=b", None),
        ("/\tevil", None),
        ("", None),
        (None, None),
        ("/" + "a" * 600, None),
    ],
)
def test_next_is_a_path_of_this_server_only(value: str | None, expected: str | None) -> None:
    assert safe_next(value) == expected
