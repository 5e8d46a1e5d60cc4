"""The unit of work: everything a change writes, in one database transaction.

A :class:`Transaction` is what ``async with records.transaction() as tx``
yields. Every write through it — create, update, transition, delete, a lease
change, a custom ``emit`` — updates the record row, appends a history row,
writes one outbox row and (re)arms the record's timers, all on the same
connection. The outbox row is published only after the commit, by the relay;
so a change that rolls back is never announced, and one that commits always
is. App code with its own atomic logic ("call the next turno", "A-045") runs
inside the same transaction and uses :meth:`claim_next` and
:meth:`next_sequence`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any

import msgspec
import sqlalchemy as sa

from relevo.protocol.errors import Conflict, Locked, NotFound, PermissionDenied, ProtocolError
from relevo.protocol.frames import validate_channel
from relevo.records import _sql
from relevo.records import leases as _leases
from relevo.records import schema as s
from relevo.records._writepath import KEEP, WritePath, is_activity
from relevo.records.kinds import NOW, Context, Kind
from relevo.records.model import SYSTEM, Actor, Lease, Record
from relevo.records.rows import Filter, apply_filter, record_from_row

if TYPE_CHECKING:
    pass

__all__ = ["Transaction", "actor_of"]

_json = msgspec.json.Encoder()
_KEEP: Any = object()
_CANDIDATES = 32  # rows a MySQL claim_next tries before it gives up


def actor_of(by: Actor | str) -> Actor:
    """App code's ``by``: an Actor as is; a plain string is a trusted user
    of that name, and ``"system"`` the server itself (in-process only: a
    token's ``sub`` never comes through here)."""
    if isinstance(by, Actor):
        return by
    return SYSTEM if by == SYSTEM.user else Actor.trusted(by)


class Transaction(WritePath):
    """App code's handle on one database transaction (see the module docstring)."""

    # -- reads ----------------------------------------------------------------

    async def get(self, kind: str, id: str, *, lock: bool = False) -> Record:
        """The record, row-locked until commit when ``lock`` (PostgreSQL, MySQL)."""
        self.kind(kind)
        stmt = _sql.SELECT_RECORD_LOCKED if lock and self.store.skip_locked else _sql.SELECT_RECORD
        row = (await self.conn.execute(stmt, {"b_kind": kind, "b_id": str(id)})).first()
        if row is None:
            raise NotFound(f"{kind} {id} does not exist")
        if lock:
            self.locked_now()
        return record_from_row(row)

    async def find(
        self,
        kind: str,
        where: Mapping[str, Any] | None = None,
        *,
        limit: int = 1000,
        order_by: Sequence[str] = (),
    ) -> list[Record]:
        """Records matching ``where`` (``field: value`` or ``field: [values]``)."""
        flt = Filter(self.kind(kind), where or {}, order_by)
        rows = (await self.conn.execute(flt.select(limit))).all()
        return apply_filter(flt, [record_from_row(r) for r in rows], limit)

    async def claim_next(
        self, kind: str, where: Mapping[str, Any], *, order_by: Sequence[str] = ()
    ) -> Record | None:
        """The first matching record, row-locked so no concurrent transaction
        claims it too: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL and MySQL (a
        second operator gets the next one instead of waiting), the single
        writer on SQLite. ``where`` and ``order_by`` must use indexed fields,
        ``state`` or ``id``; ``-field`` sorts descending; ties go by arrival."""
        flt = Filter(self.kind(kind), where, order_by, sql_only=True)
        if self.store.dialect != "mysql":
            stmt = self.store.locked(flt.select(1), skip=True)
            row = (await self.conn.execute(stmt)).first()
            if row is None:
                return None
            self.locked_now()
            return record_from_row(row)
        # InnoDB locks every row a sorted locking read scans, not just the one
        # LIMIT keeps; so pick candidates without locks, then lock one by key
        # (re-checking the filter against the latest committed row).
        seqs = (
            await self.conn.execute(flt.select(_CANDIDATES).with_only_columns(s.records.c.seq))
        ).scalars()
        for seq in list(seqs):
            stmt = sa.select(s.records).where(s.records.c.seq == seq, *flt.conditions)
            row = (await self.conn.execute(self.store.locked(stmt, skip=True))).first()
            if row is not None:
                self.locked_now()
                return record_from_row(row)
        return None

    # -- writes ---------------------------------------------------------------

    async def create(
        self, kind: str, data: Mapping[str, Any], *, by: Actor | str, id: str | None = None
    ) -> Record:
        """A new record; ``id`` only from privileged callers (the backend, app
        code), otherwise the next free one of the kind's sequence."""
        k, actor = self.kind(kind), actor_of(by)
        _check_roles(actor, k.write_roles, f"create {kind}")
        if id is not None and not actor.privileged:
            # A user who picks ids can squat the ones the sequence will hand
            # out, and learns which exist from the conflicts.
            raise ProtocolError(f"the server assigns {kind} ids; send no id")
        _check_field_roles(k, actor, data)
        try:
            values = k.clean(data, partial=False)
        except ValueError as exc:
            raise ProtocolError(str(exc)) from None
        if id is not None:
            rid = str(id)
            if len(rid) > 64 or not rid:
                raise ProtocolError("a record id is 1 to 64 characters")
        else:
            rid = await self.new_id(kind)
        return await self.write(
            k, None, values, k.initial, actor, event=f"{kind}.created", new_id=rid, input=data
        )

    async def update(
        self,
        kind: str,
        id: str,
        changes: Mapping[str, Any],
        *,
        by: Actor | str,
        version: int | None = None,
        fencing_token: int | None = None,
        reason: str | None = None,
    ) -> Record:
        """Set fields (never the state: that is what transitions are for)."""
        k, actor = self.kind(kind), actor_of(by)
        _check_roles(actor, k.write_roles, f"update {kind}")
        _check_field_roles(k, actor, changes)
        try:
            clean = k.clean(changes, partial=True)
        except ValueError as exc:
            raise ProtocolError(str(exc)) from None
        rec = await self.get(kind, id, lock=True)
        self.records.check_visible(k, actor, rec)
        _check_version(rec, version)
        self.check_lease(k, rec, actor, fencing_token, required=False)
        if all(rec.data.get(f) == v for f, v in clean.items()):
            return rec
        return await self.write(
            k, rec, {**rec.data, **clean}, rec.state, actor,
            event=f"{kind}.updated", reason=reason, input=changes,
        )  # fmt: skip

    async def transition(
        self,
        kind: str,
        id: str,
        name: str,
        data: Mapping[str, Any] | None = None,
        *,
        by: Actor | str,
        version: int | None = None,
        fencing_token: int | None = None,
        reason: str | None = None,
    ) -> Record:
        """Run a named transition: checks roles, source state, lease, guard."""
        k, actor, data = self.kind(kind), actor_of(by), dict(data or {})
        t = k.transitions.get(name)
        if t is None:
            raise NotFound(f"{kind} has no transition {name!r}")
        if not actor.has_any(t.roles) or not actor.has_any(k.write_roles):
            raise PermissionDenied(f"user {actor.user} may not {name} a {kind}")
        extra = set(data) - t.accepts
        if extra:
            raise ProtocolError(f"{name} does not accept {sorted(extra)}")
        rec = await self.get(kind, id, lock=True)
        self.records.check_visible(k, actor, rec)
        _check_version(rec, version)
        if not t.allowed_from(rec.state):
            need = "|".join(sorted(t.source)) if t.source != "*" else "*"
            raise Conflict(f"{kind} {id} is {rec.state}; {name} needs {need}")
        self.check_lease(k, rec, actor, fencing_token, required=t.requires_lease)
        try:
            changes = k.clean(data, partial=True)
        except ValueError as exc:
            raise ProtocolError(str(exc)) from None
        ctx = Context(rec, data, actor, self.now)
        if t.guard is not None:
            verdict = t.guard(ctx)
            if verdict is False or isinstance(verdict, str):
                raise Conflict(verdict or f"{name} is not allowed for {kind} {id} now")
        for field, value in t.updates.items():
            if value is NOW:
                value = int(self.now * 1000)
            elif callable(value):
                value = value(ctx)
            try:
                changes[field] = k.fields[field].check(field, value)
            except ValueError as exc:
                raise ProtocolError(str(exc)) from None
        return await self.write(
            k, rec, {**rec.data, **changes}, t.target or rec.state, actor,
            event=t.event_name, transition=name, reason=reason, input=data,
            lease=None if t.release_lease else KEEP,
        )  # fmt: skip

    async def delete(
        self, kind: str, id: str, *, by: Actor | str, version: int | None = None
    ) -> Record:
        k, actor = self.kind(kind), actor_of(by)
        _check_roles(actor, k.write_roles, f"delete {kind}")
        rec = await self.get(kind, id, lock=True)
        self.records.check_visible(k, actor, rec)
        _check_version(rec, version)
        self.check_lease(k, rec, actor, None, required=False)
        return await self.write(
            k, rec, rec.data, rec.state, actor, event=f"{kind}.deleted", op="delete"
        )

    async def touch(self, kind: str, id: str, *, by: Actor | str) -> float | None:
        """Activity on a record: push the deadline of each timer ``by`` counts
        for (see :class:`~relevo.records.kinds.Timer`). Returns the latest new
        deadline, or None when no timer was pushed."""
        k, actor = self.kind(kind), actor_of(by)
        rec = await self.get(kind, id)
        pushed: float | None = None
        for t in k.timers:
            if rec.state in t.in_states and is_activity(t, rec, actor):
                deadline = self.now + t.after
                await self._arm(k.name, rec.id, t.timer_name, deadline)
                pushed = deadline
        return pushed

    async def emit(self, channels: Iterable[str], event: str, data: Any) -> None:
        """Publish an app event (``message:new``, ``stats_actualizadas``) after
        commit, through the same outbox: it goes out only if this commits."""
        chans = [validate_channel(ch) for ch in dict.fromkeys(channels)]
        if chans:
            await self._outbox(chans, event, _json.encode(data))

    async def new_id(self, kind: str) -> str:
        """The next id of ``kind``'s sequence that no record has: ids the
        backend chose, or rows written before the sequence knew of them, are
        skipped instead of failing the insert (and every insert after it —
        a failed transaction rolls the sequence back)."""
        self.kind(kind)
        while True:
            rid = str(await self.next_sequence(f"id:{kind}"))
            # The sequence row stays locked until commit, and every insert
            # of a numeric id takes that lock first (WritePath.write): a row
            # this check cannot see yet cannot appear before the commit.
            taken = await self.conn.execute(_sql.RECORD_EXISTS, {"b_kind": kind, "b_id": rid})
            if taken.first() is None:
                self.allocated.add((kind, rid))
                return rid

    async def next_sequence(self, name: str) -> int:
        """The next value of a named counter, gapless and unique across nodes
        (the row stays locked until commit): ``f"turno:{day}:A"`` → 45 → "A-045"."""
        await self.conn.execute(self.store.increment(s.sequences, name))
        stmt = sa.select(s.sequences.c.value).where(s.sequences.c.name == name)
        return int((await self.conn.execute(stmt)).scalar_one())

    @contextlib.asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """Work that may fail without undoing the rest of the transaction."""
        written, earliest = len(self.outbox), self.earliest_deadline
        try:
            async with self.conn.savepoint():
                yield
        except BaseException:
            del self.outbox[written:]
            self.earliest_deadline = earliest
            raise

    # -- leases (see leases.py) -------------------------------------------------

    async def acquire_lease(
        self, kind: str, id: str, *, by: Actor | str, ttl: float | None = None
    ) -> Lease:
        return await _leases.acquire(self, kind, id, actor_of(by), ttl)

    async def heartbeat(
        self, kind: str, id: str, *, by: Actor | str, fencing_token: int, ttl: float | None = None
    ) -> Lease:
        return await _leases.heartbeat(self, kind, id, actor_of(by), fencing_token, ttl)

    async def release_lease(
        self, kind: str, id: str, *, by: Actor | str, fencing_token: int | None = None
    ) -> Record:
        return await _leases.release(self, kind, id, actor_of(by), fencing_token)

    def check_lease(
        self, k: Kind, rec: Record, actor: Actor, token: int | None, *, required: bool
    ) -> None:
        """Refuse a stale fencing token, and a write by anyone but the holder."""
        if k.lease is None:
            if token is not None:
                raise ProtocolError(f"{k.name} has no lease; fencing_token is not expected")
            return
        held = rec.lease_held(self.now)
        if token is not None and (held is None or token != rec.fence):
            raise _leases.stale(rec, token, held)
        if actor.is_system:
            return
        if held is not None and held.holder != actor.user:
            raise Locked(
                f"{k.name} {rec.id} is locked by {held.holder}",
                holder=held.holder,
                expires_at=held.expires_at,
            )
        if required and held is None:
            raise Locked(f"take the lease on {k.name} {rec.id} first", holder=None)


def _check_version(rec: Record, version: int | None) -> None:
    if version is not None and version != rec.version:
        raise Conflict(f"{rec.kind} {rec.id} is at version {rec.version}, not {version}")


def _check_roles(actor: Actor, roles: AbstractSet[str], what: str) -> None:
    if not actor.has_any(roles):
        raise PermissionDenied(f"user {actor.user} may not {what}")


def _check_field_roles(k: Kind, actor: Actor, data: Mapping[str, Any]) -> None:
    for name in data:
        f = k.fields.get(name)
        if f is not None and not actor.has_any(f.write_roles):
            raise PermissionDenied(f"user {actor.user} may not set {k.name}.{name}")
