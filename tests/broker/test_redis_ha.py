"""No single Redis: the broker on a primary watched by Sentinel and on a
Cluster, with real ``redis-server`` processes (``redis_topologies.py``).

The contract and presence suites also run on both (``env``/``presence_env``
in ``conftest.py``); this module holds what only these topologies show: a
failover, a promoted replica that is behind, slots on several nodes, a slot
moving while it is used.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from redis.crc import key_slot

from relevo.broker._redis_topology import parse_url
from relevo.broker.base import HistoryOptions
from relevo.broker.redis import RedisBroker
from relevo.protocol.errors import RelevoError, Unavailable
from relevo.protocol.recovery import is_recovered
from relevo.protocol.types import Publication, StreamPosition
from tests.broker.broker_fixtures import TIMEOUT, PrivateRedis, Recorder, free_port
from tests.broker.redis_topologies import ClusterSetup, SentinelSetup
from tests.helpers import timeout

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


def test_the_startup_line_hides_sentinel_and_cluster_passwords() -> None:
    """It used to crash on a host list with a password (port '1,b:2')."""
    from relevo.server.run import _safe_url

    shown = _safe_url("redis+sentinel://u:s3cret@a:1,b:2/m?sentinel_password=zz&db=1")
    assert shown == "redis+sentinel://u:***@a:1,b:2/m?sentinel_password=***&db=1"
    assert "s3cret" not in _safe_url("redis+cluster://:s3cret@h1:7000,h2:7001")
    assert _safe_url("redis://h:6379/0?prefix=x") == "redis://h:6379/0?prefix=x"
    assert _safe_url("memory://") == "memory://"


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


@pytest.mark.redis
async def test_a_node_subscribing_after_a_failover_takes_the_new_epoch_without_a_gap(
    primary_and_replica: tuple[PrivateRedis, PrivateRedis],
) -> None:
    """A channel's stale meta (written by the old primary) is no position to
    track from: the first publication of the new epoch is the next one, not a
    gap that makes every new subscriber reload again."""
    primary, replica = primary_and_replica
    r = aioredis.Redis.from_url(replica.url)
    old = RedisBroker(primary.url + "?prefix=ha")
    nodes = [RedisBroker(replica.url + "?prefix=ha") for _ in range(2)]
    try:
        await r.config_set("repl-diskless-load", "swapdb")
        await r.replicaof("127.0.0.1", primary.port)
        await old.start(Recorder())
        await old._redis().client.config_set("repl-diskless-sync-delay", 0)
        await old.publish("c", "e", b"before", OPTS)
        await _wait_replicated(r, "{ha.ch.c}.m")
        await r.replicaof("NO", "ONE")
        listener, seen = nodes[0], Recorder()
        await listener.start(seen)
        await nodes[1].start(Recorder())
        await listener.subscribe("c")
        position = await listener.position("c", OPTS)
        pub = await nodes[1].publish("c", "e", b"after", OPTS)
        assert (pub.epoch, pub.offset) == (position.epoch, 1)
        assert await seen.next("c") == pub
        assert seen.gaps.empty()
    finally:
        for broker in (old, *nodes):
            await broker.close()
        await r.aclose()


@pytest.mark.redis
async def test_a_redis_without_info_still_publishes(prefix: str) -> None:
    """Some hosted Redis refuse INFO (renamed or disabled): the replication
    id is then unknown, failovers go unnoticed as before, publishing works."""
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
        "--appendonly", "no", "--rename-command", "INFO", "",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    broker = RedisBroker(f"redis://127.0.0.1:{port}/0?prefix={prefix}")
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TIMEOUT
        while True:
            try:
                await broker.start(Recorder())
                break
            except Unavailable:
                assert loop.time() < deadline, "redis-server did not start"
                await asyncio.sleep(0.05)  # the server is starting: nothing to await
        pubs = [await broker.publish("c", "e", b"%d" % i, OPTS) for i in range(3)]
        assert [p.offset for p in pubs] == [1, 2, 3]
        assert (await broker.history("c", None, 10, OPTS)).publications == pubs
    finally:
        await broker.close()
        proc.kill()
        await proc.wait()


async def _wait_replicated(replica: aioredis.Redis, key: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT
    while not await replica.exists(key):
        assert loop.time() < deadline, f"{key} never reached the replica"
        await asyncio.sleep(0.02)  # replication has no event to await


# -- Cluster -------------------------------------------------------------------------------


class Journal(Recorder):
    """A recorder that also keeps publications and gaps in one list, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[Publication | str] = []

    def on_publication(self, pub: Publication) -> None:
        self.events.append(pub)
        super().on_publication(pub)

    def on_gap(self, channel: str) -> None:
        self.events.append(channel)
        super().on_gap(channel)


def _slot(broker: RedisBroker, channel: str) -> int:
    return int(key_slot(broker.keys.meta(channel).encode()))


