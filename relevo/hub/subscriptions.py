"""Subscribing and unsubscribing a session to a channel on this node.

"Subscribed" means live: the reply to a subscribe is written only once the
channel's feed is attached, so nothing published after it can be missed.
What the feed brings while history (or the position) is read is buffered and
merged after the reply, never duplicated; a reply that ran ahead of this
node's feed makes the session wait for the feed to pass it before it goes
live (:class:`~relevo.hub.fanout.Channel` ``catching``).
"""

from __future__ import annotations

import asyncio

import msgspec

from relevo.broker.base import Broker, PresenceStore
from relevo.hub._tasks import Background
from relevo.hub.fanout import Channel, Fanout
from relevo.hub.metrics import HubMetrics
from relevo.hub.permissions import Permissions
from relevo.hub.session import Session
from relevo.protocol import frames
from relevo.protocol.errors import Conflict, LimitExceeded, ProtocolError
from relevo.protocol.recovery import is_recovered, merge_buffered
from relevo.protocol.types import Publication, StreamPosition
from relevo.settings import Settings

__all__ = ["Subscriptions"]


class Subscriptions:
    def __init__(
        self,
        settings: Settings,
        broker: Broker,
        presence: PresenceStore,
        permissions: Permissions,
        metrics: HubMetrics,
        fanout: Fanout,
        background: Background,
    ) -> None:
        self.settings = settings
        self.broker = broker
        self.presence = presence
        self.permissions = permissions
        self.metrics = metrics
        self.fanout = fanout
        self.background = background
        #: Broker unsubscribes in flight, by channel: a new subscribe to the
        #: channel waits for its one, or the old unsubscribe would land after
        #: the new subscribe and leave the new subscribers deaf.
        self.unsubscribing: dict[str, asyncio.Task[None]] = {}
        #: Subscriptions on this node whose reply was sent (the gauge).
        self.live_count = 0
        self._json = msgspec.json.Encoder()

    async def subscribe(
        self,
        session: Session,
        channel: str,
        since: StreamPosition | None,
        frame_id: frames.FrameId = None,
    ) -> None:
        """Subscribe and reply (see the module's docstring); the caller
        (``Hub.subscribe``) has checked that the session may."""
        if channel in session.subs:
            raise ProtocolError(f"already subscribed to {channel}")
        if len(session.subs) >= self.settings.limits.max_subscriptions:
            raise LimitExceeded("too many subscriptions on this connection")
        options = self.permissions.history_options(channel)
        session.subs.add(channel)
        attempt = session.subscribing[channel] = object()
        try:
            chan = await self._attach(channel)
            buffered: list[Publication] = []
            chan.recovering[session] = buffered
            try:
                missed: list[Publication] = []
                recovered: bool | None = None
                if since is not None:
                    res = await self.broker.history(channel, since, max(options.size, 1), options)
                    position = res.position
                    recovered = is_recovered(since, position, res.publications)
                    missed = res.publications if recovered else []
                    self.metrics.child(self.metrics.recoveries, str(recovered).lower()).inc()
                else:
                    position = await self.broker.position(channel, options)
            finally:
                # Only this call's own buffer: a new subscribe after an
                # unsubscribe meanwhile has put its own.
                if chan.recovering.get(session) is buffered:
                    del chan.recovering[session]
        except BaseException:
            if session.subscribing.get(channel) is attempt:
                del session.subscribing[channel]
                session.subs.discard(channel)
            self._drop_if_empty(channel)
            raise
        if session.subscribing.get(channel) is not attempt or session.closed:
            # Unsubscribed or closed meanwhile: its detach ran while the channel
            # was still attaching, so dropping the channel falls to us. The
            # request still gets its answer (a closed session hears nothing).
            self._drop_if_empty(channel)
            if session.closed:
                return
            raise Conflict(f"unsubscribed from {channel} before the subscription was live")
        del session.subscribing[channel]
        # Frames still in the outbox are of publications at or before
        # ``position`` (or in ``buffered``): they are not for this session.
        self.fanout.flush(chan)
        transport = session.transport
        framing = transport.framing
        transport.write(framing.subscribed(frame_id, channel, position, recovered, missed))
        seen = position
        merged = merge_buffered(position.offset, buffered)
        if merged:
            transport.write(
                framing.channel(channel, [(frames.publication_json(p), p.position) for p in merged])
            )
            seen = StreamPosition(position.epoch, merged[-1].offset)
        if _passed(chan.fed, seen):
            self.fanout.go_live(chan, session)
        else:
            chan.catching[session] = seen
        self.live_count += 1
        if self.permissions.join_leave(channel) and session.identity.user:
            await self._join(session, channel)

    async def _attach(self, channel: str) -> Channel:
        """The channel's entry, its broker feed attached (by this call, or by
        the one that created the entry). The caller registers on it before it
        next awaits, so the entry cannot be dropped under it."""
        while True:
            chan = self.fanout.channels.get(channel)
            if chan is None:
                return await self._create(channel)
            if chan.ready is None:
                return chan
            await chan.ready.wait()
            # Attached, or not: the creator's broker call failed (its own error
            # is its answer, or it was cancelled with its connection) or its
            # subscriber left and the entry was dropped before this task ran.
            # Look again: the entry now in the index, or a new one, is ours.

    async def _create(self, channel: str) -> Channel:
        chan = self.fanout.add(channel)
        ready = chan.ready
        try:
            leaving = self.unsubscribing.get(channel)
            if leaving is not None:
                await asyncio.wait([leaving])  # its errors are its own (logged)
            await self.broker.subscribe(channel)
        except BaseException:
            self.fanout.remove(chan)
            raise
        finally:
            chan.ready = None
            if ready is not None:
                ready.set()
        return chan

    def unsubscribe(self, session: Session, channel: str) -> None:
        if channel not in session.subs:
            raise ProtocolError(f"not subscribed to {channel}")
        self.end(session, channel)

    def end(self, session: Session, channel: str) -> None:
        """End a subscription once what was published before now is written."""
        chan = self.fanout.channels.get(channel)
        if chan is not None:
            self.fanout.flush(chan)
        self.detach(session, channel)

    def detach(self, session: Session, channel: str) -> None:
        """Forget the subscription at once (the session is gone, or ending it)."""
        session.subs.discard(channel)
        session.subscribing.pop(channel, None)
        chan = self.fanout.channels.get(channel)
        if chan is None:
            return
        if self.fanout.leave(chan, session):
            self.live_count -= 1
            if self.permissions.join_leave(channel) and session.identity.user:
                self.background.spawn(self._leave(session, channel))
        self._drop_if_empty(channel)

    def _drop_if_empty(self, channel: str) -> None:
        chan = self.fanout.channels.get(channel)
        if chan is None or not chan.empty() or chan.ready is not None:
            return
        self.fanout.remove(chan)
        task = self.background.spawn(self.broker.unsubscribe(channel))
        self.unsubscribing[channel] = task

        def forget(t: asyncio.Task[None]) -> None:
            if self.unsubscribing.get(channel) is t:
                del self.unsubscribing[channel]

        task.add_done_callback(forget)

    # -- presence -----------------------------------------------------------------

    async def _join(self, session: Session, channel: str) -> None:
        info = session.info()
        await self.presence.add_presence(channel, info, self.settings.liveness.presence_ttl)
        data = self._json.encode({"user": info.user, "client": info.client})
        await self.broker.publish_push(channel, "$join", data)

    async def _leave(self, session: Session, channel: str) -> None:
        await self.presence.remove_presence(channel, session.client)
        data = self._json.encode({"user": session.identity.user, "client": session.client})
        await self.broker.publish_push(channel, "$leave", data)


def _passed(fed: StreamPosition | None, seen: StreamPosition) -> bool:
    """Has the feed already delivered everything up to ``seen``?"""
    if fed is None:
        return False
    if fed.epoch and seen.epoch and fed.epoch != seen.epoch:
        return False
    return fed.offset >= seen.offset
