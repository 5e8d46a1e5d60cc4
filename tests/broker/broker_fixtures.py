"""Helpers of the broker tests: a recording handler, a
throwaway redis-server. (Fixtures are in ``conftest.py``.)"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import redis.asyncio as aioredis

from relevo.broker.base import Broker, PresenceStore
from relevo.protocol.types import Publication
from tests.helpers import timeout

REDIS_URL = os.environ.get("RELEVO_TEST_REDIS", "redis://127.0.0.1:6379/9")
TIMEOUT = timeout(5.0)


class Recorder:
    """A BrokerHandler that lets a test await what the broker delivers."""

    def __init__(self) -> None:
        self.publications: asyncio.Queue[Publication] = asyncio.Queue()
        self.pushes: asyncio.Queue[tuple[str, str, bytes]] = asyncio.Queue()
        self.gaps: asyncio.Queue[str] = asyncio.Queue()

    def on_publication(self, pub: Publication) -> None:
        self.publications.put_nowait(pub)

    def on_push(self, channel: str, event: str, data: bytes) -> None:
        self.pushes.put_nowait((channel, event, data))

    def on_gap(self, channel: str) -> None:
        self.gaps.put_nowait(channel)

    async def next(self, channel: str | None = None) -> Publication:
        """The next publication (of ``channel``, skipping other channels)."""
        while True:
            pub = await asyncio.wait_for(self.publications.get(), TIMEOUT)
            if channel is None or pub.channel == channel:
                return pub

    async def take(self, n: int, channel: str | None = None) -> list[Publication]:
        return [await self.next(channel) for _ in range(n)]

    async def next_push(self) -> tuple[str, str, bytes]:
        return await asyncio.wait_for(self.pushes.get(), TIMEOUT)

    async def next_gap(self) -> str:
        return await asyncio.wait_for(self.gaps.get(), TIMEOUT)


@dataclass
class BrokerEnv:
    kind: str
    broker: Broker
    handler: Recorder
    advance: Callable[[float], Awaitable[None]]
    """Let ``seconds`` pass: virtual for memory, real (short) for Redis."""
    make: Callable[..., Awaitable[Broker]]
    """``make(handler, **options)``: another started broker of the same kind,
    closed at teardown (same virtual clock; same Redis prefix)."""


@dataclass
class PresenceEnv:
    kind: str
    store: PresenceStore
    other: PresenceStore
    """Another node's store over the same state (the same store in one process)."""
    advance: Callable[[float], Awaitable[None]]


def redis_url(prefix: str) -> str:
    return f"{REDIS_URL}?prefix={prefix}"


async def delete_prefix(prefix: str) -> None:
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        keys = [k async for k in client.scan_iter(match=f"{{{prefix}.*", count=500)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivateRedis:
    """A throwaway ``redis-server`` a test may stop, pause and restart
    without disturbing the machine's Redis on 6379."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            "redis-server",
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        client = aioredis.Redis.from_url(self.url)
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + TIMEOUT
            while True:
                try:
                    await client.ping()
                    return
                except (OSError, aioredis.ConnectionError):
                    if loop.time() > deadline:
                        raise
                    await asyncio.sleep(0.02)  # nothing to await: the server is starting
        finally:
            await client.aclose()

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        self.proc = None

    def pause(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGCONT)
