"""The one write path: everything a change of one record writes.

Every write — create, update, transition, delete, a lease change — ends in
:meth:`WritePath.write`: the record row (updated only at the version read),
a history row, one outbox row for every channel of the record before and
after the change, and the record's timers re-armed or disarmed. Keeping it
in one place is what makes "a committed change is always announced, with its
history" true for every kind of change.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import msgspec
import sqlalchemy as sa

from relevo.protocol.errors import Conflict, ProtocolError
from relevo.records import _sql
from relevo.records import schema as s
from relevo.records.kinds import LEASE_TIMER, Kind, Timer
from relevo.records.model import SYSTEM, Actor, Lease, Record
from relevo.records.relay import OutboxRow
from relevo.records.rows import slot_values
from relevo.records.store import DbConn

if TYPE_CHECKING:
    from relevo.records.service import Records

__all__ = ["KEEP", "WritePath", "is_activity", "sequence_number"]

_json = msgspec.json.Encoder()
KEEP: Any = object()
"""``lease=KEEP``: the change leaves the record's lease as it is."""


class WritePath:
    def __init__(self, records: Records, conn: DbConn, now: float) -> None:
        self.records = records
        self.conn = conn
        self._now = now
        self.pinned = False
        """App code set :attr:`now`: a row lock no longer moves it (``locked_now``)."""
        self.store = records.store
        self.outbox: list[OutboxRow] = []
        self.earliest_deadline: float | None = None
        self.allocated: set[tuple[str, str]] = set()
        """Ids this transaction took from their kind's sequence (``new_id``)."""

    @property
    def now(self) -> float:
        """The transaction's time: ``updated_at``, history, leases and timer
        deadlines count from it. Taken when the transaction began, again once
        a row lock is held (``locked_now``), unless app code set it."""
        return self._now

    @now.setter
    def now(self, value: float) -> None:
        self._now = value
        self.pinned = True

    def locked_now(self) -> None:
        """A row lock is held: take the time again. The lock may have been
        waited for while another transaction wrote the row, so the time taken
        when this one began can be earlier than that write's; the change made
        under the lock is stamped after it. A time app code chose (a demo's
        past, an app's own clock) stays as it was set."""
        if not self.pinned:
            self._now = max(self._now, self.records.clock.now())

    def kind(self, name: str) -> Kind:
        return self.records.kind(name)

    # -- the one write path ---------------------------------------------------

    async def write(
        self,
        k: Kind,
        before: Record | None,
        data: Mapping[str, Any],
        state: str | None,
        actor: Actor = SYSTEM,
        *,
        event: str,
        transition: str | None = None,
        reason: str | None = None,
        input: Mapping[str, Any] | None = None,
        op: str = "upsert",
        new_id: str | None = None,
        lease: Lease | None = KEEP,
        fence: int | None = None,
    ) -> Record:
        """Row, history, outbox and timers for one change of one record."""
        now = self.now
        lease_v: Lease | None = before.lease if (lease is KEEP and before) else lease
        if lease is KEEP and before is None:
            lease_v = None
        after = Record(
            kind=k.name,
            id=before.id if before is not None else str(new_id),
            version=(before.version + 1) if before is not None else 1,
            state=state,
            data=dict(data),
            created_at=before.created_at if before is not None else now,
            updated_at=now,
            lease=lease_v,
            fence=fence if fence is not None else (before.fence if before is not None else 0),
        )
        if op != "delete":
            try:
                k.check_channels(after)
            except ValueError as exc:
                raise ProtocolError(str(exc)) from None
        row: dict[str, Any] = {
            "version": after.version,
            "state": after.state,
            "data": _json.encode(after.data).decode(),
            "lease_holder": lease_v.holder if lease_v else None,
            "lease_expires": lease_v.expires_at if lease_v else None,
            "lease_token": after.fence,
            "updated_at": now,
            **slot_values(k, after.data),
        }
        key = {"b_kind": k.name, "b_id": after.id}
        changes = {f: v for f, v in after.data.items() if before is None or before.data.get(f) != v}
        history = {
            "kind": k.name,
            "record_id": after.id,
            "version": after.version,
            "event": event,
            "transition": transition,
            "from_state": before.state if before is not None else None,
            "to_state": after.state,
            "actor": actor.user,
            "reason": reason[:255] if reason else None,
            "data": _json.encode(
                {"input": k.redacted(input or {}), "changes": k.redacted(changes)}
            ).decode(),
            "created_at": now,
        }
        channels = k.channels_of(after)
        if before is not None:
            channels = list(dict.fromkeys([*k.channels_of(before), *channels]))
        payload = {
            "kind": k.name,
            "id": after.id,
            "version": after.version,
            "op": op,
            "record": k.public(after),
            "transition": transition,
            "from": before.state if before is not None else None,
            "to": after.state,
            "by": actor.user,
            "reason": reason,
        }
        outbox = self._outbox_row(channels, event, _json.encode(payload)) if channels else None
        if before is not None and op != "delete" and self.store.dialect == "postgresql":
            await self._update_at_once(k, before, row, key, history, outbox)
        else:
            if before is None:
                if (k.name, after.id) in self.allocated:
                    self.allocated.discard((k.name, after.id))
                else:
                    await self._sequence_past(k.name, after.id)
                row.update(kind=k.name, id=after.id, created_at=now)
                await self.conn.execute(_sql.INSERT_RECORD, row)
            elif op == "delete":
                await self.conn.execute(_sql.DELETE_RECORD, key)
                await self.conn.execute(_sql.DELETE_TIMERS, key)
            else:
                res = await self.conn.execute(
                    _sql.UPDATE_RECORD, {**row, **key, "b_version": before.version}
                )
                if res.rowcount != 1:
                    raise _concurrent(k, before)
            await self.conn.execute(_sql.INSERT_HISTORY, history)
            if outbox is not None:
                await self._insert_outbox(outbox)
        if op != "delete":
            await self._rearm(k, before, after, actor)
        return after

    async def _outbox(self, channels: list[str], event: str, data: bytes) -> None:
        await self._insert_outbox(self._outbox_row(channels, event, data))

    def _outbox_row(self, channels: list[str], event: str, data: bytes) -> OutboxRow:
        """The row, its ``seq`` to be set by the insert. Its time is the
        relay's clock: the relay's grace is measured on it."""
        return OutboxRow(0, channels, event, data, self.records.clock.now())

    async def _insert_outbox(self, row: OutboxRow) -> None:
        res = await self.conn.execute(_sql.INSERT_OUTBOX, _outbox_values(row))
        key = res.inserted_primary_key
        assert key is not None
        self._keep(row, int(key[0]))

    def _keep(self, row: OutboxRow, seq: int) -> None:
        # Kept in memory so the relay publishes right after commit, unread.
        self.outbox.append(dataclasses.replace(row, seq=seq))

    async def _update_at_once(
        self,
        k: Kind,
        before: Record,
        row: Mapping[str, Any],
        key: Mapping[str, Any],
        history: Mapping[str, Any],
        outbox: OutboxRow | None,
    ) -> None:
        """PostgreSQL: the record's update, its history row and its outbox
        row in one statement (see ``_sql.PG_UPDATE_WRITE``)."""
        params: dict[str, Any] = {**key, "b_version": before.version}
        params.update({f"r_{c}": row[c] for c in _sql.UPDATED_COLUMNS})
        params.update({f"h_{c}": v for c, v in history.items()})
        if outbox is None:
            stmt = _sql.PG_UPDATE_WRITE_NO_OUTBOX
        else:
            stmt = _sql.PG_UPDATE_WRITE
            params.update({f"o_{c}": v for c, v in _outbox_values(outbox).items()})
        written = (await self.conn.execute(stmt, params)).first()
        if written is None:
            raise _concurrent(k, before)
        if outbox is not None:
            self._keep(outbox, int(written[0]))

    async def _sequence_past(self, kind: str, rid: str) -> None:
        """Move ``kind``'s id sequence past a numeric id chosen by its writer,
        so the sequence never hands it out; taking the sequence's row lock
        also orders this insert with concurrent ``new_id`` calls."""
        n = sequence_number(rid)
        if n is not None:
            await self.conn.execute(self.store.raise_to(s.sequences, f"id:{kind}", n))

    # -- timers -----------------------------------------------------------------

    async def _rearm(self, k: Kind, before: Record | None, after: Record, actor: Actor) -> None:
        for t in k.timers:
            was = before is not None and before.state in t.in_states
            if after.state not in t.in_states:
                if was:
                    await self.disarm(k.name, after.id, t.timer_name)
                continue
            moved = (
                before is None
                or before.state != after.state
                or (
                    t.activity_by is not None
                    and before.get(t.activity_by) != after.get(t.activity_by)
                )
            )
            if moved or is_activity(t, after, actor):
                await self._arm(k.name, after.id, t.timer_name, self.now + t.after)
        if before is not None and before.lease is not None and after.lease is None:
            await self.disarm(k.name, after.id, LEASE_TIMER)

    async def _arm(self, kind: str, id: str, name: str, deadline: float) -> None:
        values = {"kind": kind, "record_id": id, "name": name, "deadline": deadline}
        await self.conn.execute(self.store.upsert(s.timers, ["deadline"]), values)
        if self.earliest_deadline is None or deadline < self.earliest_deadline:
            self.earliest_deadline = deadline

    async def arm_timer(self, kind: str, id: str, name: str, deadline: float) -> None:
        """Arm (or move) a record's timer to an absolute deadline."""
        await self._arm(kind, str(id), name, deadline)

    async def disarm(self, kind: str, id: str, name: str) -> None:
        t = s.timers.c
        await self.conn.execute(
            sa.delete(s.timers).where(t.kind == kind, t.record_id == id, t.name == name)
        )


_SEQUENCE_MAX = 2**53
"""Chosen ids above this do not move a sequence (it could never reach them, and
raising it near the column's limit would make the next create overflow)."""


def sequence_number(rid: str) -> int | None:
    """The sequence value ``rid`` spells, if a sequence could ever produce it."""
    if not (rid.isascii() and rid.isdigit()) or (rid.startswith("0") and rid != "0"):
        return None
    n = int(rid)
    return n if n <= _SEQUENCE_MAX else None


def _outbox_values(row: OutboxRow) -> dict[str, Any]:
    return {
        "channels": _json.encode(row.channels).decode(),
        "event": row.event,
        "data": row.data.decode(),
        "created_at": row.created_at,
    }


def _concurrent(k: Kind, before: Record) -> Conflict:
    return Conflict(f"{k.name} {before.id} changed concurrently; reload and retry")


def is_activity(t: Timer, rec: Record, actor: Actor) -> bool:
    if actor.is_system:
        return False
    if t.activity_by is None:
        return True
    owner = rec.get(t.activity_by)
    return owner is not None and str(owner) == actor.user
