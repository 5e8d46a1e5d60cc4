"""Two ``relevo serve`` nodes on ``redis+cluster://`` (three real primaries):
one hub across nodes and shards, and ``/readyz`` saying when a shard is gone."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.broker.redis_topologies import ClusterSetup
from tests.helpers import timeout
from tests.integration.test_multinode import CONFIG, Node, _wait_until, receive, subscriber

pytestmark = [pytest.mark.redis, pytest.mark.slow]


def _status(node: Node) -> int:
    resp = node.get("/readyz")
    return 0 if resp is None else resp.status_code


@pytest.fixture
def cluster_nodes(tmp_path: Path) -> Iterator[tuple[ClusterSetup, list[Node]]]:
    (tmp_path / "relevo.toml").write_text(CONFIG)
    setup = ClusterSetup()
    nodes: list[Node] = []
    try:
        setup.start()
        prefix = "nodes-" + secrets.token_hex(4)
        nodes = [Node(tmp_path, setup.url(prefix, seed)) for seed in (0, 1)]
        for node in nodes:  # two nodes starting on a loaded machine: more than 10 s
            _wait_until(lambda n=node: _status(n) == 200, "node ready", timeout(60.0))
        yield setup, nodes
    finally:
        for node in nodes:
            node.kill()
        setup.stop()


async def test_cluster_nodes_are_one_hub_and_not_ready_without_a_shard(
    cluster_nodes: tuple[ClusterSetup, list[Node]],
) -> None:
    setup, (a, b) = cluster_nodes
    rooms = [f"room:{i}" for i in range(6)]
    async with b.client() as api:
        for room in rooms:
            async with subscriber(a, room, "4") as sub:
                for i in range(3):
                    await api.publish(room, "message:new", {"i": i})
                got = await receive(sub, 3)
                assert [p.offset for p in got] == [1, 2, 3]
                assert [p.data for p in got] == [{"i": i} for i in range(3)]
            hist = await api.history(room, limit=10)
            assert [p["off"] for p in hist["publications"]] == [1, 2, 3]
    # A primary gone (no replica to replace it): its slots cannot be served.
    setup.kill(setup.ports[2])
    for node in (a, b):
        await asyncio.to_thread(_wait_until, lambda n=node: _status(n) == 503, "503")
