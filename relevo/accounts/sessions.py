"""Signed-in browser sessions: opaque tokens of which only the SHA-256 is
stored (``relevo_account_sessions``), looked up, touched, ended."""

from __future__ import annotations

import builtins
import hashlib
import secrets
from typing import Any

import sqlalchemy as sa

from relevo.accounts import schema as s
from relevo.accounts._rows import ACCOUNT_COLUMNS, Prefixed, account_of, bounded
from relevo.accounts.audit import AuditLog
from relevo.accounts.errors import InvalidAccount
from relevo.accounts.model import Account, SessionInfo
from relevo.records.store import DbConn

__all__ = ["MAX_SESSION_TTL", "MAX_TOKEN_CHARS", "TOUCH_EVERY", "SessionQueries", "session_id"]

_a, _s = s.accounts.c, s.sessions.c

TOUCH_EVERY = 60.0
"""A session's ``last_seen_at`` is written at most once a minute."""
MAX_TOKEN_CHARS = 64
MAX_SESSION_TTL = 90 * 86400.0


def session_id(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _session(row: Any) -> SessionInfo:
    return SessionInfo(
        id=row.id,
        account_id=int(row.account_id),
        created_at=float(row.created_at),
        last_seen_at=float(row.last_seen_at),
        expires_at=float(row.expires_at),
        address=row.address,
        user_agent=row.user_agent,
    )


class SessionQueries(AuditLog):
    """The sessions half of :class:`~relevo.accounts.store.Accounts`."""

    # -- sessions -------------------------------------------------------------

    async def start_session(
        self, account: Account, *, address: str, user_agent: str, ttl: float
    ) -> str:
        """Open a session for ``account`` and return its opaque token (32
        random bytes, URL-safe). Only the token's SHA-256 is stored."""
        if not 0 < ttl <= MAX_SESSION_TTL:
            raise InvalidAccount(
                f"a session lasts more than 0 s and at most {MAX_SESSION_TTL:.0f} s"
            )
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        async with self.store.write() as conn:
            await conn.execute(
                sa.insert(s.sessions).values(
                    id=session_id(token),
                    account_id=account.id,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + ttl,
                    ended_at=None,
                    address=bounded(address, 64),
                    user_agent=bounded(user_agent, 255),
                )
            )
        return token

    async def session(self, token: str) -> tuple[Account, SessionInfo] | None:
        """The account and session of a cookie token, or ``None`` when the
        session is unknown, expired or ended, or its account is disabled."""
        if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_CHARS:
            return None
        sid = session_id(token)
        now = self.clock.now()
        stmt = (
            sa.select(s.sessions, *[c.label(f"a_{c.name}") for c in ACCOUNT_COLUMNS])
            .join(s.accounts, _a.id == _s.account_id)
            .where(_s.id == sid)
        )
        async with self.store.read() as conn:
            row = (await conn.execute(stmt)).one_or_none()
        if row is None or row.ended_at is not None or row.expires_at <= now or not row.a_active:
            return None
        info = _session(row)
        if now - info.last_seen_at >= TOUCH_EVERY:
            async with self.store.write() as conn:
                await conn.execute(
                    sa.update(s.sessions).where(_s.id == sid).values(last_seen_at=now)
                )
            info = SessionInfo(
                info.id,
                info.account_id,
                info.created_at,
                now,
                info.expires_at,
                info.address,
                info.user_agent,
            )
        account = account_of(Prefixed(row, "a_"))
        return account, info

    async def end_session(self, token: str) -> str | None:
        """End the session of ``token`` (sign-out); its id, or ``None`` if
        there was no open one."""
        if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_CHARS:
            return None
        sid = session_id(token)
        now = self.clock.now()
        async with self.store.write() as conn:
            row = (
                await conn.execute(
                    sa.select(_s.account_id, _a.username)
                    .join(s.accounts, _a.id == _s.account_id)
                    .where(_s.id == sid, _s.ended_at.is_(None))
                )
            ).one_or_none()
            if row is None:
                return None
            await conn.execute(sa.update(s.sessions).where(_s.id == sid).values(ended_at=now))
            await self._audit(conn, "sign_out", row.username, int(row.account_id), "", "")
        return sid

    async def end_sessions(self, account_id: int) -> builtins.list[str]:
        """End every open session of an account; the ids of those ended."""
        async with self.store.write() as conn:
            return await self._end_sessions(conn, account_id, self.clock.now())

    async def sessions_of(self, account_id: int) -> builtins.list[SessionInfo]:
        """The account's open sessions, newest first."""
        now = self.clock.now()
        async with self.store.read() as conn:
            rows = (
                await conn.execute(
                    sa.select(s.sessions)
                    .where(_s.account_id == account_id, _s.ended_at.is_(None), _s.expires_at > now)
                    .order_by(_s.created_at.desc())
                )
            ).all()
        return [_session(r) for r in rows]

    async def ended_since(
        self, since: float, limit: int = 1000
    ) -> builtins.list[tuple[str, float]]:
        """Sessions ended after ``since`` (epoch seconds), oldest end first, as
        ``(id, ended_at)``: what a node must cut that it did not end itself (a
        sign-out on another node, ``relevo users disable`` from a shell)."""
        async with self.store.read() as conn:
            rows = (
                await conn.execute(
                    sa.select(_s.id, _s.ended_at)
                    .where(_s.ended_at > since)
                    .order_by(_s.ended_at)
                    .limit(limit)
                )
            ).all()
        return [(r.id, float(r.ended_at)) for r in rows]

    async def _end_sessions(
        self, conn: DbConn, account_id: int, now: float, *, keep: str | None = None
    ) -> builtins.list[str]:
        cond = [_s.account_id == account_id, _s.ended_at.is_(None)]
        if keep is not None:
            cond.append(_s.id != keep)
        ids = [r.id for r in (await conn.execute(sa.select(_s.id).where(*cond))).all()]
        if ids:
            await conn.execute(sa.update(s.sessions).where(_s.id.in_(ids)).values(ended_at=now))
        return ids
