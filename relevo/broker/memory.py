"""In-process broker and presence store: the embedded default. One node,
history and presence in memory.

History is lost on restart; every stream then starts in a fresh epoch, so a
client that recovers across the restart is told ``recovered: false``.

Memory is bounded by what is in use, never by what was once asked for. A
channel's entry (epoch, offset, retained publications) lives while the
channel has subscribers; without them it lives until its history has expired
(``HistoryOptions.ttl`` after it was last touched) and goes at the next
sweep, also an entry that never held a publication. Sweeps run by the
injected clock, at most once every ``sweep_interval`` seconds, on the back of
ordinary calls. Idempotency keys live for ``idempotency_window`` and are
forgotten oldest first. Presence entries go when removed, when read past
their deadline, or at the presence store's own sweep (again at most once
every ``sweep_interval``).
"""

from __future__ import annotations

import secrets
from collections import deque
from collections.abc import Sequence

from relevo.broker.base import (
    DEFAULT_IDEMPOTENCY_WINDOW,
    Broker,
    BrokerHandler,
    HistoryOptions,
    HistoryResult,
    PresenceStore,
    PublishItem,
    check_idempotency_key,
)
from relevo.clock import Clock, SystemClock
from relevo.protocol.errors import Unavailable
from relevo.protocol.types import ClientInfo, Publication, StreamPosition

__all__ = ["MemoryBroker", "MemoryPresence", "presence_for"]


class _Stream:
    __slots__ = ("epoch", "offset", "options", "pubs", "touched")

    def __init__(self, now: float, options: HistoryOptions) -> None:
        self.epoch = secrets.token_hex(4)
        self.offset = 0
        self.pubs: deque[Publication] = deque()
        self.touched = now  # created, or last published to
        self.options = options  # as of the last publish

    def trim(self, options: HistoryOptions, now: float) -> None:
        pubs = self.pubs
        while len(pubs) > options.size:
            pubs.popleft()
        horizon = (now - options.ttl) * 1000
        while pubs and pubs[0].ts < horizon:
            pubs.popleft()


class MemoryBroker:
    def __init__(
        self,
        clock: Clock | None = None,
        *,
        idempotency_window: float = DEFAULT_IDEMPOTENCY_WINDOW,
        sweep_interval: float = 5.0,
    ) -> None:
        self._clock = (clock or SystemClock()).now
        self._window = idempotency_window
        self._sweep_interval = sweep_interval
        self._streams: dict[str, _Stream] = {}
        self._subscribers: dict[str, int] = {}
        # "<channel>\0<key>" -> (offset, epoch, ts in ms) of the first
        # publication with that key: ~250 bytes each, for the window. The
        # window is one for all, so insertion order is expiry order.
        self._seen: dict[str, tuple[int, str, int]] = {}
        self._handler: BrokerHandler | None = None
        self._closed = False
        self._next_sweep = self._clock() + sweep_interval

    @property
    def channel_count(self) -> int:
        """Channels this broker keeps an entry for (epoch, offset, history)."""
        return len(self._streams)

    @property
    def idempotency_key_count(self) -> int:
        return len(self._seen)

    async def start(self, handler: BrokerHandler) -> None:
        self._handler = handler
        self._closed = False

    async def close(self) -> None:
        self._closed = True
        self._handler = None

    def _check_open(self) -> float:
        if self._closed:
            raise Unavailable("broker is closed")
        now = self._clock()
        if now >= self._next_sweep:
            self._sweep(now)
        return now

    def _stream(self, channel: str, options: HistoryOptions, now: float) -> _Stream:
        stream = self._streams.get(channel)
        if stream is None or now - stream.touched > options.meta_ttl:
            lost = stream is not None and stream.offset > 0
            stream = self._streams[channel] = _Stream(now, options)
            if lost and self._handler is not None:
                # Offsets restart at 1 in a new epoch: live subscribers would
                # drop them as duplicates. Make them recover instead.
                self._handler.on_gap(channel)
        return stream

    async def publish(
        self,
        channel: str,
        event: str,
        data: bytes,
        options: HistoryOptions,
        *,
        idempotency_key: str | None = None,
    ) -> Publication:
        now = self._check_open()
        seen_key = None
        if idempotency_key is not None:
            check_idempotency_key(idempotency_key)
            self._forget_keys(now)
            seen_key = f"{channel}\0{idempotency_key}"
            seen = self._seen.get(seen_key)
            if seen is not None and not self._expired(seen, now):
                offset, epoch, ts = seen
                return Publication(channel, offset, event, data, ts, epoch)
        stream = self._stream(channel, options, now)
        stream.offset += 1
        stream.touched = now
        stream.options = options
        pub = Publication(channel, stream.offset, event, data, int(now * 1000), stream.epoch)
        if options.size > 0:
            stream.pubs.append(pub)
            stream.trim(options, now)
        if seen_key is not None:
            self._seen.pop(seen_key, None)  # an expired one goes to the back
            self._seen[seen_key] = (pub.offset, pub.epoch, pub.ts)
        if self._handler is not None:
            self._handler.on_publication(pub)
        return pub

    async def publish_many(self, items: Sequence[PublishItem]) -> list[Publication]:
        return [
            await self.publish(
                i.channel, i.event, i.data, i.options, idempotency_key=i.idempotency_key
            )
            for i in items
        ]

    async def publish_push(self, channel: str, event: str, data: bytes) -> None:
        if self._handler is not None:
            self._handler.on_push(channel, event, data)

    async def subscribe(self, channel: str) -> None:
        self._check_open()
        self._subscribers[channel] = self._subscribers.get(channel, 0) + 1

    async def unsubscribe(self, channel: str) -> None:
        count = self._subscribers.get(channel, 0) - 1
        if count > 0:
            self._subscribers[channel] = count
            return
        self._subscribers.pop(channel, None)
        # An empty channel's entry stays until the sweep, like any other: the
        # client that just left holds its epoch, and a publication made while
        # it reconnects must still be recoverable from that position.

    async def history(
        self,
        channel: str,
        since: StreamPosition | None,
        limit: int,
        options: HistoryOptions,
    ) -> HistoryResult:
        now = self._check_open()
        stream = self._stream(channel, options, now)
        stream.trim(options, now)
        position = StreamPosition(stream.epoch, stream.offset)
        pubs = stream.pubs
        if since is None:
            selected = list(pubs)[-limit:] if limit else []
        elif since.epoch != stream.epoch:
            selected = []
        else:
            selected = [p for p in pubs if p.offset > since.offset][:limit]
        return HistoryResult(selected, position)

    async def position(self, channel: str, options: HistoryOptions) -> StreamPosition:
        now = self._check_open()
        stream = self._stream(channel, options, now)
        return StreamPosition(stream.epoch, stream.offset)

    async def remove_history(self, channel: str) -> None:
        if self._streams.pop(channel, None) is not None and self._handler is not None:
            self._handler.on_gap(channel)

    async def ping(self) -> None:
        if self._closed:
            raise Unavailable("broker is closed")

    # -- bounds --------------------------------------------------------------------------

    def _expired(self, seen: tuple[int, str, int], now: float) -> bool:
        return seen[2] / 1000 + self._window <= now

    def _forget_keys(self, now: float) -> None:
        seen = self._seen
        while seen:
            key = next(iter(seen))
            if not self._expired(seen[key], now):
                return
            del seen[key]

    def _sweep(self, now: float) -> None:
        """Drop what no one can still use: unsubscribed channels whose history
        has expired, expired publications and idempotency keys."""
        self._next_sweep = now + self._sweep_interval
        subscribed = self._subscribers
        stale = []
        for channel, stream in self._streams.items():
            if channel in subscribed:
                stream.trim(stream.options, now)
            elif now - stream.touched >= min(stream.options.ttl, stream.options.meta_ttl):
                # Every publication has expired (or the epoch has): keeping
                # the entry would only spare a client that saw the very last
                # offset a snapshot reload; bounded memory is worth more.
                stale.append(channel)
        for channel in stale:
            del self._streams[channel]
        self._forget_keys(now)


