"""Hub subscribe semantics with a broker whose history read races publications."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import msgspec

from relevo.broker.base import HistoryOptions, HistoryResult
from relevo.broker.memory import MemoryBroker
from relevo.hub.hub import Hub
from relevo.protocol.errors import Disconnect
from relevo.protocol.framing import Outgoing
from relevo.protocol.types import Publication, StreamPosition
from tests.conftest import make_settings


class RacingBroker(MemoryBroker):
    """Publishes while the hub is reading history, like a busy Redis would."""

    racing = 0

    async def history(
        self, channel: str, since: StreamPosition | None, limit: int, options: HistoryOptions
    ) -> HistoryResult:
        result = await super().history(channel, since, limit, options)
        for i in range(self.racing):
            await self.publish(channel, "race", str(i).encode(), options)
        await asyncio.sleep(0)
        return result

    async def position(self, channel: str, options: HistoryOptions) -> StreamPosition:
        pos = await super().position(channel, options)
        for i in range(self.racing):
            await self.publish(channel, "race", str(i).encode(), options)
        return pos


class EventFraming:
    """Frames each write as JSON lines of events a test can compare:
    ``["sub", offset, recovered, [missed offsets]]``, ``["pub", offset]``,
    ``["send", frame]`` (a reply, an error, a push)."""

    ping = b""

    def frame(self, payload: bytes) -> bytes:
        return msgspec.json.encode(["send", payload.decode()]) + b"\n"

    def channel(self, channel: str, frames: Sequence[Outgoing]) -> bytes:
        return b"".join(
            self.frame(payload) if pos is None else msgspec.json.encode(["pub", pos.offset]) + b"\n"
            for payload, pos in frames
        )

    def subscribed(
        self,
        frame_id: Any,
        channel: str,
        position: StreamPosition,
        recovered: bool | None,
        missed: list[Publication],
    ) -> bytes:
        event = ["sub", position.offset, recovered, [p.offset for p in missed]]
        return msgspec.json.encode(event) + b"\n"


class FakeTransport:
    kind = "fake"
    remote = ""
    framing = EventFraming()

    def __init__(self) -> None:
        self.events: list[Any] = []

    def write(self, data: bytes) -> None:
        for line in data.splitlines():
            self.events.append(tuple(msgspec.json.decode(line)))

    def close(self, disconnect: Disconnect) -> None:
        self.events.append(("close", disconnect.code))


async def test_publications_during_subscribe_are_delivered_once_in_order() -> None:
    broker = RacingBroker()
    hub = Hub(make_settings(), broker)
    await hub.start()
    try:
        for i in range(3):
            await hub.publish("demo:r", "before", str(i).encode())
        broker.racing = 2
        transport = FakeTransport()
        session = hub.open_session(transport)
        await hub.subscribe(session, "demo:r", StreamPosition(broker._streams["demo:r"].epoch, 1))
        broker.racing = 0
        await hub.publish("demo:r", "after", b"9")
        await asyncio.sleep(0)  # the end of the pass: live frames are written
        # The reply recovers 2..3; 4 and 5 arrived during the read; 6 is live.
        assert transport.events == [("sub", 3, True, [2, 3]), ("pub", 4), ("pub", 5), ("pub", 6)]
        plain = FakeTransport()
        broker.racing = 1
        await hub.subscribe(hub.open_session(plain), "demo:r", None)
        assert plain.events == [("sub", 6, None, []), ("pub", 7)]
    finally:
        await hub.close()


async def test_first_and_last_connection_of_a_user_call_the_listeners() -> None:
    hub = Hub(make_settings(), MemoryBroker())
    await hub.start()
    left: list[str] = []
    joined: list[str] = []
    hub.add_leave_listener(left.append)
    hub.add_join_listener(joined.append)
    try:
        from tests.conftest import token

        a = hub.open_session(FakeTransport())
        b = hub.open_session(FakeTransport())
        hub.authenticate(a, token("4"))
        hub.authenticate(b, token("4"))
        assert joined == ["4"]  # the first connection of the user on this node
        hub.close_session(a)
        assert left == []
        assert hub.user_online("4")
        hub.close_session(b)
        assert left == ["4"]
        assert not hub.user_online("4")
    finally:
        await hub.close()


async def test_a_subscriber_waiting_for_the_feed_counts_and_recovers_from_a_gap() -> None:
    """A subscriber whose reply ran ahead of the feed (here: a channel nothing
    was published on yet) is subscribed: it counts, and a feed gap makes it
    recover like every other subscriber, or it would go live past the gap."""
    hub = Hub(make_settings(), MemoryBroker())
    await hub.start()
    try:
        transport = FakeTransport()
        await hub.subscribe(hub.open_session(transport), "demo:quiet", None)
        assert hub.subscriber_count("demo:quiet") == 1
        hub.fanout.on_gap("demo:quiet")
        assert ("close", "resubscribe") in transport.events
        assert hub.subscriber_count("demo:quiet") == 0
    finally:
        await hub.close()
