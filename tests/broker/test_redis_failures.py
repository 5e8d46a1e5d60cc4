"""How the Redis broker fails: every way Redis can go wrong reaches the hub
as :class:`Unavailable` (retryable, never a raw redis-py error), and the
pub/sub feed never goes deaf in silence — a message it cannot read, a refill
it cannot finish, a SUBSCRIBE Redis never confirms each end in a clear error
or in ``on_gap``, and delivery goes on."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import redis.asyncio as aioredis

from relevo.broker.base import HistoryOptions
from relevo.broker.redis import RedisBroker
from relevo.protocol.errors import Unavailable
from relevo.protocol.types import ClientInfo, StreamPosition
from tests.broker.broker_fixtures import REDIS_URL, TIMEOUT, PrivateRedis, Recorder
from tests.broker.test_redis import Nodes, _publish_unannounced

pytestmark = pytest.mark.redis

OPTS = HistoryOptions(size=100, ttl=300.0)

Op = Callable[[RedisBroker], Awaitable[Any]]

OPS: dict[str, Op] = {
    "publish": lambda b: b.publish("c", "e", b"1", OPTS),
    "publish_push": lambda b: b.publish_push("c", "$join", b"{}"),
    "subscribe": lambda b: b.subscribe("fresh"),
    "history": lambda b: b.history("c", None, 10, OPTS),
    "position": lambda b: b.position("c", OPTS),
    "remove_history": lambda b: b.remove_history("c"),
    "add_presence": lambda b: b.add_presence("c", ClientInfo("k", "u"), 30.0),
    "remove_presence": lambda b: b.remove_presence("c", "k"),
    "presence": lambda b: b.presence("c"),
    "ping": lambda b: b.ping(),
}


@pytest.mark.parametrize("op", OPS)
async def test_every_call_on_a_closed_broker_is_unavailable(prefix: str, op: str) -> None:
    node = RedisBroker(f"{REDIS_URL}?prefix={prefix}")
    await node.start(Recorder())
    await node.close()
    with pytest.raises(Unavailable, match="closed"):
        await OPS[op](node)
    await node.unsubscribe("c")  # a no-op, not an error: the hub unsubscribes on the way out


@pytest.mark.parametrize("op", OPS)
async def test_every_call_with_redis_gone_is_unavailable(
    private_redis: PrivateRedis, op: str
) -> None:
    node = RedisBroker(private_redis.url, socket_timeout=0.5)
    await node.start(Recorder())
    try:
        await node.subscribe("c")
        await private_redis.stop()
        with pytest.raises(Unavailable) as caught:
            await OPS[op](node)
        assert caught.value.code == "unavailable"
        assert "127.0.0.1" in str(caught.value)
        await node.unsubscribe("c")  # leaving while Redis is down does not raise
    finally:
        await node.close()


async def test_an_undecodable_pubsub_message_is_dropped_and_delivery_goes_on(
    node_factory: Nodes, caplog: pytest.LogCaptureFixture
) -> None:
    a, _ = await node_factory()
    b, seen = await node_factory()
    await b.subscribe("c")
    raw = aioredis.Redis.from_url(REDIS_URL)
    try:
        with caplog.at_level(logging.ERROR, logger="relevo.broker.redis"):
            await raw.publish(b.keys.pubsub("c"), b"\xffnot a publication")
            sent = await a.publish("c", "e", b"1", OPTS)
            assert await seen.next("c") == sent
        assert "undecodable" in caplog.text
    finally:
        await raw.aclose()
    assert seen.gaps.empty()


async def test_a_push_for_a_channel_this_node_left_is_not_delivered(node_factory: Nodes) -> None:
    a, _ = await node_factory()
    b, seen = await node_factory()
    await b.subscribe("left")
    await b.subscribe("kept")
    await b.unsubscribe("left")
    await a.publish_push("left", "$join", b"{}")
    await a.publish_push("kept", "$join", b"{}")
    assert await seen.next_push() == ("kept", "$join", b"{}")
    assert seen.pushes.empty()


@pytest.mark.parametrize(
    "failure",
    [Unavailable("redis went away mid-refill"), RuntimeError("a bug in the refill")],
    ids=["unavailable", "bug"],
)
async def test_a_refill_that_fails_is_a_gap_and_delivery_goes_on(
    node_factory: Nodes, failure: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    a, _ = await node_factory()
    b, seen = await node_factory()
    await b.subscribe("c")
    await a.publish("c", "e", b"1", OPTS)
    await seen.next("c")
    feed = b._feed
    assert feed is not None

    async def failing(channel: str, offset: int, epoch: str | None) -> Any:
        raise failure

    feed._read_after = failing
    await _publish_unannounced(a, "c", 2)  # offsets 2 and 3 never reach b's feed
    with caplog.at_level(logging.WARNING, logger="relevo.broker.redis"):
        jumped = await a.publish("c", "e", b"4", OPTS)
        assert await seen.next_gap() == "c"
    assert "refill" in caplog.text
    # The held-back publication is delivered after the gap, and the next one follows.
    assert await seen.next("c") == jumped
    after = await a.publish("c", "e", b"5", OPTS)
    assert await seen.next("c") == after


async def test_a_subscribe_redis_never_confirms_is_unavailable_and_leaves_nothing_behind(
    private_redis: PrivateRedis,
) -> None:
    node = RedisBroker(private_redis.url, health_interval=0.2)
    seen = Recorder()
    await node.start(seen)
    feed = node._feed
    assert feed is not None

    async def known(channel: str) -> StreamPosition:
        return StreamPosition("", 0)  # answered; only the SUBSCRIBE hangs

    feed._baseline = known
    try:
        private_redis.pause()
        with pytest.raises(Unavailable, match="pub/sub"):
            await node.subscribe("c")
        assert "c" not in feed._tracked
        assert feed._confirm == {}
    finally:
        private_redis.resume()
    # Once Redis answers again the node recovers, and the channel can be subscribed.
    deadline = asyncio.get_running_loop().time() + TIMEOUT
    while True:
        try:
            await node.ping()
            break
        except Unavailable:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.05)  # nothing to await: the feed reconnects on its own
    try:
        await node.subscribe("c")
        sent = await node.publish("c", "e", b"1", OPTS)
        assert await seen.next("c") == sent
    finally:
        await node.close()


async def test_a_start_redis_never_answers_is_a_clear_error(private_redis: PrivateRedis) -> None:
    private_redis.pause()
    node = RedisBroker(private_redis.url, health_interval=0.2, socket_timeout=0.5)
    try:
        with pytest.raises(Unavailable, match=f"cannot reach redis at {private_redis.url}"):
            await node.start(Recorder())
    finally:
        private_redis.resume()
        await node.close()
