"""No single Redis: the broker on a primary watched by Sentinel and on a
Cluster, with real ``redis-server`` processes (``redis_topologies.py``).

The contract and presence suites also run on both (``env``/``presence_env``
in ``conftest.py``); this module holds what only these topologies show: a
failover, a promoted replica that is behind, slots on several nodes, a slot
moving while it is used.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from relevo.broker._redis_topology import parse_url
from relevo.broker.base import HistoryOptions
from relevo.broker.redis import RedisBroker
from relevo.protocol.errors import RelevoError
from relevo.protocol.recovery import is_recovered
from relevo.protocol.types import StreamPosition
from tests.broker.broker_fixtures import TIMEOUT, PrivateRedis, Recorder

OPTS = HistoryOptions(size=1000, ttl=600.0)


# -- the URL forms -----------------------------------------------------------------------


def test_sentinel_and_cluster_urls_are_parsed() -> None:
    t = parse_url("redis+sentinel://u:s3cret@10.0.0.1:26379,10.0.0.2/mymaster?db=2&prefix=crm")
    assert (t.kind, t.service, t.db, t.prefix) == ("sentinel", "mymaster", 2, "crm")
    assert t.hosts == (("10.0.0.1", 26379), ("10.0.0.2", 26379))
    assert (t.username, t.password) == ("u", "s3cret")
    assert "s3cret" not in t.shown
    c = parse_url("redis+cluster://h1:7000,h2:7001,h3")
    assert (c.kind, c.prefix) == ("cluster", "relevo")
    assert c.hosts == (("h1", 7000), ("h2", 7001), ("h3", 6379))
    assert parse_url("redis://:pw@h:6380/3?prefix=x").kind == "single"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("redis+sentinel://h:26379", "name the Sentinel service"),
        ("redis+sentinel://h:26379/a/b", "name the Sentinel service"),
        ("redis+sentinel://h:port/m", "bad host:port"),
        ("redis+sentinel://h/m?db=x", "db must be a number"),
        ("redis+sentinel://h/m?color=red", "unknown parameters"),
        ("redis+cluster://h:7000/1", "only db 0"),
        ("redis+cluster://h:7000?prefix={x}", "prefix"),
    ],
)
def test_bad_sentinel_and_cluster_urls_are_clear_errors(url: str, problem: str) -> None:
    with pytest.raises(RelevoError, match=problem):
        parse_url(url)


def test_config_accepts_the_forms_and_rejects_a_bad_one() -> None:
    from relevo.server.config import ConfigError
    from tests.conftest import make_settings

    for url in ("redis+sentinel://h1:26379,h2:26379/mymaster", "redis+cluster://h1:7000"):
        assert make_settings(broker={"url": url}).broker.url == url
    with pytest.raises(ConfigError, match="name the Sentinel service"):
        make_settings(broker={"url": "redis+sentinel://h1:26379"})


# -- a promoted replica may be behind ------------------------------------------------------


@pytest.fixture
async def primary_and_replica() -> AsyncIterator[tuple[PrivateRedis, PrivateRedis]]:
    primary, replica = PrivateRedis(), PrivateRedis()
    await primary.start()
    await replica.start()
    try:
        yield primary, replica
    finally:
        await primary.stop()
        await replica.stop()


@pytest.mark.redis
async def test_a_promoted_replica_that_missed_publications_starts_a_new_epoch(
    primary_and_replica: tuple[PrivateRedis, PrivateRedis],
) -> None:
    """Replication is asynchronous: a replica promoted by a failover may lack
    the last publications the primary acknowledged (and clients received).
    Counting on from its offsets would hand out offsets clients already hold,
    for other publications: clients would drop them as repeats, a silent gap.
    The channel must start a new epoch there, so recovery says so."""
    primary, replica = primary_and_replica
    r = aioredis.Redis.from_url(replica.url)
    p = aioredis.Redis.from_url(primary.url)
    old = RedisBroker(primary.url + "?prefix=ha")
    new = RedisBroker(replica.url + "?prefix=ha")
    try:
        # Sync at once and through memory (no RDB file in the working directory).
        await p.config_set("repl-diskless-sync-delay", 0)
        await r.config_set("repl-diskless-load", "swapdb")
        await r.replicaof("127.0.0.1", primary.port)
        await old.start(Recorder())
        first = [await old.publish("c", "e", b"%d" % i, OPTS) for i in range(3)]
        assert await p.execute_command("WAIT", 1, int(TIMEOUT * 1000)) == 1  # replicated
        await r.replicaof("NO", "ONE")  # promoted, and from now on behind
        seen = [await old.publish("c", "e", b"lost", OPTS) for _ in range(2)]
        await new.start(Recorder())
        after = await new.publish("c", "e", b"after failover", OPTS)
        client_at = StreamPosition(seen[-1].epoch, seen[-1].offset)
        assert after.epoch != first[0].epoch, "offsets counted on from a stale position"
        res = await new.history("c", client_at, 100, OPTS)
        assert not is_recovered(client_at, res.position, res.publications)
        assert [pub.data for pub in res.publications] == []
    finally:
        await old.close()
        await new.close()
        await r.aclose()
        await p.aclose()
