"""How busy the machine is, so a run can wait for other work (another
session's tests, a build) to stop before it starts a server: on 2 cores,
anyone else's CPU time is the benchmark's noise."""

from __future__ import annotations

import os
import time
from pathlib import Path

__all__ = ["busy_cores", "wait_until_quiet"]

_TICKS = os.sysconf("SC_CLK_TCK")


def _busy_seconds() -> float:
    """user + nice + system CPU seconds of the whole machine so far."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    return sum(int(v) for v in fields[1:4]) / _TICKS


def busy_cores(window: float = 1.0) -> float:
    """Cores' worth of CPU the machine used over the next ``window`` seconds."""
    before = _busy_seconds()
    time.sleep(window)
    return (_busy_seconds() - before) / window


def wait_until_quiet(limit: float = 0.15, max_wait: float = 120.0) -> float:
    """Waits (at most ``max_wait`` s) until the machine uses under ``limit``
    of a core; returns the last load seen."""
    deadline = time.monotonic() + max_wait
    load = busy_cores()
    while load >= limit and time.monotonic() < deadline:
        load = busy_cores()
    return load
