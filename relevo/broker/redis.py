"""Redis broker: many relevo processes, on many machines, behave as one hub.

* **History** lives in a Redis Stream per channel. Offsets are gapless
  integers kept in the channel's meta hash next to its epoch; the publish
  script increments the offset, appends the publication with stream id
  ``<offset>-0`` and publishes it, all in one step, so the order in the stream
  and on pub/sub is the order of the offsets. When the meta hash is gone
  (expired after ``meta_ttl`` idle, flushed, evicted, Redis restarted without
  persistence) the next use starts a new epoch: clients recovering across it
  are told ``recovered: false``, never handed a silent gap.
* **Failover**: the meta hash also records the replication id of the server
  that wrote it. Replication is asynchronous, so a promoted replica (Sentinel
  or Cluster failover) may lack the last acknowledged publications; its new
  replication id makes every channel start a new epoch there instead of
  handing out offsets clients already hold (``recovered: false``, never a
  silent gap). A Cluster slot moved to another node restarts its channels'
  epochs the same way.
* **Fan-out** between nodes is Redis pub/sub, through the feed in
  ``_redis_feed.py``, which also makes pub/sub's losses (reconnects) visible
  and refills them from the stream.
* **Idempotency**: a publication's key is checked and set (``SET ... PX
  window``) inside the publish script, so two nodes publishing one key at once
  make one publication, and a repeat answers the first offset.
* **Presence** is a hash per channel with a deadline per entry, refreshed by
  the node that holds the connection; entries of a dead node expire.

Every key of a channel shares one hash tag (``_redis_wire.Keys``), so each
script touches a single Redis Cluster slot. Any Redis failure surfaces as
:class:`~relevo.protocol.errors.Unavailable` within ``socket_timeout``; the
feed reconnects by itself.

The URL names one server, a Sentinel service or a Cluster
(``_redis_topology.py``). It may carry ``?prefix=NAME`` (default ``relevo``) so several
deployments (or test runs) can share one Redis without seeing each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Sequence
from importlib import resources
from typing import Any

from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from relevo.broker._redis_batch import PublishBatcher, Results, run_scripts
from relevo.broker._redis_feed import Feed
from relevo.broker._redis_topology import Topology, parse_url
from relevo.broker._redis_wire import (
    Keys,
    decode_client,
    decode_message,
    encode_client,
    publication_parts,
    push_message,
    translate,
)
from relevo.broker.base import (
    DEFAULT_IDEMPOTENCY_WINDOW,
    BrokerHandler,
    HistoryOptions,
    HistoryResult,
    PublishItem,
    check_idempotency_key,
)
from relevo.protocol.errors import RelevoError, Unavailable
from relevo.protocol.types import ClientInfo, Publication, StreamPosition

log = logging.getLogger("relevo.broker.redis")

__all__ = ["RedisBroker"]

DEFAULT_POOL_SIZE = 50
"""Command connections per node (pub/sub has one more of its own)."""
DEFAULT_POOL_TIMEOUT = 10.0
"""Seconds a command waits for a free pooled connection before ``unavailable``."""

_REFILL_LIMIT = 10_000  # a feed gap longer than this is not refilled: subscribers recover


def _script(name: str) -> str:
    return (resources.files("relevo.broker.lua") / f"{name}.lua").read_text()


def _ms(seconds: float) -> int:
    # PEXPIRE 0 deletes the key at once; the shortest real lifetime is 1 ms.
    return max(1, int(seconds * 1000))


def _new_epoch() -> str:
    return secrets.token_hex(4)


def split_url(url: str) -> tuple[str, str, str]:
    """``(redis URL without relevo's own parameters, key prefix, URL safe to log)``."""
    target = parse_url(url)
    return target.url, target.prefix, target.shown


def _publication(item: PublishItem, result: Any) -> Publication:
    offset, epoch, ts = result
    return Publication(item.channel, int(offset), item.event, item.data, int(ts), epoch.decode())


def _retrieve(read: asyncio.Future[StreamPosition]) -> None:
    # A shared read whose askers all went away must not log "never retrieved".
    if not read.cancelled():
        read.exception()


class RedisBroker:
    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str | None = None,
        socket_timeout: float = 2.0,
        health_interval: float = 1.0,
        idempotency_window: float = DEFAULT_IDEMPOTENCY_WINDOW,
        pool_size: int = DEFAULT_POOL_SIZE,
        pool_timeout: float = DEFAULT_POOL_TIMEOUT,
    ) -> None:
        if pool_size < 1:
            raise RelevoError(f"broker.pool_size must be at least 1, got {pool_size}")
        self._target = parse_url(url)
        self.url = self._target.shown
        self.pool_size = pool_size
        self._pool_timeout = pool_timeout
        self.keys = Keys(prefix or self._target.prefix)
        self._window_ms = _ms(idempotency_window)
        self._socket_timeout = socket_timeout
        self._health_interval = health_interval
        self._topology: Topology | None = None
        self._feed: Feed | None = None
        self._scripts: dict[str, AsyncScript] = {}
        self._positions: dict[tuple[str, HistoryOptions], asyncio.Future[StreamPosition]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._follower: asyncio.Task[None] | None = None
        self._batcher = PublishBatcher(lambda items: self._pipeline(items))

    # -- lifecycle -------------------------------------------------------------------

    async def start(self, handler: BrokerHandler) -> None:
        # Commands share a bounded pool and wait for a free connection (up to
        # ``pool_timeout``) instead of failing: redis-py's default pool answers
        # the 101st concurrent command "Too many connections", which a storm
        # of subscribes reaches at once. Pub/sub needs none of these: the feed
        # multiplexes every channel on a connection of its own.
        topology = Topology(
            self._target,
            pool_size=self.pool_size,
            pool_timeout=self._pool_timeout,
            socket_timeout=self._socket_timeout,
            client_name=self.keys.prefix,
        )
        try:
            await topology.start()
        except (RedisError, OSError) as exc:
            await topology.aclose()
            raise Unavailable(f"cannot reach redis at {self.url}: {exc}") from exc
        except BaseException:
            await topology.aclose()
            raise
        self._scripts = {
            name: topology.client.register_script(_script(name))
            for name in ("publish", "history", "presence_add", "presence_get")
        }
        feed = Feed(
            topology.feed_connection,
            self.keys,
            handler,
            self._baseline,
            self._read_after,
            url=self.url,
            health_interval=self._health_interval,
        )
        try:
            await feed.start()
        except BaseException:
            await topology.aclose()
            raise
        self._topology, self._feed = topology, feed
        if topology.target.kind == "sentinel":
            loop = asyncio.get_running_loop()
            self._follower = loop.create_task(self._follow_primary(topology, feed))

    async def _follow_primary(self, topology: Topology, feed: Feed) -> None:
        """A planned failover (``SENTINEL FAILOVER``) leaves the old primary
        up, taking writes until Sentinel demotes it: ask the sentinels every
        ``health_interval`` and move the pool and the feed at once."""
        while True:
            await asyncio.sleep(self._health_interval)
            try:
                primary = await topology.primary()
            except (RedisError, OSError):
                continue  # no sentinel answers: the connections tell their own failures
            address = feed.address
            if primary is not None and address is not None and address != primary:
                await feed.reconnect(f"the primary moved to {primary[0]}:{primary[1]}")

    async def close(self) -> None:
        feed, topology = self._feed, self._topology
        self._feed = self._topology = None
        follower, self._follower = self._follower, None
        if follower is not None:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower
        if feed is not None:
            await feed.close()
        if topology is not None:
            try:
                await asyncio.wait_for(topology.aclose(), 5.0)
            except TimeoutError:
                log.warning("redis connections did not close within 5 s")

    def _redis(self) -> Topology:
        if self._topology is None:
            raise Unavailable("broker is closed")
        return self._topology

    @contextlib.asynccontextmanager
    async def _session(self) -> AsyncIterator[Any]:
        """The command client, within the bound on commands in flight; a
        Redis failure inside comes out as relevo's error."""
        topology = self._redis()
        try:
            async with topology.gate:
                yield topology.client
        except (RedisError, OSError) as exc:
            raise translate(exc, self.url) from exc

    async def _call(self, script: str, keys: list[str], args: list[Any]) -> Any:
        async with self._session():
            return await self._scripts[script](keys=keys, args=args)

    # -- publishing ----------------------------------------------------------------------

    async def publish(
        self,
        channel: str,
        event: str,
        data: bytes,
        options: HistoryOptions,
        *,
        idempotency_key: str | None = None,
    ) -> Publication:
        if idempotency_key is not None:
            check_idempotency_key(idempotency_key)
        self._redis()  # a closed broker says so at once
        return await self._batcher.publish(
            PublishItem(channel, event, data, options, idempotency_key)
        )

    async def publish_many(self, items: Sequence[PublishItem]) -> list[Publication]:
        pubs = []
        for result in await self._pipeline(items):
            if isinstance(result, Exception):
                raise result
            pubs.append(result)
        return pubs

    async def _pipeline(self, items: Sequence[PublishItem]) -> Results:
        """One pipeline (one round trip per Redis node) of publish scripts, in
        order: a channel's items run in the batch's order on its node. Each
        item's own error (a bad key) is its result; a lost connection raises."""
        calls = [self._publish_args(item) for item in items]
        if not calls:
            return []
        async with self._session() as client:
            results = await run_scripts(client, self._scripts["publish"], calls)
        return [
            translate(r, self.url) if isinstance(r, RedisError) else _publication(item, r)
            for item, r in zip(items, results, strict=True)
        ]

    def _publish_args(self, item: PublishItem) -> tuple[list[str], list[Any]]:
        channel, keys = item.channel, self.keys
        names = [keys.meta(channel), keys.stream(channel)]
        if item.idempotency_key is not None:
            check_idempotency_key(item.idempotency_key)
            names.append(keys.idempotency(channel, item.idempotency_key))
        head, tail = publication_parts(channel, item.event, item.data)
        options = item.options
        ttls = [_ms(options.ttl), _ms(options.meta_ttl)]
        args = [keys.pubsub(channel), head, tail, options.size, *ttls, _new_epoch()]
        return names, [*args, self._window_ms]

    async def publish_push(self, channel: str, event: str, data: bytes) -> None:
        async with self._session() as client:
            await client.publish(self.keys.pubsub(channel), push_message(channel, event, data))

    # -- subscriptions -----------------------------------------------------------------

    async def subscribe(self, channel: str) -> None:
        if self._feed is None:
            raise Unavailable("broker is closed")
        await self._feed.subscribe(channel)

    async def unsubscribe(self, channel: str) -> None:
        if self._feed is not None:
            await self._feed.unsubscribe(channel)

    # -- history -------------------------------------------------------------------------

    async def history(
        self,
        channel: str,
        since: StreamPosition | None,
        limit: int,
        options: HistoryOptions,
    ) -> HistoryResult:
        return await self._history(
            channel,
            -1 if since is None else since.offset,
            "" if since is None else since.epoch,
            limit,
            _ms(options.ttl),
            _ms(options.meta_ttl),
            create=True,
            any_epoch=False,
        )

    async def position(self, channel: str, options: HistoryOptions) -> StreamPosition:
        """Reads of one channel asked in the same event-loop pass share one
        script call (a subscribe storm asks thousands at once). Every one of
        them was asked before that call is sent, so each answer is as fresh
        as a read of its own: nothing published before the ask is missing."""
        key = (channel, options)
        read = self._positions.get(key)
        if read is None:
            read = asyncio.get_running_loop().create_future()
            read.add_done_callback(_retrieve)
            self._positions[key] = read
            task = asyncio.get_running_loop().create_task(self._read_position(key, read))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await asyncio.shield(read)

    async def _read_position(
        self, key: tuple[str, HistoryOptions], read: asyncio.Future[StreamPosition]
    ) -> None:
        # Later asks start a new read: this one is about to be sent.
        if self._positions.get(key) is read:
            del self._positions[key]
        try:
            res = await self.history(key[0], None, 0, key[1])
        except asyncio.CancelledError:
            read.cancel()
            raise
        except Exception as exc:
            if not read.done():
                read.set_exception(exc)
        else:
            if not read.done():
                read.set_result(res.position)

    async def _history(
        self,
        channel: str,
        since: int,
        epoch: str,
        limit: int,
        ttl_ms: int,
        meta_ttl_ms: int,
        *,
        create: bool,
        any_epoch: bool,
    ) -> HistoryResult:
        keys = self.keys
        reply = await self._call(
            "history",
            [keys.meta(channel), keys.stream(channel)],
            [
                since,
                epoch,
                limit,
                ttl_ms,
                meta_ttl_ms,
                _new_epoch() if create else "",
                "1" if any_epoch else "0",
            ],
        )
        pubs = [decode_message(raw) for raw in reply[2:]]
        position = StreamPosition(reply[0].decode(), int(reply[1]))
        return HistoryResult([p for p in pubs if isinstance(p, Publication)], position)

    async def _read_after(self, channel: str, offset: int, epoch: str | None) -> HistoryResult:
        """The feed's refill: what the stream holds after ``offset``, without
        creating a channel or applying the history TTL (older is better than none)."""
        return await self._history(
            channel,
            offset,
            epoch or "",
            _REFILL_LIMIT,
            0,
            1,
            create=False,
            any_epoch=epoch is None,
        )

    async def _baseline(self, channel: str) -> StreamPosition:
        """The channel's position, ``("", 0)`` if it has none (or only one
        another server wrote before a failover), without creating it."""
        res = await self._history(channel, -1, "", 0, 0, 1, create=False, any_epoch=False)
        return res.position

    async def remove_history(self, channel: str) -> None:
        async with self._session() as client:
            await client.delete(self.keys.meta(channel), self.keys.stream(channel))

    # -- presence ------------------------------------------------------------------------

    async def add_presence(self, channel: str, info: ClientInfo, ttl: float) -> None:
        keys = [self.keys.presence(channel), self.keys.presence_deadlines(channel)]
        await self._call("presence_add", keys, [info.client, encode_client(info), _ms(ttl)])

    async def remove_presence(self, channel: str, client: str) -> None:
        async with self._session() as redis, redis.pipeline(transaction=True) as pipe:
            pipe.hdel(self.keys.presence(channel), client)
            pipe.zrem(self.keys.presence_deadlines(channel), client)
            await pipe.execute()

    async def presence(self, channel: str) -> list[ClientInfo]:
        keys = [self.keys.presence(channel), self.keys.presence_deadlines(channel)]
        return [decode_client(raw) for raw in await self._call("presence_get", keys, [])]

    # -- health ----------------------------------------------------------------------------

    async def ping(self) -> None:
        """Both connections must work: commands, and the pub/sub feed (without
        it this node would publish but never deliver)."""
        topology = self._redis()
        feed = self._feed
        if feed is not None and not feed.live:
            raise Unavailable(f"redis pub/sub at {self.url} is unavailable: {feed.down_reason}")
        try:
            await topology.ping()
        except (RedisError, OSError) as exc:
            raise translate(exc, self.url) from exc
