"""The demo's gentle simulators: a :class:`Ticker` runs one app's ``act()``
now and then while ``relevo demo`` runs, so a board left open for an hour
still moves (new leads, tickets called, vendors ticking).

An app's simulator acts through its own service calls — the same records
transactions a user's click runs — and keeps what it creates bounded (what
it starts, it finishes later). It runs only in demo mode and only when the
app's ``simulate`` option is on (:func:`simulating`); it stops with the
server. Its task is named ``simulator:<app>``, so a test can see it go.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable

from relevo.clock import Clock, SystemClock
from relevo.hub import Background, Hub
from relevo.settings import Settings

__all__ = ["Online", "Ticker", "online_users", "simulating"]

log = logging.getLogger("relevo.apps.simulator")

Act = Callable[[], Awaitable[bool]]
"""One step of a simulator; True when it changed something."""

Online = Callable[[], set[str]]
"""Who is signed in now: the people a simulator never acts for."""


def online_users(hub: Hub) -> Online:
    """The users with a live connection to ``hub`` (this node), asked anew at each call."""

    def online() -> set[str]:
        return {s.identity.user for s in hub.sessions if s.identity.user}

    return online


def simulating(settings: Settings, simulate: bool, every: float) -> bool:
    """Whether an app's simulator runs: demo mode, ``simulate`` on, a positive interval."""
    return settings.demo and simulate and every > 0


class Ticker:
    """Calls ``act`` every ``every`` seconds (±40 %, so apps don't move in
    step) from :meth:`start` until :meth:`stop`. A failing step is logged
    and the next one runs: a demo must not die of one bad roll."""

    def __init__(
        self,
        app: str,
        every: float,
        act: Act,
        *,
        seed: int | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.app = app
        self.every = every
        self.act = act
        self.rnd = random.Random(seed)
        self.actions = 0
        """Steps that changed something, since start."""
        self._tasks = Background(f"{app} simulator")

    @property
    def running(self) -> bool:
        return any(not task.done() for task in self._tasks.tasks)

    async def start(self) -> None:
        if not self.running:
            self._tasks.spawn(self._run(), name=f"simulator:{self.app}")

    async def stop(self) -> None:
        await self._tasks.cancel()

    async def _run(self) -> None:
        while True:
            await self.clock.sleep(self.every * (0.6 + 0.8 * self.rnd.random()))
            try:
                if await self.act():
                    self.actions += 1
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s simulator step failed", self.app)
