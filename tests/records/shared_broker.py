"""Records nodes of one deployment: each its own Hub, all on one Redis (a key
prefix per test), as ``relevo serve`` processes on several machines would be.
Also a CPU hog, because delivery bugs hide on an idle machine.

Import the fixtures into a test module to use them.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from relevo.broker.redis import RedisBroker
from relevo.clock import Clock
from relevo.hub.hub import Hub
from relevo.records import Records, RecordsOptions
from relevo.settings import NamespaceSettings, Rule, Settings
from tests.broker.broker_fixtures import Recorder, delete_prefix, redis_url

from .conftest import FAST, SETTINGS, Db, Node
from .sample_kinds import ALL

#: The test settings, with room in history for every publication of a load test.
BIG_HISTORY = Settings(
    auth=SETTINGS.auth,
    namespaces=tuple(
        NamespaceSettings(ns.name, subscribe=(Rule(),), history_size=50_000, history_ttl=600.0)
        if ns.name == "pings"
        else ns
        for ns in SETTINGS.namespaces
    ),
)


class SharedNodes:
    def __init__(self, db: Db, prefix: str) -> None:
        self.db = db
        self.url = redis_url(prefix)
        self.nodes: list[Node] = []
        self.screens: list[RedisBroker] = []

    async def node(
        self,
        *,
        node: str | None = None,
        clock: Clock | None = None,
        options: RecordsOptions = FAST,
        start: bool = True,
    ) -> Node:
        hub = Hub(BIG_HISTORY, RedisBroker(self.url))
        await hub.start()
        records = Records(
            self.db.url, ALL, schema=self.db.schema, options=options, clock=clock, node=node
        )
        records.attach(hub)
        n = Node(records, hub)
        self.nodes.append(n)
        if start:
            await records.start()
        return n

    async def screen(self, channel: str) -> Recorder:
        """What a screen on yet another node receives on ``channel``."""
        broker = RedisBroker(self.url)
        recorder = Recorder()
        await broker.start(recorder)
        self.screens.append(broker)
        await broker.subscribe(channel)
        return recorder

    async def close(self) -> None:
        for n in reversed(self.nodes):
            await n.records.close()
            await n.hub.close()
        for broker in self.screens:
            await broker.close()


@pytest.fixture
async def shared_nodes(db: Db) -> AsyncIterator[SharedNodes]:
    prefix = "test-" + secrets.token_hex(6)
    nodes = SharedNodes(db, prefix)
    try:
        yield nodes
    finally:
        await nodes.close()
        await delete_prefix(prefix)


@pytest.fixture
def cpu_hog() -> Iterator[Callable[[], Any]]:
    """``cpu_hog()`` starts a busy loop on every core; all killed at teardown."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(n: int = 2) -> None:
        for _ in range(n):
            procs.append(subprocess.Popen([sys.executable, "-c", "while True: pass"]))

    try:
        yield start
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
