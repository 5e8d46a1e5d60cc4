"""The records store: records, history, outbox, timers, sequences, presence.

Revision ID: 0001
Revises:
Create Date: 2026-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "relevo_records",
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
        sa.Column("lease_expires", sa.Double),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("updated_at", sa.Double, nullable=False),
        sa.UniqueConstraint("kind", "id", name="uq_relevo_records_kind_id"),
    )
    op.create_index("ix_relevo_records_state", "relevo_records", ["kind", "state"])
    for slot in ("s1", "s2", "s3", "s4", "n1", "n2"):
        op.create_index(f"ix_relevo_records_{slot}", "relevo_records", ["kind", slot])
    op.create_index("ix_relevo_records_lease_holder", "relevo_records", ["lease_holder"])

    op.create_table(
        "relevo_history",
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
        sa.Column("created_at", sa.Double, nullable=False),
    )
    op.create_index("ix_relevo_history_record", "relevo_history", ["kind", "record_id", "seq"])

    op.create_table(
        "relevo_outbox",
        sa.Column("seq", BigId, primary_key=True, autoincrement=True),
        sa.Column("channels", sa.Text, nullable=False),
        sa.Column("event", sa.String(128), nullable=False),
        sa.Column("data", Json, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("sent_at", sa.Double),
    )
    op.create_index("ix_relevo_outbox_pending", "relevo_outbox", ["sent_at", "seq"])

    op.create_table(
        "relevo_timers",
        sa.Column("kind", sa.String(64), primary_key=True),
        sa.Column("record_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("deadline", sa.Double, nullable=False),
    )
    op.create_index("ix_relevo_timers_deadline", "relevo_timers", ["deadline"])

    op.create_table(
        "relevo_sequences",
        sa.Column("name", sa.String(191), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "relevo_nodes",
        sa.Column("node", sa.String(64), primary_key=True),
        sa.Column("started_at", sa.Double, nullable=False),
        sa.Column("heartbeat_at", sa.Double, nullable=False),
    )
    op.create_table(
        "relevo_connections",
        sa.Column("node", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(191), primary_key=True),
        sa.Column("since", sa.Double, nullable=False),
    )
    op.create_index("ix_relevo_connections_user", "relevo_connections", ["user_id"])
    op.create_table(
        "relevo_leaves",
        sa.Column("user_id", sa.String(191), primary_key=True),
        sa.Column("due_at", sa.Double, nullable=False),
        sa.Column("claimed_by", sa.String(64)),
        sa.Column("claimed_until", sa.Double),
    )
    op.create_index("ix_relevo_leaves_due", "relevo_leaves", ["due_at"])


def downgrade() -> None:
    for table in (
        "relevo_leaves",
        "relevo_connections",
        "relevo_nodes",
        "relevo_sequences",
        "relevo_timers",
        "relevo_outbox",
        "relevo_history",
        "relevo_records",
    ):
        op.drop_table(table)
