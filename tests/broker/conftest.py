"""Fixtures of the broker tests: one ``env`` per implementation.

Memory runs on a virtual clock; Redis runs against the real server
(``RELEVO_TEST_REDIS``, default db 9 of 127.0.0.1:6379) with a random key
prefix per test, so tests never see each other's keys or pub/sub traffic,
and on real (short) TTLs. ``sentinel`` and ``cluster`` run the same
contract through a primary, a replica and three sentinels, and through a
Cluster of three primaries: real processes on free ports, started once per
session (``redis_topologies.py``).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest

from relevo.broker.base import Broker
from relevo.broker.memory import MemoryBroker, MemoryPresence
from relevo.broker.redis import RedisBroker
from relevo.clock import VirtualClock
from tests.broker.broker_fixtures import (
    BrokerEnv,
    PresenceEnv,
    PrivateRedis,
    Recorder,
    delete_prefix,
    redis_url,
)
from tests.broker.redis_topologies import ClusterSetup, SentinelSetup


@pytest.fixture
def prefix() -> str:
    return "test-" + secrets.token_hex(6)


@pytest.fixture(scope="session")
def sentinel_setup() -> Iterator[SentinelSetup]:
    setup = SentinelSetup()
    try:
        yield setup.start()
    finally:
        setup.stop()


@pytest.fixture(scope="session")
def cluster_setup() -> Iterator[ClusterSetup]:
    setup = ClusterSetup()
    try:
        yield setup.start()
    finally:
        setup.stop()


def _url(request: pytest.FixtureRequest, kind: str, prefix: str) -> str:
    if kind == "sentinel":
        return request.getfixturevalue("sentinel_setup").url(prefix)  # type: ignore[no-any-return]
    if kind == "cluster":
        return request.getfixturevalue("cluster_setup").url(prefix)  # type: ignore[no-any-return]
    return redis_url(prefix)


_TOPOLOGY = [pytest.mark.redis, pytest.mark.slow]


@pytest.fixture(
    params=[
        "memory",
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("sentinel", marks=_TOPOLOGY),
        pytest.param("cluster", marks=_TOPOLOGY),
    ]
)
async def env(request: pytest.FixtureRequest, prefix: str) -> AsyncIterator[BrokerEnv]:
    started: list[Broker] = []
    clock = VirtualClock()
    url = "" if request.param == "memory" else _url(request, request.param, prefix)

    async def make(handler: Recorder, **kwargs: Any) -> Broker:
        """Another broker of the same kind (same clock, same Redis prefix)."""
        broker: Broker
        if request.param == "memory":
            broker = MemoryBroker(clock=clock, **kwargs)
        else:
            broker = RedisBroker(url, **kwargs)
        await broker.start(handler)
        started.append(broker)
        return broker

    if request.param == "memory":

        async def advance(seconds: float) -> None:
            clock.advance(seconds)
    else:

        async def advance(seconds: float) -> None:
            await asyncio.sleep(seconds)  # Redis keeps real time: TTLs are short

    handler = Recorder()
    broker = await make(handler)
    try:
        yield BrokerEnv(request.param, broker, handler, advance, make)
    finally:
        for b in started:
            await b.close()
        if request.param == "redis":
            await delete_prefix(prefix)


@pytest.fixture(
    params=[
        "memory",
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("sentinel", marks=_TOPOLOGY),
        pytest.param("cluster", marks=_TOPOLOGY),
    ]
)
async def presence_env(request: pytest.FixtureRequest, prefix: str) -> AsyncIterator[PresenceEnv]:
    """A presence store of each kind, and a second one sharing its state where
    the kind has state to share (two Redis nodes; one process has one store)."""
    if request.param == "memory":
        clock = VirtualClock()
        store = MemoryPresence(clock=clock)

        async def advance(seconds: float) -> None:
            clock.advance(seconds)

        yield PresenceEnv(request.param, store, store, advance)
        return
    url = _url(request, request.param, prefix)
    nodes = [RedisBroker(url), RedisBroker(url)]
    for node in nodes:
        await node.start(Recorder())

    async def sleep(seconds: float) -> None:
        await asyncio.sleep(seconds)  # Redis keeps real time: TTLs are short

    try:
        yield PresenceEnv(request.param, nodes[0], nodes[1], sleep)
    finally:
        for node in nodes:
            await node.close()
        if request.param == "redis":
            await delete_prefix(prefix)


Nodes = Callable[[], Awaitable[tuple[RedisBroker, Recorder]]]


@pytest.fixture
async def node_factory(prefix: str) -> AsyncIterator[Nodes]:
    """Redis brokers sharing one prefix: the nodes of one deployment."""
    started: list[RedisBroker] = []

    async def start() -> tuple[RedisBroker, Recorder]:
        broker = RedisBroker(redis_url(prefix))
        handler = Recorder()
        await broker.start(handler)
        started.append(broker)
        return broker, handler

    try:
        yield start
    finally:
        for broker in started:
            await broker.close()
        await delete_prefix(prefix)


@pytest.fixture
async def private_redis() -> AsyncIterator[PrivateRedis]:
    server = PrivateRedis()
    await server.start()
    try:
        yield server
    finally:
        server.resume()
        await server.stop()
