"""In-process broker: the embedded default. One node, history in memory.

History is lost on restart; every stream then starts in a fresh epoch, so a
client that recovers across the restart is told ``recovered: false``.
"""

from __future__ import annotations

import secrets
import time
from collections import deque
from collections.abc import Callable

from relevo.broker.base import BrokerHandler, HistoryOptions, HistoryResult
from relevo.protocol.errors import Unavailable
from relevo.protocol.types import ClientInfo, Publication, StreamPosition

__all__ = ["MemoryBroker"]


class _Stream:
    __slots__ = ("epoch", "offset", "pubs", "touched")

    def __init__(self, now: float) -> None:
        self.epoch = secrets.token_hex(4)
        self.offset = 0
        self.pubs: deque[Publication] = deque()
        self.touched = now


class MemoryBroker:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._streams: dict[str, _Stream] = {}
        self._presence: dict[str, dict[str, tuple[ClientInfo, float]]] = {}
        self._handler: BrokerHandler | None = None
        self._closed = False
        self._sweeps = 0

    async def start(self, handler: BrokerHandler) -> None:
        self._handler = handler
        self._closed = False

    async def close(self) -> None:
        self._closed = True
        self._handler = None

    def _stream(self, channel: str, options: HistoryOptions) -> _Stream:
        now = self._clock()
        stream = self._streams.get(channel)
        if stream is None or now - stream.touched > options.meta_ttl:
            lost = stream is not None and stream.offset > 0
            stream = self._streams[channel] = _Stream(now)
            if lost and self._handler is not None:
                # Offsets restart at 1 in a new epoch: live subscribers would
                # drop them as duplicates. Make them recover instead.
                self._handler.on_gap(channel)
        return stream

    def _trim(self, stream: _Stream, options: HistoryOptions, now: float) -> None:
        pubs = stream.pubs
        while len(pubs) > options.size:
            pubs.popleft()
        horizon = (now - options.ttl) * 1000
        while pubs and pubs[0].ts < horizon:
            pubs.popleft()

    async def publish(
        self, channel: str, event: str, data: bytes, options: HistoryOptions
    ) -> Publication:
        if self._closed:
            raise Unavailable("broker is closed")
        now = self._clock()
        stream = self._stream(channel, options)
        stream.offset += 1
        stream.touched = now
        pub = Publication(channel, stream.offset, event, data, int(now * 1000), stream.epoch)
        if options.size > 0:
            stream.pubs.append(pub)
            self._trim(stream, options, now)
        self._maybe_sweep(now)
        if self._handler is not None:
            self._handler.on_publication(pub)
        return pub

    async def publish_push(self, channel: str, event: str, data: bytes) -> None:
        if self._handler is not None:
            self._handler.on_push(channel, event, data)

    async def subscribe(self, channel: str) -> None:
        if self._closed:
            raise Unavailable("broker is closed")

    async def unsubscribe(self, channel: str) -> None:
        return None

    async def history(
        self,
        channel: str,
        since: StreamPosition | None,
        limit: int,
        options: HistoryOptions,
    ) -> HistoryResult:
        if self._closed:
            raise Unavailable("broker is closed")
        now = self._clock()
        stream = self._stream(channel, options)
        self._trim(stream, options, now)
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
        if self._closed:
            raise Unavailable("broker is closed")
        stream = self._stream(channel, options)
        return StreamPosition(stream.epoch, stream.offset)

    async def remove_history(self, channel: str) -> None:
        if self._streams.pop(channel, None) is not None and self._handler is not None:
            self._handler.on_gap(channel)

    async def add_presence(self, channel: str, info: ClientInfo, ttl: float) -> None:
        self._presence.setdefault(channel, {})[info.client] = (info, self._clock() + ttl)

    async def remove_presence(self, channel: str, client: str) -> None:
        members = self._presence.get(channel)
        if members is not None:
            members.pop(client, None)
            if not members:
                del self._presence[channel]

    async def presence(self, channel: str) -> list[ClientInfo]:
        members = self._presence.get(channel)
        if not members:
            return []
        now = self._clock()
        expired = [c for c, (_, deadline) in members.items() if deadline < now]
        for client in expired:
            del members[client]
        return [info for info, _ in members.values()]

    async def ping(self) -> None:
        if self._closed:
            raise Unavailable("broker is closed")

    def _maybe_sweep(self, now: float) -> None:
        # Forget streams idle for a day, amortised over publishes, so a server
        # that sees many short-lived channels does not grow without bound.
        self._sweeps += 1
        if self._sweeps < 10_000:
            return
        self._sweeps = 0
        stale = [ch for ch, s in self._streams.items() if now - s.touched > 86400.0]
        for ch in stale:
            del self._streams[ch]
