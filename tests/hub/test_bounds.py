"""What the hub keeps per channel, connection and user is freed when they go:
an anonymous client must not be able to grow the server's memory for good."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Callable
from typing import Any

import jwt
import pytest

from relevo.broker.memory import MemoryBroker
from relevo.hub.hub import Hub
from relevo.protocol.errors import Conflict
from relevo.server.app import RelevoServer
from tests.conftest import SECRET, make_settings, token
from tests.helpers import RawWS, timeout
from tests.hub.test_subscribe import FakeTransport

REDIS_URL = os.environ.get("RELEVO_TEST_REDIS", "redis://127.0.0.1:6379/9")


async def eventually(pred: Callable[[], bool], wait: float = 30.0) -> None:
    """Poll ``pred``: a session is forgotten when its transport sees the
    socket close, and nothing signals that moment to a test."""
    deadline = asyncio.get_running_loop().time() + timeout(wait)
    while not pred():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(0.02)


def gauge(hub: Hub, name: str) -> float:
    """A gauge as /metrics shows it."""
    value = hub.metrics.registry.get_sample_value(name)
    assert value is not None, name
    return value


def hub_state(hub: Hub) -> dict[str, int]:
    """Everything in the hub that grows with channels, connections or users."""
    return {
        "sessions": len(hub.sessions),
        "channels": len(hub.fanout.channels),
        "users": len(hub.users.sessions),
        "dirty": len(hub.fanout.dirty),
        "background": len(hub.background.tasks),
        "unsubscribing": len(hub.subscriptions.unsubscribing),
        "subscriptions_gauge": int(gauge(hub, "relevo_subscriptions")),
        "channels_gauge": int(gauge(hub, "relevo_channels")),
    }


async def subscribe_many(ws: RawWS, names: list[str], read: int) -> None:
    """Pipeline one ``sub`` per name, then read ``read`` of the replies."""
    for i, name in enumerate(names):
        ws.send({"id": i, "op": "sub", "ch": name})
    await ws.writer.drain()
    replies = 0
    while replies < read:
        reply = await ws.recv(wait=60)
        if "id" in reply:  # not a $join push
            assert "ok" in reply, reply
            replies += 1


@pytest.mark.parametrize(
    ("broker", "per_conn"),
    [
        pytest.param("memory://", 10_000, id="memory-40000"),
        # Subscribes wait on Redis, so hang-ups land in the middle of them.
        pytest.param(REDIS_URL, 300, id="redis-1200"),
    ],
)
async def test_40000_channels_leave_nothing_behind(
    server_factory: Any, broker: str, per_conn: int
) -> None:
    conns = 4
    settings = make_settings(
        broker={"url": broker},
        limits={
            "max_subscriptions": per_conn,
            "commands_per_second": 1_000_000.0,
            "command_burst": 100_000,
        },
    )
    server: RelevoServer = await server_factory(settings)
    hub = server.hub
    baseline = hub_state(hub)
    clients = []
    for c in range(conns):
        ws = await RawWS.connect(server.port)
        if c % 2:  # authenticated: presence joins, and the user index
            reply = await ws.request({"id": "c", "op": "connect", "token": token(f"u{c}")})
            assert "ok" in reply
        clients.append(ws)
    run = secrets.token_hex(4)  # Redis is shared: names of this run only
    names = [[f"demo:{run}-{c}-{i}" for i in range(per_conn)] for c in range(conns)]
    # Half the clients read every reply; the other half hang up mid-way,
    # while their subscribes are still being served.
    await asyncio.gather(
        *(
            subscribe_many(ws, names[c], per_conn if c < conns // 2 else per_conn // 10)
            for c, ws in enumerate(clients)
        )
    )
    assert len(hub.fanout.channels) >= per_conn * conns // 2
    for ws in clients:
        await ws.close()
    await eventually(lambda: not hub.sessions and not hub.background.tasks)
    assert hub_state(hub) == baseline
    assert len(hub.recent_errors) <= 200
    # Metric labels come from closed sets (ops, codes, transports), never names.
    assert len(hub.metrics._children) < 64


async def test_a_token_with_an_empty_sub_is_refused_and_leaves_no_user(
    server_factory: Any,
) -> None:
    server: RelevoServer = await server_factory()
    hub = server.hub
    empty = jwt.encode({"sub": "", "exp": 4102444800}, SECRET, algorithm="HS256")
    for _ in range(3):
        ws = await RawWS.connect(server.port)
        reply = await ws.request({"id": 1, "op": "connect", "token": empty})
        assert reply["err"]["code"] == "unauthorized", reply
        await ws.close()
    await eventually(lambda: not hub.sessions)
    assert hub.users.sessions == {}


class BlockingBroker(MemoryBroker):
    """A broker whose subscribe waits until the test lets it go, like a
    Redis SUBSCRIBE round trip on a busy server."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.unsubscribed: list[str] = []

    async def subscribe(self, channel: str) -> None:
        await self.gate.wait()
        await super().subscribe(channel)

    async def unsubscribe(self, channel: str) -> None:
        self.unsubscribed.append(channel)


async def test_a_session_gone_during_its_subscribe_leaves_no_channel() -> None:
    broker = BlockingBroker()
    hub = Hub(make_settings(), broker)
    await hub.start()
    try:
        closed = hub.open_session(FakeTransport())
        unsubbed = hub.open_session(FakeTransport())
        tasks = [
            asyncio.create_task(hub.subscribe(closed, "demo:a", None)),
            asyncio.create_task(hub.subscribe(unsubbed, "demo:b", None)),
        ]
        await asyncio.sleep(0)  # both are now waiting on the broker
        assert set(hub.fanout.channels) == {"demo:a", "demo:b"}
        hub.close_session(closed)
        hub.unsubscribe(unsubbed, "demo:b")
        broker.gate.set()
        answers = await asyncio.gather(*tasks, return_exceptions=True)
        assert answers[0] is None  # closed: no one to answer
        assert isinstance(answers[1], Conflict)  # unsubscribed: answered, not ok
        await eventually(lambda: not hub.background.tasks, wait=5)
        assert hub.fanout.channels == {}
        assert sorted(broker.unsubscribed) == ["demo:a", "demo:b"]
    finally:
        await hub.close()
