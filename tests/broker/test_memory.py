"""What only the memory broker must show: its memory follows what is in use.

An anonymous client may subscribe to any number of distinct names, and a
publisher may touch any number of channels; once they leave, or their history
expires, the broker's entries must go too (issue 11, finding 8).
"""

from __future__ import annotations

from relevo.broker.base import HistoryOptions
from relevo.broker.memory import MemoryBroker, MemoryPresence
from relevo.clock import VirtualClock
from relevo.protocol.types import ClientInfo, StreamPosition
from tests.broker.broker_fixtures import Recorder

OPTS = HistoryOptions(size=100, ttl=60.0, meta_ttl=86400.0)


async def _broker(clock: VirtualClock, **kwargs: float) -> MemoryBroker:
    broker = MemoryBroker(clock=clock, **kwargs)
    await broker.start(Recorder())
    return broker


async def test_forty_thousand_channels_subscribed_then_left_leave_nothing() -> None:
    clock = VirtualClock()
    broker = await _broker(clock, sweep_interval=1.0)
    baseline = broker.channel_count
    for i in range(40_000):
        ch = f"demo:{i}"
        # What the hub does for a subscribe with join/leave, then the leave.
        await broker.subscribe(ch)
        await broker.position(ch, OPTS)
        await broker.unsubscribe(ch)
    clock.advance(OPTS.ttl + 2)  # the sweep runs on the back of an ordinary call
    await broker.position("demo:other", OPTS)
    assert broker.channel_count == baseline + 1


async def test_a_publication_to_a_channel_its_only_subscriber_just_left_is_recovered() -> None:
    """A client reconnecting with the position it got from an empty channel
    recovers what was published meanwhile: the entry outlives the unsubscribe."""
    broker = await _broker(VirtualClock())
    await broker.subscribe("demo:tok")
    before = await broker.position("demo:tok", OPTS)
    await broker.unsubscribe("demo:tok")
    await broker.publish("demo:tok", "tick", b"{}", OPTS)
    res = await broker.history("demo:tok", before, 100, OPTS)
    assert res.position.epoch == before.epoch
    assert [p.offset for p in res.publications] == [1]


async def test_a_subscribed_channel_keeps_its_position_after_history_expires() -> None:
    clock = VirtualClock()
    broker = await _broker(clock, sweep_interval=1.0)
    await broker.subscribe("gtr")
    first = await broker.position("gtr", OPTS)
    await broker.publish("gtr", "e", b"1", OPTS)
    clock.advance(3600)
    await broker.position("other", OPTS)  # any call lets the sweep run
    res = await broker.history("gtr", None, 100, OPTS)
    assert res.publications == []
    assert res.position == StreamPosition(first.epoch, 1)


async def test_history_past_its_ttl_is_dropped_when_the_clock_advances() -> None:
    clock = VirtualClock()
    broker = await _broker(clock, sweep_interval=1.0)
    for i in range(5_000):
        await broker.publish(f"demo:{i}", "e", b"x", OPTS)
    await broker.publish("long", "e", b"x", HistoryOptions(size=10, ttl=600.0))
    assert broker.channel_count == 5_001
    clock.advance(30)
    await broker.position("probe", OPTS)
    assert broker.channel_count == 5_002  # nothing expired yet
    clock.advance(31)
    await broker.position("probe", OPTS)
    assert broker.channel_count == 2  # "long" (within its TTL) and "probe"
    # A channel dropped by the sweep starts afresh, as after a restart.
    pos = await broker.position("demo:1", OPTS)
    assert pos.offset == 0


async def test_unsubscribed_channel_keeps_its_history_until_it_expires() -> None:
    clock = VirtualClock()
    broker = await _broker(clock, sweep_interval=1.0)
    await broker.subscribe("room")
    pub = await broker.publish("room", "e", b"1", OPTS)
    await broker.unsubscribe("room")
    clock.advance(30)
    await broker.subscribe("room")  # a client coming back within the TTL recovers
    res = await broker.history("room", StreamPosition(pub.epoch, 0), 100, OPTS)
    assert [p.offset for p in res.publications] == [1]


async def test_idempotency_keys_are_forgotten_after_the_window() -> None:
    clock = VirtualClock()
    broker = await _broker(clock, idempotency_window=300.0)
    for i in range(10_000):
        await broker.publish("gtr", "e", b"x", OPTS, idempotency_key=f"outbox:{i}")
    assert broker.idempotency_key_count == 10_000
    clock.advance(301)
    await broker.publish("gtr", "e", b"x", OPTS, idempotency_key="late")
    assert broker.idempotency_key_count == 1


async def test_forty_thousand_presence_channels_joined_then_left_leave_nothing() -> None:
    presence = MemoryPresence(clock=VirtualClock())
    for i in range(40_000):
        await presence.add_presence(f"demo:{i}", ClientInfo(f"c{i}", ""), 60.0)
        await presence.remove_presence(f"demo:{i}", f"c{i}")
    assert presence.channel_count == 0


async def test_expired_presence_of_a_dead_node_is_swept() -> None:
    clock = VirtualClock()
    presence = MemoryPresence(clock=clock, sweep_interval=1.0)
    for i in range(1_000):
        await presence.add_presence(f"room:{i}", ClientInfo("gone", "4"), 10.0)
    clock.advance(11)
    assert await presence.presence("probe") == []
    assert presence.channel_count == 0
