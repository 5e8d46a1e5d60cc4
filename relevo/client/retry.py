"""Trying an HTTP call again: the one back-off schedule and retry loop of the
SDK (``relevo.client.http``) and of the apps' clients of other services (the
inbox's Graph client).

``backoff(retries, first)`` is the schedule: ``retries`` waits, ``first``
seconds doubled each time, optionally capped and jittered. ``retrying`` runs
a call until it succeeds, its error is not one to retry, or the schedule is
spent; an error may name its own wait (a ``Retry-After``, read with
:func:`retry_after`), which wins over the schedule's. The caller brings the
sleep, so a client on an injected clock waits on that clock.
"""

from __future__ import annotations

import math
import random
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import TypeVar

__all__ = ["backoff", "retry_after", "retrying"]

T = TypeVar("T")


def backoff(
    retries: int, first: float, *, cap: float = math.inf, jitter: bool = False
) -> Iterator[float]:
    """Seconds to wait before each of ``retries`` retries: ``first`` doubled
    each time, at most ``cap``; with ``jitter``, each drawn from its upper half
    (so clients that failed together do not retry together)."""
    for attempt in range(retries):
        delay = min(cap, first * 2**attempt)
        yield delay * (0.5 + random.random() / 2) if jitter else delay


def retry_after(value: str | None, *, cap: float = 300.0) -> float | None:
    """A ``Retry-After`` header's seconds (at most ``cap``); None when absent
    or not a number (the HTTP-date form is not honoured: the schedule's wait is)."""
    try:
        return max(0.0, min(float(value or ""), cap))
    except ValueError:
        return None


async def retrying(
    call: Callable[[], Awaitable[T]],
    delays: Iterable[float],
    *,
    retryable: Callable[[Exception], bool],
    sleep: Callable[[float], Awaitable[object]],
    wait: Callable[[Exception], float | None] = lambda exc: None,
) -> T:
    """``await call()``, again after each of ``delays`` while it raises an
    error that is ``retryable``; the last error is raised as it was. ``wait``
    gives an error's own wait (None: the schedule's)."""
    pending = iter(delays)
    while True:
        try:
            return await call()
        except Exception as exc:
            delay = next(pending, None)
            if delay is None or not retryable(exc):
                raise
            own = wait(exc)
        await sleep(delay if own is None else own)
