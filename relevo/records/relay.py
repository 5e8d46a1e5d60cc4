"""The outbox relay: publishes committed changes, in commit order, after commit.

Each node runs one, with two paths:

- **Fast path.** A transaction that commits on this node hands its outbox
  rows (already in memory) to the relay, which publishes them at once, in
  commit order, without reading them back, and marks them sent in batches.
  Rows that committed while it was publishing go out together, as one
  ``publish_many`` (one round trip to the broker for the whole burst).
- **Slow path.** Every ``poll_interval`` the relay claims rows nobody
  published: rows older than ``grace`` (their node died, or crashed between
  commit and hand-over) — and at start, every pending row. Claims run in a
  write transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL and MySQL, the
  single writer on SQLite), so relays on several nodes split that work.

A row is marked sent only after the broker accepted it, so the relay itself
is at least once: a crash between publish and mark, or a node slower than
``grace`` whose rows another node takes over, publishes a row twice. Every
publish therefore carries the row's idempotency key (:func:`idempotency_key`),
and the broker turns the repeat into nothing: one event, one offset, as long
as the repeat comes within the broker's window (5 minutes by default, far
beyond ``grace``).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import msgspec
import sqlalchemy as sa

from relevo.clock import Clock, SystemClock
from relevo.protocol.errors import RelevoError
from relevo.protocol.types import Publication
from relevo.records import schema as s
from relevo.records._faults import fault
from relevo.records.store import DbConn, Store

__all__ = ["OutboxRelay", "OutboxRow", "Publisher", "idempotency_key"]

log = logging.getLogger("relevo.records.relay")

_channels = msgspec.json.Decoder(list[str])


class Publisher(Protocol):
    """What the relay publishes to: the hub (``Hub.publish_many``)."""

    async def publish_many(
        self, batch: Sequence[tuple[str, str, bytes, str | None]], source: str = ...
    ) -> list[Publication | RelevoError]: ...


@dataclass(frozen=True, slots=True)
class OutboxRow:
    seq: int
    channels: list[str]
    event: str
    data: bytes
    created_at: float


def idempotency_key(row: OutboxRow) -> str:
    """The same for every node that publishes ``row``. The commit time keeps
    it unique when a restored or recreated database hands out a ``seq``
    again within the broker's window."""
    return f"outbox:{row.seq}:{row.created_at!r}"


