"""Counts and lookups over the turnos table that stay fast on a long day.

The records API returns whole records (JSON decoded in Python): right for
screens, too slow for "how many are waiting" with 20,000 tickets a day and
weeks of them in the table. These read-only queries use the columns the
``turno`` kind indexes (``Kind.slots``) on the shared table of
``relevo.records.schema``; nothing here writes, so every change still goes
through the records layer.

Each query names one selective index only (SQLite's planner, without
statistics, may pick a poor one when given several).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from relevo.records import Kind, Records
from relevo.records import schema as s
from relevo.records.store import DbConn

__all__ = ["WaitCache", "count_in_queues", "day_counts"]


def _col(kind: Kind, field: str) -> sa.ColumnElement[Any]:
    return s.records.c[kind.slots[field]]


async def day_counts(records: Records, fecha: str) -> list[tuple[str, str, str | None, int]]:
    """(state, trámite, mesa, how many) for the turnos of ``fecha``."""
    k = records.kind("turno")
    r = s.records.c
    tramite, mesa = _col(k, "tramite_id"), _col(k, "mesa_id")
    stmt = (
        sa.select(r.state, tramite, mesa, sa.func.count())
        .where(r.kind == k.name, _col(k, "fecha") == fecha)
        .group_by(r.state, tramite, mesa)
    )
    async with records.store.read() as conn:
        rows = (await conn.execute(stmt)).all()
    return [(str(st), str(tr), None if m is None else str(m), int(n)) for st, tr, m, n in rows]


async def count_in_queues(
    conn: DbConn, kind: Kind, queues: Iterable[str], *, exclude: str | None = None
) -> int:
    """Turnos waiting in these queues (``clave_cola`` values)."""
    r = s.records.c
    where = [r.kind == kind.name, _col(kind, "clave_cola").in_(list(queues))]
    if exclude is not None:
        where.append(r.id != exclude)
    return int((await conn.execute(sa.select(sa.func.count()).where(*where))).scalar_one())


class WaitCache:
    """Each called turno's wait (seconds from its ticket to its first call),
    for one day. A first call never changes, so after the first read only
    the turnos first called since are read — a range of the index on
    ``primer_llamado_at`` — however long the day has been."""

    OVERLAP_MS = 120_000
    """Calls committed late (another node, a slow transaction) are read again."""

    def __init__(self) -> None:
        self.fecha: str | None = None
        self.waits: dict[str, tuple[str, float]] = {}  # turno id → (trámite, seconds)
        self._high = 0

    async def update(self, records: Records, fecha: str) -> list[tuple[str, float]]:
        if fecha != self.fecha:
            self.fecha, self.waits, self._high = fecha, {}, 0
        k = records.kind("turno")
        r = s.records.c
        first_call = _col(k, "primer_llamado_at")
        # The first read of a day takes the day's called turnos (index on
        # fecha); later ones, those first called since (index on the call).
        since = (
            [_col(k, "fecha") == fecha, first_call.is_not(None)]
            if not self.waits
            else [first_call >= self._high - self.OVERLAP_MS]
        )
        stmt = sa.select(
            r.id, _col(k, "fecha"), _col(k, "tramite_id"), first_call, r.created_at
        ).where(r.kind == k.name, *since)
        async with records.store.read() as conn:
            rows = (await conn.execute(stmt)).all()
        for rid, day, tramite, first, created in rows:
            if day == fecha:
                wait = max(0.0, int(first) / 1000 - float(created))
                self.waits[str(rid)] = (str(tramite), wait)
            self._high = max(self._high, int(first))
        return list(self.waits.values())
