"""What only the Redis broker can show: several nodes sharing one Redis, and
how it behaves when pub/sub loses messages or Redis goes away."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest
import redis.asyncio as aioredis

from relevo.broker._redis_wire import publication_parts
from relevo.broker.base import HistoryOptions, PublishItem
from relevo.broker.redis import RedisBroker
from relevo.protocol.errors import ProtocolError, Unavailable
from tests.broker.broker_fixtures import REDIS_URL, TIMEOUT, PrivateRedis, Recorder, free_port

pytestmark = pytest.mark.redis

OPTS = HistoryOptions(size=100, ttl=300.0)
Nodes = Callable[[], Awaitable[tuple[RedisBroker, Recorder]]]


async def test_publication_on_one_node_reaches_the_other(node_factory: Nodes) -> None:
    a, _ = await node_factory()
    b, seen = await node_factory()
    await b.subscribe("gtr")
    # "Subscribed" means live: a publication right after subscribe() is delivered.
    sent = await a.publish("gtr", "CLIENT_IN_GESTION", b'{"id":4}', OPTS)
    assert await seen.next("gtr") == sent
    await a.publish_push("gtr", "$join", b'{"user":"4"}')
    assert await seen.next_push() == ("gtr", "$join", b'{"user":"4"}')


async def test_unsubscribed_node_stops_receiving(node_factory: Nodes) -> None:
    a, _ = await node_factory()
    b, seen = await node_factory()
    await b.subscribe("x")
    await b.subscribe("y")
    await b.unsubscribe("x")
    await a.publish("x", "e", b"1", OPTS)
    await a.publish("y", "e", b"1", OPTS)
    assert (await seen.next()).channel == "y"  # x, published first, never came
    assert seen.publications.empty()


async def _publish_unannounced(node: RedisBroker, channel: str, n: int) -> None:
    """Append to the stream but publish where nobody listens: what a node
    misses when pub/sub drops messages."""
    keys = node.keys
    for i in range(n):
        head, tail = publication_parts(channel, "e", b"%d" % i)
        args = [b"nowhere", head, tail, OPTS.size, 300_000, 86_400_000, "e0"]
        await node._call("publish", [keys.meta(channel), keys.stream(channel)], args)


async def test_offset_jump_is_refilled_from_the_stream(node_factory: Nodes) -> None:
    a, _ = await node_factory()
    b, seen = await node_factory()
    await b.subscribe("c")
    await a.publish("c", "e", b"first", OPTS)
    await _publish_unannounced(a, "c", 3)
    last = await a.publish("c", "e", b"last", OPTS)
    got = await seen.take(5, "c")
    assert [p.offset for p in got] == [1, 2, 3, 4, 5]
    assert got[-1] == last
    assert seen.gaps.empty()


async def test_jump_that_cannot_be_refilled_is_a_gap(node_factory: Nodes) -> None:
    a, _ = await node_factory()
    b, seen = await node_factory()
    tiny = HistoryOptions(size=1, ttl=300.0)
    await b.subscribe("c")
    await a.publish("c", "e", b"1", tiny)
    assert (await seen.next("c")).offset == 1
    await _publish_unannounced(a, "c", 3)  # offsets 2..4, trimmed to size 1 by the next
    await a.publish("c", "e", b"5", tiny)
    assert await seen.next_gap() == "c"
    assert (await seen.next("c")).offset == 5  # delivery goes on after the gap


async def test_new_epoch_under_a_subscriber_is_a_gap(node_factory: Nodes) -> None:
    a, _ = await node_factory()
    b, seen = await node_factory()
    await b.subscribe("c")
    await a.publish("c", "e", b"1", OPTS)
    await a.publish("c", "e", b"2", OPTS)
    await seen.take(2, "c")
    await a.remove_history("c")  # as if the stream vanished
    pub = await a.publish("c", "e", b"3", OPTS)
    assert pub.offset == 1
    assert await seen.next_gap() == "c"
    assert await seen.next("c") == pub


async def _kill_feed(prefix: str, url: str = REDIS_URL) -> None:
    client = aioredis.Redis.from_url(url)
    try:
        for entry in await client.client_list():
            if entry.get("name") == f"{prefix}:feed":
                await client.client_kill_filter(_id=entry["id"])
    finally:
        await client.aclose()


def _gate(node: RedisBroker) -> tuple[asyncio.Event, asyncio.Event]:
    """Hold the node's pub/sub reconnect until the test opens the gate."""
    feed = node._feed
    assert feed is not None
    reconnecting, gate = asyncio.Event(), asyncio.Event()
    connect = feed._connect

    async def gated() -> object:
        reconnecting.set()
        await gate.wait()
        return await connect()

    feed._connect = gated  # type: ignore[method-assign]
    return reconnecting, gate