@pytest.fixture
async def cluster_nodes(
    cluster_setup: ClusterSetup, prefix: str
) -> AsyncIterator[list[tuple[RedisBroker, Journal]]]:
    """Three brokers of one deployment, each seeded with another node (so
    their pub/sub feeds listen on different nodes)."""
    nodes: list[tuple[RedisBroker, Journal]] = []
    try:
        for seed in range(3):
            broker, handler = RedisBroker(cluster_setup.url(prefix, seed)), Journal()
            await broker.start(handler)
            nodes.append((broker, handler))
        yield nodes
    finally:
        for broker, _ in nodes:
            await broker.close()


def _feed_port(broker: RedisBroker) -> int:
    conn = broker._feed._conn if broker._feed is not None else None
    assert conn is not None
    return int(conn.port)  # type: ignore[attr-defined]


@pytest.mark.redis
@pytest.mark.slow
async def test_cluster_channels_on_every_node_reach_subscribers_through_any_node(
    cluster_setup: ClusterSetup, cluster_nodes: list[tuple[RedisBroker, Journal]]
) -> None:
    assert {_feed_port(b) for b, _ in cluster_nodes} == set(cluster_setup.ports)
    first = cluster_nodes[0][0]
    channels = [f"room:{i}" for i in range(30)]
    owners = {cluster_setup.owner(_slot(first, ch)) for ch in channels}
    assert owners == set(cluster_setup.ports), "channels on every primary"
    for broker, _ in cluster_nodes:
        for ch in channels:
            await broker.subscribe(ch)
    sent: dict[str, list[Publication]] = {ch: [] for ch in channels}
    for n in range(3):
        for i, ch in enumerate(channels):
            broker = cluster_nodes[(i + n) % 3][0]  # each publishes on every node's slots
            sent[ch].append(await broker.publish(ch, "e", b"%d" % n, OPTS))
    for _, handler in cluster_nodes:
        got: dict[str, list[Publication]] = {ch: [] for ch in channels}
        for pub in await handler.take(3 * len(channels)):
            got[pub.channel].append(pub)
        assert got == sent
        assert handler.gaps.empty()
    # History and recovery, per channel, through any node.
    for i, ch in enumerate(channels):
        reader = cluster_nodes[i % 3][0]
        since = StreamPosition(sent[ch][0].epoch, 1)
        res = await reader.history(ch, since, 100, OPTS)
        assert is_recovered(since, res.position, res.publications)
        assert res.publications == sent[ch][1:]


@pytest.mark.redis
@pytest.mark.slow
async def test_cluster_slot_moving_while_publishing_is_survived(
    cluster_setup: ClusterSetup, cluster_nodes: list[tuple[RedisBroker, Journal]]
) -> None:
    """Publish without pause while the channel's slot migrates to another
    node (ASK, then MOVED): every publication is acknowledged (a retry reuses
    its idempotency key, so none is made twice) and the subscriber gets each
    one in order — or, where the slot changed node, is told to recover."""
    (publisher, _), (listener, seen), _ = cluster_nodes
    ch = "moving"
    slot = _slot(publisher, ch)
    source = cluster_setup.owner(slot)
    target = next(p for p in cluster_setup.ports if p != source)
    await listener.subscribe(ch)
    acked: list[Publication] = []
    stop, flowing = asyncio.Event(), asyncio.Event()

    async def publish_throughout() -> None:
        n = 0
        while not stop.is_set() or n < 50:
            n += 1
            for _ in range(50):
                try:
                    acked.append(
                        await publisher.publish(ch, "e", b"%d" % n, OPTS, idempotency_key=f"k{n}")
                    )
                    if len(acked) >= 20:
                        flowing.set()
                    break
                except Unavailable:
                    await asyncio.sleep(0.05)  # a real sender backs off and retries
            else:
                raise AssertionError(f"publication {n} never acknowledged")

    task = asyncio.create_task(publish_throughout())
    try:
        await asyncio.wait_for(flowing.wait(), TIMEOUT)
        await asyncio.to_thread(cluster_setup.move_slot, slot, target)
        stop.set()
        await asyncio.wait_for(task, timeout(30.0))
    finally:
        stop.set()
        with contextlib.suppress(BaseException):
            await task
    assert cluster_setup.owner(slot) == target
    assert [p.data for p in acked] == [b"%d" % n for n in range(1, len(acked) + 1)]
    # What the subscriber got, in the order it got it: between two gaps
    # reported, consecutive offsets of one epoch (never a silent gap). After
    # the slot moved, the channel has a new epoch: a gap is reported then.
    # (Around the move, publications of the old epoch, relayed over the
    # cluster bus from the old node, may arrive after the first ones of the
    # new epoch from the new node; each switch of epoch is a gap reported.)
    while not any(isinstance(e, Publication) and e.data == acked[-1].data for e in seen.events):
        await seen.next(ch)
    prev: Publication | None = None
    for event in seen.events:
        if isinstance(event, str):
            prev = None  # a gap reported: subscribers recover from here
        elif prev is not None:
            assert (event.epoch, event.offset) == (prev.epoch, prev.offset + 1), (prev, event)
        if isinstance(event, Publication):
            prev = event
    epochs = {e.epoch for e in seen.events if isinstance(e, Publication)}
    if len(epochs) == 1 and not seen.gaps.qsize():
        assert [e.data for e in seen.events if isinstance(e, Publication)] == [
            p.data for p in acked
        ]
    assert {p.epoch for p in acked} == epochs


