"""The generic tables every kind shares, as SQLAlchemy Core metadata.

Kinds need no DDL of their own: a record's fields live in a JSON text column,
and the few a kind filters on are copied into typed, indexed slot columns
(``s1..s4`` for text, ``n1..n2`` for integers). The migrations in
``migrations/versions`` create exactly these tables (a test compares them).

Times are seconds since the Unix epoch as doubles: every node compares the
same numbers, whatever the database's time zone settings.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

__all__ = [
    "connections",
    "history",
    "leaves",
    "metadata",
    "nodes",
    "outbox",
    "records",
    "sequences",
    "timers",
]

metadata = sa.MetaData()

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")
Time: sa.Double[float] = sa.Double()

records = sa.Table(
    "relevo_records",
    metadata,
    sa.Column("seq", BigId, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("id", sa.String(64), nullable=False),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("state", sa.String(64)),
    sa.Column("data", Json, nullable=False),
    sa.Column("s1", sa.String(191)),
    sa.Column("s2", sa.String(191)),
    sa.Column("s3", sa.String(191)),
    sa.Column("s4", sa.String(191)),
    sa.Column("n1", sa.BigInteger),
    sa.Column("n2", sa.BigInteger),
    sa.Column("lease_holder", sa.String(191)),
    sa.Column("lease_token", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("lease_expires", Time),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.UniqueConstraint("kind", "id", name="uq_relevo_records_kind_id"),
    sa.Index("ix_relevo_records_state", "kind", "state"),
    sa.Index("ix_relevo_records_s1", "kind", "s1"),
    sa.Index("ix_relevo_records_s2", "kind", "s2"),
    sa.Index("ix_relevo_records_s3", "kind", "s3"),
    sa.Index("ix_relevo_records_s4", "kind", "s4"),
    sa.Index("ix_relevo_records_n1", "kind", "n1"),
    sa.Index("ix_relevo_records_n2", "kind", "n2"),
    sa.Index("ix_relevo_records_lease_holder", "lease_holder"),
)

history = sa.Table(
    "relevo_history",
    metadata,
    sa.Column("seq", BigId, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("record_id", sa.String(64), nullable=False),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("event", sa.String(128), nullable=False),
    sa.Column("transition", sa.String(64)),
    sa.Column("from_state", sa.String(64)),
    sa.Column("to_state", sa.String(64)),
    sa.Column("actor", sa.String(191), nullable=False),
    sa.Column("reason", sa.String(255)),
    sa.Column("data", Json),
    sa.Column("created_at", Time, nullable=False),
    sa.Index("ix_relevo_history_record", "kind", "record_id", "seq"),
)

outbox = sa.Table(
    "relevo_outbox",
    metadata,
    sa.Column("seq", BigId, primary_key=True, autoincrement=True),
    sa.Column("channels", sa.Text, nullable=False),
    sa.Column("event", sa.String(128), nullable=False),
    sa.Column("data", Json, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("sent_at", Time),
    sa.Index("ix_relevo_outbox_pending", "sent_at", "seq"),
)

timers = sa.Table(
    "relevo_timers",
    metadata,
    sa.Column("kind", sa.String(64), primary_key=True),
    sa.Column("record_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("deadline", Time, nullable=False),
    sa.Index("ix_relevo_timers_deadline", "deadline"),
)

sequences = sa.Table(
    "relevo_sequences",
    metadata,
    sa.Column("name", sa.String(191), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)

nodes = sa.Table(
    "relevo_nodes",
    metadata,
    sa.Column("node", sa.String(64), primary_key=True),
    sa.Column("started_at", Time, nullable=False),
    sa.Column("heartbeat_at", Time, nullable=False),
)

connections = sa.Table(
    "relevo_connections",
    metadata,
    sa.Column("node", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.String(191), primary_key=True),
    sa.Column("since", Time, nullable=False),
    sa.Index("ix_relevo_connections_user", "user_id"),
)

leaves = sa.Table(
    "relevo_leaves",
    metadata,
    sa.Column("user_id", sa.String(191), primary_key=True),
    sa.Column("due_at", Time, nullable=False),
    sa.Column("claimed_by", sa.String(64)),
    sa.Column("claimed_until", Time),
    sa.Index("ix_relevo_leaves_due", "due_at"),
)

ALL_TABLES = (records, history, outbox, timers, sequences, nodes, connections, leaves)
