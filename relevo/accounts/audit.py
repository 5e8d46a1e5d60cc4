"""The sign-in audit log: every sign-in, failure, sign-out and change to an
account, newest first for admins (``relevo_auth_audit``)."""

from __future__ import annotations

import builtins

import sqlalchemy as sa

from relevo.accounts import schema as s
from relevo.accounts._rows import bounded
from relevo.accounts.errors import InvalidAccount
from relevo.accounts.model import AUDIT_EVENTS, AuditEntry
from relevo.clock import Clock
from relevo.records.store import DbConn, Store

__all__ = ["MAX_AUDIT_LIMIT", "AuditLog"]

_a, _l = s.accounts.c, s.audit.c

MAX_AUDIT_LIMIT = 1000


class AuditLog:
    """The audit half of :class:`~relevo.accounts.store.Accounts`."""

    store: Store
    clock: Clock

    # -- audit ----------------------------------------------------------------

    async def audit(
        self,
        event: str,
        *,
        username: str = "",
        account_id: int | None = None,
        address: str = "",
        detail: str = "",
    ) -> None:
        """Add an audit entry (events: see ``model.AUDIT_EVENTS``)."""
        async with self.store.write() as conn:
            await self._audit(conn, event, username, account_id, address, detail)

    async def audit_log(
        self, limit: int = 100, tenant: str | None = None
    ) -> builtins.list[AuditEntry]:
        """The newest ``limit`` entries (at most 1000), of ``tenant``'s accounts
        when given (entries for unknown usernames belong to no tenant)."""
        limit = max(1, min(int(limit), MAX_AUDIT_LIMIT))
        stmt = sa.select(s.audit).order_by(_l.id.desc()).limit(limit)
        if tenant is not None:
            stmt = stmt.join(s.accounts, _a.id == _l.account_id).where(_a.tenant == tenant)
        async with self.store.read() as conn:
            rows = (await conn.execute(stmt)).all()
        return [
            AuditEntry(
                id=int(r.id),
                at=float(r.at),
                username=r.username,
                account_id=None if r.account_id is None else int(r.account_id),
                address=r.address,
                event=r.event,
                detail=r.detail,
            )
            for r in rows
        ]

    async def _audit(
        self,
        conn: DbConn,
        event: str,
        username: str,
        account_id: int | None,
        address: str,
        detail: str,
    ) -> None:
        if event not in AUDIT_EVENTS:
            raise InvalidAccount(f"unknown audit event {event!r}")
        await conn.execute(
            sa.insert(s.audit).values(
                at=self.clock.now(),
                username=bounded(username, 64),
                account_id=account_id,
                address=bounded(address, 64),
                event=event,
                detail=bounded(detail, 255),
            )
        )
