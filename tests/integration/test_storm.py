"""A subscribe storm over real sockets on a real Redis: "subscribed" means live.

Many WebSocket clients subscribe to many channels of one ``relevo serve``
node at once while a publisher publishes throughout. Every client checks, per
channel, what it was told: after an ok ``sub`` reply at offset ``P`` it must
get ``P+1``, ``P+2``, … exactly once and in order (a ``missed`` list counts as
received), up to the last publication of the run. A repeat, a skipped offset or
a subscriber that stops hearing its channel fails the test. A ``resubscribe``
disconnect makes the client reconnect and subscribe with ``since``; the reply's
``recovered: false`` is the only way a client may lose publications.

Size by env vars: ``RELEVO_STORM_CLIENTS`` (default 100), ``RELEVO_STORM_CHANNELS``
(default 30), ``RELEVO_STORM_RATE`` (publications per second, default 50). The
full size of issue 12 is ``RELEVO_STORM_CLIENTS=300 RELEVO_STORM_CHANNELS=100
RELEVO_STORM_RATE=200`` (see docs/deployment.md for its result).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from relevo.client import AsyncRelevoClient
from relevo.hub.auth import mint_token
from tests.helpers import RawWS, timeout
from tests.integration.test_multinode import Node, PrivateRedis

pytestmark = [pytest.mark.redis, pytest.mark.slow]

CLIENTS = int(os.environ.get("RELEVO_STORM_CLIENTS", "100"))
CHANNELS = int(os.environ.get("RELEVO_STORM_CHANNELS", "30"))
RATE = float(os.environ.get("RELEVO_STORM_RATE", "50"))
TIMEOUT = timeout(60.0)
SECRET = "storm-test-secret-0123456789abcdef"
API_KEY = "storm-test-key"

CONFIG = f"""
[server]
host = "127.0.0.1"
log_level = "warning"

[auth]
secret = "{SECRET}"
api_key = "{API_KEY}"

[limits]
max_subscriptions = 1000
commands_per_second = 10000.0
command_burst = 10000

