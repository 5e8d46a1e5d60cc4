"""Connect and subscribe proxies against a real backend the test starts (a
Starlette app on uvicorn, on a free port): what it is sent, what its answers
become, and what relevo does when it is down, slow or flooded."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from relevo.server.app import RelevoServer
from tests.conftest import make_settings, token
from tests.helpers import RawWS, timeout

APP_KEY = "relevo-to-app-key"


@dataclass
class Backend:
    """The app's backend: who has which session cookie, who may see which
    channel, and a record of every call it got."""

    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, str], Any]] = field(default_factory=list)
    #: While cleared, subscribe calls wait on it (a slow or flooded backend).
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    in_flight: int = 0
    most_in_flight: int = 0
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    port: int = 0

    def __post_init__(self) -> None:
        self.gate.set()

    def count(self, path: str) -> int:
        return sum(1 for p, _, _ in self.calls if p == path)

    async def connect(self, request: Request) -> Response:
        body = json.loads(await request.body())
        self.calls.append(("connect", dict(request.headers), body))
        if request.headers.get("x-relevo-key") != APP_KEY:
            return Response(status_code=500)
        who = self.sessions.get(request.cookies.get("sessionid", ""))
        if who is None:
            return Response(status_code=401)
        return JSONResponse({"allow": True, **who})

    async def subscribe(self, request: Request) -> Response:
        body = json.loads(await request.body())
        self.calls.append(("subscribe", dict(request.headers), body))
        async with self.changed:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self.changed.notify_all()
        try:
            await self.gate.wait()
        finally:
            async with self.changed:
                self.in_flight -= 1
                self.changed.notify_all()
        channel = body["channel"]
        if channel == "pedido:broken":
            return Response(b"<html>oops</html>", media_type="text/html")
        allow = channel == f"pedido:{body['user']}" or channel.startswith("pedido:open")
        return JSONResponse({"allow": allow})

    async def wait_in_flight(self, n: int) -> None:
        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(lambda: self.in_flight >= n), timeout(20))


@pytest.fixture
async def backend() -> AsyncIterator[Backend]:
    b = Backend()
    app = Starlette(
        routes=[
            Route("/relevo/connect", b.connect, methods=["POST"]),
            Route("/relevo/subscribe", b.subscribe, methods=["POST"]),
        ]
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    b.port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=1, lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 (uvicorn offers a flag, not an event)
        assert not task.done(), task
        await asyncio.sleep(0.01)
    yield b
    b.gate.set()
    server.should_exit = True
    await task
    sock.close()


def proxy_config(port: int, **over: Any) -> dict[str, Any]:
    base = f"http://127.0.0.1:{port}/relevo"
    connect = {
        "url": f"{base}/connect",
        "forward_cookies": ["sessionid"],
        "forward_headers": ["X-Tenant-Hint"],
        "headers": {"X-Relevo-Key": APP_KEY},
        "cache_ttl": 60,
    }
    perms = {"url": f"{base}/subscribe", "cache_ttl": 60, "max_concurrency": 3}
    connect.update(over.pop("connect", {}))
    perms.update(over.pop("perms", {}))
    return {
        "proxy": {"connect": connect, "perms": perms},
        "namespaces": {
            "pedido": {"subscribe": ["authenticated"], "subscribe_proxy": "perms"},
        },
        **over,
    }


@pytest.fixture
async def relevo(server_factory: Callable[..., Any], backend: Backend) -> Callable[..., Any]:
    async def start(**over: Any) -> RelevoServer:
        srv: RelevoServer = await server_factory(
            make_settings(**proxy_config(backend.port, **over))
        )
        return srv

    return start


async def ws(srv: RelevoServer, cookie: str = "", **headers: str) -> RawWS:
    if cookie:
        headers["Cookie"] = cookie
    return await RawWS.connect(srv.port, headers=headers)


ANA = {"user": "ana", "roles": ["vendedor"], "tenant": "acme"}


async def test_connect_by_cookie_allowed_and_refused(relevo: Any, backend: Backend) -> None:
    backend.sessions["good"] = ANA
    srv = await relevo()
    c = await ws(srv, "sessionid=good")
    reply = await c.request({"id": 1, "op": "connect"})
    assert reply["ok"]["user"] == "ana"
    # The identity is the backend's: ana's own channel passes the namespace rules.
    assert "ok" in await c.request({"id": 2, "op": "sub", "ch": "pedido:ana"})
    await c.close()

    c = await ws(srv, "sessionid=stolen")
    reply = await c.request({"id": 1, "op": "connect"})
    assert reply["err"]["code"] == "unauthorized"
    assert reply["err"]["retry"] is False
    await c.close()


async def test_connect_without_credentials_needs_a_token(relevo: Any, backend: Backend) -> None:
    srv = await relevo()
    c = await ws(srv)
    reply = await c.request({"id": 1, "op": "connect"})
    assert reply["err"]["code"] == "unauthorized"
    assert backend.count("connect") == 0  # nothing to ask with: the backend is not called
    # A token still works beside the proxy.
    reply = await c.request({"id": 2, "op": "connect", "token": token("bob")})
    assert reply["ok"]["user"] == "bob"
    await c.close()


async def test_only_allow_listed_cookies_and_headers_reach_the_backend(
    relevo: Any, backend: Backend
) -> None:
    backend.sessions["good"] = ANA
    srv = await relevo()
    c = await ws(
        srv,
        "csrftoken=c1; sessionid=good; other=secret",
        **{"X-Tenant-Hint": "acme", "X-Secret": "no", "Authorization": "Bearer zzz"},
    )
    assert "ok" in await c.request({"id": 1, "op": "connect"})
    await c.close()
    [(_, headers, body)] = [call for call in backend.calls if call[0] == "connect"]
    assert headers["cookie"] == "sessionid=good"
    assert headers["x-tenant-hint"] == "acme"
    assert headers["x-relevo-key"] == APP_KEY
    assert "x-secret" not in headers
    assert "authorization" not in headers
    assert "origin" not in headers
    assert body == {}


async def test_connect_answers_are_cached_yes_and_no(relevo: Any, backend: Backend) -> None:
    backend.sessions["good"] = ANA
    srv = await relevo()
    for cookie, key in [("sessionid=good", "ok"), ("sessionid=bad", "err")] * 3:
        c = await ws(srv, cookie)
        assert key in await c.request({"id": 1, "op": "connect"})
        await c.close()
    cookies = [h["cookie"] for p, h, _ in backend.calls if p == "connect"]
    assert cookies == ["sessionid=good", "sessionid=bad"]


async def test_subscribe_allowed_refused_and_cached(relevo: Any, backend: Backend) -> None:
    srv = await relevo()
    c = await ws(srv)
    assert "ok" in await c.request(
        {"id": 1, "op": "connect", "token": token("ana", ("v",), "acme")}
    )
    assert "ok" in await c.request({"id": 2, "op": "sub", "ch": "pedido:ana"})
    reply = await c.request({"id": 3, "op": "sub", "ch": "pedido:bob"})
    assert reply["err"]["code"] == "forbidden"
    assert "pedido:bob" in reply["err"]["message"]
    # History asks the same question (cached: no second call) and gets the same no.
    reply = await c.request({"id": 4, "op": "history", "ch": "pedido:bob"})
    assert reply["err"]["code"] == "forbidden"
    assert "ok" in await c.request({"id": 5, "op": "history", "ch": "pedido:ana"})
    bodies = [b for p, _, b in backend.calls if p == "subscribe"]
    assert bodies == [
        {"user": "ana", "roles": ["v"], "tenant": "acme", "channel": "pedido:ana"},
        {"user": "ana", "roles": ["v"], "tenant": "acme", "channel": "pedido:bob"},
    ]
    # The namespace's rules come first: an anonymous client is refused
    # without the backend being asked.
    anon = await ws(srv)
    reply = await anon.request({"id": 1, "op": "sub", "ch": "pedido:open"})
    assert reply["err"]["code"] == "forbidden"
    assert backend.count("subscribe") == 2
    await anon.close()
    await c.close()


async def test_invalid_answer_is_unavailable_and_not_cached(relevo: Any, backend: Backend) -> None:
    srv = await relevo()
    c = await ws(srv)
    assert "ok" in await c.request({"id": 1, "op": "connect", "token": token("ana")})
    for i in (2, 3):
        reply = await c.request({"id": i, "op": "sub", "ch": "pedido:broken"})
        assert reply["err"]["code"] == "unavailable"
        assert reply["err"]["retry"] is True
        assert "oops" not in reply["err"]["message"]
        assert "127.0.0.1" not in reply["err"]["message"]
    assert backend.count("subscribe") == 2


async def test_backend_down_is_unavailable(relevo: Any, backend: Backend) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    dead = f"http://127.0.0.1:{closed.getsockname()[1]}/relevo"
    closed.close()  # nothing listens there: connection refused
    srv = await relevo(connect={"url": f"{dead}/connect"}, perms={"url": f"{dead}/subscribe"})
    c = await ws(srv, "sessionid=good")
    reply = await c.request({"id": 1, "op": "connect"})
    assert reply["err"]["code"] == "unavailable"
    assert reply["err"]["retry"] is True
    assert "ok" in await c.request({"id": 2, "op": "connect", "token": token("ana")})
    reply = await c.request({"id": 3, "op": "sub", "ch": "pedido:ana"})
    assert reply["err"]["code"] == "unavailable"
    # The connection is still there and answers.
    assert await c.request({"id": 4, "op": "ping"}) == {"id": 4, "op": "pong"}
    await c.close()


async def test_slow_backend_times_out_to_unavailable(relevo: Any, backend: Backend) -> None:
    backend.gate.clear()  # the backend never answers a subscribe
    srv = await relevo(perms={"timeout": 0.3})
    c = await ws(srv)
    assert "ok" in await c.request({"id": 1, "op": "connect", "token": token("ana")})
    reply = await c.request({"id": 2, "op": "sub", "ch": "pedido:ana"}, wait=10)
    assert reply["err"]["code"] == "unavailable"
    assert reply["err"]["retry"] is True
    assert "pedido:ana" not in {s for s in srv.hub.channel_names()}
    await c.close()


async def test_a_flood_of_subscribes_is_bounded_in_backend_calls(
    relevo: Any, backend: Backend
) -> None:
    backend.gate.clear()
    srv = await relevo(perms={"timeout": 30, "max_concurrency": 3})
    clients = []
    for i in range(12):
        c = await ws(srv)
        assert "ok" in await c.request({"id": 1, "op": "connect", "token": token(f"u{i}")})
        c.send({"id": 2, "op": "sub", "ch": f"pedido:u{i}"})
        clients.append(c)
    await backend.wait_in_flight(3)
    # Every client has asked; only three calls reach the backend at once.
    assert backend.in_flight == 3
    backend.gate.set()
    for c in clients:
        reply = await c.recv(wait=20)
        assert "ok" in reply, reply
        await c.close()
    assert backend.most_in_flight == 3
    assert backend.count("subscribe") == 12


async def test_the_same_question_in_flight_is_asked_once(relevo: Any, backend: Backend) -> None:
    backend.gate.clear()
    srv = await relevo(perms={"timeout": 30})
    clients = []
    for _ in range(5):
        c = await ws(srv)
        assert "ok" in await c.request({"id": 1, "op": "connect", "token": token("ana")})
        c.send({"id": 2, "op": "sub", "ch": "pedido:ana"})
        clients.append(c)
    await backend.wait_in_flight(1)
    backend.gate.set()
    for c in clients:
        assert "ok" in await c.recv(wait=20)
        await c.close()
    assert backend.count("subscribe") == 1


async def test_sse_connects_by_cookie(relevo: Any, backend: Backend) -> None:
    backend.sessions["good"] = ANA
    srv = await relevo()
    base = f"http://127.0.0.1:{srv.port}"
    async with httpx.AsyncClient(base_url=base, timeout=timeout(10)) as http:
        params = {"ch": "pedido:ana"}
        http.cookies.set("sessionid", "good")
        async with http.stream("GET", "/sse", params=params) as resp:
            assert resp.status_code == 200
        http.cookies.set("sessionid", "bad")
        resp = await http.get("/sse", params=params)
        assert resp.status_code == 401
        assert resp.json()["code"] == "unauthorized"
        # The command route connects the same way.
        http.cookies.set("sessionid", "good")
        resp = await http.post("/api/command", json={"id": 1, "op": "history", "ch": "pedido:ana"})
        assert "ok" in resp.json(), resp.text


async def test_always_refuses_client_tokens(relevo: Any, backend: Backend) -> None:
    backend.sessions["good"] = ANA
    srv = await relevo(connect={"always": True})
    c = await ws(srv)
    reply = await c.request({"id": 1, "op": "connect", "token": token("ana")})
    assert reply["err"]["code"] == "unauthorized"
    await c.close()
    c = await ws(srv, "sessionid=good")
    assert "ok" in await c.request({"id": 1, "op": "connect"})
    reply = await c.request({"id": 2, "op": "refresh", "token": token("ana")})
    assert reply["err"]["code"] == "unauthorized"
    await c.close()


async def test_expire_at_past_is_unavailable(relevo: Any, backend: Backend) -> None:
    backend.sessions["old"] = {**ANA, "expire_at": 1000}
    srv = await relevo()
    c = await ws(srv, "sessionid=old")
    reply = await c.request({"id": 1, "op": "connect"})
    assert reply["err"]["code"] == "unavailable"
    await c.close()