class OutboxRelay:
    MAX_QUEUE = 10_000
    """Committed rows held in memory for the fast path, at most."""
    MARK_DELAY = 0.05
    """Seconds published rows wait to be marked sent, so marks go in batches."""

    def __init__(
        self,
        store: Store,
        publisher: Publisher,
        *,
        poll_interval: float = 1.0,
        grace: float = 5.0,
        batch: int = 500,
        retention: float = 3600.0,
        clock: Clock | None = None,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.store = store
        self.publisher = publisher
        self.poll_interval = poll_interval
        self.grace = grace
        self.batch = batch
        self.retention = retention
        self.published = 0
        self.dropped = 0  # rows no retry could publish (logged as errors)
        self._queue: list[OutboxRow] = []
        self._unmarked: list[int] = []
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._last_poll = 0.0
        self._marks_since = 0.0
        self._started_at = 0.0
        self._last_prune = self.clock.monotonic()

    def enqueue(self, rows: list[OutboxRow]) -> None:
        """Rows this node just committed: publish them now. While the broker
        is down the queue stops growing at ``MAX_QUEUE``; rows past it stay
        in the outbox table, where the slow path finds them."""
        if len(self._queue) < self.MAX_QUEUE:
            self._queue.extend(rows)
        self._idle.clear()
        self._wake.set()

    def start(self) -> None:
        self._started_at = self.clock.now()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="outbox-relay")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        try:
            await self._flush_marks()
        except Exception:
            log.warning("could not mark %d published outbox rows", len(self._unmarked))

    async def idle(self) -> None:
        """Wait until everything committed so far on this node is published."""
        await self._idle.wait()

    async def _run(self) -> None:
        backoff = 0.05
        first = True
        while True:
            self._wake.clear()
            try:
                if first or self.clock.monotonic() - self._last_poll >= self.poll_interval:
                    while await self.drain_once(all_pending=first) >= self.batch:
                        pass
                    self._last_poll = self.clock.monotonic()
                    first = False
                await self._publish_queue()
                if self._unmarked and self.clock.monotonic() - self._marks_since >= self.MARK_DELAY:
                    await self._flush_marks()
                await self._maybe_prune()
                backoff = 0.05
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay failed; retrying in %.2fs", backoff)
                # Back-off after an I/O failure: real time, so a retry never waits
                # for a test's virtual clock to move.
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if self._wake.is_set():
                continue
            self._idle.set()
            timeout = self.MARK_DELAY if self._unmarked else self.poll_interval
            await self.clock.sleep(timeout, self._wake)

    async def _publish_queue(self) -> None:
        while self._queue:
            rows, self._queue = self._queue[: self.batch], self._queue[self.batch :]
            try:
                await self._publish(rows)
            except BaseException:
                self._queue[:0] = rows  # keep the order; retry from here
                raise
            fault("after_publish")
            if not self._unmarked:
                self._marks_since = self.clock.monotonic()
            self._unmarked.extend(row.seq for row in rows)
            if len(self._unmarked) >= self.batch:
                await self._flush_marks()
            await asyncio.sleep(0)  # let commits that raced us join the next burst

    async def _publish(self, rows: list[OutboxRow]) -> None:
        """Publish ``rows``, in commit order, in one broker call: each to every
        one of its channels, with the row's idempotency key. A row that no
        retry could ever publish (an impossible channel name) is logged and
        dropped — waiting on it would hold up every row behind it forever —
        and marked sent like the others. A broker failure raises: the batch is
        published again, and the keys make the repeats nothing."""
        batch = [(ch, r.event, r.data, idempotency_key(r)) for r in rows for ch in r.channels]
        results = iter(await self.publisher.publish_many(batch, source="records"))
        for row in rows:
            refused = [
                r for r in itertools.islice(results, len(row.channels)) if isinstance(r, Exception)
            ]
            if refused:
                self.dropped += 1
                log.error(
                    "outbox row %s (%s on %s) can never be published, dropped: %s",
                    row.seq, row.event, row.channels, refused[0],
                )  # fmt: skip
            else:
                self.published += 1

    async def _flush_marks(self) -> None:
        if not self._unmarked:
            return
        seqs, self._unmarked = self._unmarked, []
        try:
            async with self.store.write() as conn:
                await self._mark(conn, seqs)
        except BaseException:
            self._unmarked[:0] = seqs
            raise

    def _pending(self, all_pending: bool) -> sa.Select[Any]:
        # Never rows this node may still hand over itself: those committed
        # since it started (at start) or within ``grace`` (later).
        o = s.outbox.c
        horizon = self._started_at if all_pending else self.clock.now() - self.grace
        stmt = sa.select(o.seq, o.channels, o.event, o.data, o.created_at).where(
            o.sent_at.is_(None), o.created_at < horizon
        )
        in_flight = [r.seq for r in self._queue] + self._unmarked
        if in_flight:
            stmt = stmt.where(o.seq.not_in(in_flight))
        return stmt.order_by(o.seq).limit(self.batch)

    async def drain_once(self, *, all_pending: bool = False) -> int:
        """Claim and publish one batch of rows nobody published (older than
        ``grace``, or all with ``all_pending``); returns how many it claimed."""
        async with self.store.write() as conn:
            stmt = self.store.locked(self._pending(all_pending), skip=True)
            rows = (await conn.execute(stmt)).all()
            batch = [
                OutboxRow(
                    int(seq),
                    _channels.decode(channels),
                    event,
                    data.encode() if isinstance(data, str) else bytes(data),
                    created_at,
                )
                for seq, channels, event, data, created_at in rows
            ]
            if batch:
                await self._publish(batch)
                fault("after_publish")
                await self._mark(conn, [row.seq for row in batch])
        return len(rows)

    async def _mark(self, conn: DbConn, seqs: list[int]) -> None:
        if seqs:
            o = s.outbox.c
            await conn.execute(
                sa.update(s.outbox).where(o.seq.in_(seqs)).values(sent_at=self.clock.now())
            )

    async def _maybe_prune(self) -> None:
        if self.clock.monotonic() - self._last_prune < 60.0:
            return
        self._last_prune = self.clock.monotonic()
        o = s.outbox.c
        horizon = self.clock.now() - self.retention
        async with self.store.write() as conn:
            await conn.execute(
                sa.delete(s.outbox).where(o.sent_at.is_not(None), o.sent_at < horizon)
            )
