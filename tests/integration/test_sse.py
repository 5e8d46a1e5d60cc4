"""The SSE transport: publications with resumable ids, Last-Event-ID recovery."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx

from relevo.protocol.sse import format_positions, parse_positions
from relevo.server.app import RelevoServer
from tests.conftest import API_KEY, make_settings, token
from tests.helpers import timeout


async def read_events(lines: AsyncIterator[str], count: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    async for line in lines:
        if not line:
            if "data" in current:
                events.append(current)
                if len(events) == count:
                    return events
            current = {}
            continue
        field, _, value = line.partition(": ")
        current[field] = value
    return events


async def test_positions_round_trip() -> None:
    from relevo.protocol.types import StreamPosition

    pos = {"gtr": StreamPosition("e1", 5), "asesor:4": StreamPosition("e2", 9)}
    assert parse_positions(format_positions(pos)) == pos


async def test_sse_delivers_and_resumes_with_last_event_id(server: RelevoServer) -> None:
    base = f"http://127.0.0.1:{server.port}"
    auth = {"Authorization": f"apikey {API_KEY}"}
    async with httpx.AsyncClient(base_url=base, timeout=timeout(10)) as http:
        params = {"ch": ["demo:a", "gtr"], "token": token("g", ("gtr",))}
        async with http.stream("GET", "/sse", params=params) as resp:
            assert resp.headers["content-type"].startswith("text/event-stream")
            lines = resp.aiter_lines()
            ctl = [json.loads(e["data"]) for e in await read_events(lines, 3)]
            assert [c["ok"]["ch"] for c in ctl if "ok" in c] == ["demo:a", "gtr"]
            assert [c["ev"] for c in ctl if "ev" in c] == ["$join"]
            await http.post(
                "/api/publish", json={"channel": "gtr", "event": "x", "data": 1}, headers=auth
            )
            await http.post(
                "/api/publish", json={"channel": "demo:a", "event": "y", "data": 2}, headers=auth
            )
            events = await read_events(lines, 2)
        assert [json.loads(e["data"])["ev"] for e in events] == ["x", "y"]
        last_id = events[-1]["id"]
        assert set(parse_positions(last_id)) == {"demo:a", "gtr"}
        # Missed while away: one on each channel.
        await http.post(
            "/api/publish", json={"channel": "gtr", "event": "m1", "data": 3}, headers=auth
        )
        await http.post(
            "/api/publish", json={"channel": "demo:a", "event": "m2", "data": 4}, headers=auth
        )
        headers = {"Last-Event-ID": last_id}
        async with http.stream("GET", "/sse", params=params, headers=headers) as resp:
            events = await asyncio.wait_for(read_events(resp.aiter_lines(), 5), timeout(5))
        data = [json.loads(e["data"]) for e in events]
        recovered = [d for d in data if "ok" in d]
        assert all(d["ok"]["recovered"] for d in recovered)
        assert sorted(d["ev"] for d in data if "off" in d) == ["m1", "m2"]


async def test_sse_errors(server: RelevoServer) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
        assert (await http.get("/sse")).json()["code"] == "bad_request"
        denied = await http.get("/sse", params={"ch": "gtr"})
        assert denied.status_code == 403
        assert denied.json()["code"] == "forbidden"
        assert denied.json()["channel"] == "gtr"
        forged = await http.get("/sse", params={"ch": "demo:a", "token": "x.y.z"})
        assert forged.json()["code"] == "unauthorized"
        bad_id = await http.get("/sse", params={"ch": "demo:a"}, headers={"Last-Event-ID": "zzz"})
        assert bad_id.json()["code"] == "bad_request"


async def test_sse_applies_the_origin_allow_list(server_factory: Any) -> None:
    srv: RelevoServer = await server_factory(
        make_settings(server={"allowed_origins": ["https://app.example"]})
    )
    params = {"ch": "gtr", "token": token("g", ("gtr",))}
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{srv.port}", timeout=timeout(10)
    ) as http:
        denied = await http.get("/sse", params=params, headers={"Origin": "https://evil.example"})
        assert denied.status_code == 403
        assert denied.json()["code"] == "forbidden"
        assert "origin" in denied.json()["message"]
        assert not srv.hub.sessions
        for headers in ({"Origin": "https://app.example"}, {}):
            async with http.stream("GET", "/sse", params=params, headers=headers) as resp:
                assert resp.status_code == 200
                events = await read_events(resp.aiter_lines(), 1)
                assert json.loads(events[0]["data"])["ok"]["ch"] == "gtr"


async def _sse_socket(port: int, channel: str, rcvbuf: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, ("127.0.0.1", port))
    request = f"GET /sse?ch={channel} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    await loop.sock_sendall(sock, request.encode())
    return sock


async def _until(condition: Any, what: str, seconds: float = 15) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout(seconds)
    while not condition():
        assert loop.time() < deadline, what
        await asyncio.sleep(0.02)


async def test_an_sse_peer_that_takes_nothing_is_closed(server_factory: Any) -> None:
    """A peer that stops reading (as one gone without a FIN looks to the
    server: nothing it is sent is acknowledged) is disconnected within the
    liveness deadline, and its socket closed; a peer that reads stays."""
    # A pong_timeout well above any stall of a busy test machine's event loop:
    # the hub declares dead whoever it has not heard of for that long.
    srv: RelevoServer = await server_factory(
        make_settings(liveness={"ping_interval": 0.2, "pong_timeout": 2.0})
    )
    loop = asyncio.get_running_loop()
    stalled = await _sse_socket(srv.port, "demo:a", rcvbuf=4096)
    # Room for all that is published even if the loop is too busy to read it
    # for a while: this peer must look alive to the kernel whatever the load.
    healthy = await _sse_socket(srv.port, "demo:a", rcvbuf=1 << 20)
    received = bytearray()

    async def keep_reading() -> None:
        while chunk := await loop.sock_recv(healthy, 65536):
            received.extend(chunk)

    reader = asyncio.create_task(keep_reading())
    try:
        await _until(lambda: len(srv.hub.sessions) == 2, "both SSE streams open")
        auth = {"Authorization": f"apikey {API_KEY}"}
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{srv.port}", timeout=timeout(10)
        ) as http:
            for i in range(40):
                body = {"channel": "demo:a", "event": f"e{i}", "data": "x" * 2000}
                assert (await http.post("/api/publish", json=body, headers=auth)).is_success
        await _until(lambda: len(srv.hub.sessions) == 1, "the stalled stream was not closed")
        assert [e["code"] for e in srv.hub.recent_errors] == ["disconnect:no_pong"]
        port = stalled.getsockname()[1]
        await _until(
            lambda: (
                not any(
                    getattr(c, "client", None) == ("127.0.0.1", port)
                    for c in srv.server.server_state.connections
                )
            ),
            "the stalled stream's socket is still open",
        )
        await _until(lambda: b'"e39"' in received, "the reading peer got everything")
        # A liveness deadline later, the reading peer is still there.
        pings = received.count(b": ping")
        await _until(lambda: received.count(b": ping") >= pings + 12, "pings keep coming")
        assert len(srv.hub.sessions) == 1
    finally:
        reader.cancel()
        stalled.close()
        healthy.close()
