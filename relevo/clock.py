"""The one source of time: every part of relevo that waits, expires or stamps
takes a :class:`Clock` (STYLE §11).

Two readings, for two uses:

- :meth:`Clock.now` is wall time, seconds since the Unix epoch. It is what is
  stored and compared across nodes: timer deadlines, lease expiry, outbox
  timestamps, node heartbeats, token ``exp``.
- :meth:`Clock.monotonic` never goes back. It measures durations inside one
  process: rate limits, pings, TTLs of the memory broker, poll intervals.

:class:`SystemClock` reads the machine's clocks and sleeps on the event loop.
:class:`VirtualClock` is for tests: time stands still until the test calls
:meth:`VirtualClock.advance`, which wakes the sleepers and runs the
callbacks whose time has come, in deadline order. A 300-second timeout then
fires at once, and the same way on a fast machine and a loaded one.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from collections.abc import Callable
from typing import Protocol

__all__ = ["Cancellable", "Clock", "SystemClock", "VirtualClock"]


class Cancellable(Protocol):
    """A scheduled callback (``asyncio.TimerHandle`` is one)."""

    def cancel(self) -> None: ...


class Clock(Protocol):
    def now(self) -> float:
        """Wall time: seconds since the Unix epoch."""

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin that never goes back."""

    async def sleep(self, seconds: float, wake: asyncio.Event | None = None) -> None:
        """Return after ``seconds`` of this clock's time, or as soon as ``wake`` is set."""

    def call_later(self, delay: float, callback: Callable[[], object]) -> Cancellable:
        """Run ``callback`` (on the running loop) after ``delay`` seconds of this clock."""


class SystemClock:
    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float, wake: asyncio.Event | None = None) -> None:
        if wake is None:
            await asyncio.sleep(max(0.0, seconds))
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), max(0.0, seconds))

    def call_later(self, delay: float, callback: Callable[[], object]) -> Cancellable:
        return asyncio.get_running_loop().call_later(max(0.0, delay), callback)


#: 2026-01-01 00:00 UTC: where virtual wall time starts unless a test says otherwise.
VIRTUAL_EPOCH = 1_767_225_600.0


class _Scheduled:
    """One sleeper or callback of a :class:`VirtualClock`."""

    __slots__ = ("callback", "cancelled", "future")

    def __init__(
        self,
        future: asyncio.Future[None] | None = None,
        callback: Callable[[], object] | None = None,
    ) -> None:
        self.future = future
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True

    def fire(self) -> None:
        if self.cancelled:
            return
        if self.future is not None:
            if not self.future.done():
                self.future.set_result(None)
        elif self.callback is not None:
            self.callback()


def _wake(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class VirtualClock:
    """Virtual time: it moves only when a test calls :meth:`advance`.

    ``now()`` starts at ``start`` (wall seconds), ``monotonic()`` at 0, and
    both move together (:meth:`advance_to` lands on a wall time exactly).
    Sleepers and callbacks are kept in deadline order (ties in the order they
    were scheduled); :meth:`advance` runs each callback with the clock set to
    its own deadline and resolves each sleeper's future in that order, so the
    sleepers resume in deadline order once the test yields to the loop.
    """

    def __init__(self, start: float = VIRTUAL_EPOCH) -> None:
        self._wall = start
        self._elapsed = 0.0
        self._queue: list[tuple[float, int, _Scheduled]] = []
        self._ids = itertools.count()

    def now(self) -> float:
        return self._wall

    def monotonic(self) -> float:
        return self._elapsed

    @property
    def sleepers(self) -> int:
        """How many sleepers and callbacks wait for time to move (for tests
        that must know a task reached its sleep before they advance)."""
        return sum(1 for _, _, s in self._queue if not s.cancelled)

    def _schedule(self, delay: float, item: _Scheduled) -> _Scheduled:
        heapq.heappush(self._queue, (self._elapsed + max(0.0, delay), next(self._ids), item))
        return item

    async def sleep(self, seconds: float, wake: asyncio.Event | None = None) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        item = self._schedule(seconds, _Scheduled(future=fut))
        if wake is None:
            try:
                await fut
            finally:
                item.cancel()
            return
        waiter = asyncio.ensure_future(wake.wait())
        waiter.add_done_callback(lambda _: _wake(fut))
        try:
            await fut
        finally:
            item.cancel()
            waiter.cancel()
            if not fut.done():
                fut.cancel()

    def call_later(self, delay: float, callback: Callable[[], object]) -> Cancellable:
        return self._schedule(delay, _Scheduled(callback=callback))

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` and fire, in deadline order,
        everything due by then."""
        if seconds < 0:
            raise ValueError(f"time does not go back: advance({seconds!r})")
        self._move(self._elapsed + seconds, self._wall + seconds)

    def advance_to(self, wall: float) -> None:
        """Move wall time forward to exactly ``wall`` (no-op if it is already
        past): a deadline read from a record is then due, not one rounding short."""
        if wall > self._wall:
            self._move(self._elapsed + (wall - self._wall), wall)

    def _move(self, elapsed: float, wall: float) -> None:
        while self._queue and self._queue[0][0] <= elapsed:
            when, _, item = heapq.heappop(self._queue)
            if when > self._elapsed:
                self._wall += when - self._elapsed
                self._elapsed = when
            item.fire()
        self._elapsed, self._wall = elapsed, wall
