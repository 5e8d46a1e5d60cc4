"""Signing in over HTTP (relevo/accounts/http.py) on a real server: the
cookie and its flags, one answer for every failure, the short tokens of a
session, CSRF, no open redirect, and ending a session with its connections."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from relevo.accounts.http import DEMO_PASSWORD, TOKEN_TTL, SignIn
from relevo.apps import leads
from tests.apps.appserver import SECRET, AppServer, WsClient, start_app_server
from tests.helpers import timeout
from tests.server.test_cli import ENV, RELEVO

PASSWORD = "correct horse battery"


@pytest.fixture
async def srv(tmp_path: Path) -> AsyncIterator[AppServer]:
    server = await start_app_server(leads, tmp_path / "signin.db")
    sign_in: SignIn = server.server.app.state.sign_in
    await sign_in.accounts.create(
        "gabriela", PASSWORD, display_name="Gabriela Ríos", roles={"leads": ["gtr"]}
    )
    await sign_in.accounts.create(
        "ana", PASSWORD, display_name="Ana Pérez", roles={"leads": ["asesor"]}, tenant="t1"
    )
    try:
        yield server
    finally:
        await server.stop()


def client(srv: AppServer, **kw: Any) -> httpx.AsyncClient:
    headers = {"Origin": srv.url, **kw.pop("headers", {})}
    return httpx.AsyncClient(base_url=srv.url, timeout=timeout(10), headers=headers, **kw)


async def sign_in(http: httpx.AsyncClient, user: str, password: str = PASSWORD) -> httpx.Response:
    return await http.post("/auth/login", json={"username": user, "password": password})


async def test_sign_in_sets_the_session_cookie(srv: AppServer) -> None:
    async with client(srv) as http:
        res = await sign_in(http, "gabriela")
        assert res.status_code == 200, res.text
        body = res.json()
        assert body["home"] == body["next"] == "/leads/gtr"
        assert body["user"]["name"] == "Gabriela Ríos"
        cookie = res.headers["set-cookie"]
        assert cookie.startswith("relevo_session=")
        for flag in ("HttpOnly", "Path=/", "SameSite=lax"):
            assert flag in cookie
        assert "Secure" not in cookie  # plain http, no proxy
        assert res.headers["cache-control"] == "no-store"
        assert PASSWORD not in res.text


async def test_behind_a_trusted_https_proxy_the_cookie_is_secure(srv: AppServer) -> None:
    # 127.0.0.1 is in server.trusted_proxies by default: its X-Forwarded-Proto counts.
    headers = {"X-Forwarded-Proto": "https", "Origin": srv.url.replace("http:", "https:")}
    async with client(srv, headers=headers) as http:
        res = await sign_in(http, "gabriela")
    assert res.status_code == 200, res.text
    cookie = res.headers["set-cookie"]
    assert cookie.startswith("__Host-relevo_session=")
    for flag in ("HttpOnly", "Path=/", "SameSite=lax", "Secure"):
        assert flag in cookie


async def test_wrong_password_and_unknown_user_get_the_same_answer(srv: AppServer) -> None:
    async with client(srv) as http:
        wrong = await sign_in(http, "gabriela", "not the password")
        unknown = await sign_in(http, "nadie", "not the password")
        invalid = await sign_in(http, "no valid name!", "x")
    assert wrong.status_code == unknown.status_code == invalid.status_code == 401
    assert wrong.json() == unknown.json() == invalid.json()
    assert wrong.json()["mensaje"] == "Usuario o contraseña incorrectos."
    assert "set-cookie" not in wrong.headers


async def test_the_token_of_a_session(srv: AppServer) -> None:
    async with client(srv) as http:
        assert (await http.get("/auth/token")).status_code == 401
        await sign_in(http, "ana")
        res = await http.get("/auth/token", params={"app": "leads"})
        assert res.status_code == 200, res.text
        assert res.headers["cache-control"] == "no-store"
        claims = jwt.decode(res.json()["token"], SECRET, algorithms=["HS256"])
    assert claims["sub"] == "ana"
    assert claims["name"] == "Ana Pérez"
    assert claims["roles"] == ["asesor"]
    assert claims["tenant"] == "t1"
    assert isinstance(claims["sid"], str)
    assert len(claims["sid"]) == 64
    assert 0 < claims["exp"] - claims["iat"] <= TOKEN_TTL


async def test_a_cookie_post_from_another_origin_is_refused(srv: AppServer) -> None:
    async with client(srv) as http:
        await sign_in(http, "gabriela")
        evil = await http.post("/auth/logout", headers={"Origin": "https://evil.example"})
        assert evil.status_code == 403
        assert evil.json()["code"] == "forbidden"
        assert (await http.get("/auth/token")).status_code == 200  # still signed in
        # Login CSRF: another site may not sign this browser in either.
        planted = await http.post(
            "/auth/login",
            json={"username": "ana", "password": PASSWORD},
            headers={"Origin": "https://evil.example"},
        )
        assert planted.status_code == 403
        assert "set-cookie" not in planted.headers


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x"]
)
async def test_next_never_leaves_the_server(srv: AppServer, target: str) -> None:
    async with client(srv) as http:
        res = await http.post(
            "/auth/login", json={"username": "gabriela", "password": PASSWORD, "next": target}
        )
        assert res.json()["next"] == "/leads/gtr"
        form = await http.post(
            "/auth/login",
            data={"username": "gabriela", "password": PASSWORD, "next": target},
        )
        assert form.status_code == 303
        assert form.headers["location"] == "/leads/gtr"
        ok = await http.post(
            "/auth/login",
            data={"username": "gabriela", "password": PASSWORD, "next": "/leads/gtr?x=1"},
        )
        assert ok.headers["location"] == "/leads/gtr?x=1"


async def test_sign_out_ends_the_session_and_its_connections(srv: AppServer) -> None:
    async with client(srv) as http, client(srv) as other:
        await sign_in(http, "gabriela")
        await sign_in(other, "gabriela")
        mine = (await http.get("/auth/token")).json()["token"]
        theirs = (await other.get("/auth/token")).json()["token"]
        ws = await WsClient.open(srv, mine)
        ws2 = await WsClient.open(srv, theirs)
        try:
            res = await http.post("/auth/logout")
            assert res.status_code == 200
            assert 'relevo_session=""' in res.headers["set-cookie"]
            cut = await ws.wait(lambda f: f.get("op") == "disconnect")
            assert cut["code"] == "unauthorized"
            assert cut["reconnect"] is False
            assert (await http.get("/auth/token")).status_code == 401
            # the other browser's session is untouched
            assert (await ws2.call({"op": "ping"}))["op"] == "pong"
            assert (await other.get("/auth/token")).status_code == 200
        finally:
            await ws.close()
            await ws2.close()
        # The ended session's token is refused on connect and over HTTP.
        again = await srv.request("GET", "/api/leads/me", mine)
        assert again.status_code == 401
        with pytest.raises(AssertionError):
            await WsClient.open(srv, mine)


async def test_deactivating_an_account_cuts_it_everywhere(srv: AppServer) -> None:
    sign_in_service: SignIn = srv.server.app.state.sign_in
    async with client(srv) as http:
        await sign_in(http, "ana")
        tok = (await http.get("/auth/token")).json()["token"]
        ws = await WsClient.open(srv, tok)
        try:
            await sign_in_service.deactivate("ana", actor="test")
            cut = await ws.wait(lambda f: f.get("op") == "disconnect")
            assert cut["code"] == "unauthorized"
        finally:
            await ws.close()
        assert (await http.get("/auth/token")).status_code == 401
        assert (await sign_in(http, "ana")).status_code == 401


async def test_a_node_that_missed_the_sign_out_asks_the_database(srv: AppServer) -> None:
    sign_in_service: SignIn = srv.server.app.state.sign_in
    async with client(srv) as http:
        await sign_in(http, "gabriela")
        tok = (await http.get("/auth/token")).json()["token"]
        raw = http.cookies["relevo_session"]
    # Ended in the database only (as another node, before this one started, would).
    await sign_in_service.accounts.end_session(raw)
    sign_in_service._checked.clear()
    with pytest.raises(AssertionError, match="unauthorized"):
        await WsClient.open(srv, tok)


async def test_demo_users_are_accounts_with_the_demo_password(srv: AppServer) -> None:
    async with client(srv) as http:
        listed = (await http.get("/api/leads/demo/users")).json()
        assert listed["password"] == DEMO_PASSWORD
        user = listed["users"][0]
        res = await sign_in(http, user["id"], DEMO_PASSWORD)
        assert res.status_code == 200, res.text
        assert res.json()["home"].startswith("/leads/")


@pytest.mark.parametrize("command", [["disable", "ana"], ["passwd", "ana", "--password-stdin"]])
async def test_the_command_line_cuts_open_connections_too(
    srv: AppServer, tmp_path: Path, command: list[str]
) -> None:
    # `relevo users disable` (or a new password) from another process writes
    # only to the database: every node must still cut the person's sockets.
    db = srv.records.store.url.set(drivername="sqlite").render_as_string(hide_password=False)
    (tmp_path / "relevo.toml").write_text(f'[database]\nurl = "{db}"\n')
    async with client(srv) as http:
        await sign_in(http, "ana")
        tok = (await http.get("/auth/token")).json()["token"]
    ws = await WsClient.open(srv, tok)
    try:
        proc = await asyncio.create_subprocess_exec(
            *RELEVO, "users", *command, cwd=tmp_path, env=ENV,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(b"another password 42\n"), timeout(60))
        assert proc.returncode == 0, (out, err)
        cut = await ws.wait(lambda f: f.get("op") == "disconnect")
        assert cut["code"] == "unauthorized"
    finally:
        await ws.close()


async def test_the_demo_admin_manages_people(srv: AppServer) -> None:
    # `relevo demo`: the demo's admin (Rosa Valdivia, "admin") is an admin of
    # every app, so the people screen can be tried with the demo password.
    async with client(srv) as http:
        res = await sign_in(http, "admin", DEMO_PASSWORD)
        assert res.status_code == 200, res.text
        people = await http.get("/api/people")
        assert people.status_code == 200, people.text
        assert people.json()["scope"]["tenant"] is None