@pytest.mark.redis
@pytest.mark.slow
async def test_cluster_readiness_follows_its_primaries(prefix: str) -> None:
    """``ping`` (what ``/readyz`` asks) fails while a primary is gone, as
    commands for its slots would; the feed moves to a node that answers."""
    setup = ClusterSetup()
    try:
        await asyncio.to_thread(setup.start)
        broker = RedisBroker(setup.url(prefix, seed=2))
        await broker.start(Recorder())
        try:
            await broker.ping()
            assert _feed_port(broker) == setup.ports[2]
            setup.kill(setup.ports[2])
            with pytest.raises(Unavailable):
                await broker.ping()
            loop = asyncio.get_running_loop()
            deadline = loop.time() + TIMEOUT
            while broker._feed is None or not broker._feed.live:
                assert loop.time() < deadline, "the feed did not move to another node"
                await asyncio.sleep(0.05)  # the feed reconnects in the background
            assert _feed_port(broker) in setup.ports[:2]
        finally:
            await broker.close()
    finally:
        setup.stop()


@pytest.mark.redis
@pytest.mark.slow
async def test_a_cluster_burst_waits_for_a_connection_instead_of_failing(
    cluster_setup: ClusterSetup, prefix: str
) -> None:
    """The Cluster client fails a command beyond ``max_connections`` per node
    ("Too many connections"): a burst waits at the broker's gate instead."""
    broker = RedisBroker(cluster_setup.url(prefix), pool_size=3)
    await broker.start(Recorder())
    try:
        results = await asyncio.gather(
            *(broker.position(f"burst{i}", OPTS) for i in range(300)),
            *(broker.history(f"burst{i}", None, 5, OPTS) for i in range(300)),
            return_exceptions=True,
        )
        assert [r for r in results if isinstance(r, BaseException)] == []
        for node in broker._redis().client.get_nodes():
            assert len(node._connections) <= 3
    finally:
        await broker.close()


# -- Sentinel --------------------------------------------------------------------------------


@pytest.mark.redis
@pytest.mark.slow
async def test_a_planned_sentinel_failover_is_followed(prefix: str) -> None:
    """``SENTINEL FAILOVER`` (maintenance: the old primary stays up, demoted):
    commands move to the new primary, a subscriber on another node still
    gets what is published there, told of the new epoch."""
    setup = SentinelSetup()
    try:
        await asyncio.to_thread(setup.start)
        publisher, listener = RedisBroker(setup.url(prefix)), RedisBroker(setup.url(prefix))
        seen = Journal()
        await publisher.start(Recorder())
        await listener.start(seen)
        try:
            await listener.subscribe("c")
            before = await publisher.publish("c", "e", b"before", OPTS)
            assert await seen.next("c") == before
            old = setup.primary_port()
            sentinel = aioredis.Redis(port=setup.sentinels[0])
            await sentinel.execute_command("SENTINEL", "FAILOVER", "mymaster")
            await sentinel.aclose()
            await asyncio.to_thread(setup.wait_failover, old)
            # Until the old primary is demoted it still takes writes (they
            # are lost when it resyncs, as after any failover); publish until
            # one lands on the new primary.
            loop = asyncio.get_running_loop()
            deadline = loop.time() + TIMEOUT
            n = 0
            while True:
                assert loop.time() < deadline, "publishing did not resume on the new primary"
                n += 1
                try:
                    after = await publisher.publish("c", "e", b"%d" % n, OPTS)
                except Unavailable:
                    await asyncio.sleep(0.05)  # the demoted primary refuses writes a moment
                    continue
                if after.epoch != before.epoch:
                    break
            # The listener's feed moves too (it may tell of a gap rather than
            # deliver what was published before it moved): it gets the new
            # epoch's publications, after a gap reported.
            delivered: Publication | None = None
            while delivered is None:
                assert loop.time() < deadline, "the listener never heard the new primary"
                await publisher.publish("c", "e", b"later", OPTS)
                with contextlib.suppress(TimeoutError):
                    while delivered is None:  # what came, up to a pause of 0.5 s
                        got = await asyncio.wait_for(seen.publications.get(), 0.5)
                        delivered = got if got.epoch == after.epoch else None
            assert "c" in seen.events[: seen.events.index(delivered)], "new epoch without a gap"
        finally:
            await publisher.close()
            await listener.close()
    finally:
        setup.stop()
