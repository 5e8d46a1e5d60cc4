"""The WebSocket endpoint over real sockets: protocol, permissions, recovery,
expiry, slow consumers, dead peers, bad input."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest

from relevo.hub.auth import mint_token
from relevo.server.app import RelevoServer
from tests.conftest import API_KEY, SECRET, make_settings, token
from tests.helpers import RawWS, timeout


async def publish(server: RelevoServer, channel: str, event: str, data: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
        resp = await http.post(
            "/api/publish",
            json={"channel": channel, "event": event, "data": data},
            headers={"Authorization": f"apikey {API_KEY}"},
        )
        result: dict[str, Any] = resp.json()
        assert resp.status_code == 200, result
        return result


async def connected(server: RelevoServer, tok: str | None = None) -> RawWS:
    ws = await RawWS.connect(server.port)
    if tok:
        reply = await ws.request({"id": 0, "op": "connect", "token": tok})
        assert "ok" in reply, reply
    return ws


async def test_ping_before_connect_and_connect_reply(server: RelevoServer) -> None:
    ws = await RawWS.connect(server.port)
    ws.send({"op": "ping"})
    assert await ws.recv() == {"op": "pong"}
    reply = await ws.request({"id": 1, "op": "connect", "token": token("4", ("asesor",))})
    assert reply["ok"]["user"] == "4"
    assert reply["ok"]["client"]
    assert isinstance(reply["ok"]["expires"], int)
    again = await ws.request({"id": 2, "op": "connect", "token": token("4", ("asesor",))})
    assert again["err"]["code"] == "bad_request"
    await ws.close()


async def test_sub_reply_means_live(server: RelevoServer) -> None:
    ws = await connected(server)
    reply = await ws.request({"id": 1, "op": "sub", "ch": "demo:live"})
    assert reply["ok"]["offset"] == 0
    await publish(server, "demo:live", "first", {"n": 1})
    pub = await ws.recv()
    assert (pub["ch"], pub["off"], pub["ev"], pub["data"]) == ("demo:live", 1, "first", {"n": 1})
    await ws.close()


async def test_default_deny_and_role_rules(server: RelevoServer) -> None:
    anon = await connected(server)
    for ch in ("gtr", "unknown:ns", "asesor:4"):
        reply = await anon.request({"id": 1, "op": "sub", "ch": ch})
        assert reply["err"]["code"] == "forbidden", ch
    asesor = await connected(server, token("4", ("asesor",)))
    assert (await asesor.request({"id": 1, "op": "sub", "ch": "gtr"}))["err"]["code"] == "forbidden"
    assert "ok" in await asesor.request({"id": 2, "op": "sub", "ch": "asesor:4"})
    assert (await asesor.request({"id": 3, "op": "sub", "ch": "asesor:5"}))["err"][
        "code"
    ] == "forbidden"
    gtr = await connected(server, token("g", ("gtr",)))
    assert "ok" in await gtr.request({"id": 1, "op": "sub", "ch": "gtr"})
    assert "ok" in await gtr.request({"id": 2, "op": "sub", "ch": "asesor:5"})
    # Client publish only where the namespace allows it.
    denied = await asesor.request({"id": 9, "op": "pub", "ch": "gtr", "ev": "x", "data": 1})
    assert denied["err"]["code"] == "forbidden"
    for ws in (anon, asesor, gtr):
        await ws.close()


async def test_tenant_isolation(server: RelevoServer) -> None:
    a = await connected(server, token("u1", (), tenant="acme"))
    b = await connected(server, token("u2", (), tenant="globex"))
    assert "ok" in await a.request({"id": 1, "op": "sub", "ch": "t:acme:inbox"})
    assert "ok" in await b.request({"id": 1, "op": "sub", "ch": "t:globex:inbox"})
    reach = await a.request({"id": 2, "op": "sub", "ch": "t:globex:inbox"})
    assert reach["err"]["code"] == "forbidden"
    prefix = await a.request({"id": 3, "op": "sub", "ch": "t:acmex:inbox"})
    assert prefix["err"]["code"] == "forbidden"
    cross = await a.request({"id": 4, "op": "pub", "ch": "t:globex:inbox", "ev": "x", "data": 1})
    assert cross["err"]["code"] == "forbidden"
    for i in range(20):
        await publish(server, "t:globex:inbox", "message:new", {"i": i})
        await publish(server, "t:acme:inbox", "message:new", {"i": i})
    got_a = [await a.recv() for _ in range(20)]
    got_b = [await b.recv() for _ in range(20)]
    assert {m["ch"] for m in got_a} == {"t:acme:inbox"}
    assert {m["ch"] for m in got_b} == {"t:globex:inbox"}
    # A tenant claim that smuggles a ":" cannot reach into another tenant's channels.
    sneaky = await connected(server, token("u3", (), tenant="globex:inbox"))
    smuggled = await sneaky.request({"id": 1, "op": "sub", "ch": "t:globex:inbox:x"})
    assert smuggled["err"]["code"] == "forbidden"
    await sneaky.close()
    ok = await a.request({"id": 5, "op": "pub", "ch": "t:acme:inbox", "ev": "typing", "data": {}})
    assert ok["ok"]["offset"] == 21
    leaked = []
    try:
        while True:
            leaked.append(await b.recv(wait=0.3))
    except TimeoutError:
        pass
    assert not [m for m in leaked if m.get("ch") != "t:globex:inbox"], "tenant B saw A's frame"
    await a.close()
    await b.close()


async def test_recovery_of_1000_missed_publications(server_factory: Any) -> None:
    server = await server_factory()
    ws = await connected(server)
    first = await ws.request({"id": 1, "op": "sub", "ch": "big:room"})
    epoch = first["ok"]["epoch"]
    await publish(server, "big:room", "e", {"i": 0})
    seen = await ws.recv()
    assert seen["off"] == 1
    await ws.close()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
        for i in range(1, 1001):
            await http.post(
                "/api/publish",
                json={"channel": "big:room", "event": "e", "data": {"i": i}},
                headers={"Authorization": f"apikey {API_KEY}"},
            )
    ws = await connected(server)
    reply = await ws.request(
        {"id": 2, "op": "sub", "ch": "big:room", "since": {"epoch": epoch, "offset": 1}}
    )
    ok = reply["ok"]
    assert ok["recovered"] is True
    assert [p["off"] for p in ok["missed"]] == list(range(2, 1002))
    assert [p["data"]["i"] for p in ok["missed"]] == list(range(1, 1001))
    await publish(server, "big:room", "e", {"i": "live"})
    assert (await ws.recv())["off"] == 1002
    await ws.close()


async def test_recovered_false_when_history_was_trimmed(server: RelevoServer) -> None:
    ws = await connected(server)
    first = await ws.request({"id": 1, "op": "sub", "ch": "small:x"})
    epoch = first["ok"]["epoch"]
    await ws.close()
    for i in range(10):
        await publish(server, "small:x", "e", i)
    ws = await connected(server)
    reply = await ws.request(
        {"id": 2, "op": "sub", "ch": "small:x", "since": {"epoch": epoch, "offset": 0}}
    )
    assert reply["ok"]["recovered"] is False
    assert reply["ok"]["missed"] == []
    assert reply["ok"]["offset"] == 10
    other_epoch = await ws.request(
        {"id": 3, "op": "sub", "ch": "demo:e", "since": {"epoch": "nope", "offset": 0}}
    )
    assert other_epoch["ok"]["recovered"] is False
    await ws.close()


async def test_history_presence_and_unsub(server: RelevoServer) -> None:
    tok = token("ana", ("asesor",))
    ws = await connected(server, tok)
    other = await connected(server, token("bo", ()))
    assert "ok" in await ws.request({"id": 1, "op": "sub", "ch": "demo:p"})
    assert "ok" in await other.request({"id": 1, "op": "sub", "ch": "demo:p"})
    joins = [(await ws.recv())["data"]["user"] for _ in range(2)]
    assert joins == ["ana", "bo"]  # its own join, then the other's
    pres = await ws.request({"id": 2, "op": "presence", "ch": "demo:p"})
    assert {c["user"] for c in pres["ok"]["clients"].values()} == {"ana", "bo"}
    for i in range(3):
        await publish(server, "demo:p", "e", i)
    hist = await ws.request({"id": 3, "op": "history", "ch": "demo:p", "limit": 2})
    assert [p["data"] for p in hist["ok"]["publications"]] == [1, 2]
    assert "ok" in await other.request({"id": 4, "op": "unsub", "ch": "demo:p"})
    while True:
        msg = await ws.recv()
        if msg.get("ev") == "$leave":
            assert msg["data"]["user"] == "bo"
            break
    not_sub = await other.request({"id": 5, "op": "unsub", "ch": "demo:p"})
    assert not_sub["err"]["code"] == "bad_request"
    anon = await connected(server)
    denied = await anon.request({"id": 1, "op": "presence", "ch": "demo:p"})
    assert denied["err"]["code"] == "forbidden"
    for c in (ws, other, anon):
        await c.close()


async def test_token_expiry_mid_connection_and_refresh(server_factory: Any) -> None:
    server = await server_factory(make_settings(auth={"leeway": 0}))
    ws = await connected(server, token("4", ("asesor",), ttl=2))
    assert "ok" in await ws.request({"id": 1, "op": "sub", "ch": "asesor:4"})
    refreshed = await ws.request(
        {"id": 2, "op": "refresh", "token": token("4", ("asesor",), ttl=3)}
    )
    assert refreshed["ok"]["expires"] > 0
    wrong_user = await ws.request({"id": 3, "op": "refresh", "token": token("5", ("asesor",))})
    assert wrong_user["err"]["code"] == "forbidden", wrong_user
    await publish(server, "asesor:4", "still", 1)
    assert (await ws.recv())["ev"] == "still"  # the subscription survived the refresh
    msg = await ws.recv(wait=6)
    assert msg == {
        "op": "disconnect",
        "code": "token_expired",
        "reconnect": True,
        "message": "token expired; refresh it",
    }
    await ws.close()
    expired = await RawWS.connect(server.port)
    stale = mint_token(SECRET, "4", extra={"exp": int(time.time()) - 10})
    bad = await expired.request({"id": 1, "op": "connect", "token": stale})
    assert bad["err"]["code"] == "token_expired"
    forged = await expired.request({"id": 2, "op": "connect", "token": token("4") + "x"})
    assert forged["err"]["code"] == "unauthorized"
    await expired.close()


async def test_slow_consumer_is_cut_and_fast_one_keeps_up(server_factory: Any) -> None:
    server = await server_factory(make_settings(limits={"max_outbound_bytes": 65536}))
    slow = await RawWS.connect(server.port, rcvbuf=4096)
    fast = await connected(server)
    assert "ok" in await slow.request({"id": 1, "op": "sub", "ch": "demo:s"})
    assert "ok" in await fast.request({"id": 1, "op": "sub", "ch": "demo:s"})
    blob = "x" * 8000
    received = 0

    async def drain() -> None:
        nonlocal received
        while received < 600:
            msg = await fast.recv()
            if "off" in msg:
                received += 1

    reader = asyncio.create_task(drain())
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
        for i in range(600):
            await http.post(
                "/api/publish",
                json={"channel": "demo:s", "event": "e", "data": {"i": i, "blob": blob}},
                headers={"Authorization": f"apikey {API_KEY}"},
            )
    await asyncio.wait_for(reader, timeout(20))
    assert received == 600
    # The slow one, when it finally reads, finds the disconnect after what fit.
    codes = []
    try:
        while True:
            msg = await slow.recv(wait=2)
            if msg.get("op") == "disconnect":
                codes.append(msg["code"])
    except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
        pass
    assert codes == ["slow_consumer"]
    assert server.hub.metrics.disconnects.labels("slow_consumer")._value.get() == 1
    await slow.close()
    await fast.close()


async def test_silent_peer_is_detected_and_presence_cleaned(server_factory: Any) -> None:
    settings = make_settings(liveness={"ping_interval": 0.3, "pong_timeout": 0.3})
    server = await server_factory(settings)
    watcher = await connected(server, token("w", ()))
    assert "ok" in await watcher.request({"id": 1, "op": "sub", "ch": "demo:alive"})
    silent = await connected(server, token("ghost", ()))
    assert "ok" in await silent.request({"id": 1, "op": "sub", "ch": "demo:alive"})
    # `silent` never reads again, so never answers the pings: like a half-open peer.
    leave = None
    for _ in range(20):
        opcode, payload = await watcher.recv_frame(wait=3)
        if opcode == 0x9:
            watcher.send_frame(0xA, payload)  # the watcher answers its pings
        elif opcode == 0x1:
            msg = json.loads(payload)
            if msg.get("ev") == "$leave":
                leave = msg
                break
    assert leave is not None
    assert leave["data"]["user"] == "ghost"
    assert [s.identity.user for s in server.hub.sessions] == ["w"]
    await watcher.close()
    await silent.close()


async def test_bad_frames_get_errors_and_the_connection_survives(server: RelevoServer) -> None:
    ws = await connected(server)
    ws.send("{not json")
    assert (await ws.recv())["err"]["code"] == "bad_request"
    ws.send_frame(0x2, b"\x00\x01")
    assert "binary" in (await ws.recv())["err"]["message"]
    ws.send("x" * 70000)
    assert (await ws.recv())["err"]["code"] == "too_large"
    reply = await ws.request({"id": 7, "op": "sub", "ch": 12})
    assert reply["err"]["code"] == "bad_request"
    ws.send({"op": "ping"})
    assert await ws.recv() == {"op": "pong"}
    codes = [e["code"] for e in server.hub.recent_errors]
    assert codes == ["bad_request"] * 2 + ["too_large", "bad_request"]
    # A wire-level violation is not a bad command: RFC 6455 fails the
    # connection with a Close frame alone (tests/integration/test_ws_rfc.py).
    ws.send_frame(0x1, b"unmasked", masked=False)
    assert await ws.recv_frame() == (0x8, b"\x03\xeaclient frames must be masked")
    await ws.close()


async def test_rate_limit_and_flood(server_factory: Any) -> None:
    server = await server_factory(
        make_settings(limits={"commands_per_second": 5, "command_burst": 5})
    )
    ws = await connected(server)
    for i in range(8):
        ws.send({"id": i, "op": "ping"})
    replies = [await ws.recv() for _ in range(8)]
    limited = [r for r in replies if "err" in r]
    assert limited
    assert all(r["err"]["code"] == "rate_limited" and r["err"]["retry"] for r in limited)
    for i in range(100):
        ws.send({"id": i, "op": "ping"})
    last = None
    try:
        while True:
            last = await ws.recv(wait=2)
            if last.get("op") == "disconnect":
                break
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    assert last is not None
    assert last["code"] == "rate_limited"
    await ws.close()


async def test_subscription_limit_and_origin(server_factory: Any) -> None:
    settings = make_settings(
        limits={"max_subscriptions": 2}, server={"allowed_origins": ["https://app.example"]}
    )
    server = await server_factory(settings)
    ws = await connected(server)
    assert "ok" in await ws.request({"id": 1, "op": "sub", "ch": "demo:1"})
    assert "ok" in await ws.request({"id": 2, "op": "sub", "ch": "demo:2"})
    third = await ws.request({"id": 3, "op": "sub", "ch": "demo:3"})
    assert third["err"]["code"] == "limit_exceeded"
    dup = await ws.request({"id": 4, "op": "sub", "ch": "demo:1"})
    assert dup["err"]["code"] == "bad_request"
    await ws.close()
    ok = await RawWS.connect(server.port, headers={"Origin": "https://app.example"})
    await ok.close()
    with pytest.raises(ConnectionRefusedError, match="403"):
        await RawWS.connect(server.port, headers={"Origin": "https://evil.example"})
    with pytest.raises(ConnectionRefusedError, match="404"):
        await RawWS.connect(server.port, path="/other")


async def test_token_in_query_string(server: RelevoServer) -> None:
    ws = await RawWS.connect(server.port, path=f"/ws?token={token('g', ('gtr',))}")
    assert "ok" in await ws.request({"id": 1, "op": "sub", "ch": "gtr"})
    await ws.close()
    bad = await RawWS.connect(server.port, path="/ws?token=forged")
    msg = await bad.recv()
    assert (msg["op"], msg["code"], msg["reconnect"]) == ("disconnect", "unauthorized", False)
    await bad.close()


async def test_metrics_gauges_follow_connections_subscriptions_and_channels(
    server: RelevoServer,
) -> None:
    """The gauges are read from the hub when /metrics is scraped: they go up
    with connects and subscribes and back to zero when the clients leave."""
    registry = server.hub.metrics.registry

    async def gauges() -> tuple[float | None, ...]:
        return (
            registry.get_sample_value("relevo_connections", {"transport": "ws"}),
            registry.get_sample_value("relevo_subscriptions"),
            registry.get_sample_value("relevo_channels"),
        )

    assert await gauges() == (0.0, 0.0, 0.0)
    a, b = await connected(server), await connected(server)
    for ws in (a, b):
        assert "ok" in await ws.request({"id": 1, "op": "sub", "ch": "demo:g1"})
    assert "ok" in await a.request({"id": 2, "op": "sub", "ch": "demo:g2"})
    assert await gauges() == (2.0, 3.0, 2.0)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
        text = (await http.get("/metrics", headers={"X-API-Key": API_KEY})).text
    assert 'relevo_connections{transport="ws"} 2.0' in text
    assert "relevo_subscriptions 3.0" in text
    await a.close()
    await b.close()
    deadline = asyncio.get_running_loop().time() + timeout(10)
    while await gauges() != (0.0, 0.0, 0.0):
        assert asyncio.get_running_loop().time() < deadline, await gauges()
        await asyncio.sleep(0.02)
