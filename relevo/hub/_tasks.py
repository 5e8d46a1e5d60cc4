"""Fire-and-forget work run in tasks that log their failures and that their
owner can wait for, briefly, or cancel when it closes: the hub's (presence
joins and leaves, broker unsubscribes, listeners) and the apps' (connectors,
simulators). Public as ``relevo.hub.Background``."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable
from typing import Any

__all__ = ["Background"]

log = logging.getLogger("relevo.hub")


class Background:
    __slots__ = ("tasks", "what")

    def __init__(self, what: str = "background task") -> None:
        self.tasks: set[asyncio.Task[Any]] = set()
        self.what = what
        """Named in the log line of a failure ("inbox connector task failed")."""

    def spawn(self, aw: Awaitable[Any], *, name: str | None = None) -> asyncio.Task[None]:
        """Run ``aw`` in a task (named ``name``, so a test or a task dump can find it)."""

        async def run() -> None:
            try:
                await aw
            except Exception:
                log.exception("%s failed", self.what)

        task = asyncio.get_running_loop().create_task(run(), name=name)
        self.tasks.add(task)

        def done(t: asyncio.Task[None]) -> None:
            self.tasks.discard(t)
            if t.cancelled() and inspect.iscoroutine(aw):
                aw.close()  # cancelled before it ever ran

        task.add_done_callback(done)
        return task

    async def close(self, grace: float) -> None:
        """Let what is running finish within ``grace`` seconds, then cancel the rest."""
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=grace)
        for task in list(self.tasks):
            task.cancel()

    async def cancel(self) -> None:
        """Cancel everything running and wait until it has stopped."""
        tasks = list(self.tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
