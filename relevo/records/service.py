"""The ``Records`` service: what an app holds to read and change its records.

One per server. It owns the store, the outbox relay, the timer scheduler and
the leave tracker, and binds them to the hub (``attach``) for publishing,
permissions, tokens and leave notifications. Each convenience method
(``create``, ``transition``, ...) is one :meth:`transaction`; app code that
needs several steps to be atomic uses the transaction directly.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from relevo.clock import Clock, SystemClock
from relevo.protocol.errors import NotFound, ProtocolError, RelevoError
from relevo.records import leases as _leases
from relevo.records import schema as s
from relevo.records import visibility as _visibility
from relevo.records._channels import reserve_record_channels
from relevo.records._faults import fault
from relevo.records.kinds import Kind
from relevo.records.model import SYSTEM, Actor, HistoryEntry, Lease, Record, Snapshot
from relevo.records.presence import LeaveHook, LeaveTracker
from relevo.records.relay import OutboxRelay, Publisher
from relevo.records.rows import Filter, apply_filter, record_from_row
from relevo.records.store import Store
from relevo.records.timers import TimerScheduler
from relevo.records.tx import Transaction, actor_of

if TYPE_CHECKING:
    from relevo.hub.hub import Hub

__all__ = ["Records", "RecordsOptions"]

log = logging.getLogger("relevo.records")


@dataclass(frozen=True, slots=True)
class RecordsOptions:
    relay_poll: float = 1.0
    """Seconds between outbox polls for other nodes' rows (this node's go out at once)."""
    relay_grace: float = 5.0
    """Age after which an unpublished outbox row is taken over from the node that wrote it."""
    relay_batch: int = 500
    """Outbox rows published per database round trip."""
    outbox_retention: float = 3600.0
    """Seconds a sent outbox row is kept (for inspection) before it is pruned."""
    timer_max_sleep: float = 1.0
    """Longest the scheduler sleeps, so deadlines armed on other nodes fire within it."""
    timer_batch: int = 200
    """Due timers fired per transaction."""
    node_heartbeat: float = 2.0
    """Seconds between this node's heartbeats (and leave-hook sweeps)."""
    node_timeout: float = 10.0
    """A node silent this long is dead; its users' leave hooks run elsewhere."""
    leave_grace: float = 3.0
    """Seconds a user may be gone before the leave hooks run (a reload comes back sooner)."""
    query_limit: int = 1000
    """Default number of rows of a live query."""


