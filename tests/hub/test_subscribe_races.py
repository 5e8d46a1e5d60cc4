"""A subscribe storm against a broker that, like Redis, keeps one feed per
channel per node and takes its time to subscribe and unsubscribe it.

"Subscribed means live": every ok reply must be followed by every later
publication — never a deaf subscriber whose feed an older unsubscribe tore
down behind its back."""

from __future__ import annotations

import asyncio
import random

import pytest

from relevo.broker.base import BrokerHandler
from relevo.broker.memory import MemoryBroker
from relevo.hub.hub import Hub
from relevo.protocol.errors import ErrorCode, RelevoError, Unavailable
from relevo.protocol.types import Publication
from tests.conftest import make_settings
from tests.hub.test_subscribe import FakeTransport


class FeedPerChannelBroker(MemoryBroker):
    """Delivers a channel's publications only while it is subscribed; subscribe
    and unsubscribe take a few loop passes, as a network round trip would."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        self.feeds: set[str] = set()
        self.rng = random.Random(seed)

    async def start(self, handler: BrokerHandler) -> None:
        broker = self

        class Filtered:
            def on_publication(self, pub: Publication) -> None:
                if pub.channel in broker.feeds:
                    handler.on_publication(pub)

            def on_push(self, channel: str, event: str, data: bytes) -> None:
                if channel in broker.feeds:
                    handler.on_push(channel, event, data)

            def on_gap(self, channel: str) -> None:
                handler.on_gap(channel)

        await super().start(Filtered())  # type: ignore[arg-type]

    async def _round_trip(self) -> None:
        for _ in range(self.rng.randint(0, 3)):
            await asyncio.sleep(0)

    async def subscribe(self, channel: str) -> None:
        await self._round_trip()
        self.feeds.add(channel)

    async def unsubscribe(self, channel: str) -> None:
        await self._round_trip()
        self.feeds.discard(channel)


async def test_a_resubscribe_racing_an_unsubscribe_is_never_deaf() -> None:
    for seed in range(40):
        broker = FeedPerChannelBroker(seed)
        hub = Hub(make_settings(), broker)
        await hub.start()
        try:
            first = hub.open_session(FakeTransport())
            await hub.subscribe(first, "demo:storm", None)
            hub.unsubscribe(first, "demo:storm")  # its broker unsubscribe is now in flight
            second_transport = FakeTransport()
            second = hub.open_session(second_transport)
            await hub.subscribe(second, "demo:storm", None)
            for _ in range(5):  # let every round trip in flight finish
                await asyncio.sleep(0)
            await hub.publish("demo:storm", "after", b"1")
            for _ in range(5):
                await asyncio.sleep(0)
            delivered = [e for e in second_transport.events if e[0] == "pub"]
            assert delivered == [("pub", 1)], (seed, second_transport.events)
        finally:
            await hub.close()


class LaggingFeedBroker(MemoryBroker):
    """History has a publication at once; its copy on the feed (Redis pub/sub)
    reaches the node a few loop passes later."""

    async def start(self, handler: BrokerHandler) -> None:
        loop = asyncio.get_running_loop()

        class Lagging:
            def on_publication(self, pub: Publication) -> None:
                loop.call_later(0.01, handler.on_publication, pub)

            def on_push(self, channel: str, event: str, data: bytes) -> None:
                handler.on_push(channel, event, data)

            def on_gap(self, channel: str) -> None:
                handler.on_gap(channel)

        await super().start(Lagging())  # type: ignore[arg-type]


async def _settle() -> None:
    await asyncio.sleep(0.05)


async def test_the_feed_never_repeats_what_the_reply_carried() -> None:
    from relevo.protocol.types import StreamPosition

    broker = LaggingFeedBroker()
    hub = Hub(make_settings(), broker)
    await hub.start()
    try:
        watcher = hub.open_session(FakeTransport())
        await hub.subscribe(watcher, "demo:lag", None)  # the node has the channel's feed
        for i in range(3):
            await hub.publish("demo:lag", "e", str(i).encode())
        epoch = (await broker.position("demo:lag", hub.permissions.history_options("x"))).epoch
        # Recovered: the reply carries 1..3; their late copies on the feed are repeats.
        recovering = FakeTransport()
        await hub.subscribe(hub.open_session(recovering), "demo:lag", StreamPosition(epoch, 0))
        # Not recovered (another epoch): the reply stands at 3; a late 3 is a repeat.
        lost = FakeTransport()
        await hub.subscribe(hub.open_session(lost), "demo:lag", StreamPosition("old", 7))
        await _settle()
        await hub.publish("demo:lag", "e", b"4")
        await _settle()
        assert recovering.events == [("sub", 3, True, [1, 2, 3]), ("pub", 4)]
        assert lost.events == [("sub", 3, False, []), ("pub", 4)]
    finally:
        await hub.close()


class GatedBroker(FeedPerChannelBroker):
    """The first broker subscribe waits at a gate the test opens, then fails
    if told to; later ones behave (a feed per channel, as Redis)."""

    def __init__(self, fail_first: bool) -> None:
        super().__init__(seed=0)
        self.fail_first = fail_first
        self.gate = asyncio.Event()
        self.calls = 0

    async def subscribe(self, channel: str) -> None:
        self.calls += 1
        if self.calls == 1:
            await self.gate.wait()
            if self.fail_first:
                raise Unavailable("redis said no, once")
        await super().subscribe(channel)


async def _waiting_on(hub: Hub, channel: str, tasks: list[asyncio.Task[None]]) -> None:
    """Let every task reach its wait (the first in the broker, the others on
    the channel's attach): a condition, not a sleep."""
    for _ in range(100):
        await asyncio.sleep(0)
        chan = hub.fanout.channels.get(channel)
        if chan is not None and chan.ready is not None and all(not t.done() for t in tasks):
            if sum(1 for t in tasks if t.get_stack()) == len(tasks):
                return
    raise AssertionError("the subscribes never reached their waits")


async def _settle_loop() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


async def _storm_on_a_failing_first_call(end_first: str) -> None:
    broker = GatedBroker(fail_first=end_first == "fails")
    hub = Hub(make_settings(), broker)
    await hub.start()
    try:
        first = hub.open_session(FakeTransport())
        others = [FakeTransport() for _ in range(5)]
        tasks = [asyncio.create_task(hub.subscribe(first, "demo:gate", None))]
        tasks += [
            asyncio.create_task(hub.subscribe(hub.open_session(t), "demo:gate", None))
            for t in others
        ]
        await _waiting_on(hub, "demo:gate", tasks)
        if end_first == "cancelled":
            tasks[0].cancel()  # its connection closed: the runner is cancelled
        elif end_first == "closed":
            hub.close_session(first)  # gone, without a cancel reaching the broker call
        broker.gate.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(r is None for r in results[1:]), results
        await _settle_loop()
        await hub.publish("demo:gate", "after", b"1")
        await _settle_loop()
        for t in others:
            assert t.events == [("sub", 0, None, []), ("pub", 1)], t.events
        assert hub.subscriber_count("demo:gate") == len(others)
    finally:
        await hub.close()


async def test_waiters_retry_when_the_first_broker_subscribe_fails() -> None:
    await _storm_on_a_failing_first_call("fails")


async def test_waiters_retry_when_the_first_subscriber_is_cancelled() -> None:
    await _storm_on_a_failing_first_call("cancelled")


async def test_waiters_never_attach_to_a_channel_dropped_behind_them() -> None:
    await _storm_on_a_failing_first_call("closed")


class GatedPositionBroker(MemoryBroker):
    """The first read of a channel's position waits at a gate the test opens
    (a subscribe still reading its starting point)."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.reads = 0

    async def position(self, channel, options):  # type: ignore[no-untyped-def]
        self.reads += 1
        if self.reads == 1:
            await self.gate.wait()
        return await super().position(channel, options)


async def _until(predicate) -> None:  # type: ignore[no-untyped-def]
    for _ in range(200):
        if predicate():
            return
        await asyncio.sleep(0)
    raise AssertionError("never happened")


async def test_a_subscribe_cut_short_by_an_unsubscribe_still_gets_an_answer() -> None:
    broker = GatedPositionBroker()
    hub = Hub(make_settings(), broker)
    await hub.start()
    try:
        transport = FakeTransport()
        session = hub.open_session(transport)
        first = asyncio.create_task(hub.subscribe(session, "demo:cut", None))
        await _until(lambda: broker.reads == 1)
        hub.unsubscribe(session, "demo:cut")
        broker.gate.set()
        with pytest.raises(RelevoError) as answer:
            await first
        assert answer.value.code == ErrorCode.CONFLICT
        assert transport.events == []  # no ok reply for a subscription that is not there
        assert "demo:cut" not in hub.fanout.channels
    finally:
        await hub.close()


async def test_a_resubscribe_after_a_cut_short_one_gets_its_own_reply_and_feed() -> None:
    broker = GatedPositionBroker()
    hub = Hub(make_settings(), broker)
    await hub.start()
    try:
        transport = FakeTransport()
        session = hub.open_session(transport)
        first = asyncio.create_task(hub.subscribe(session, "demo:again", None))
        await _until(lambda: broker.reads == 1)
        hub.unsubscribe(session, "demo:again")
        second = asyncio.create_task(hub.subscribe(session, "demo:again", None))
        await _until(lambda: broker.reads == 2)
        await second  # its own read was not gated
        broker.gate.set()
        with pytest.raises(RelevoError):
            await first
        await hub.publish("demo:again", "e", b"1")
        await _settle_loop()
        assert transport.events == [("sub", 0, None, []), ("pub", 1)], transport.events
        assert hub.subscriber_count("demo:again") == 1
    finally:
        await hub.close()
