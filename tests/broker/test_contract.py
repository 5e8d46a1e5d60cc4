"""The Broker contract: every implementation passes the same assertions.

Parametrised over ``memory`` and ``redis`` by the ``env`` fixture. What only
one implementation can show (several nodes, a lost pub/sub connection) lives
in ``test_redis.py``.
"""

from __future__ import annotations

import asyncio

import pytest

from relevo.broker.base import HistoryOptions, PublishItem
from relevo.protocol.errors import Unavailable
from relevo.protocol.recovery import is_recovered
from relevo.protocol.types import StreamPosition
from tests.broker.broker_fixtures import TIMEOUT, BrokerEnv, Recorder

OPTS = HistoryOptions(size=100, ttl=300.0, meta_ttl=3600.0)


# -- publishing and offsets ------------------------------------------------------------


async def test_offsets_are_gapless_and_monotonic(env: BrokerEnv) -> None:
    pubs = [await env.broker.publish("c", "e", b'{"i":%d}' % i, OPTS) for i in range(20)]
    assert [p.offset for p in pubs] == list(range(1, 21))
    assert len({p.epoch for p in pubs}) == 1
    assert pubs[0].epoch
    assert all(a.ts <= b.ts for a, b in zip(pubs, pubs[1:], strict=False))
    assert await env.broker.position("c", OPTS) == StreamPosition(pubs[0].epoch, 20)


async def test_channels_count_offsets_separately(env: BrokerEnv) -> None:
    a = await env.broker.publish("a", "e", b"1", OPTS)
    await env.broker.publish("a", "e", b"2", OPTS)
    b = await env.broker.publish("b", "e", b"1", OPTS)
    assert (a.offset, b.offset) == (1, 1)
    assert (await env.broker.position("a", OPTS)).offset == 2


async def test_concurrent_publishes_get_distinct_consecutive_offsets(env: BrokerEnv) -> None:
    pubs = await asyncio.gather(*(env.broker.publish("c", "e", b"%d" % i, OPTS) for i in range(50)))
    assert sorted(p.offset for p in pubs) == list(range(1, 51))


async def test_publication_keeps_event_and_data_bytes(env: BrokerEnv) -> None:
    data = '{"nombre":"Pérez","n":[1,2]}'.encode()
    pub = await env.broker.publish("c", "CLIENT_IN_GESTION", data, OPTS)
    [stored] = (await env.broker.history("c", None, 10, OPTS)).publications
    assert stored == pub
    assert (stored.channel, stored.event, stored.data) == ("c", "CLIENT_IN_GESTION", data)


# -- idempotency ---------------------------------------------------------------------------


async def test_same_idempotency_key_publishes_once_with_the_first_offset(env: BrokerEnv) -> None:
    await env.broker.subscribe("c")
    first = await env.broker.publish("c", "e", b"1", OPTS, idempotency_key="k1")
    again = await env.broker.publish("c", "e", b"1", OPTS, idempotency_key="k1")
    assert again.position == first.position == StreamPosition(first.epoch, 1)
    other = await env.broker.publish("c", "e", b"2", OPTS, idempotency_key="k2")
    plain = await env.broker.publish("c", "e", b"3", OPTS)
    assert (other.offset, plain.offset) == (2, 3)
    got = await env.handler.take(3, "c")
    assert [(p.offset, p.data) for p in got] == [(1, b"1"), (2, b"2"), (3, b"3")]
    res = await env.broker.history("c", None, 100, OPTS)
    assert [p.data for p in res.publications] == [b"1", b"2", b"3"]
    assert res.position.offset == 3


async def test_concurrent_publishes_with_one_key_store_one(env: BrokerEnv) -> None:
    pubs = await asyncio.gather(
        *(env.broker.publish("c", "e", b"%d" % i, OPTS, idempotency_key="k") for i in range(20))
    )
    assert {p.position for p in pubs} == {pubs[0].position}
    res = await env.broker.history("c", None, 100, OPTS)
    assert len(res.publications) == 1
    assert res.position.offset == 1


async def test_idempotency_keys_are_per_channel(env: BrokerEnv) -> None:
    a = await env.broker.publish("a", "e", b"1", OPTS, idempotency_key="outbox:7")
    b = await env.broker.publish("b", "e", b"1", OPTS, idempotency_key="outbox:7")
    assert (a.offset, b.offset) == (1, 1)
    assert (await env.broker.position("a", OPTS)).offset == 1
    assert (await env.broker.position("b", OPTS)).offset == 1


