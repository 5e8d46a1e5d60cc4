"""Single sign-on identities (issuer, subject → account), and an index on
``relevo_account_sessions.ended_at`` for the nodes' ended-session watch.

The tables are described in ``relevo/accounts/schema.py`` (a test compares
the two on SQLite, PostgreSQL and MariaDB).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "relevo_account_identities",
        sa.Column("issuer", sa.String(191), primary_key=True),
        sa.Column("subject", sa.String(191), primary_key=True),
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
    )
    op.create_index(
        "ix_relevo_account_identities_account", "relevo_account_identities", ["account_id"]
    )
    op.create_index("ix_relevo_account_sessions_ended", "relevo_account_sessions", ["ended_at"])


def downgrade() -> None:
    op.drop_index("ix_relevo_account_sessions_ended", "relevo_account_sessions")
    op.drop_table("relevo_account_identities")