async def test_pubsub_reconnect_refills_what_was_missed(node_factory: Nodes, prefix: str) -> None:
    a, _ = await node_factory()
    b, seen = await node_factory()
    await b.subscribe("c")
    await b.subscribe("quiet")
    await a.publish("c", "e", b"1", OPTS)
    await seen.next("c")
    reconnecting, gate = _gate(b)
    await _kill_feed(prefix)
    await asyncio.wait_for(reconnecting.wait(), TIMEOUT)
    with pytest.raises(Unavailable, match="pub/sub"):
        await b.ping()  # /readyz fails while this node cannot receive
    sent = [await a.publish("c", "e", b"%d" % i, OPTS) for i in range(3)]
    gate.set()
    assert await seen.take(3, "c") == sent
    await a.publish("c", "e", b"live", OPTS)
    assert (await seen.next("c")).offset == 5
    assert seen.gaps.empty()
    await b.ping()


async def test_pubsub_reconnect_after_history_loss_is_a_gap(
    node_factory: Nodes, prefix: str
) -> None:
    a, _ = await node_factory()
    b, seen = await node_factory()
    await b.subscribe("c")
    await a.publish("c", "e", b"1", OPTS)
    await seen.next("c")
    reconnecting, gate = _gate(b)
    await _kill_feed(prefix)
    await asyncio.wait_for(reconnecting.wait(), TIMEOUT)
    await a.remove_history("c")
    await a.publish("c", "e", b"new epoch", OPTS)
    gate.set()
    assert await seen.next_gap() == "c"


async def test_start_without_redis_is_a_clear_error() -> None:
    port = free_port()
    broker = RedisBroker(f"redis://:secret@127.0.0.1:{port}/0")
    started = time.monotonic()
    with pytest.raises(Unavailable, match=f"cannot reach redis at redis://127.0.0.1:{port}/0"):
        await broker.start(Recorder())
    assert time.monotonic() - started < 3.0


async def test_redis_down_is_unavailable_and_service_resumes(
    private_redis: PrivateRedis,
) -> None:
    node, seen = RedisBroker(private_redis.url), Recorder()
    await node.start(seen)
    try:
        await node.subscribe("c")
        await node.publish("c", "e", b"1", OPTS)
        await seen.next("c")

        await private_redis.stop()
        started = time.monotonic()
        with pytest.raises(Unavailable):
            await node.publish("c", "e", b"lost", OPTS)
        with pytest.raises(Unavailable):
            await node.ping()
        assert time.monotonic() - started < 1.0

        await private_redis.start()  # empty: the history is lost
        assert await seen.next_gap() == "c"  # found by the feed's reconnect
        await node.ping()
        pub = await node.publish("c", "e", b"again", OPTS)
        assert pub.offset == 1
        assert await seen.next("c") == pub
    finally:
        await node.close()


async def test_hung_redis_is_unavailable_within_the_socket_timeout(
    private_redis: PrivateRedis,
) -> None:
    node = RedisBroker(private_redis.url, socket_timeout=0.5)
    await node.start(Recorder())
    try:
        private_redis.pause()
        started = time.monotonic()
        with pytest.raises(Unavailable):
            await node.publish("c", "e", b"1", OPTS)
        assert time.monotonic() - started < 1.5
        private_redis.resume()
        await node.publish("c", "e", b"2", OPTS)
    finally:
        private_redis.resume()
        await node.close()


async def test_a_burst_of_subscribes_waits_for_a_connection_instead_of_failing(
    node_factory: Nodes,
) -> None:
    """A subscribe storm needs no connection per subscribe: pub/sub shares one
    connection, and commands (position, history) wait for a pooled one.
    redis-py's default pool answered a burst over 100 with "Too many connections"."""
    node, _ = await node_factory()
    channels = [f"burst{i}" for i in range(400)]
    results = await asyncio.gather(
        *(node.subscribe(ch) for ch in channels),
        *(node.position(ch, OPTS) for ch in channels),
        *(node.history(ch, None, 10, OPTS) for ch in channels),
        return_exceptions=True,
    )
    failures = [r for r in results if isinstance(r, BaseException)]
    assert failures == []
    pool = node._redis().client.connection_pool
    assert len(pool._in_use_connections) + len(pool._available_connections) <= node.pool_size


async def test_pool_size_is_bounded_and_configurable(node_factory: Nodes, prefix: str) -> None:
    node = RedisBroker(f"{REDIS_URL}?prefix={prefix}", pool_size=3)
    await node.start(Recorder())
    try:
        await asyncio.gather(*(node.position(f"p{i}", OPTS) for i in range(50)))
        pool = node._redis().client.connection_pool
        assert len(pool._in_use_connections) + len(pool._available_connections) <= 3
    finally:
        await node.close()


def test_pool_settings_reach_the_broker_and_are_checked() -> None:
    from relevo.server.app import create_broker
    from relevo.server.config import ConfigError
    from tests.conftest import make_settings

    broker = create_broker(make_settings(broker={"url": REDIS_URL, "pool_size": 7}))
    assert isinstance(broker, RedisBroker)
    assert broker.pool_size == 7
    with pytest.raises(ConfigError, match="broker.pool_size"):
        make_settings(broker={"pool_size": 0})
    with pytest.raises(ConfigError, match="broker.pool_timeout"):
        make_settings(broker={"pool_timeout": 0})


