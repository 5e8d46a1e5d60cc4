"""Time for timers, leases and node heartbeats, injectable for tests.

Deadlines are stored in the database and compared by every node, so the clock
is wall time (seconds since the Unix epoch), not a monotonic one. Tests pass a
:class:`MockClock` and move it with :meth:`MockClock.advance`: a 300-second
timeout then fires at once and deterministically (STYLE §11).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from typing import Protocol

__all__ = ["Clock", "MockClock", "SystemClock"]


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch."""

    async def sleep(self, seconds: float, wake: asyncio.Event | None = None) -> None:
        """Return after ``seconds`` of this clock's time, or as soon as ``wake`` is set."""


class SystemClock:
    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float, wake: asyncio.Event | None = None) -> None:
        if wake is None:
            await asyncio.sleep(max(0.0, seconds))
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), max(0.0, seconds))


def _wake(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class MockClock:
    """Virtual time: it moves only when a test calls :meth:`advance`."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:
        self._now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._ids = itertools.count()

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float, wake: asyncio.Event | None = None) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._ids), fut))
        if wake is None:
            await fut
            return
        waiter = asyncio.ensure_future(wake.wait())
        waiter.add_done_callback(lambda _: _wake(fut))
        try:
            await fut
        finally:
            waiter.cancel()
            if not fut.done():
                fut.cancel()

    def advance(self, seconds: float) -> None:
        """Move time forward and wake every sleeper whose time has come."""
        self._now += seconds
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, fut = heapq.heappop(self._sleepers)
            if not fut.done():
                fut.set_result(None)
