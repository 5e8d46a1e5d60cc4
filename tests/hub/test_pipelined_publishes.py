"""A client's ``pub``s sent back to back are published in the order sent
without waiting for each other's broker answer (on Redis, a round trip
each); every reply keeps the order of its command, errors included."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from relevo.broker.redis import RedisBroker
from relevo.server.app import RelevoServer
from tests.broker.broker_fixtures import delete_prefix, redis_url
from tests.conftest import make_settings, token
from tests.helpers import RawWS

N = 200
LIMITS = {"commands_per_second": 10_000, "command_burst": 10_000}


def _frames(n: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i in range(n):
        out.append({"id": i, "op": "pub", "ch": "demo:p", "ev": "e", "data": {"i": i}})
        if i == n // 2:
            out.append({"id": "ping", "op": "ping"})
            out.append({"id": "bad", "op": "pub", "ch": "gtr:x", "ev": "e", "data": {}})
    return out


async def _send_all_then_read(server: RelevoServer) -> list[dict[str, Any]]:
    ws = await RawWS.connect(server.port)
    try:
        assert "ok" in await ws.request({"id": "c", "op": "connect", "token": token("7")})
        frames = _frames(N)
        for f in frames:  # back to back: all queued before the first answer
            ws.send(f)
        replies = [await ws.recv() for _ in frames]
    finally:
        await ws.close()
    return replies


def _check(replies: list[dict[str, Any]]) -> None:
    ids = [r.get("id") for r in replies]
    expected = [f["id"] for f in _frames(N)]
    assert ids == expected, "every reply keeps its command's order"
    offsets = [r["ok"]["offset"] for r in replies if isinstance(r.get("id"), int)]
    assert offsets == list(range(1, N + 1)), "offsets keep the order the pubs were sent in"
    [bad] = [r for r in replies if r.get("id") == "bad"]
    assert bad["err"]["code"] == "forbidden"


async def test_pipelined_pubs_keep_order_on_the_memory_broker(server_factory: Any) -> None:
    server = await server_factory(make_settings(limits=LIMITS))
    _check(await _send_all_then_read(server))


@pytest.mark.redis
async def test_pipelined_pubs_on_redis_do_not_wait_a_round_trip_each(server_factory: Any) -> None:
    prefix = "test-" + secrets.token_hex(6)
    server = await server_factory(make_settings(broker={"url": redis_url(prefix)}, limits=LIMITS))
    broker = server.hub.broker
    assert isinstance(broker, RedisBroker)
    sends = 0
    real = broker._pipeline

    async def counting(items: Any) -> Any:
        nonlocal sends
        sends += 1
        return await real(items)

    broker._pipeline = counting  # type: ignore[method-assign]
    try:
        replies = await _send_all_then_read(server)
    finally:
        await delete_prefix(prefix)
    _check(replies)
    # One round trip per publish before: the session waited for each answer.
    assert sends < N / 4, f"{sends} broker round trips for {N} publishes"
