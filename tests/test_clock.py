"""The one clock: the system clock reads the machine, the virtual clock moves
only when a test advances it and wakes what is due in deadline order."""

from __future__ import annotations

import asyncio
import time

import pytest

from relevo.clock import SystemClock, VirtualClock
from tests.helpers import timeout


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_virtual_time_stands_still_until_advanced() -> None:
    clock = VirtualClock(start=1000.0)
    assert (clock.now(), clock.monotonic()) == (1000.0, 0.0)
    clock.advance(2.5)
    assert (clock.now(), clock.monotonic()) == (1002.5, 2.5)
    clock.advance_to(1010.0)
    assert clock.now() == 1010.0
    with pytest.raises(ValueError, match="does not go back"):
        clock.advance(-1)


async def test_advance_wakes_sleepers_in_deadline_order() -> None:
    clock = VirtualClock()
    woke: list[str] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append(name)

    tasks = [
        asyncio.ensure_future(sleeper(n, s))
        for n, s in [("c", 30), ("a", 10), ("b", 20), ("d", 40)]
    ]
    await _settle()
    assert clock.sleepers == 4
    clock.advance(9.9)
    await _settle()
    assert woke == []
    clock.advance(25)  # 34.9: a, b and c are due
    await _settle()
    assert woke == ["a", "b", "c"]
    clock.advance(100)
    await asyncio.gather(*tasks)
    assert woke == ["a", "b", "c", "d"]
    assert clock.sleepers == 0


async def test_callbacks_run_at_their_own_deadline_and_can_be_cancelled() -> None:
    clock = VirtualClock()
    seen: list[tuple[str, float]] = []
    clock.call_later(5, lambda: seen.append(("five", clock.monotonic())))
    dropped = clock.call_later(3, lambda: seen.append(("dropped", clock.monotonic())))
    clock.call_later(1, lambda: seen.append(("one", clock.monotonic())))
    dropped.cancel()
    clock.advance(60)
    assert seen == [("one", 1.0), ("five", 5.0)]
    assert clock.monotonic() == 60.0


async def test_a_sleep_ends_early_when_its_event_is_set() -> None:
    clock = VirtualClock()
    wake = asyncio.Event()
    task = asyncio.ensure_future(clock.sleep(3600, wake))
    await _settle()
    wake.set()
    await asyncio.wait_for(task, timeout(5))
    assert clock.monotonic() == 0.0
    assert clock.sleepers == 0  # the abandoned deadline no longer counts


async def test_a_cancelled_sleeper_leaves_nothing_due() -> None:
    clock = VirtualClock()
    task = asyncio.ensure_future(clock.sleep(10))
    await _settle()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert clock.sleepers == 0
    clock.advance(20)  # nothing to wake, nothing raises


async def test_system_clock_reads_the_machine() -> None:
    clock = SystemClock()
    assert abs(clock.now() - time.time()) < timeout(5)
    before = clock.monotonic()
    wake = asyncio.Event()
    wake.set()
    await asyncio.wait_for(clock.sleep(3600, wake), timeout(5))  # the event ends it
    fired = asyncio.Event()
    clock.call_later(0, fired.set)
    await asyncio.wait_for(fired.wait(), timeout(5))
    assert clock.monotonic() >= before