async def test_idempotency_key_is_forgotten_after_the_window(env: BrokerEnv) -> None:
    broker = await env.make(Recorder(), idempotency_window=1.0)
    first = await broker.publish("w", "e", b"1", OPTS, idempotency_key="k")
    assert (await broker.publish("w", "e", b"1", OPTS, idempotency_key="k")).offset == 1
    if env.kind == "memory":
        await env.advance(0.9)
        assert (await broker.publish("w", "e", b"1", OPTS, idempotency_key="k")).offset == 1
        await env.advance(0.2)
        later = await broker.publish("w", "e", b"1", OPTS, idempotency_key="k")
    else:
        # Real time: poll until Redis has expired the key (never sooner than the window).
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TIMEOUT
        while True:
            later = await broker.publish("w", "e", b"1", OPTS, idempotency_key="k")
            if later.offset != 1:
                break
            assert loop.time() < deadline, "the key never expired"
            await asyncio.sleep(0.05)
        assert later.ts - first.ts >= 1000
    assert later.position == StreamPosition(first.epoch, 2)
    assert (await broker.publish("w", "e", b"1", OPTS, idempotency_key="k")).offset == 2


# -- batches (publish_many) -------------------------------------------------------------------


async def test_publish_many_appends_in_order_and_delivers_in_order(env: BrokerEnv) -> None:
    await env.broker.subscribe("a")
    await env.broker.subscribe("b")
    first = await env.broker.publish("a", "e", b"0", OPTS)
    items = [
        PublishItem("a" if i % 3 else "b", f"e{i}", b'{"i":%d}' % i, OPTS, None) for i in range(30)
    ]
    pubs = await env.broker.publish_many(items)
    assert [(p.channel, p.event, p.data) for p in pubs] == [
        (i.channel, i.event, i.data) for i in items
    ]
    assert [p.offset for p in pubs if p.channel == "a"] == list(range(2, 22))
    assert [p.offset for p in pubs if p.channel == "b"] == list(range(1, 11))
    assert {p.epoch for p in pubs if p.channel == "a"} == {first.epoch}
    got = await env.handler.take(31)
    assert [p.offset for p in got if p.channel == "a"] == list(range(1, 22))
    assert [p.offset for p in got if p.channel == "b"] == list(range(1, 11))
    res = await env.broker.history("a", None, 100, OPTS)
    assert [p.data for p in res.publications][1:] == [i.data for i in items if i.channel == "a"]


async def test_publish_many_honours_idempotency_keys_within_and_across_batches(
    env: BrokerEnv,
) -> None:
    await env.broker.subscribe("c")
    before = await env.broker.publish("c", "e", b"0", OPTS, idempotency_key="outbox:1")
    pubs = await env.broker.publish_many(
        [
            PublishItem("c", "e", b"0", OPTS, "outbox:1"),  # a repeat of the one before
            PublishItem("c", "e", b"2", OPTS, "outbox:2"),
            PublishItem("c", "e", b"2", OPTS, "outbox:2"),  # a repeat inside the batch
            PublishItem("c", "e", b"3", OPTS, None),
        ]
    )
    assert [p.offset for p in pubs] == [1, 2, 2, 3]
    assert pubs[0].position == before.position
    again = await env.broker.publish_many([PublishItem("c", "e", b"2", OPTS, "outbox:2")])
    assert again[0].position == pubs[1].position
    got = await env.handler.take(3, "c")
    assert [(p.offset, p.data) for p in got] == [(1, b"0"), (2, b"2"), (3, b"3")]
    res = await env.broker.history("c", None, 100, OPTS)
    assert res.position.offset == 3


async def test_publish_many_of_nothing_is_nothing(env: BrokerEnv) -> None:
    assert await env.broker.publish_many([]) == []


# -- delivery -----------------------------------------------------------------------------


async def test_subscriber_receives_every_publication_in_order(env: BrokerEnv) -> None:
    await env.broker.subscribe("c")
    sent = []
    for i in range(10):
        sent.append(await env.broker.publish("c", "e", b"%d" % i, OPTS))
    sent += await asyncio.gather(*(env.broker.publish("c", "e", b"x", OPTS) for _ in range(20)))
    got = await env.handler.take(30, "c")
    assert [p.offset for p in got] == list(range(1, 31))
    assert {p.offset: p for p in got} == {p.offset: p for p in sent}