[namespaces.storm]
subscribe = ["authenticated"]
history_size = 100000
history_ttl = 3600
"""


def channel_names() -> list[str]:
    return [f"storm:{i}" for i in range(CHANNELS)]


@dataclass
class Seen:
    """What one client was told about one channel."""

    epoch: str = ""
    offset: int = -1  # -1: no ok reply yet
    problems: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lost: int = 0  # times the client was told recovered: false


class StormClient:
    """One WebSocket connection subscribed to every channel; reconnects (with
    ``since``) when the server says ``resubscribe``."""

    def __init__(self, port: int, name: str) -> None:
        self.port = port
        self.name = name
        self.seen = {ch: Seen() for ch in channel_names()}
        self.reconnects = 0
        self.stop = asyncio.Event()

    async def run(self) -> None:
        while not self.stop.is_set():
            try:
                ws = await RawWS.connect(self.port)
            except OSError:
                await asyncio.sleep(0.1)  # the node is busy accepting; try again
                continue
            try:
                await self._session(ws)
            except (ConnectionError, asyncio.IncompleteReadError, OSError):
                pass
            finally:
                await ws.close()
            self.reconnects += 1

    def _sub_frame(self, ch: str, frame_id: int) -> dict[str, Any]:
        frame: dict[str, Any] = {"id": frame_id, "op": "sub", "ch": ch}
        seen = self.seen[ch]
        if seen.offset >= 0:
            frame["since"] = {"epoch": seen.epoch, "offset": seen.offset}
        return frame

    async def _session(self, ws: RawWS) -> None:
        ws.send({"id": 0, "op": "connect", "token": mint_token(SECRET, self.name)})
        ids = {i + 1: ch for i, ch in enumerate(channel_names())}
        for frame_id, ch in ids.items():  # all at once: the storm
            ws.send(self._sub_frame(ch, frame_id))
        await ws.writer.drain()
        retry_id = len(ids) + 1
        reader = ws.reader
        while True:
            b0, b1 = await reader.readexactly(2)
            n = b1 & 0x7F
            if n == 126:
                (n,) = struct.unpack("!H", await reader.readexactly(2))
            elif n == 127:
                (n,) = struct.unpack("!Q", await reader.readexactly(8))
            payload = await reader.readexactly(n)
            opcode = b0 & 0x0F
            if opcode == 0x8:
                return  # closed (a resubscribe disconnect): reconnect with since
            if opcode != 0x1:
                continue
            msg = json.loads(payload)
            if "off" in msg:
                self._publication(msg["ch"], msg["off"], msg.get("data"))
            elif "ok" in msg and msg.get("id") in ids:
                self._subscribed(ids[msg["id"]], msg["ok"])
            elif "err" in msg and msg.get("id") in ids:
                ch = ids.pop(msg["id"])
                self.seen[ch].errors.append(f"{msg['err']['code']}: {msg['err']['message']}")
                await asyncio.sleep(0.2)  # a real client backs off, then tries again
                ids[retry_id] = ch
                ws.send(self._sub_frame(ch, retry_id))
                retry_id += 1

    def _subscribed(self, ch: str, ok: dict[str, Any]) -> None:
        seen = self.seen[ch]
        top = ok["offset"]
        if "recovered" in ok:
            if ok["recovered"]:
                missed = [p["off"] for p in ok["missed"]]
                expected = list(range(seen.offset + 1, top + 1))
                if missed != expected or ok["epoch"] != seen.epoch:
                    seen.problems.append(f"recovered {missed} after {seen.offset}, top {top}")
            else:
                seen.lost += 1
        seen.epoch, seen.offset = ok["epoch"], top

    def _publication(self, ch: str, off: int, data: Any = None) -> None:
        seen = self.seen[ch]
        if seen.offset < 0:
            seen.problems.append(f"publication {off} before the sub reply")
        elif off != seen.offset + 1:
            kind = "repeat" if off <= seen.offset else "gap"
            seen.problems.append(f"{kind}: {off} after {seen.offset}")
        seen.offset = max(seen.offset, off)


@pytest.fixture
def storm_node(tmp_path: Path) -> Iterator[tuple[Node, PrivateRedis]]:
    (tmp_path / "relevo.toml").write_text(CONFIG)
    redis_server = PrivateRedis()
    redis_server.start()
    node = Node(tmp_path, redis_server.url)
    try:
        node.wait_ready()
        yield node, redis_server
    finally:
        node.kill()
        redis_server.stop()


class Publisher:
    """Publishes round-robin on every channel at ``RATE`` per second through
    the HTTP API; remembers what was acknowledged."""

    def __init__(self, api: AsyncRelevoClient) -> None:
        self.api = api
        self.acked: dict[str, tuple[str, int]] = {}
        self.count = 0
        self.failed = 0
        self.stop = asyncio.Event()
        self.flowing = asyncio.Event()  # set once every channel has an acknowledged one

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        channels = channel_names()
        start = loop.time()
        while not self.stop.is_set():
            ch = channels[self.count % len(channels)]
            self.count += 1
            try:
                ok = await self.api.publish(ch, "tick", {"n": self.count})
            except Exception:
                self.failed += 1  # Redis is down: not acknowledged
            else:
                self.acked[ch] = (ok["epoch"], ok["offset"])
                if len(self.acked) == len(channels):
                    self.flowing.set()
            # Paced by the count, not by sleeps of a fixed length: a slow
            # publish is caught up on, not added to.
            delay = start + self.count / RATE - loop.time()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), delay)


async def _storm(node: Node, during: Any = None) -> tuple[list[StormClient], Publisher]:
    api = AsyncRelevoClient(node.url, API_KEY, timeout=timeout(10.0), retries=0)
    publisher = Publisher(api)
    clients = [StormClient(node.port, f"u{i}") for i in range(CLIENTS)]
    pub_task = asyncio.create_task(publisher.run())
    tasks = [asyncio.create_task(c.run()) for c in clients]
    loop = asyncio.get_running_loop()
    try:
        # Publishing throughout: until every client holds an ok reply for every
        # channel (and whatever ``during`` does to the node is over).
        deadline = loop.time() + TIMEOUT
        if during is not None:
            await during(publisher)
        while any(s.offset < 0 for c in clients for s in c.seen.values()):
            assert loop.time() < deadline, "not every subscribe was answered ok"
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.0)  # and a little longer, live
        publisher.stop.set()
        await pub_task
        tops = {}
        for ch in channel_names():
            hist = await api.history(ch, limit=0)
            tops[ch] = (hist["epoch"], hist["offset"])

        def behind() -> list[str]:
            return [
                f"{c.name} {ch}: at {s.epoch}/{s.offset}, top {tops[ch]}"
                for c in clients
                for ch, s in c.seen.items()
                if (s.epoch, s.offset) != tops[ch]
            ]

        while behind():
            if loop.time() > deadline:
                lagging = behind()
                raise AssertionError(f"{len(lagging)} deaf or behind: {lagging[:10]}")
            await asyncio.sleep(0.2)
    finally:
        publisher.stop.set()
        for c in clients:
            c.stop.set()
        for t in [pub_task, *tasks]:
            t.cancel()
        await asyncio.gather(pub_task, *tasks, return_exceptions=True)
        await api.aclose()
    return clients, publisher


def _problems(clients: list[StormClient]) -> list[str]:
    return [f"{c.name} {ch}: {p}" for c in clients for ch, s in c.seen.items() for p in s.problems]


async def test_subscribe_storm_every_ok_reply_is_followed_by_every_publication_once(
    storm_node: tuple[Node, PrivateRedis],
) -> None:
    node, _ = storm_node
    clients, publisher = await _storm(node)
    assert _problems(clients) == []
    errors = [f"{c.name} {ch}: {e}" for c in clients for ch, s in c.seen.items() for e in s.errors]
    assert errors == [], f"{len(errors)} sub errors while Redis was up: {errors[:5]}"
    assert sum(c.reconnects for c in clients) == 0
    assert publisher.failed == 0
    assert publisher.count > 0


async def test_subscribe_storm_across_a_redis_restart_never_has_a_silent_gap(
    storm_node: tuple[Node, PrivateRedis],
) -> None:
    node, redis_server = storm_node

    async def restart(publisher: Publisher) -> None:
        # Mid-storm: once some publications went through, kill Redis (its
        # data goes with it: no persistence) and start it again on its port.
        await asyncio.wait_for(publisher.flowing.wait(), TIMEOUT)
        await asyncio.to_thread(redis_server.stop)
        await asyncio.sleep(0.5)  # down for a while, with the storm going on
        await asyncio.to_thread(redis_server.start)

    clients, publisher = await _storm(node, restart)
    assert _problems(clients) == []
    # Refusals while Redis was down are expected; a full pool is not Redis down.
    pool = [e for c in clients for s in c.seen.values() for e in s.errors if "Too many" in e]
    assert pool == [], pool[:5]
    # History was lost with Redis: every subscriber was told so.
    told = [c for c in clients if any(s.lost for s in c.seen.values())]
    assert told, "nobody was told recovered: false after Redis lost its data"
