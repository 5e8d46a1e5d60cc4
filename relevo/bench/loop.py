"""The event loop the benchmarks run on: uvloop when it is installed (as the
server runs), else asyncio's own."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["run_fast"]

T = TypeVar("T")


def run_fast(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion on uvloop, or on asyncio without it."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)