async def test_interleaved_channels_keep_their_own_order(env: BrokerEnv) -> None:
    await env.broker.subscribe("a")
    await env.broker.subscribe("b")
    for i in range(10):
        await env.broker.publish("a" if i % 2 else "b", "e", b"%d" % i, OPTS)
    got = await env.handler.take(10)
    assert [p.offset for p in got if p.channel == "a"] == [1, 2, 3, 4, 5]
    assert [p.offset for p in got if p.channel == "b"] == [1, 2, 3, 4, 5]


async def test_push_reaches_subscribed_channel(env: BrokerEnv) -> None:
    await env.broker.subscribe("room")
    await env.broker.publish_push("room", "$join", b'{"user":"4"}')
    assert await env.handler.next_push() == ("room", "$join", b'{"user":"4"}')
    assert (await env.broker.position("room", OPTS)).offset == 0  # no history


async def test_push_on_dollar_channel_reaches_every_node_unsubscribed(env: BrokerEnv) -> None:
    await env.broker.publish_push("$control", "disconnect", b'{"user":"4"}')
    assert await env.handler.next_push() == ("$control", "disconnect", b'{"user":"4"}')


async def test_unsubscribe_then_subscribe_in_any_order_ends_subscribed(env: BrokerEnv) -> None:
    # The hub spawns unsubscribe as a task and may subscribe again before it
    # runs: the broker must end up delivering.
    await env.broker.subscribe("c")
    late_unsubscribe = asyncio.ensure_future(env.broker.unsubscribe("c"))
    await env.broker.subscribe("c")
    await late_unsubscribe
    await env.broker.publish("c", "e", b"1", OPTS)
    assert (await env.handler.next("c")).offset == 1


async def test_resubscribe_after_unsubscribe_delivers(env: BrokerEnv) -> None:
    await env.broker.subscribe("c")
    await env.broker.unsubscribe("c")
    await env.broker.unsubscribe("c")  # one too many: harmless
    await env.broker.subscribe("c")
    await env.broker.publish("c", "e", b"1", OPTS)
    assert (await env.handler.next("c")).offset == 1


# -- history -------------------------------------------------------------------------------


async def _publish(env: BrokerEnv, n: int, options: HistoryOptions = OPTS, ch: str = "c") -> str:
    epoch = ""
    for i in range(n):
        epoch = (await env.broker.publish(ch, "e", b"%d" % i, options)).epoch
    return epoch


async def test_history_without_since_returns_newest_up_to_limit(env: BrokerEnv) -> None:
    epoch = await _publish(env, 10)
    res = await env.broker.history("c", None, 100, OPTS)
    assert [p.offset for p in res.publications] == list(range(1, 11))
    assert res.position == StreamPosition(epoch, 10)
    res = await env.broker.history("c", None, 3, OPTS)
    assert [p.offset for p in res.publications] == [8, 9, 10]
    res = await env.broker.history("c", None, 0, OPTS)
    assert res.publications == []
    assert res.position == StreamPosition(epoch, 10)


async def test_history_since_returns_what_follows_oldest_first(env: BrokerEnv) -> None:
    epoch = await _publish(env, 10)
    res = await env.broker.history("c", StreamPosition(epoch, 4), 100, OPTS)
    assert [p.offset for p in res.publications] == [5, 6, 7, 8, 9, 10]
    assert is_recovered(StreamPosition(epoch, 4), res.position, res.publications)
    res = await env.broker.history("c", StreamPosition(epoch, 4), 2, OPTS)
    assert [p.offset for p in res.publications] == [5, 6]
    res = await env.broker.history("c", StreamPosition(epoch, 10), 100, OPTS)
    assert res.publications == []
    assert res.position == StreamPosition(epoch, 10)


async def test_history_since_another_epoch_or_the_future_is_not_recoverable(
    env: BrokerEnv,
) -> None:
    epoch = await _publish(env, 3)
    for since in (StreamPosition("other", 1), StreamPosition(epoch, 7)):
        res = await env.broker.history("c", since, 100, OPTS)
        assert res.publications == []
        assert res.position == StreamPosition(epoch, 3)
        assert not is_recovered(since, res.position, res.publications)


async def test_history_keeps_at_most_size_publications(env: BrokerEnv) -> None:
    small = HistoryOptions(size=5, ttl=300.0)
    epoch = await _publish(env, 12, small)
    res = await env.broker.history("c", None, 100, small)
    assert [p.offset for p in res.publications] == [8, 9, 10, 11, 12]
    since = StreamPosition(epoch, 2)
    res = await env.broker.history("c", since, 100, small)
    assert not is_recovered(since, res.position, res.publications)  # trimmed past it
    since = StreamPosition(epoch, 7)
    res = await env.broker.history("c", since, 100, small)
    assert is_recovered(since, res.position, res.publications)


