"""Where the Redis broker's Redis is: one server, a primary watched by
Sentinel, or a Cluster — and the clients redis-py has for each.

``[broker] url`` forms (each may carry relevo's own ``?prefix=NAME``)::

    redis://[user:pass@]host:6379/0         one server (also rediss://, unix://)
    redis+sentinel://[user:pass@]host1:26379,host2:26379/mymaster[?db=0]
    redis+cluster://[user:pass@]host1:7000,host2:7001

With Sentinel, the sentinels are asked for the primary of service
``mymaster`` (``redis.asyncio.sentinel.Sentinel``); after a failover every
connection, the pub/sub feed's too, reconnects to the new primary. Sentinels
with a password of their own take ``?sentinel_password=...``
(``&sentinel_username=...``). With Cluster the seed nodes are asked for the
slot map (``redis.asyncio.cluster.RedisCluster``); every command goes to the
node of its channel's hash tag, following ``MOVED``/``ASK`` while slots move.
Pub/sub in a Cluster is the classic (cluster-wide) kind: a publication made
on any primary reaches the feed wherever it is connected, so the feed needs
one connection, to any node, and moves to another when that one fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.connection import (
    AbstractConnection,
    BlockingConnectionPool,
    Connection,
)
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.backoff import NoBackoff

from relevo.protocol.errors import RelevoError, Unavailable

__all__ = ["SCHEMES", "Target", "Topology", "parse_url"]

SCHEMES = ("redis://", "rediss://", "unix://", "redis+sentinel://", "redis+cluster://")
_SENTINEL_PORT = 26379
_CLUSTER_PORT = 6379


@dataclass(frozen=True, slots=True)
class Target:
    """A parsed ``[broker] url``."""

    kind: str
    """``single``, ``sentinel`` or ``cluster``."""
    prefix: str
    shown: str
    """The URL without password or parameters: safe to log."""
    url: str = ""
    """``single``: the URL handed to redis-py (relevo's parameters removed)."""
    hosts: tuple[tuple[str, int], ...] = ()
    """Sentinels, or the Cluster's seed nodes."""
    service: str = ""
    db: int = 0
    username: str | None = None
    password: str | None = None
    sentinel_username: str | None = None
    sentinel_password: str | None = None


def _hosts(netloc: str, default_port: int, url: str) -> tuple[tuple[str, int], ...]:
    out = []
    for item in netloc.split(","):
        host, sep, port = item.strip().rpartition(":")
        if not sep:
            host, port = port, str(default_port)
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise RelevoError(f"broker.url: bad host:port {item!r} in {url!r}")
        out.append((host.strip("[]"), int(port)))
    return tuple(out)


def parse_url(url: str) -> Target:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    params = dict(query)
    prefix = params.pop("prefix", "relevo")
    if not prefix or any(c in prefix for c in "{} "):
        raise RelevoError(f"broker.url: prefix must be non-empty, without braces: {prefix!r}")
    scheme = parts.scheme
    if scheme not in ("redis+sentinel", "redis+cluster"):
        clean = urlunsplit(parts._replace(query=urlencode([q for q in query if q[0] != "prefix"])))
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
        shown = urlunsplit((scheme, netloc, parts.path, "", ""))
        return Target("single", prefix, shown, url=clean)
    userinfo, _, hostlist = parts.netloc.rpartition("@")
    username = password = None
    if userinfo:
        user, sep, secret = userinfo.partition(":")
        username = unquote(user) or None
        password = unquote(secret) if sep else None
    sentinel_username = params.pop("sentinel_username", None)
    sentinel_password = params.pop("sentinel_password", None)
    db_text = params.pop("db", "0")
    if params:
        raise RelevoError(f"broker.url: unknown parameters {sorted(params)} in {scheme}://")
    if not db_text.isdigit():
        raise RelevoError(f"broker.url: db must be a number, got {db_text!r}")
    shown = f"{scheme}://{hostlist}{parts.path}"
    if scheme == "redis+cluster":
        if parts.path.strip("/") or db_text != "0":
            raise RelevoError("broker.url: a Redis Cluster has only db 0; give no path or db")
        hosts = _hosts(hostlist, _CLUSTER_PORT, shown)
        return Target("cluster", prefix, shown, hosts=hosts, username=username, password=password)
    service = parts.path.strip("/")
    if not service or "/" in service:
        raise RelevoError(
            f"broker.url: name the Sentinel service, as in "
            f"redis+sentinel://host:26379/mymaster, got {shown!r}"
        )
    return Target(
        "sentinel",
        prefix,
        shown,
        hosts=_hosts(hostlist, _SENTINEL_PORT, shown),
        service=service,
        db=int(db_text),
        username=username,
        password=password,
        sentinel_username=sentinel_username,
        sentinel_password=sentinel_password,
    )


class _BlockingSentinelPool(SentinelConnectionPool, BlockingConnectionPool):
    """Sentinel's pool (connections go to the current primary) that waits
    for a free connection, as the single-server pool does, instead of
    failing with "Too many connections" in a burst.

    When the primary moves, redis-py closes the idle connections only; one
    in use at that moment would go back to the pool still talking to the old
    primary (which takes writes until Sentinel demotes it). It is closed
    when released, and reconnects to the new primary on its next use."""

    async def release(self, connection: AbstractConnection) -> None:
        address = (getattr(connection, "host", None), getattr(connection, "port", None))
        if self.master_address is not None and address != self.master_address:
            await connection.disconnect()
        await super().release(connection)


class Topology:
    """The command client of one target, and how to open the feed's connection."""

    def __init__(
        self,
        target: Target,
        *,
        pool_size: int,
        pool_timeout: float,
        socket_timeout: float,
        client_name: str,
    ) -> None:
        self.target = target
        self._sentinel: Sentinel | None = None
        # No silent retries: a publish retried after a lost reply would be
        # published twice; the caller gets ``unavailable`` and decides. (The
        # Cluster client still follows MOVED/ASK/TRYAGAIN: nothing ran then.)
        # RESP2: pub/sub messages are plain replies the feed reads in order.
        common: dict[str, Any] = {
            "socket_timeout": socket_timeout,
            "socket_connect_timeout": socket_timeout,
            "retry": Retry(NoBackoff(), 0),
            "protocol": 2,
        }
        self._feed_kwargs = {**common, "client_name": f"{client_name}:feed"}
        self.gate: contextlib.AbstractAsyncContextManager[Any] = contextlib.nullcontext()
        self.client: Any
        if target.kind == "single":
            pool = BlockingConnectionPool.from_url(
                target.url,
                max_connections=pool_size,
                timeout=pool_timeout,
                client_name=f"{client_name}:cmd",  # visible in CLIENT LIST
                **common,
            )
            self._pool: BlockingConnectionPool | None = pool
            self.client = aioredis.Redis.from_pool(pool)  # closing the client closes the pool
        elif target.kind == "sentinel":
            auth: dict[str, Any] = {"username": target.username, "password": target.password}
            sentinel_kwargs = {
                "socket_timeout": socket_timeout,
                "socket_connect_timeout": socket_timeout,
                "username": target.sentinel_username,
                "password": target.sentinel_password,
                "protocol": 2,
            }
            self._sentinel = Sentinel(target.hosts, sentinel_kwargs=sentinel_kwargs)
            self.client = self._sentinel.master_for(
                target.service,
                connection_pool_class=_BlockingSentinelPool,
                max_connections=pool_size,
                timeout=pool_timeout,
                db=target.db,
                client_name=f"{client_name}:cmd",
                **auth,
                **common,
            )
            self._pool = self.client.connection_pool
        else:
            self._pool = None
            self._feed_kwargs.update(username=target.username, password=target.password)
            # The Cluster client keeps ``pool_size`` connections per node and
            # fails beyond them, so commands wait at this gate instead.
            self.gate = _Gate(pool_size, pool_timeout)
            self.client = RedisCluster(
                startup_nodes=[ClusterNode(host, port) for host, port in target.hosts],
                max_connections=pool_size,
                username=target.username,
                password=target.password,
                client_name=f"{client_name}:cmd",
                **common,
            )
        self._rotation = itertools.count()

    async def start(self) -> None:
        if isinstance(self.client, RedisCluster):
            await self.client.initialize()
        await self.ping()

    def feed_connection(self) -> AbstractConnection:
        """A new connection for the pub/sub feed (not yet connected)."""
        if self._pool is not None:
            kwargs = {
                **self._pool.connection_kwargs,
                "client_name": self._feed_kwargs["client_name"],
            }
            conn: AbstractConnection = self._pool.connection_class(**kwargs)
            return conn
        # Cluster: any node hears every publication. The first seed first
        # (nodes given different seeds spread their feeds), then every known
        # node in turn.
        turn = next(self._rotation)
        nodes = [(n.host, n.port) for n in self.client.get_nodes()]
        host, port = self.target.hosts[0] if turn == 0 or not nodes else nodes[turn % len(nodes)]
        return Connection(host=host, port=port, **self._feed_kwargs)

    async def primary(self) -> tuple[str, int] | None:
        """Sentinel: the primary the sentinels name now (connections of
        this pool to another server are dropped as they come back). ``None``
        for the other forms, whose address does not move."""
        if self._sentinel is None or self._pool is None:
            return None
        address: tuple[str, int] = await self._pool.get_master_address()  # type: ignore[attr-defined]
        return address

    async def ping(self) -> None:
        """Raise when commands cannot run: the (current) primary does not
        answer, or, in a Cluster, a primary does not or the cluster is down."""
        if not isinstance(self.client, RedisCluster):
            await self.client.ping()
            return
        async with self.gate:
            await self.client.ping(target_nodes=RedisCluster.PRIMARIES)
            info = await self.client.cluster_info()
        state = info.get("cluster_state") if isinstance(info, dict) else None
        if state != "ok":
            raise Unavailable(f"redis cluster at {self.target.shown} is {state or 'unknown'}")

    async def aclose(self) -> None:
        await self.client.aclose()
        if self._sentinel is not None:
            for sentinel in self._sentinel.sentinels:
                await sentinel.aclose()


class _Gate:
    """At most ``size`` commands in flight; the others wait their turn, up
    to ``timeout`` seconds, then fail ``unavailable`` (as a full pool does)."""

    def __init__(self, size: int, timeout: float) -> None:
        self._free = asyncio.Semaphore(size)
        self._timeout = timeout

    async def __aenter__(self) -> None:
        try:
            await asyncio.wait_for(self._free.acquire(), self._timeout)
        except TimeoutError:
            raise Unavailable(
                f"no free redis connection within {self._timeout:g} s (broker.pool_size)"
            ) from None

    async def __aexit__(self, *exc: object) -> None:
        self._free.release()
