"""The Python SDK against a real server: publish sync/async, a subscriber that
reconnects and recovers exactly what it missed."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import websockets

from relevo.client import (
    AsyncRelevoClient,
    RelevoClient,
    RelevoHTTPError,
    Subscriber,
    SubscriberStopped,
)
from relevo.client import subscriber as subscriber_module
from relevo.protocol.errors import ErrorCode, RelevoError
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


async def test_subscriber_reports_reset_when_history_is_lost(
    server: RelevoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The reconnect waits at a gate until the history is gone: the outcome
    # must not depend on whether the publishes beat a 0.05 s back-off.
    gate = GatedConnect(monkeypatch)
    sub = Subscriber(f"{url(server, 'ws')}/ws", ["small:r"], min_backoff=0.05)
    async with AsyncRelevoClient(url(server), API_KEY) as client, sub:
        await client.publish("small:r", "n", 0)
        it = aiter(sub)
        assert (await asyncio.wait_for(anext(it), timeout(5))).data == 0
        assert sub.ws is not None
        gate.close()
        sub.ws.transport.abort()
        await asyncio.wait_for(gate.waiting.wait(), timeout(5))
        for i in range(1, 20):  # more than the namespace keeps (5)
            await client.publish("small:r", "n", i)
        gate.open()
        reset = await asyncio.wait_for(anext(it), timeout(10))
        assert reset.event == "$reset"
        assert reset.recovered is False
        await client.publish("small:r", "n", "after")
        assert (await asyncio.wait_for(anext(it), timeout(5))).data == "after"


class GatedConnect:
    """Makes the subscriber's ``websockets.connect`` wait while the gate is closed."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._open = asyncio.Event()
        self._open.set()
        self.waiting = asyncio.Event()
        real = websockets.connect
        gate = self

        class Connect:
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                self._connect = real(*args, **kwargs)

            async def __aenter__(self) -> Any:
                if not gate._open.is_set():
                    gate.waiting.set()
                    await gate._open.wait()
                return await self._connect.__aenter__()

            async def __aexit__(self, *exc: Any) -> Any:
                return await self._connect.__aexit__(*exc)

        monkeypatch.setattr(subscriber_module.websockets, "connect", Connect)

    def close(self) -> None:
        self._open.clear()
        self.waiting.clear()

    def open(self) -> None:
        self._open.set()


async def test_subscriber_stops_on_a_forbidden_channel(server: RelevoServer) -> None:
    sub = Subscriber(f"{url(server, 'ws')}/ws", ["gtr"], min_backoff=0.05)
    task = asyncio.create_task(sub._run())
    with pytest.raises(SubscriberStopped, match="forbidden") as info:
        await asyncio.wait_for(anext(aiter(sub)), timeout(5))
    assert isinstance(info.value, RelevoError)  # under the one exception root
    assert info.value.code is ErrorCode.FORBIDDEN
    task.cancel()


class LossyProxy:
    """A TCP proxy in front of the server that can lose answers: the request
    reaches the server (and takes effect), the client sees the connection
    drop before the response — what a timeout or a dying load balancer does."""

    def __init__(self, upstream: int) -> None:
        self.upstream = upstream
        self.lose = 0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> LossyProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream)

        async def upstream() -> None:
            while data := await reader.read(65536):
                up_writer.write(data)
                await up_writer.drain()

        async def downstream() -> None:
            while data := await up_reader.read(65536):
                if self.lose:
                    self.lose -= 1
                    return
                writer.write(data)
                await writer.drain()

        try:
            up = asyncio.create_task(upstream())
            await downstream()
            up.cancel()
        finally:
            writer.transport.abort()
            up_writer.transport.abort()
            self._tasks.discard(task)


async def test_publish_retried_after_a_lost_answer_is_published_once(
    server: RelevoServer,
) -> None:
    async with (
        LossyProxy(server.port) as proxy,
        AsyncRelevoClient(f"http://127.0.0.1:{proxy.port}", API_KEY, backoff=0.01) as client,
    ):
        proxy.lose = 1
        first = await client.publish("demo:retry", "n", 1)
        assert (first["offset"], proxy.lose) == (1, 0)  # answered by the retry
        proxy.lose = 1
        many = await client.broadcast(["demo:retry", "demo:other"], "b", 2)
        assert [r["offset"] for r in many] == [2, 1]

        def sync_publish() -> dict[str, Any]:
            with RelevoClient(f"http://127.0.0.1:{proxy.port}", API_KEY, backoff=0.01) as c:
                proxy.lose = 1
                return c.publish("demo:retry", "n", 3)

        assert (await asyncio.to_thread(sync_publish))["offset"] == 3
        hist = await client.history("demo:retry")
        assert [p["data"] for p in hist["publications"]] == [1, 2, 3]


async def test_publish_without_retries_reports_the_lost_answer(server: RelevoServer) -> None:
    async with (
        LossyProxy(server.port) as proxy,
        AsyncRelevoClient(f"http://127.0.0.1:{proxy.port}", API_KEY, retries=0) as client,
    ):
        proxy.lose = 1
        with pytest.raises(httpx.TransportError):
            await client.publish("demo:once", "n", 1)
        # It took effect all the same: the caller must decide (or pass a key).
        assert len((await client.history("demo:once"))["publications"]) == 1
