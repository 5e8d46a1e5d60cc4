"""The timer scheduler: durable deadlines, fired once, within a second.

Timers are rows (``relevo_timers``), armed and moved by the same transaction
that changes the record, so they survive restarts and are never armed for a
change that rolled back. The scheduler sleeps until the earliest deadline —
not a fixed-interval poll — and is woken early when a transaction on this
node arms a nearer one; it also wakes every ``max_sleep`` seconds to see
deadlines armed by other nodes. At start it fires whatever fell due while
the server was down.

Firing deletes the timer row and runs its transition in one transaction, so
the effect happens exactly once. Several nodes claim due rows with
``FOR UPDATE SKIP LOCKED`` (PostgreSQL, MySQL) and never fire the same one;
SQLite's single writer gives the same guarantee.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import sqlalchemy as sa

from relevo.clock import Clock
from relevo.protocol.errors import RelevoError
from relevo.records import leases
from relevo.records import schema as s
from relevo.records.kinds import LEASE_TIMER
from relevo.records.model import SYSTEM

if TYPE_CHECKING:
    from relevo.records.service import Records

__all__ = ["TimerScheduler"]

log = logging.getLogger("relevo.records.timers")


class TimerScheduler:
    def __init__(
        self, records: Records, clock: Clock, *, batch: int = 200, max_sleep: float = 1.0
    ) -> None:
        self.records = records
        self.clock = clock
        self.batch = batch
        self.max_sleep = max_sleep
        self.fired = 0
        self._wake = asyncio.Event()
        self._next: float | None = None
        self._task: asyncio.Task[None] | None = None

    def notify(self, deadline: float) -> None:
        """A transaction armed ``deadline``: wake up if it is the nearest."""
        if self._next is None or deadline < self._next:
            self._next = deadline
            self._wake.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="timers")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _run(self) -> None:
        backoff = 0.05
        while True:
            self._wake.clear()
            try:
                # Read first: an idle node then costs one indexed MIN() per
                # wake-up, not a write transaction.
                nxt = await self.next_deadline()
                if nxt is not None and nxt <= self.clock.now():
                    await self.fire_due()
                    continue
                backoff = 0.05
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("timer scheduler failed; retrying in %.2fs", backoff)
                # Back-off after an I/O failure: real time, so a retry never waits
                # for a test's virtual clock to move.
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if self._wake.is_set():
                continue
            self._next = nxt
            delay = self.max_sleep if nxt is None else min(nxt - self.clock.now(), self.max_sleep)
            if delay > 0:
                await self.clock.sleep(delay, self._wake)

    async def next_deadline(self) -> float | None:
        async with self.records.store.read() as conn:
            value = (await conn.execute(sa.select(sa.func.min(s.timers.c.deadline)))).scalar()
        return None if value is None else float(value)

    async def fire_due(self) -> int:
        """Fire up to ``batch`` due timers in one transaction; returns how many."""
        t = s.timers.c
        stmt = (
            sa.select(t.kind, t.record_id, t.name)
            .where(t.deadline <= self.clock.now())
            .order_by(t.deadline)
            .limit(self.batch)
        )
        async with self.records.transaction() as tx:
            rows = (await tx.conn.execute(self.records.store.locked(stmt, skip=True))).all()
            for kind, record_id, name in rows:
                await tx.disarm(kind, record_id, name)
                if kind not in self.records.kinds:
                    log.warning("timer %s on unknown kind %s dropped", name, kind)
                    continue
                try:
                    async with tx.savepoint():
                        if name == LEASE_TIMER:
                            await leases.expire(tx, kind, record_id)
                            continue
                        timer = next(
                            (x for x in tx.kind(kind).timers if x.timer_name == name), None
                        )
                        if timer is None:
                            log.warning("timer %s of %s is no longer declared", name, kind)
                            continue
                        await tx.transition(
                            kind, record_id, timer.transition, by=SYSTEM, reason=f"timer:{name}"
                        )
                except RelevoError as exc:
                    log.warning("timer %s on %s %s: %s", name, kind, record_id, exc.message)
                except Exception:
                    log.exception("timer %s on %s %s failed", name, kind, record_id)
        self.fired += len(rows)
        return len(rows)
