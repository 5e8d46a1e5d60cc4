"""The Python SDK against a real server: publish sync/async, a subscriber that
reconnects and recovers exactly what it missed."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from relevo.client import AsyncRelevoClient, RelevoClient, RelevoHTTPError, Subscriber
from relevo.server.app import RelevoServer
from tests.conftest import API_KEY, token
from tests.helpers import timeout


def url(server: RelevoServer, scheme: str = "http") -> str:
    return f"{scheme}://127.0.0.1:{server.port}"


async def test_sync_publish_from_a_thread(server: RelevoServer) -> None:
    def work() -> list[Any]:
        with RelevoClient(url(server), API_KEY) as client:
            first = client.publish("demo:sdk", "hola", {"a": 1})
            many = client.broadcast(["demo:x", "demo:y"], "b", 1)
            hist = client.history("demo:sdk")
            with pytest.raises(RelevoHTTPError) as info:
                RelevoClient(url(server), "wrong").publish("demo:sdk", "x")
            return [first, many, hist, info.value.code]

    first, many, hist, code = await asyncio.to_thread(work)
    assert first["offset"] == 1
    assert [r["channel"] for r in many] == ["demo:x", "demo:y"]
    assert hist["publications"][0]["data"] == {"a": 1}
    assert code == "unauthorized"


async def test_async_subscriber_recovers_after_a_cut(server: RelevoServer) -> None:
    sub = Subscriber(f"{url(server, 'ws')}/ws", ["demo:feed"], token=token("ana"), min_backoff=0.05)
    async with AsyncRelevoClient(url(server), API_KEY) as client, sub:
        for i in range(5):
            await client.publish("demo:feed", "n", i)
        it = aiter(sub)
        got = [(await asyncio.wait_for(anext(it), timeout(5))).data for _ in range(5)]
        assert got == [0, 1, 2, 3, 4]
        # Cut the socket; publish while it is away.
        assert sub.ws is not None
        await client.disconnect("nobody")  # unrelated user: no effect
        transport = sub.ws.transport
        transport.abort()
        for i in range(5, 50):
            await client.publish("demo:feed", "n", i)
        rest = [(await asyncio.wait_for(anext(it), timeout(10))).data for _ in range(45)]
        assert rest == list(range(5, 50))
        assert sub.reconnects >= 1
        presence = await client.presence("demo:feed")
        assert [c["user"] for c in presence["clients"].values()] == ["ana"]


async def test_subscriber_reports_reset_when_history_is_lost(server: RelevoServer) -> None:
    sub = Subscriber(f"{url(server, 'ws')}/ws", ["small:r"], min_backoff=0.05)
    async with AsyncRelevoClient(url(server), API_KEY) as client, sub:
        await client.publish("small:r", "n", 0)
        it = aiter(sub)
        assert (await asyncio.wait_for(anext(it), timeout(5))).data == 0
        assert sub.ws is not None
        sub.ws.transport.abort()
        for i in range(1, 20):  # more than the namespace keeps (5)
            await client.publish("small:r", "n", i)
        reset = await asyncio.wait_for(anext(it), timeout(10))
        assert reset.event == "$reset"
        assert reset.recovered is False
        await client.publish("small:r", "n", "after")
        assert (await asyncio.wait_for(anext(it), timeout(5))).data == "after"


async def test_subscriber_stops_on_a_forbidden_channel(server: RelevoServer) -> None:
    sub = Subscriber(f"{url(server, 'ws')}/ws", ["gtr"], min_backoff=0.05)
    task = asyncio.create_task(sub._run())
    with pytest.raises(Exception, match="forbidden"):
        await asyncio.wait_for(anext(aiter(sub)), timeout(5))
    task.cancel()
