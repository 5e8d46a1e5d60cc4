"""The channel index and the fan-out path: what the broker delivers to this
node reaches every local subscriber of its channel.

A publication is encoded once to JSON. Frames for a channel are written at
the end of the event-loop pass in which they arrived: the channel's frames
are framed once per framing (every WebSocket shares one; an SSE stream has
its own) and the same bytes are written to every subscriber sharing it, so a
burst (a Redis read holding many messages, a server that fell behind) costs
each subscriber one write (docs/decisions/0004-write-coalescing.md). Nothing
in that loop awaits, so a subscriber that does not drain cannot hold the
others back: its transport disconnects it (``slow_consumer``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import msgspec

from relevo.hub.metrics import HubMetrics
from relevo.hub.session import Session
from relevo.protocol import frames
from relevo.protocol.errors import DisconnectCode
from relevo.protocol.framing import Framing, Outgoing
from relevo.protocol.types import Publication, StreamPosition

__all__ = ["CONTROL_CHANNEL", "Channel", "Disconnector", "Fanout"]

log = logging.getLogger("relevo.hub")

CONTROL_CHANNEL = "$control"

Disconnector = Callable[[Session, DisconnectCode, str], None]
Writer = Callable[[bytes], None]


class Channel:
    """One channel with subscribers on this node."""

    __slots__ = (
        "catching",
        "fed",
        "live",
        "name",
        "outbox",
        "outbox_pubs",
        "ready",
        "recovering",
    )

    def __init__(self, name: str) -> None:
        self.name = name
        #: Live subscribers, grouped by their transport's framing: each group's
        #: bytes are built once per flush. The values are the transports'
        #: ``write``, looked up once, not per frame.
        self.live: dict[Framing, dict[Session, Writer]] = {}
        #: Frames not written yet: they go out, joined, at the end of the
        #: current event-loop pass (:meth:`Fanout.flush`).
        self.outbox: list[Outgoing] = []
        self.outbox_pubs = 0  # how many of them are publications (not pushes)
        #: Sessions reading history for their subscribe: what the feed brings
        #: meanwhile is kept for them, to merge after the reply.
        self.recovering: dict[Session, list[Publication]] = {}
        #: Subscribed sessions whose reply (history or position) ran ahead of
        #: this node's feed: each waits, with the offset it has seen, for the
        #: feed to pass it, so the feed's late copies are never repeated.
        self.catching: dict[Session, StreamPosition] = {}
        #: The last publication the feed delivered here.
        self.fed: StreamPosition | None = None
        #: Set once the broker feeds this node the channel (``None`` after).
        self.ready: asyncio.Event | None = asyncio.Event()

    def live_sessions(self) -> list[Session]:
        return [session for group in self.live.values() for session in group]

    def subscriber_count(self) -> int:
        return sum(map(len, self.live.values())) + len(self.catching)

    def empty(self) -> bool:
        return not (self.live or self.recovering or self.catching)


class Fanout:
    """The channel index; the broker's handler on this node."""

    def __init__(
        self,
        metrics: HubMetrics,
        disconnect: Disconnector,
        on_control: Callable[[str, bytes], None],
    ) -> None:
        self.metrics = metrics
        self.disconnect = disconnect
        self.on_control = on_control
        self.channels: dict[str, Channel] = {}
        self.dirty: list[Channel] = []  # channels with an outbox to flush

    # -- the index --------------------------------------------------------------

    def add(self, name: str) -> Channel:
        chan = self.channels[name] = Channel(name)
        return chan

    def remove(self, chan: Channel) -> None:
        if self.channels.get(chan.name) is chan:
            del self.channels[chan.name]

    def go_live(self, chan: Channel, session: Session) -> None:
        transport = session.transport
        chan.live.setdefault(transport.framing, {})[session] = transport.write

    def leave(self, chan: Channel, session: Session) -> bool:
        """Forget ``session`` on ``chan``; was it subscribed (its reply sent)?"""
        framing = session.transport.framing
        group = chan.live.get(framing)
        was_live = group is not None and group.pop(session, None) is not None
        if group is not None and not group:
            del chan.live[framing]
        was_live = chan.catching.pop(session, None) is not None or was_live
        chan.recovering.pop(session, None)
        return was_live

    # -- BrokerHandler -------------------------------------------------------------

    def on_publication(self, pub: Publication) -> None:
        chan = self.channels.get(pub.channel)
        if chan is None:
            return
        for buffered in chan.recovering.values():
            buffered.append(pub)
        if chan.catching:
            self._catch_up(chan, pub)
        position = chan.fed = pub.position
        if chan.live:
            self._queue(chan, (frames.publication_json(pub), position))
            chan.outbox_pubs += 1
        self.metrics.publications.inc()

    def on_push(self, channel: str, event: str, data: bytes) -> None:
        if channel == CONTROL_CHANNEL:
            self.on_control(event, data)
            return
        chan = self.channels.get(channel)
        if chan is None:
            return
        payload = frames.encode_push(channel, event, msgspec.Raw(data))
        if chan.live:
            self._queue(chan, (payload, None))
        for session in chan.catching:  # a push has no offset to repeat: theirs at once
            transport = session.transport
            transport.write(transport.framing.channel(channel, [(payload, None)]))

    def on_gap(self, channel: str) -> None:
        # Reconnecting makes every client subscribe with ``since``: it then gets
        # exactly what it missed, or ``recovered: false``. Never a silent gap.
        chan = self.channels.get(channel)
        if chan is None:
            return
        for session in [*chan.live_sessions(), *chan.catching, *chan.recovering]:
            self.disconnect(
                session, DisconnectCode.RESUBSCRIBE, f"feed of {channel} was interrupted"
            )

    def _catch_up(self, chan: Channel, pub: Publication) -> None:
        """Sessions whose reply ran ahead of the feed join it once the feed
        passes what they have seen; until then its copies are repeats."""
        for session, seen in list(chan.catching.items()):
            if pub.epoch and seen.epoch and pub.epoch != seen.epoch:
                # The stream was reset under them: only a resubscribe tells them.
                del chan.catching[session]
                self.disconnect(session, DisconnectCode.RESUBSCRIBE, "the channel's stream reset")
            elif pub.offset > seen.offset:
                del chan.catching[session]
                self.flush(chan)  # what is queued is at or before ``seen``
                self.go_live(chan, session)

    # -- writing ---------------------------------------------------------------------

    def _queue(self, chan: Channel, frame: Outgoing) -> None:
        if not chan.outbox:
            if not self.dirty:
                asyncio.get_running_loop().call_soon(self._flush_dirty)
            self.dirty.append(chan)
        chan.outbox.append(frame)

    def _flush_dirty(self) -> None:
        dirty, self.dirty = self.dirty, []
        for chan in dirty:
            self.flush(chan)

    def flush(self, chan: Channel) -> None:
        """Write the channel's pending frames: framed once per framing, the
        same bytes to every subscriber sharing it, one write each."""
        outbox = chan.outbox
        if not outbox:
            return
        chan.outbox = []
        pubs, chan.outbox_pubs = chan.outbox_pubs, 0
        name = chan.name
        broken: list[Writer] = []
        writes = 0
        for framing, writers in chan.live.items():
            data = framing.channel(name, outbox)
            writes += len(writers)
            for write in writers.values():
                try:
                    write(data)
                except Exception:  # a transport that broke under us (free when nothing raises)
                    broken.append(write)
        if pubs:
            self.metrics.deliveries.inc(writes * pubs)
        if broken:
            self._drop_broken(chan, broken)

    def _drop_broken(self, chan: Channel, broken: list[Writer]) -> None:
        """Sessions whose write raised missed a frame: they must reconnect and
        recover, never stay subscribed with a silent gap."""
        for writers in list(chan.live.values()):
            for session, write in list(writers.items()):
                if write in broken:
                    log.warning("write to %s failed; disconnecting it", session.client)
                    self.disconnect(
                        session, DisconnectCode.RESUBSCRIBE, "a write failed; resubscribe"
                    )
