"""Liveness on virtual time: token expiry and the ping sweep fire when the
hub's clock says so, not when the machine gets round to it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from relevo.broker.memory import MemoryBroker
from relevo.clock import VirtualClock
from relevo.hub.auth import TokenExpired, mint_token
from relevo.hub.hub import Hub
from tests.conftest import SECRET, make_settings
from tests.helpers import timeout
from tests.hub.test_subscribe import FakeTransport


async def until(pred: Callable[[], bool]) -> None:
    """Let the loop run until ``pred`` holds (real time only bounds the wait)."""
    deadline = asyncio.get_running_loop().time() + timeout(10)
    while not pred():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0)


def closes(transport: FakeTransport) -> list[str]:
    return [e[1] for e in transport.events if e[0] == "close"]


async def test_a_token_expires_on_the_hubs_clock() -> None:
    clock = VirtualClock()
    hub = Hub(make_settings(auth={"leeway": 0}), MemoryBroker(clock), clock=clock)
    await hub.start()
    try:
        transport = FakeTransport()
        session = hub.open_session(transport)
        hub.authenticate(session, mint_token(SECRET, "4", ttl=3600, clock=clock))
        clock.advance(3599)
        await asyncio.sleep(0)
        assert closes(transport) == []
        clock.advance(1)
        assert closes(transport) == ["token_expired"]
    finally:
        await hub.close()


async def test_a_token_already_past_its_exp_on_the_hubs_clock_is_refused() -> None:
    clock = VirtualClock()
    hub = Hub(make_settings(auth={"leeway": 0}), MemoryBroker(clock), clock=clock)
    tok = mint_token(SECRET, "4", ttl=60, clock=clock)
    clock.advance(61)
    session = hub.open_session(FakeTransport())
    with pytest.raises(TokenExpired):
        hub.authenticate(session, tok)


async def test_a_silent_peer_is_cut_after_ping_interval_plus_pong_timeout() -> None:
    clock = VirtualClock()
    settings = make_settings(liveness={"ping_interval": 10.0, "pong_timeout": 5.0})
    hub = Hub(settings, MemoryBroker(clock), clock=clock)
    await hub.start()
    try:
        transport = FakeTransport()
        hub.open_session(transport)
        await until(lambda: clock.sleepers == 1)  # the sweep waits for its next step
        clock.advance(14.9)
        await until(lambda: clock.sleepers == 1 and clock.monotonic() == 14.9)
        assert closes(transport) == []  # swept at 14.9 s: silent, but not for long enough
        clock.advance(1.25)  # the next sweep (every 1.25 s here): 16.15 s without a word
        await until(lambda: closes(transport) != [])
        assert closes(transport) == ["no_pong"]
    finally:
        await hub.close()
