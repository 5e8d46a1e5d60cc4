"""The records layer: kinds with state machines, a SQL store, a transactional
outbox, durable timers, leases with fencing tokens, leave hooks and live
queries. See ``docs/records.md``.

Modules (one concept each)::

    kinds      Kind, Field, Transition, Timer, LeasePolicy: what an app declares
    model      Record, Actor, Lease, HistoryEntry, Snapshot: what it gets back
    service    Records: the service apps hold (one per server)
    tx         Transaction: app code's handle on one DB transaction
    _writepath the one write path: row + history + outbox + timers
    leases     grants, heartbeats, release, expiry; fencing tokens
    timers     the scheduler firing durable deadlines exactly once
    relay      the outbox relay publishing committed changes
    presence   leave hooks that survive a dead node
    store      engines and what differs between SQLite, PostgreSQL and MySQL
    rows       rows ↔ records, filters as SQL; _sql the prebuilt hot statements
    schema     the shared tables; migrations/ creates them
    http       the HTTP API; extension builds the server extension
    migrate    Alembic migrations (migrations/), for `relevo migrate` and serve
    bench      run_records_bench: transitions/s, delivery p99, timer lateness
"""

from relevo.records.kinds import (
    NOW,
    Context,
    Field,
    Kind,
    KindError,
    LeasePolicy,
    Timer,
    Transition,
)
from relevo.records.model import SYSTEM, Actor, HistoryEntry, Lease, Record, Snapshot
from relevo.records.service import Records, RecordsOptions
from relevo.records.tx import Transaction

__all__ = [
    "NOW",
    "SYSTEM",
    "Actor",
    "Context",
    "Field",
    "HistoryEntry",
    "Kind",
    "KindError",
    "Lease",
    "LeasePolicy",
    "Records",
    "RecordsOptions",
    "Record",
    "Snapshot",
    "Timer",
    "Transaction",
    "Transition",
]