async def test_position_reads_of_one_pass_share_a_round_trip(node_factory: Nodes) -> None:
    """A storm asks one channel's position thousands of times at once: the
    reads asked in one event-loop pass share one script call. Each was asked
    before that call began, so it is as fresh as a read of its own."""
    node, _ = await node_factory()
    await node.publish("shared", "e", b"1", OPTS)
    calls = 0
    real = node._call

    async def counting(script: str, keys: list[str], args: list[object]) -> object:
        nonlocal calls
        calls += 1
        return await real(script, keys, args)

    node._call = counting  # type: ignore[method-assign]
    positions = await asyncio.gather(*(node.position("shared", OPTS) for _ in range(500)))
    assert {p.offset for p in positions} == {1}
    assert calls == 1
    await node.publish("shared", "e", b"2", OPTS)
    assert (await node.position("shared", OPTS)).offset == 2  # a later read is a new one


async def test_publish_many_survives_a_script_cache_flush(private_redis: PrivateRedis) -> None:
    """A restarted or failed-over Redis has no scripts: the batch loads it and
    runs the refused items, in order, each once."""
    node, seen = RedisBroker(private_redis.url), Recorder()
    await node.start(seen)
    admin = aioredis.Redis.from_url(private_redis.url)
    try:
        await node.subscribe("c")
        await node.publish("c", "e", b"0", OPTS)
        await admin.script_flush()
        items = [PublishItem("c", "e", b"%d" % i, OPTS, f"k{i}") for i in range(1, 6)]
        pubs = await node.publish_many(items)
        assert [p.offset for p in pubs] == [2, 3, 4, 5, 6]
        got = [await seen.next("c") for _ in range(6)]
        assert [p.data for p in got] == [b"0", b"1", b"2", b"3", b"4", b"5"]
        assert seen.publications.empty()
    finally:
        await admin.aclose()
        await node.close()


async def test_publish_many_with_redis_gone_is_unavailable(private_redis: PrivateRedis) -> None:
    node, seen = RedisBroker(private_redis.url), Recorder()
    await node.start(seen)
    try:
        await private_redis.stop()
        with pytest.raises(Unavailable):
            await node.publish_many([PublishItem("c", "e", b"1", OPTS, "k")])
    finally:
        await node.close()


async def test_publishes_of_one_pass_share_a_round_trip(node_factory: Nodes) -> None:
    """Publishes asked in one event-loop pass (many clients publishing at once,
    a busy node) go to Redis as one pipeline, in the order they were asked:
    a round trip per publish made a node on Redis saturate at 2,000 msg/s."""
    node, seen = await node_factory()
    await node.subscribe("a")
    sends = 0
    real = node._pipeline

    async def counting(items: list[PublishItem]) -> list[object]:
        nonlocal sends
        sends += 1
        return await real(items)

    node._pipeline = counting  # type: ignore[method-assign]
    pubs = await asyncio.gather(
        *(node.publish("a" if i % 2 else "b", "e", b"%d" % i, OPTS) for i in range(200))
    )
    assert sends == 1
    assert [p.offset for p in pubs if p.channel == "a"] == list(range(1, 101))
    assert [p.offset for p in pubs if p.channel == "b"] == list(range(1, 101))
    got = [await seen.next("a") for _ in range(100)]
    assert [p.data for p in got] == [b"%d" % i for i in range(1, 200, 2)]
    with pytest.raises(ProtocolError):
        await node.publish("a", "e", b"x", OPTS, idempotency_key="")


async def test_publishes_over_many_passes_keep_their_order_on_the_channel(
    node_factory: Nodes,
) -> None:
    """Bursts of publishes in consecutive passes, as a publisher's pipelined
    ``pub``s arrive on a busy node: each burst is a pipeline, and the
    channel's offsets follow the order the publishes were asked even though
    later pipelines are sent while earlier ones are still out."""
    node, seen = await node_factory()
    await node.subscribe("o")
    loop = asyncio.get_running_loop()
    asked: list[asyncio.Task[object]] = []
    for burst in [400, 3, 250, 1, 1, 300, 7, 120] * 4:
        for _ in range(burst):
            data = b"%d" % len(asked)
            asked.append(loop.create_task(node.publish("o", "e", data, OPTS)))  # type: ignore[arg-type]
        await asyncio.sleep(0)
    pubs = await asyncio.gather(*asked)
    by_offset = sorted(pubs, key=lambda p: p.offset)  # type: ignore[attr-defined]
    assert [p.data for p in by_offset] == [b"%d" % i for i in range(len(asked))]  # type: ignore[attr-defined]
    got = [await seen.next("o") for _ in range(len(asked))]
    assert [p.data for p in got] == [b"%d" % i for i in range(len(asked))]
