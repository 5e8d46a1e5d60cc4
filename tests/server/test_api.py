"""The server HTTP API over real sockets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from relevo.server.app import RelevoServer
from tests.conftest import API_KEY, make_settings, token
from tests.helpers import RawWS

AUTH = {"Authorization": f"apikey {API_KEY}"}


@pytest.fixture
async def http(server: RelevoServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
        yield client


async def test_api_key_is_required(http: httpx.AsyncClient) -> None:
    body = {"channel": "demo:1", "event": "e", "data": 1}
    for headers in ({}, {"Authorization": "apikey wrong"}, {"X-API-Key": API_KEY[:-1]}):
        resp = await http.post("/api/publish", json=body, headers=headers)
        assert resp.status_code == 401
        assert resp.json()["code"] == "unauthorized"
    resp = await http.post("/api/publish", json=body, headers={"X-API-Key": API_KEY})
    assert resp.status_code == 200


async def test_publish_broadcast_history(http: httpx.AsyncClient) -> None:
    first = await http.post(
        "/api/publish", json={"channel": "demo:h", "event": "a", "data": {"x": 1}}, headers=AUTH
    )
    assert first.json()["offset"] == 1
    resp = await http.post(
        "/api/broadcast",
        json={"channels": ["demo:h", "demo:i"], "event": "b", "data": [1, 2]},
        headers=AUTH,
    )
    assert [r["offset"] for r in resp.json()["results"]] == [2, 1]
    hist = (await http.get("/api/history/demo:h", headers=AUTH)).json()
    assert [p["ev"] for p in hist["publications"]] == ["a", "b"]
    since = (
        await http.get(
            "/api/history/demo:h",
            params={"since_epoch": hist["epoch"], "since_offset": 1, "limit": 10},
            headers=AUTH,
        )
    ).json()
    assert [p["off"] for p in since["publications"]] == [2]


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        ("/api/publish", b"not json", "bad_request"),
        ("/api/publish", b'{"channel":"demo:1"}', "bad_request"),
        ("/api/publish", b'{"channel":"bad chan","event":"e"}', "bad_request"),
        ("/api/publish", b'{"channel":"demo:1","event":"e","extra":1}', "bad_request"),
        (
            "/api/publish",
            b'{"channel":"demo:1","event":"e","data":"' + b"x" * 70000 + b'"}',
            "too_large",
        ),
        ("/api/broadcast", b'{"channels":[],"event":"e"}', "bad_request"),
        ("/api/disconnect", b"{}", "bad_request"),
    ],
)
async def test_bad_bodies(http: httpx.AsyncClient, path: str, body: bytes, code: str) -> None:
    resp = await http.post(path, content=body, headers=AUTH)
    assert resp.status_code in (400, 413, 500)
    assert resp.json()["code"] == code


async def test_presence_and_disconnect_user(server: RelevoServer, http: httpx.AsyncClient) -> None:
    ws = await RawWS.connect(server.port)
    assert "ok" in await ws.request({"id": 1, "op": "connect", "token": token("ana")})
    assert "ok" in await ws.request({"id": 2, "op": "sub", "ch": "demo:room"})
    pres = (await http.get("/api/presence/demo:room", headers=AUTH)).json()
    assert [c["user"] for c in pres["clients"].values()] == ["ana"]
    info = (await http.get("/api/info", headers=AUTH)).json()
    assert info["channels"] == {"demo:room": 1}
    assert (
        await http.post("/api/disconnect", json={"user": "ana"}, headers=AUTH)
    ).status_code == 200
    msgs = []
    while True:
        msg = await ws.recv()
        msgs.append(msg)
        if msg.get("op") == "disconnect":
            break
    assert msgs[-1]["code"] == "forced"
    assert msgs[-1]["reconnect"] is False
    await ws.close()


async def test_health_ready_metrics_openapi(server: RelevoServer, http: httpx.AsyncClient) -> None:
    assert (await http.get("/healthz")).json()["status"] == "ok"
    assert (await http.get("/readyz")).json()["status"] == "ready"
    await http.post("/api/publish", json={"channel": "demo:m", "event": "e"}, headers=AUTH)
    assert (await http.get("/metrics")).status_code == 401
    text = (await http.get("/metrics", headers=AUTH)).text
    for name in (
        "relevo_connections",
        "relevo_subscriptions",
        "relevo_publications_total",
        "relevo_deliveries_total",
        "relevo_errors_total",
        "relevo_disconnects_total",
    ):
        assert name in text
    assert 'relevo_published_total{source="api"} 1.0' in text
    doc = (await http.get("/api/openapi.json")).json()
    assert doc["openapi"].startswith("3.")
    assert {
        "/api/publish",
        "/api/broadcast",
        "/api/history/{channel}",
        "/api/presence/{channel}",
    } <= set(doc["paths"])
    js = await http.get("/relevo.js")
    assert js.status_code == 200
    assert "javascript" in js.headers["content-type"]


async def test_readyz_fails_when_the_broker_is_down(
    server: RelevoServer, http: httpx.AsyncClient
) -> None:
    await server.hub.broker.close()
    resp = await http.get("/readyz")
    assert resp.status_code == 503
    pub = await http.post("/api/publish", json={"channel": "demo:x", "event": "e"}, headers=AUTH)
    assert pub.status_code == 503
    assert pub.json()["code"] == "unavailable"


async def test_command_over_http_for_sse_clients(http: httpx.AsyncClient) -> None:
    bearer = {"Authorization": f"Bearer {token('ana')}"}
    pub = await http.post(
        "/api/command",
        json={"id": 3, "op": "pub", "ch": "demo:c", "ev": "x", "data": 1},
        headers=bearer,
    )
    assert pub.json() == {"id": 3, "ok": {"epoch": pub.json()["ok"]["epoch"], "offset": 1}}
    anon = await http.post("/api/command", json={"id": 4, "op": "pub", "ch": "demo:c", "ev": "x"})
    assert anon.json()["err"]["code"] == "forbidden"
    hist = await http.post("/api/command", json={"id": 5, "op": "history", "ch": "demo:c"})
    assert [p["ev"] for p in hist.json()["ok"]["publications"]] == ["x"]
    sub = await http.post("/api/command", json={"id": 6, "op": "sub", "ch": "demo:c"})
    assert sub.status_code == 400
    assert sub.json() == {
        "id": 6,
        "err": {
            "code": "bad_request",
            "message": "only pub, history, presence and ping run over HTTP",
            "retry": False,
        },
    }
    forged = await http.post(
        "/api/command", json={"op": "ping"}, headers={"Authorization": "Bearer x"}
    )
    assert forged.json()["err"]["code"] == "unauthorized"
    assert (await http.post("/api/command", content=b"nope")).json()["err"]["code"] == "bad_request"


async def test_cors_follows_allowed_origins(server_factory: Any) -> None:
    srv = await server_factory(make_settings(server={"allowed_origins": ["https://app.example"]}))
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{srv.port}") as client:
        pre = await client.options(
            "/api/command",
            headers={
                "Origin": "https://app.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        assert pre.headers["access-control-allow-origin"] == "https://app.example"
        other = await client.get("/healthz", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
