"""Frames for a channel go out joined, once per event-loop pass: one write per
subscriber however many publications arrived in that pass, and never a frame
a subscriber should not see."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator
from typing import Any
from unittest.mock import ANY

import msgspec
import pytest

from relevo.broker.memory import MemoryBroker
from relevo.hub.hub import Hub
from relevo.protocol.errors import Disconnect
from relevo.protocol.framing import WEBSOCKET
from tests.conftest import make_settings


class WireTransport:
    """Records every write, as a socket would see it."""

    kind = "fake"
    remote = ""
    framing = WEBSOCKET

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.write = self.writes.append
        self.closed: list[str] = []

    def close(self, disconnect: Disconnect) -> None:
        self.closed.append(disconnect.code)

    def messages(self) -> list[dict[str, Any]]:
        """The server's (unmasked, unfragmented) text frames, decoded."""
        wire, out = b"".join(self.writes), []
        while wire:
            assert wire[0] == 0x81, "a final text frame"
            n, head = wire[1], 2
            if n == 126:
                n, head = struct.unpack("!H", wire[2:4])[0], 4
            out.append(msgspec.json.decode(wire[head : head + n]))
            wire = wire[head + n :]
        return out


@pytest.fixture
async def hub() -> AsyncIterator[Hub]:
    started = Hub(make_settings(), MemoryBroker())
    await started.start()
    yield started
    await started.close()


def offsets(transport: WireTransport) -> list[int]:
    return [m["off"] for m in transport.messages() if "off" in m]


async def publish_burst(hub: Hub, channel: str, n: int) -> None:
    """``n`` publications in one pass of the loop (the memory broker does not yield)."""
    for i in range(n):
        await hub.publish(channel, "m", str(i).encode())


async def test_a_burst_is_one_write_per_subscriber_with_the_same_bytes(hub: Hub) -> None:
    subs = [WireTransport() for _ in range(3)]
    for t in subs:
        await hub.subscribe(hub.open_session(t), "demo:r", None)
        t.writes.clear()
    await publish_burst(hub, "demo:r", 5)
    assert all(t.writes == [] for t in subs), "written before the pass ended"
    await asyncio.sleep(0)
    assert [len(t.writes) for t in subs] == [1, 1, 1]
    assert subs[0].writes[0] is subs[1].writes[0] is subs[2].writes[0]
    assert offsets(subs[0]) == [1, 2, 3, 4, 5]
    await publish_burst(hub, "demo:r", 1)
    await asyncio.sleep(0)
    assert offsets(subs[2]) == [1, 2, 3, 4, 5, 6]


async def test_a_subscriber_joining_mid_pass_gets_only_what_follows_its_position(hub: Hub) -> None:
    early = WireTransport()
    await hub.subscribe(hub.open_session(early), "demo:r", None)
    await publish_burst(hub, "demo:r", 3)
    late = WireTransport()
    await hub.subscribe(hub.open_session(late), "demo:r", None)  # same pass
    await publish_burst(hub, "demo:r", 2)
    await asyncio.sleep(0)
    assert offsets(early) == [1, 2, 3, 4, 5]
    assert late.messages()[0] == {"ok": {"epoch": ANY, "offset": 3}}
    assert offsets(late) == [4, 5]


async def test_unsubscribe_delivers_what_was_published_before_it(hub: Hub) -> None:
    t = WireTransport()
    session = hub.open_session(t)
    await hub.subscribe(session, "demo:r", None)
    await publish_burst(hub, "demo:r", 2)
    hub.unsubscribe(session, "demo:r")
    await publish_burst(hub, "demo:r", 2)
    await asyncio.sleep(0)
    assert offsets(t) == [1, 2]


async def test_pushes_keep_their_place_among_publications(hub: Hub) -> None:
    t = WireTransport()
    await hub.subscribe(hub.open_session(t), "demo:r", None)
    await hub.publish("demo:r", "m", b"1")
    hub.fanout.on_push("demo:r", "typing", b"{}")
    await hub.publish("demo:r", "m", b"2")
    await asyncio.sleep(0)
    kinds = [m.get("off", m.get("ev")) for m in t.messages()[1:]]
    assert kinds == [1, "typing", 2]


async def test_a_write_that_raises_costs_only_its_own_session(hub: Hub) -> None:
    good, bad, after = WireTransport(), WireTransport(), WireTransport()
    broken = hub.open_session(bad)
    await hub.subscribe(hub.open_session(good), "demo:r", None)
    await hub.subscribe(broken, "demo:r", None)
    await hub.subscribe(hub.open_session(after), "demo:r", None)

    def explode(frame: bytes) -> None:
        raise RuntimeError("the handler is closed")

    chan = hub.fanout.channels["demo:r"]
    chan.catching.pop(broken, None)  # live at once: the feed has nothing to catch up on
    chan.live.setdefault(WEBSOCKET, {})[broken] = explode
    await publish_burst(hub, "demo:r", 2)
    await asyncio.sleep(0)
    assert offsets(good) == [1, 2]
    assert offsets(after) == [1, 2]
    assert bad.closed == ["resubscribe"]
    assert broken.closed


async def test_deliveries_count_publication_frames_per_subscriber(hub: Hub) -> None:
    subs = [WireTransport() for _ in range(3)]
    for t in subs:
        await hub.subscribe(hub.open_session(t), "demo:r", None)
    await publish_burst(hub, "demo:r", 5)
    hub.fanout.on_push("demo:r", "typing", b"{}")  # a push is no publication
    await asyncio.sleep(0)
    assert hub.metrics.deliveries._value.get() == 15
    assert hub.metrics.publications._value.get() == 5