class MemoryPresence:
    """Presence of one process: a dict of entries with deadlines."""

    def __init__(self, clock: Clock | None = None, *, sweep_interval: float = 5.0):
        self._clock = (clock or SystemClock()).now
        self._sweep_interval = sweep_interval
        self._next_sweep = self._clock() + sweep_interval
        self._channels: dict[str, dict[str, tuple[ClientInfo, float]]] = {}

    @property
    def channel_count(self) -> int:
        """Channels with at least one entry (expired ones until the next sweep)."""
        return len(self._channels)

    def _now(self) -> float:
        now = self._clock()
        if now >= self._next_sweep:
            # A node that died leaves entries nobody removes: without a sweep,
            # channels nobody reads again would keep them for good.
            self._next_sweep = now + self._sweep_interval
            for channel, members in list(self._channels.items()):
                self._expire(channel, members, now)
        return now

    async def add_presence(self, channel: str, info: ClientInfo, ttl: float) -> None:
        now = self._now()
        self._channels.setdefault(channel, {})[info.client] = (info, now + ttl)

    async def remove_presence(self, channel: str, client: str) -> None:
        self._now()
        members = self._channels.get(channel)
        if members is not None:
            members.pop(client, None)
            if not members:
                del self._channels[channel]

    async def presence(self, channel: str) -> list[ClientInfo]:
        now = self._now()
        members = self._channels.get(channel)
        if not members:
            return []
        self._expire(channel, members, now)
        return [info for info, _ in members.values()]

    def _expire(
        self, channel: str, members: dict[str, tuple[ClientInfo, float]], now: float
    ) -> None:
        expired = [c for c, (_, deadline) in members.items() if deadline < now]
        for client in expired:
            del members[client]
        if not members:
            self._channels.pop(channel, None)


def presence_for(broker: Broker, clock: Clock | None = None) -> PresenceStore:
    """The presence store that goes with ``broker``: its own when it keeps one
    (Redis: shared by every node through the broker's connection), else this
    process's (with an in-process broker, this process is every node)."""
    return broker if isinstance(broker, PresenceStore) else MemoryPresence(clock)
