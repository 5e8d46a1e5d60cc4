"""The SSE transport: publications with resumable ids, Last-Event-ID recovery."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from relevo.server.app import RelevoServer
from relevo.transport.sse import format_positions, parse_positions
from tests.conftest import API_KEY, token
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
