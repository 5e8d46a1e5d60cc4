"""The pub/sub feed of the Redis broker: how publications reach this node.

One connection per node, subscribed to the channels this node has
subscribers for (plus the node-wide channel every node listens to). Redis
pub/sub is fire-and-forget: a message published while the connection is down,
or before a SUBSCRIBE takes effect, is simply gone. The feed turns that into
the hub's guarantee — every channel's offsets in order, none skipped without
``on_gap`` — by tracking the last offset it delivered per channel:

* the next offset is delivered at once;
* an older one is a duplicate and dropped;
* a jump means messages were missed: later ones are held back while the gap
  is refilled from the channel's stream, then delivered in order;
* after a reconnect every channel is refilled from its stream the same way;
* a refill that cannot be exact (trimmed, expired, new epoch) calls
  ``handler.on_gap(channel)``: the hub makes those subscribers recover.

Subscribe and unsubscribe of a channel are counted and serialized per
channel, so the order in which the hub's calls happen to run cannot leave a
channel with subscribers unsubscribed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio.connection import AbstractConnection
from redis.exceptions import RedisError

from relevo.broker._redis_wire import Keys, Push, decode_message, is_node_wide
from relevo.broker.base import BrokerHandler, HistoryResult
from relevo.protocol.errors import Unavailable
from relevo.protocol.recovery import is_recovered
from relevo.protocol.types import Publication, StreamPosition

__all__ = ["Feed"]

_CLOSE_TIMEOUT = 5.0

log = logging.getLogger("relevo.broker.redis")

Baseline = Callable[[str], Awaitable[StreamPosition]]
# (channel, offset, epoch or None for any epoch) -> what the stream holds after offset
ReadAfter = Callable[[str, int, str | None], Awaitable[HistoryResult]]


class _Tracked:
    """What the feed knows of one subscribed channel.

    ``epoch`` is ``""`` while the channel had no stream when tracking began
    (its first epoch is taken from the first publication) and ``None`` when
    the position is unknown (the next publication is taken as it comes).
    ``pending`` holds live publications while a refill runs."""

    __slots__ = ("count", "epoch", "offset", "pending", "refill", "resync")

    def __init__(self, position: StreamPosition) -> None:
        self.count = 1
        self.epoch: str | None = position.epoch
        self.offset = position.offset
        self.pending: list[Publication] | None = None
        self.refill: asyncio.Task[None] | None = None
        self.resync = False


class Feed:
    def __init__(
        self,
        new_connection: Callable[[], AbstractConnection],
        keys: Keys,
        handler: BrokerHandler,
        baseline: Baseline,
        read_after: ReadAfter,
        *,
        url: str,
        health_interval: float = 1.0,
        max_backoff: float = 2.0,
    ) -> None:
        self._new_connection = new_connection
        self._keys = keys
        self._handler = handler
        self._baseline = baseline
        self._read_after = read_after
        self._url = url
        self._health_interval = health_interval
        self._max_backoff = max_backoff
        self._tracked: dict[str, _Tracked] = {}
        self._names: dict[bytes, str] = {}
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self._confirm: dict[tuple[bytes, bytes], list[asyncio.Future[None]]] = {}
        self._conn: AbstractConnection | None = None
        self._live = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.down_reason = "not started"

    # -- lifecycle -----------------------------------------------------------------

    async def start(self) -> None:
        """Connect once (raising :class:`Unavailable` if Redis cannot be
        reached), then keep the connection up in the background."""
        conn = await self._connect()
        self._task = asyncio.get_running_loop().create_task(self._run(conn))
        try:
            await asyncio.wait_for(self._live.wait(), self._health_interval * 3)
        except TimeoutError:
            await self.close()
            raise Unavailable(
                f"cannot reach redis at {self._url}: no answer to SUBSCRIBE ({self.down_reason})"
            ) from None

    async def close(self) -> None:
        self._closed = True
        if self._task is not None:
            task, self._task = self._task, None
            task.cancel()
            # Shutdown must be bounded even if a Redis call ignores the cancel.
            done, _ = await asyncio.wait({task}, timeout=_CLOSE_TIMEOUT)
            if not done:
                log.warning(
                    "redis pub/sub feed did not stop within %g s: %s",
                    _CLOSE_TIMEOUT,
                    task.get_stack(limit=5),
                )
        for tracked in self._tracked.values():
            if tracked.refill is not None:
                tracked.refill.cancel()
        self._live.clear()
        self._fail_confirmations("broker is closed")

    @property
    def live(self) -> bool:
        return self._live.is_set()

    @property
    def address(self) -> tuple[str, int] | None:
        """Where the connection goes (``None`` while down)."""
        conn = self._conn
        host, port = getattr(conn, "host", None), getattr(conn, "port", None)
        return (host, port) if isinstance(host, str) and isinstance(port, int) else None

    async def reconnect(self, reason: str) -> None:
        """Drop the connection (the server is no longer the one to listen
        to): the feed reconnects and refills every channel, as after a loss."""
        conn = self._conn
        if conn is not None:
            self.down_reason = reason
            log.warning("redis pub/sub: %s; reconnecting", reason)
            await conn.disconnect()

    # -- subscriptions ---------------------------------------------------------------

    async def subscribe(self, channel: str) -> None:
        async with self._channel_lock(channel):
            tracked = self._tracked.get(channel)
            if tracked is not None:
                tracked.count += 1
                return
            conn = self._require_live()
            # The position is read before SUBSCRIBE takes effect, so whatever
            # is published in between shows as a jump and is refilled.
            tracked = _Tracked(await self._baseline(channel))
            name = self._keys.pubsub(channel)
            self._tracked[channel] = tracked
            self._names[name] = channel
            if is_node_wide(channel):
                return
            try:
                await self._command(conn, b"subscribe", name)
            except BaseException:
                self._untrack(channel)
                raise

    async def unsubscribe(self, channel: str) -> None:
        async with self._channel_lock(channel):
            tracked = self._tracked.get(channel)
            if tracked is None:
                return
            tracked.count -= 1
            if tracked.count > 0:
                return
            self._untrack(channel)
            conn = self._conn
            if is_node_wide(channel) or conn is None or not self.live:
                return  # a reconnect subscribes only to tracked channels
            with contextlib.suppress(Unavailable):
                await self._command(conn, b"unsubscribe", self._keys.pubsub(channel))

    def _untrack(self, channel: str) -> None:
        tracked = self._tracked.pop(channel, None)
        self._names.pop(self._keys.pubsub(channel), None)
        if tracked is not None and tracked.refill is not None:
            tracked.refill.cancel()

    @contextlib.asynccontextmanager
    async def _channel_lock(self, channel: str) -> Any:
        lock, users = self._locks.get(channel) or (asyncio.Lock(), 0)
        self._locks[channel] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[channel]
            if users == 1:
                del self._locks[channel]
            else:
                self._locks[channel] = (lock, users - 1)

    def _require_live(self) -> AbstractConnection:
        conn = self._conn
        if self._closed:
            raise Unavailable("broker is closed")
        if conn is None or not self.live:
            raise Unavailable(f"redis pub/sub at {self._url} is unavailable: {self.down_reason}")
        return conn

    async def _command(self, conn: AbstractConnection, kind: bytes, name: bytes) -> None:
        """Send SUBSCRIBE/UNSUBSCRIBE and wait for Redis to confirm it: from
        then on, messages on ``name`` do (or do not) reach this node."""
        if conn is not self._conn or not conn.is_connected:
            # redis-py would quietly reopen a dropped connection on send.
            raise Unavailable(f"redis pub/sub at {self._url} is unavailable: {self.down_reason}")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._confirm.setdefault((kind, name), []).append(future)
        try:
            await conn.send_command(kind.decode().upper(), name, check_health=False)
            await asyncio.wait_for(future, self._health_interval * 3)
        except (RedisError, OSError, TimeoutError) as exc:
            raise Unavailable(f"redis pub/sub at {self._url} is unavailable: {exc}") from exc
        finally:
            waiting = self._confirm.get((kind, name))
            if waiting is not None and future in waiting:
                waiting.remove(future)
                if not waiting:
                    del self._confirm[(kind, name)]

    def _fail_confirmations(self, reason: str) -> None:
        for futures in self._confirm.values():
            for future in futures:
                if not future.done():
                    future.set_exception(Unavailable(reason))
        self._confirm.clear()

    # -- the connection ------------------------------------------------------------

    async def _connect(self) -> AbstractConnection:
        conn = self._new_connection()
        try:
            await conn.connect()  # type: ignore[no-untyped-call]
            names = [self._keys.nodes]
            names += [n for n, ch in self._names.items() if not is_node_wide(ch)]
            for tracked in self._tracked.values():
                # Whatever was in flight belongs to the old connection; the
                # refill below reads it from the stream.
                if tracked.refill is not None:
                    tracked.refill.cancel()
                    tracked.refill = None
                tracked.pending = []
                tracked.resync = True
            await conn.send_command("SUBSCRIBE", *names, check_health=False)
        except (RedisError, OSError) as exc:
            await conn.disconnect()
            raise Unavailable(f"cannot reach redis at {self._url}: {exc}") from exc
        return conn

    async def _run(self, conn: AbstractConnection | None) -> None:
        attempt = 0
        while not self._closed:
            try:
                if conn is None:
                    conn = await self._connect()
                await self._serve(conn)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError, Unavailable) as exc:
                self.down_reason = str(exc)
                log.warning("redis pub/sub connection lost (%s); reconnecting", exc)
            except Exception as exc:
                # A bug must not leave this node silently deaf: start over, and
                # the reconnect's refill tells subscribers about any gap.
                self.down_reason = f"internal error: {exc!r}"
                log.exception("redis pub/sub feed failed; reconnecting")
            finally:
                # Back off only while Redis keeps failing, not after a good run.
                attempt = 0 if self._live.is_set() else attempt
                self._live.clear()
                self._conn = None
                self._fail_confirmations(f"redis pub/sub connection lost: {self.down_reason}")
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await conn.disconnect()
                conn = None
            attempt += 1
            delay = min(self._max_backoff, 0.05 * 2**attempt)
            await asyncio.sleep(delay * (0.5 + random.random() / 2))

    async def _serve(self, conn: AbstractConnection) -> None:
        """Read messages until the connection fails. A PING every
        ``health_interval`` makes a silent Redis show as a failed read."""
        self._conn = conn
        pinger = asyncio.get_running_loop().create_task(self._ping(conn))
        try:
            while True:
                reply = await conn.read_response(timeout=self._health_interval * 3)
                if reply is None:
                    raise Unavailable(f"no answer from redis in {self._health_interval * 3:g} s")
                self._on_reply(reply)
        finally:
            pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pinger

    async def _ping(self, conn: AbstractConnection) -> None:
        while self._conn is conn and conn.is_connected:
            with contextlib.suppress(RedisError, OSError):
                await conn.send_command("PING", check_health=False)
            await asyncio.sleep(self._health_interval)

    def _on_reply(self, reply: Any) -> None:
        kind = reply[0]
        if kind == b"message":
            self._on_message(reply[2])
        elif kind in (b"subscribe", b"unsubscribe"):
            name = reply[1]
            waiting = self._confirm.get((kind, name))
            if waiting:
                future = waiting.pop(0)
                if not future.done():
                    future.set_result(None)
            if kind == b"subscribe":
                self._on_subscribed(name)

    def _on_subscribed(self, name: bytes) -> None:
        """A (re)subscription took effect: refill what the old connection missed."""
        if name == self._keys.nodes:
            self._live.set()
            self.down_reason = ""
            channels = [ch for ch in self._tracked if is_node_wide(ch)]
        else:
            channel = self._names.get(name)
            channels = [] if channel is None else [channel]
        for channel in channels:
            tracked = self._tracked[channel]
            if tracked.resync:
                tracked.resync = False
                self._start_refill(channel, tracked)

    # -- continuity --------------------------------------------------------------------

    def _on_message(self, raw: bytes) -> None:
        try:
            msg = decode_message(raw)
        except ValueError:
            log.error("dropped an undecodable message from redis pub/sub (%d bytes)", len(raw))
            return
        if isinstance(msg, Push):
            if is_node_wide(msg.channel) or msg.channel in self._tracked:
                self._handler.on_push(msg.channel, msg.event, msg.data)
            return
        tracked = self._tracked.get(msg.channel)
        if tracked is not None:
            self._accept(msg.channel, tracked, msg)

    def _accept(self, channel: str, tracked: _Tracked, pub: Publication) -> None:
        if tracked.pending is not None:
            tracked.pending.append(pub)
            return
        if tracked.epoch is None:
            tracked.epoch, tracked.offset = pub.epoch, pub.offset - 1
        elif tracked.epoch == "":
            tracked.epoch = pub.epoch
        elif pub.epoch != tracked.epoch:
            # The stream was lost and restarted: offsets began again at 1, so
            # subscribers would drop them as duplicates. They must recover.
            log.warning("channel %s: new epoch %s; subscribers recover", channel, pub.epoch)
            self._handler.on_gap(channel)
            tracked.epoch, tracked.offset = pub.epoch, pub.offset - 1
        if pub.offset <= tracked.offset:
            return  # already delivered (a refill got there first)
        if pub.offset == tracked.offset + 1:
            tracked.offset = pub.offset
            self._handler.on_publication(pub)
            return
        tracked.pending = [pub]
        self._start_refill(channel, tracked)

    def _start_refill(self, channel: str, tracked: _Tracked) -> None:
        if tracked.pending is None:
            tracked.pending = []
        task = asyncio.get_running_loop().create_task(self._refill(channel, tracked))
        tracked.refill = task

    async def _refill(self, channel: str, tracked: _Tracked) -> None:
        """Deliver what was missed after the last delivered offset from the
        stream, then the publications held back meanwhile."""
        try:
            if tracked.epoch is None:
                self._handler.on_gap(channel)
            else:
                await self._read_missed(channel, tracked)
        except Exception as exc:
            if isinstance(exc, Unavailable):
                log.warning("channel %s: cannot refill (%s); subscribers recover", channel, exc)
            else:
                log.exception("channel %s: refill failed; subscribers recover", channel)
            self._handler.on_gap(channel)
            tracked.epoch = None
        tracked.refill = None
        pending, tracked.pending = tracked.pending or [], None
        if self._tracked.get(channel) is not tracked:
            return
        for pub in pending:
            self._accept(channel, tracked, pub)

    async def _read_missed(self, channel: str, tracked: _Tracked) -> None:
        # epoch "": the channel had no stream when tracking began, so whatever
        # epoch it has now began after that, and all of it is to be read.
        epoch = tracked.epoch or None
        res = await self._read_after(channel, tracked.offset, epoch)
        top = res.position
        if self._tracked.get(channel) is not tracked:
            return
        if epoch is None and not top.epoch:
            return  # still no stream: nothing was published
        since = StreamPosition(epoch or top.epoch, tracked.offset)
        if not is_recovered(since, top, res.publications):
            log.warning("channel %s: missed publications are gone; subscribers recover", channel)
            self._handler.on_gap(channel)
            # Carry on from the live publications held back, not past them.
            held = [p.offset for p in tracked.pending or () if p.epoch == top.epoch]
            tracked.epoch = top.epoch
            tracked.offset = min(held) - 1 if held else top.offset
            return
        tracked.epoch = top.epoch
        for pub in res.publications:
            if pub.offset > tracked.offset:
                tracked.offset = pub.offset
                self._handler.on_publication(pub)
