"""A token bucket per key (a kiosk's address), bounded in memory.

The check happens before the request touches the database, so a flood is
refused without writing or numbering anything.
"""

from __future__ import annotations

from collections import OrderedDict

from relevo.clock import Clock, SystemClock

__all__ = ["RateLimiter"]


class RateLimiter:
    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        clock: Clock | None = None,
        max_keys: int = 10_000,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.clock: Clock = clock or SystemClock()
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key → (tokens, at)

    def take(self, key: str) -> float:
        """Spend one token: 0.0 when allowed, else the seconds until one is free."""
        now = self.clock.monotonic()
        tokens, at = self._buckets.pop(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.rate
        self._buckets[key] = (tokens, now)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)  # the least recently seen
        return wait
