"""An async subscriber that reconnects forever and recovers by offset.

It remembers each channel's position; after a reconnect it subscribes with
``since`` and yields exactly the publications it missed, then live ones, in
order, with duplicates dropped. When the server cannot recover (history lost
or trimmed), it yields a :class:`SubscriberPublication` with ``recovered=False``
and ``event == "$reset"`` so the caller reloads its snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import msgspec
import websockets
from websockets.asyncio.client import ClientConnection

from relevo.protocol import frames
from relevo.protocol.errors import ErrorCode, ProtocolError, RelevoError
from relevo.protocol.frames import PublicationFrame
from relevo.protocol.server_frames import (
    DisconnectFrame,
    ErrorReply,
    Reply,
    SubResult,
    parse_server_frame,
)

__all__ = ["Subscriber", "SubscriberPublication", "SubscriberStopped"]

log = logging.getLogger("relevo.client")


@dataclass(frozen=True, slots=True)
class SubscriberPublication:
    channel: str
    offset: int
    event: str
    data: Any
    ts: int = 0
    recovered: bool = True


class Subscriber:
    def __init__(
        self,
        url: str,
        channels: list[str],
        *,
        token: str | Callable[[], str] | None = None,
        min_backoff: float = 0.1,
        max_backoff: float = 10.0,
    ) -> None:
        self.url = url
        self.channels = list(channels)
        self._token = token
        self._min = min_backoff
        self._max = max_backoff
        self.positions: dict[str, tuple[str, int]] = {}
        self._queue: asyncio.Queue[SubscriberPublication | BaseException] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._ids = itertools.count(1)
        self.connected = asyncio.Event()
        self.ws: ClientConnection | None = None
        self.reconnects = 0

    def _current_token(self) -> str | None:
        return self._token() if callable(self._token) else self._token

    async def __aenter__(self) -> Subscriber:
        self._task = asyncio.get_running_loop().create_task(self._run())
        await self.connected.wait()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def __aiter__(self) -> AsyncIterator[SubscriberPublication]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[SubscriberPublication]:
        while True:
            item = await self._queue.get()
            if isinstance(item, BaseException):
                raise item
            yield item

    async def _run(self) -> None:
        attempt = 0
        while True:
            try:
                async with websockets.connect(self.url, max_size=2**24, ping_interval=None) as ws:
                    self.ws = ws
                    await self._session(ws)
                    attempt = 0
            except asyncio.CancelledError:
                raise
            except SubscriberStopped as exc:
                self._queue.put_nowait(exc)
                return
            except (OSError, websockets.WebSocketException, ProtocolError):
                pass  # gone, or answered what is no server frame: connect again
            self.ws = None
            self.connected.clear()
            self.reconnects += 1
            attempt += 1
            delay = min(self._max, self._min * 2 ** min(attempt, 16))
            await asyncio.sleep(delay * (0.5 + random.random() / 2))

    async def _session(self, ws: ClientConnection) -> None:
        token = self._current_token()
        if token:
            connect = frames.Connect(id=next(self._ids), token=token)
            await ws.send(frames.encode_command(connect), text=True)
            reply = parse_server_frame(await ws.recv(decode=False))
            if isinstance(reply, ErrorReply):
                raise SubscriberStopped(reply.err.code, reply.err.message)
        pending: dict[int, str] = {}
        for ch in self.channels:
            frame_id = next(self._ids)
            since = None
            if ch in self.positions:
                epoch, offset = self.positions[ch]
                since = frames.Since(epoch, offset)
            pending[frame_id] = ch
            sub = frames.Sub(id=frame_id, ch=ch, since=since)
            await ws.send(frames.encode_command(sub), text=True)
        async for raw in ws:
            try:
                msg = parse_server_frame(raw)
            except ProtocolError as exc:
                log.warning("ignoring a frame from the server: %s", exc.message)
                continue
            if isinstance(msg, Reply | ErrorReply) and msg.id in pending:
                ch = pending.pop(msg.id)
                if isinstance(msg, ErrorReply):
                    raise SubscriberStopped(msg.err.code, msg.err.message)
                self._on_subscribed(ch, msg.result(SubResult))
                if not pending:
                    self.connected.set()
            elif isinstance(msg, PublicationFrame):
                self._on_publication(msg)
            elif isinstance(msg, DisconnectFrame) and not msg.reconnect:
                raise SubscriberStopped(msg.code, msg.message)

    def _on_subscribed(self, ch: str, ok: SubResult) -> None:
        if ok.recovered is False:
            self._queue.put_nowait(SubscriberPublication(ch, ok.offset, "$reset", None, 0, False))
        for pub in ok.missed:
            self._on_publication(pub)
        self.positions[ch] = (ok.epoch, ok.offset)

    def _on_publication(self, pub: PublicationFrame) -> None:
        ch = pub.ch
        known = self.positions.get(ch)
        if known is not None and pub.off <= known[1]:
            return  # duplicate
        epoch = known[0] if known else ""
        self.positions[ch] = (epoch, pub.off)
        data = msgspec.json.decode(pub.data)
        self._queue.put_nowait(SubscriberPublication(ch, pub.off, pub.ev, data, pub.ts))


class SubscriberStopped(RelevoError):
    """The server turned the subscriber away for good (a channel it may not
    subscribe to, a refused token, a disconnect that says not to come back);
    raised from the iteration. ``remote_code`` is the server's code as sent
    (``code`` is ``internal`` for one this client does not know, such as
    the disconnect code ``forced``)."""

    def __init__(self, code: str, message: str) -> None:
        known = code in ErrorCode.__members__.values()
        super().__init__(f"{code}: {message}", code=ErrorCode(code) if known else None)
        self.remote_code = code