async def test_history_size_zero_keeps_offsets_only(env: BrokerEnv) -> None:
    none = HistoryOptions(size=0, ttl=300.0)
    epoch = await _publish(env, 3, none)
    res = await env.broker.history("c", None, 100, none)
    assert res.publications == []
    assert res.position == StreamPosition(epoch, 3)


async def test_history_drops_publications_older_than_ttl(env: BrokerEnv) -> None:
    short = HistoryOptions(size=100, ttl=0.5, meta_ttl=60.0)
    epoch = await _publish(env, 3, short)
    await env.advance(0.7)
    await _publish(env, 2, short)
    res = await env.broker.history("c", None, 100, short)
    assert [p.offset for p in res.publications] == [4, 5]
    assert res.position == StreamPosition(epoch, 5)  # offsets outlive the publications
    since = StreamPosition(epoch, 1)
    res = await env.broker.history("c", since, 100, short)
    assert [p.offset for p in res.publications] == [4, 5]
    assert not is_recovered(since, res.position, res.publications)


# -- epochs ----------------------------------------------------------------------------------


async def test_position_of_a_new_channel_is_the_epoch_it_publishes_in(env: BrokerEnv) -> None:
    # A client that subscribes before the first publication must recover from it.
    first = await env.broker.position("fresh", OPTS)
    assert first.offset == 0
    assert first.epoch
    assert await env.broker.position("fresh", OPTS) == first
    pub = await env.broker.publish("fresh", "e", b"1", OPTS)
    assert pub.position == StreamPosition(first.epoch, 1)
    res = await env.broker.history("fresh", first, 100, OPTS)
    assert is_recovered(first, res.position, res.publications)


async def test_a_channel_left_before_its_first_publication_still_recovers(
    env: BrokerEnv,
) -> None:
    # What a client does that subscribes, loses its connection (the node's last
    # subscriber: the node unsubscribes) and comes back after a publication.
    await env.broker.subscribe("quiet")
    seen = await env.broker.position("quiet", OPTS)
    await env.broker.unsubscribe("quiet")
    await env.broker.publish("quiet", "e", b"1", OPTS)
    await env.broker.subscribe("quiet")
    res = await env.broker.history("quiet", seen, 100, OPTS)
    assert is_recovered(seen, res.position, res.publications)
    assert [p.offset for p in res.publications] == [1]


async def test_remove_history_starts_a_new_epoch(env: BrokerEnv) -> None:
    old = await _publish(env, 3)
    await env.broker.remove_history("c")
    pos = await env.broker.position("c", OPTS)
    assert pos.epoch != old
    assert pos.offset == 0
    pub = await env.broker.publish("c", "e", b"1", OPTS)
    assert pub.position == StreamPosition(pos.epoch, 1)
    since = StreamPosition(old, 3)
    res = await env.broker.history("c", since, 100, OPTS)
    assert not is_recovered(since, res.position, res.publications)


async def test_channel_idle_past_meta_ttl_starts_a_new_epoch(env: BrokerEnv) -> None:
    brief = HistoryOptions(size=100, ttl=0.3, meta_ttl=0.5)
    old = await _publish(env, 2, brief)
    await env.advance(0.7)
    pos = await env.broker.position("c", brief)
    assert pos.epoch != old
    assert pos.offset == 0


async def test_channel_in_use_keeps_its_epoch(env: BrokerEnv) -> None:
    brief = HistoryOptions(size=100, ttl=0.3, meta_ttl=0.6)
    epoch = await _publish(env, 1, brief)
    for _ in range(3):
        await env.advance(0.3)
        assert (await env.broker.publish("c", "e", b"x", brief)).epoch == epoch


# -- failure --------------------------------------------------------------------------------------


async def test_closed_broker_is_unavailable(env: BrokerEnv) -> None:
    await env.broker.ping()
    await env.broker.close()
    with pytest.raises(Unavailable):
        await env.broker.ping()
    with pytest.raises(Unavailable):
        await env.broker.publish("c", "e", b"1", OPTS)
    with pytest.raises(Unavailable):
        await env.broker.publish_many([PublishItem("c", "e", b"1", OPTS, None)])
    with pytest.raises(Unavailable):
        await env.broker.subscribe("c")
