"""Accounts: people who sign in, their sessions, the sign-in audit and throttle.

The tables are described in ``relevo/accounts/schema.py`` (a test compares
the two on SQLite, PostgreSQL and MariaDB).

Revision ID: 0002
Revises: 0001
Create Date: 2026-02-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "relevo_accounts",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("roles", sa.Text, nullable=False),
        sa.Column("tenant", sa.String(64), nullable=False, server_default=""),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("must_change_password", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("last_sign_in_at", sa.Double),
        sa.Column("updated_at", sa.Double, nullable=False),
        sa.UniqueConstraint("username", name="uq_relevo_accounts_username"),
    )
    op.create_index("ix_relevo_accounts_tenant", "relevo_accounts", ["tenant"])

    op.create_table(
        "relevo_account_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("last_seen_at", sa.Double, nullable=False),
        sa.Column("expires_at", sa.Double, nullable=False),
        sa.Column("ended_at", sa.Double),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("user_agent", sa.String(255), nullable=False),
    )
    op.create_index("ix_relevo_account_sessions_account", "relevo_account_sessions", ["account_id"])

    op.create_table(
        "relevo_auth_audit",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("at", sa.Double, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("account_id", BigId),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("detail", sa.String(255), nullable=False),
    )
    op.create_index("ix_relevo_auth_audit_at", "relevo_auth_audit", ["at"])
    op.create_index("ix_relevo_auth_audit_account", "relevo_auth_audit", ["account_id"])

    op.create_table(
        "relevo_auth_throttle",
        sa.Column("key", sa.String(191), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_at", sa.Double, nullable=False),
    )
    op.create_index("ix_relevo_auth_throttle_last", "relevo_auth_throttle", ["last_at"])


def downgrade() -> None:
    for table in (
        "relevo_auth_throttle",
        "relevo_auth_audit",
        "relevo_account_sessions",
        "relevo_accounts",
    ):
        op.drop_table(table)