class Records:
    def __init__(
        self,
        url: str,
        kinds: Iterable[Kind] = (),
        *,
        schema: str | None = None,
        options: RecordsOptions | None = None,
        clock: Clock | None = None,
        node: str | None = None,
    ) -> None:
        self.store = Store(url, schema=schema)
        self.options = options or RecordsOptions()
        self.clock: Clock = clock or SystemClock()
        self.node = node or secrets.token_hex(4)
        self.kinds: dict[str, Kind] = {}
        self.hub: Hub | None = None
        self._publisher: Publisher | None = None
        self.relay: OutboxRelay | None = None
        self.timers = TimerScheduler(
            self, self.clock, batch=self.options.timer_batch, max_sleep=self.options.timer_max_sleep
        )
        self.leaves = LeaveTracker(
            self,
            self.node,
            self._online_users,
            self.clock,
            heartbeat=self.options.node_heartbeat,
            node_timeout=self.options.node_timeout,
            grace=self.options.leave_grace,
        )
        self._started = False
        for k in kinds:
            self.register(k)

    # -- wiring ---------------------------------------------------------------

    def register(self, *kinds: Kind) -> None:
        for k in kinds:
            if k.name in self.kinds and self.kinds[k.name] is not k:
                raise ValueError(f"kind {k.name} is registered twice")
            self.kinds[k.name] = k
        if self.hub is not None:
            reserve_record_channels(self.hub.permissions, kinds)

    def kind(self, name: str) -> Kind:
        k = self.kinds.get(name)
        if k is None:
            raise NotFound(f"no kind {name!r}")
        return k

    def attach(self, hub: Hub, publisher: Publisher | None = None) -> None:
        """Publish through ``hub``, use its permissions and tokens, and hear
        when users leave. ``publisher`` overrides where publications go."""
        self.hub = hub
        self._publisher = publisher or hub
        reserve_record_channels(hub.permissions, self.kinds.values())
        hub.add_leave_listener(self.leaves.user_left)
        hub.add_join_listener(self.leaves.user_joined)

    def _online_users(self) -> set[str]:
        if self.hub is None:
            return set()
        return {sess.identity.user for sess in self.hub.sessions if sess.identity.user}

    async def start(self, *, migrate: bool = False) -> None:
        """Start the relay, the timers and the leave tracker. ``migrate``
        applies the schema migrations first (``relevo serve`` does)."""
        if migrate:
            from relevo.records.migrate import upgrade

            await upgrade(self.store)
        if self._publisher is None:
            raise RuntimeError("Records.attach(hub) must be called before start()")
        self.relay = OutboxRelay(
            self.store,
            self._publisher,
            poll_interval=self.options.relay_poll,
            grace=self.options.relay_grace,
            batch=self.options.relay_batch,
            retention=self.options.outbox_retention,
            clock=self.clock,
        )
        self.relay.start()
        self.timers.start()
        self.leaves.start()
        self._started = True

    async def close(self) -> None:
        if self._started:
            await self.leaves.close()
            await self.timers.close()
            if self.relay is not None:
                await self.relay.close()
            self._started = False
        await self.store.close()

    async def ready(self) -> str | None:
        """A readiness check: None when the database answers."""
        try:
            async with self.store.read() as conn:
                await conn.execute(sa.select(sa.literal(1)))
        except RelevoError as exc:
            return exc.message
        return None

    # -- transactions -----------------------------------------------------------

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """``async with records.transaction() as tx:`` — app code atomically
        with the history and outbox rows its changes write; published only
        after a successful commit."""
        async with self.store.write() as conn:
            tx = Transaction(self, conn, self.clock.now())
            yield tx
        if tx.outbox:
            fault("after_commit")
            if self.relay is not None:
                self.relay.enqueue(tx.outbox)
        if tx.earliest_deadline is not None:
            self.timers.notify(tx.earliest_deadline)

    # -- one-step operations -----------------------------------------------------

    async def get(self, kind: str, id: str) -> Record:
        self.kind(kind)
        async with self.store.read() as conn:
            r = s.records.c
            row = (
                await conn.execute(sa.select(s.records).where(r.kind == kind, r.id == str(id)))
            ).first()
        if row is None:
            raise NotFound(f"{kind} {id} does not exist")
        return record_from_row(row)

    async def find(
        self,
        kind: str,
        where: Mapping[str, Any] | None = None,
        *,
        limit: int = 1000,
        order_by: Sequence[str] = (),
    ) -> list[Record]:
        """Records matching ``where``, oldest first unless ``order_by`` says
        otherwise (``"-seq"``: newest first; indexed fields, ``created_at``,
        ``updated_at``; ``-`` for descending)."""
        flt = Filter(self.kind(kind), where or {}, order_by)
        async with self.store.read() as conn:
            rows = (await conn.execute(flt.select(limit))).all()
        return apply_filter(flt, [record_from_row(r) for r in rows], limit)

    async def count(self, kind: str, where: Mapping[str, Any] | None = None) -> int | None:
        """How many records match ``where``; None when it names a field that is
        not indexed (counting would read every record of the kind)."""
        flt = Filter(self.kind(kind), where or {})
        if flt.python:
            return None
        stmt = sa.select(sa.func.count()).select_from(s.records).where(*flt.conditions)
        async with self.store.read() as conn:
            return int((await conn.execute(stmt)).scalar_one())

    async def create(
        self, kind: str, data: Mapping[str, Any], *, by: Actor | str, id: str | None = None
    ) -> Record:
        async with self.transaction() as tx:
            return await tx.create(kind, data, by=by, id=id)

    async def update(
        self,
        kind: str,
        id: str,
        changes: Mapping[str, Any],
        *,
        by: Actor | str,
        version: int | None = None,
        fencing_token: int | None = None,
    ) -> Record:
        async with self.transaction() as tx:
            return await tx.update(
                kind, id, changes, by=by, version=version, fencing_token=fencing_token
            )

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
        async with self.transaction() as tx:
            return await tx.transition(
                kind, id, name, data, by=by, version=version,
                fencing_token=fencing_token, reason=reason,
            )  # fmt: skip

    async def delete(
        self, kind: str, id: str, *, by: Actor | str, version: int | None = None
    ) -> Record:
        async with self.transaction() as tx:
            return await tx.delete(kind, id, by=by, version=version)

    async def touch(self, kind: str, id: str, *, by: Actor | str) -> float | None:
        async with self.transaction() as tx:
            return await tx.touch(kind, id, by=by)

    async def acquire_lease(
        self, kind: str, id: str, *, by: Actor | str, ttl: float | None = None
    ) -> Lease:
        async with self.transaction() as tx:
            return await tx.acquire_lease(kind, id, by=by, ttl=ttl)

    async def heartbeat(
        self, kind: str, id: str, *, by: Actor | str, fencing_token: int, ttl: float | None = None
    ) -> Lease:
        async with self.transaction() as tx:
            return await tx.heartbeat(kind, id, by=by, fencing_token=fencing_token, ttl=ttl)

    async def release_lease(
        self, kind: str, id: str, *, by: Actor | str, fencing_token: int | None = None
    ) -> Record:
        async with self.transaction() as tx:
            return await tx.release_lease(kind, id, by=by, fencing_token=fencing_token)

    async def release_leases(self, user: str) -> list[Record]:
        """Release every lease ``user`` holds (use it in a leave hook)."""
        async with self.transaction() as tx:
            return await _leases.release_all(tx, user)

    async def next_sequence(self, name: str) -> int:
        async with self.transaction() as tx:
            return await tx.next_sequence(name)

    def on_leave(self, hook: LeaveHook) -> None:
        """Run ``await hook(user)`` when a user's last connection (on any node)
        is gone: at least once, within ``leave_grace + node_heartbeat`` seconds
        (``node_timeout + node_heartbeat`` when their node died)."""
        self.leaves.hooks.append(hook)

    # -- reading for screens ------------------------------------------------------

    def check_read(self, k: Kind, actor: Actor, channel: str) -> None:
        _visibility.check_read(self.hub, k, actor, channel)

    def check_visible(self, k: Kind, actor: Actor, rec: Record) -> None:
        _visibility.check_visible(self.hub, k, actor, rec)

    async def read(self, kind: str, id: str, *, actor: Actor | str) -> Record:
        """A record, if ``actor`` may subscribe to one of its channels (the
        rules, and a subscribe proxy where the namespace names one)."""
        k, who = self.kind(kind), actor_of(actor)
        rec = await self.get(kind, id)
        await _visibility.visible(self.hub, k, who, rec)
        return rec

    async def query(
        self,
        kind: str,
        where: Mapping[str, Any] | None = None,
        *,
        actor: Actor | str = SYSTEM,
        limit: int | None = None,
        newest: str | None = None,
    ) -> Snapshot:
        """A live query: the rows matching ``where`` and the position of the
        channel their changes go to, read *before* the rows — so a change
        missing from the rows is published after that position, and a client
        that subscribes ``since`` it misses nothing.

        Rows come oldest first. When there are more than ``limit``, the first
        ``limit`` are returned — or, with ``newest="created"``, the last
        ``limit`` created (a long chat shows its latest messages), with
        ``newest="updated"`` the last ``limit`` changed (an inbox shows the
        conversations active lately); ``more`` says there are others."""
        k, who = self.kind(kind), actor_of(actor)
        where = dict(where or {})
        if not who.is_system:
            hidden = sorted(f for f in where if f in k.fields and not k.fields[f].public)
            if hidden:
                # Filtering on a field the user cannot see would tell its value.
                raise ProtocolError(f"{k.name} cannot be filtered on {', '.join(hidden)}")
        try:
            channel, _ = k.live_channel(where)
        except ValueError as exc:
            raise ProtocolError(str(exc)) from None
        self.check_read(k, who, channel)
        if self.hub is None:
            raise RuntimeError("Records.attach(hub) must be called before query()")
        await _visibility.ask_proxy(self.hub, who, channel)
        options = self.hub.permissions.history_options(channel)
        position = await self.hub.broker.position(channel, options)
        n = limit if limit is not None else self.options.query_limit
        if newest is not None and newest not in _NEWEST:
            raise ProtocolError(f"newest is one of {', '.join(_NEWEST)}")
        order = () if newest is None else (_NEWEST[newest],)
        recs = await self.find(kind, where, limit=n + 1, order_by=order)
        page = recs[:n] if newest is None else reversed(recs[:n])  # oldest first either way
        rows = [k.public(r) for r in page]
        more = len(recs) > n
        total = await self.count(kind, where) if more else len(rows)
        return Snapshot(
            kind, channel, position.epoch, position.offset, rows, more, total, _typed(where)
        )

    async def history(self, kind: str, id: str, *, limit: int = 100) -> list[HistoryEntry]:
        self.kind(kind)
        h = s.history.c
        stmt = (
            sa.select(s.history)
            .where(h.kind == kind, h.record_id == str(id))
            .order_by(h.seq.desc())
            .limit(limit)
        )
        async with self.store.read() as conn:
            rows = (await conn.execute(stmt)).all()
        return [_entry(r) for r in reversed(rows)]

    async def wait_published(self) -> None:
        """Until this node's relay has published everything committed so far."""
        if self.relay is not None:
            await self.relay.idle()


_NEWEST = {"created": "-seq", "updated": "-updated_at"}
"""``Records.query(newest=...)``: which rows a window past ``limit`` keeps."""


def _entry(row: Any) -> HistoryEntry:
    import msgspec

    m = row._mapping
    return HistoryEntry(
        seq=int(m["seq"]),
        kind=m["kind"],
        record_id=m["record_id"],
        version=int(m["version"]),
        event=m["event"],
        transition=m["transition"],
        from_state=m["from_state"],
        to_state=m["to_state"],
        by=m["actor"],
        reason=m["reason"],
        data=msgspec.json.decode(m["data"]) if m["data"] else {},
        at=float(m["created_at"]),
    )


def _typed(where: Mapping[str, Any]) -> dict[str, list[Any]]:
    """A filter as a snapshot states it: each field's values as a list (ids as
    strings, as records carry them)."""
    out: dict[str, list[Any]] = {}
    for name, value in where.items():
        values = list(value) if isinstance(value, list | tuple | set | frozenset) else [value]
        out[name] = [str(v) for v in values] if name == "id" else values
    return out
