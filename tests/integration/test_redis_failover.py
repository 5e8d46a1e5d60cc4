"""Redis Sentinel failover under load, over real sockets: never a silent gap.

A primary, a replica and three sentinels (real processes, free ports); two
``relevo serve`` nodes on ``redis+sentinel://``; WebSocket subscribers split
over both nodes, on every channel; a publisher per node through the HTTP
API. Mid-run the primary is SIGKILLed. Sentinel promotes the replica;
publishing must resume, ``/readyz`` must say 503 while no primary answers and
200 after; and every subscriber must, per channel, have received every
publication the channel's history holds since it was last told
``recovered: false`` — and any acknowledged publication the failover lost
(replication is asynchronous) it either received or was told
``recovered: false`` about.

Size by env vars: ``RELEVO_FAILOVER_CLIENTS`` (default 200) and
``RELEVO_FAILOVER_RATE`` (publications per second, both nodes together,
default 40); the channels are the storm test's (``RELEVO_STORM_CHANNELS``,
default 30). docs/deployment.md has a larger run.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from relevo.client import AsyncRelevoClient
from tests.broker.redis_topologies import SentinelSetup
from tests.helpers import timeout
from tests.integration.test_multinode import Node, _wait_until
from tests.integration.test_storm import API_KEY, CONFIG, StormClient, channel_names

pytestmark = [pytest.mark.redis, pytest.mark.slow]

CLIENTS = int(os.environ.get("RELEVO_FAILOVER_CLIENTS", "200"))
RATE = float(os.environ.get("RELEVO_FAILOVER_RATE", "40"))
TIMEOUT = timeout(60.0)


class FailoverClient(StormClient):
    """A storm client that also remembers which publications (by id) it got,
    and where it was last told to start over."""

    def __init__(self, port: int, name: str) -> None:
        super().__init__(port, name)
        self.ids: dict[str, set[str]] = {ch: set() for ch in channel_names()}
        self.base: dict[str, tuple[str, int]] = {}  # ch -> position of the last fresh start

    def _subscribed(self, ch: str, ok: dict[str, Any]) -> None:
        if ok.get("recovered"):
            self.ids[ch].update(p["data"]["id"] for p in ok["missed"])
        else:  # the first sub, or recovered: false: from here on, everything
            self.base[ch] = (ok["epoch"], ok["offset"])
        super()._subscribed(ch, ok)

    def _publication(self, ch: str, off: int, data: Any = None) -> None:
        super()._publication(ch, off, data)
        self.ids[ch].add(data["id"])


@dataclass
class Acked:
    channel: str
    epoch: str
    offset: int
    id: str
    at: float  # loop time of the reply


@dataclass
class Publisher:
    api: AsyncRelevoClient
    tag: str
    rate: float
    acked: list[Acked] = field(default_factory=list)
    failed: int = 0
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        channels = channel_names()
        start, n = loop.time(), 0
        while not self.stop.is_set():
            n += 1
            ch, pid = channels[n % len(channels)], f"{self.tag}-{n}"
            try:
                ok = await self.api.publish(ch, "tick", {"id": pid})
            except Exception:
                self.failed += 1  # no primary: not acknowledged
            else:
                self.acked.append(Acked(ch, ok["epoch"], ok["offset"], pid, loop.time()))
            delay = start + n / self.rate - loop.time()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), delay)


@pytest.fixture
def sentinel_nodes(tmp_path: Path) -> Iterator[tuple[SentinelSetup, list[Node]]]:
    (tmp_path / "relevo.toml").write_text(CONFIG)
    setup = SentinelSetup()
    nodes: list[Node] = []
    try:
        setup.start()
        url = setup.url("failover-" + secrets.token_hex(4))
        nodes = [Node(tmp_path, url), Node(tmp_path, url)]
        for node in nodes:  # two nodes starting on a loaded machine: more than 10 s
            _wait_until(lambda n=node: _ready(n), "node ready", timeout(60.0))
        yield setup, nodes
    finally:
        for node in nodes:
            node.kill()
        setup.stop()


def _ready(node: Node) -> bool:
    if node.proc.poll() is not None:
        raise AssertionError(f"node exited with {node.proc.returncode}:\n{node.output()}")
    return _status(node) == 200


def _status(node: Node) -> int:
    resp = node.get("/readyz")
    return 0 if resp is None else resp.status_code


def _total(publishers: list[Publisher]) -> int:
    return sum(len(p.acked) for p in publishers)


async def test_sentinel_failover_under_load_never_has_a_silent_gap(
    sentinel_nodes: tuple[SentinelSetup, list[Node]],
) -> None:
    setup, nodes = sentinel_nodes
    apis = [AsyncRelevoClient(n.url, API_KEY, timeout=timeout(5.0), retries=0) for n in nodes]
    publishers = [Publisher(api, f"n{i}", RATE / 2) for i, api in enumerate(apis)]
    clients = [FailoverClient(nodes[i % 2].port, f"u{i}") for i in range(CLIENTS)]
    tasks = [asyncio.create_task(t.run()) for t in [*publishers, *clients]]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT

    async def until(what: str, check: Any) -> None:
        while not check():
            assert loop.time() < deadline, f"timed out waiting for {what}"
            await asyncio.sleep(0.1)

    try:
        everything = set(channel_names())
        await until("every sub answered", lambda: all(c.base.keys() == everything for c in clients))
        await until("publications flowing", lambda: all(len(p.acked) >= 20 for p in publishers))
        before = {ch: (await apis[0].history(ch, limit=0))["epoch"] for ch in everything}
        # Replication is asynchronous: cut the replica off for a moment
        # (shorter than Sentinel's down-after, so it stays promotable) while
        # publications are acknowledged, then kill the primary. The replica
        # is promoted without them: they are lost.
        acked = sum(len(p.acked) for p in publishers)
        await asyncio.to_thread(setup.cut_replication)
        try:
            await until("acked while the replica lags", lambda: _total(publishers) >= acked + 10)
            old = await asyncio.to_thread(setup.kill_primary)
        finally:
            setup.resume(setup.replica)
        killed_at = loop.time()
        # No primary answers until Sentinel promotes the replica (at least
        # down-after-milliseconds = 1 s): the nodes are not ready meanwhile.
        statuses = await asyncio.gather(
            *(asyncio.to_thread(_wait_until, lambda n=n: _status(n) == 503, "503") for n in nodes)
        )
        assert all(statuses)
        new = await asyncio.to_thread(setup.wait_failover, old)
        assert new != old
        for node in nodes:
            await asyncio.to_thread(_wait_until, lambda n=node: _status(n) == 200, "ready again")
        # Publishing resumes on both nodes, on the new primary.
        after = [len(p.acked) for p in publishers]
        await until(
            "publishing resumed",
            lambda: all(len(p.acked) >= n + 20 for p, n in zip(publishers, after, strict=True)),
        )
        for p in publishers:
            p.stop.set()
        history = {ch: await apis[0].history(ch, limit=10_000) for ch in channel_names()}

        def behind() -> list[str]:
            return [
                f"{c.name} {ch}"
                for c in clients
                for ch, s in c.seen.items()
                if (s.epoch, s.offset) != (history[ch]["epoch"], history[ch]["offset"])
            ]

        await until("every subscriber caught up", lambda: not behind())
    finally:
        for t in [*publishers, *clients]:
            t.stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for api in apis:
            await api.aclose()

    problems = [
        f"{c.name} {ch}: {p}" for c in clients for ch, s in c.seen.items() for p in s.problems
    ]
    assert problems == [], problems[:10]
    acked_all = [a for p in publishers for a in p.acked]
    kept = {ch: {p["data"]["id"]: p["off"] for p in h["publications"]} for ch, h in history.items()}
    silent = []
    for c in clients:
        for ch, h in history.items():
            epoch, offset = c.base[ch]
            start = offset if epoch == h["epoch"] else 0
            due = {pid for pid, off in kept[ch].items() if off > start}
            silent += [f"{c.name} {ch}: never got {pid}" for pid in due - c.ids[ch]]
            lost = {a.id for a in acked_all if a.channel == ch and a.id not in kept[ch]}
            if lost - c.ids[ch] and not c.seen[ch].lost:
                silent.append(f"{c.name} {ch}: lost {sorted(lost - c.ids[ch])[:3]} untold")
    assert silent == [], f"{len(silent)} silent gaps: {silent[:10]}"
    # The promoted replica started every channel's epoch over: every
    # subscriber was told so, and nothing acknowledged was taken for a repeat.
    assert all(h["epoch"] != before[ch] for ch, h in history.items())
    assert all(s.lost for c in clients for s in c.seen.values())
    first_after = min(a.at for a in acked_all if a.epoch != before[a.channel])
    last_before = max(a.at for a in acked_all if a.epoch == before[a.channel])
    print(
        f"\nfailover: {CLIENTS} subscribers x {len(history)} channels, {RATE:g} pub/s; "
        f"no acknowledged publish for {first_after - last_before:.2f} s "
        f"(first on the new primary {first_after - killed_at:.2f} s after the kill); "
        f"{sum(p.failed for p in publishers)} publishes refused meanwhile; "
        f"{len(acked_all)} acknowledged in all; every subscriber told recovered: false"
    )
