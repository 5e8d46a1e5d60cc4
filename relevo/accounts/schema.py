"""The accounts tables, as SQLAlchemy Core metadata.

They live in the records store's database and are created by its Alembic
migrations (``relevo/records/migrations/versions/0002_accounts.py``); a test
compares the migrated schema with these tables on the three databases. Times
are seconds since the Unix epoch as doubles, as in the records tables.

No column holds a password or a raw session token: ``password_hash`` is an
argon2id hash and a session's ``id`` is the SHA-256 of its cookie token.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["ALL_TABLES", "accounts", "audit", "identities", "metadata", "sessions", "throttle"]

metadata = sa.MetaData()

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time: sa.Double[float] = sa.Double()

accounts = sa.Table(
    "relevo_accounts",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("display_name", sa.String(100), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("roles", sa.Text, nullable=False),
    sa.Column("tenant", sa.String(64), nullable=False, server_default=""),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("must_change_password", sa.Boolean, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("last_sign_in_at", Time),
    sa.Column("updated_at", Time, nullable=False),
    sa.UniqueConstraint("username", name="uq_relevo_accounts_username"),
    sa.Index("ix_relevo_accounts_tenant", "tenant"),
)

sessions = sa.Table(
    "relevo_account_sessions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("account_id", BigId, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("last_seen_at", Time, nullable=False),
    sa.Column("expires_at", Time, nullable=False),
    sa.Column("ended_at", Time),
    sa.Column("address", sa.String(64), nullable=False),
    sa.Column("user_agent", sa.String(255), nullable=False),
    sa.Index("ix_relevo_account_sessions_account", "account_id"),
    # Every node reads "sessions ended since t" twice a second (SignIn.watch_ended).
    sa.Index("ix_relevo_account_sessions_ended", "ended_at"),
)

# An account's identity at a single sign-on provider: the provider's
# (issuer, subject) pair, which never changes, names the account — not a
# username the provider lets people pick.
identities = sa.Table(
    "relevo_account_identities",
    metadata,
    sa.Column("issuer", sa.String(191), primary_key=True),
    sa.Column("subject", sa.String(191), primary_key=True),
    sa.Column("account_id", BigId, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Index("ix_relevo_account_identities_account", "account_id"),
)

audit = sa.Table(
    "relevo_auth_audit",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("at", Time, nullable=False),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("account_id", BigId),
    sa.Column("address", sa.String(64), nullable=False),
    sa.Column("event", sa.String(32), nullable=False),
    sa.Column("detail", sa.String(255), nullable=False),
    sa.Index("ix_relevo_auth_audit_at", "at"),
    sa.Index("ix_relevo_auth_audit_account", "account_id"),
)

throttle = sa.Table(
    "relevo_auth_throttle",
    metadata,
    sa.Column("key", sa.String(191), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("last_at", Time, nullable=False),
    sa.Index("ix_relevo_auth_throttle_last", "last_at"),
)

ALL_TABLES = (accounts, sessions, audit, throttle, identities)
