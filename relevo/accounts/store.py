"""``Accounts``: people, their sessions and the sign-in audit, in the records
database.

It runs over a records :class:`~relevo.records.store.Store` (the server
passes its own; :meth:`Accounts.open` makes one for the CLI). Password
hashes and raw session tokens stay inside this module: no method returns
them and nothing here logs them.

Sign-in (:meth:`Accounts.authenticate`) takes the same steps whether the
username exists or not: one write transaction (read the account, charge the
throttle), one argon2id verification (against a dummy hash for nobody), one
write transaction (audit, and on success the refund and the sign-in time).
So an unknown user, a wrong password and a disabled account give the same
error in about the same time; only the audit log, for admins, says which.
"""

from __future__ import annotations

import builtins
import hashlib
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from relevo.accounts import schema as s
from relevo.accounts.errors import (
    AccountExists,
    AccountNotFound,
    InvalidAccount,
    SignInFailed,
    SignInThrottled,
)
from relevo.accounts.model import (
    AUDIT_EVENTS,
    Account,
    AuditEntry,
    SessionInfo,
    check_display_name,
    check_tenant,
    normalize_roles,
    normalize_username,
    roles_from_json,
    roles_to_json,
)
from relevo.accounts.passwords import Passwords, check_policy
from relevo.accounts.throttle import Throttle, ThrottlePolicy, address_key, username_key
from relevo.clock import Clock, SystemClock
from relevo.protocol.errors import Conflict
from relevo.records.store import DbConn, Store

__all__ = ["Accounts"]

_a, _s, _l = s.accounts.c, s.sessions.c, s.audit.c

TOUCH_EVERY = 60.0
"""A session's ``last_seen_at`` is written at most once a minute."""
MAX_TOKEN_CHARS = 64
MAX_SESSION_TTL = 90 * 86400.0
MAX_AUDIT_LIMIT = 1000
_CHARGE_TRIES = 5

_ACCOUNT_COLUMNS = [c for c in s.accounts.c if c.name != "password_hash"]


def _bounded(text: str | None, n: int) -> str:
    return (text or "")[:n]


def _session_id(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _account(row: Any) -> Account:
    return Account(
        id=int(row.id),
        username=row.username,
        display_name=row.display_name,
        roles=roles_from_json(row.roles),
        tenant=row.tenant,
        active=bool(row.active),
        must_change_password=bool(row.must_change_password),
        created_at=float(row.created_at),
        last_sign_in_at=None if row.last_sign_in_at is None else float(row.last_sign_in_at),
        updated_at=float(row.updated_at),
    )


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


class Accounts:
    """The accounts store. All methods are coroutines; one instance per server."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock | None = None,
        throttle: ThrottlePolicy | None = None,
        passwords: Passwords | None = None,
        owns_store: bool = False,
    ) -> None:
        self.store = store
        self.clock: Clock = clock or SystemClock()
        self.passwords = passwords or Passwords()
        self.throttle = Throttle(store, throttle or ThrottlePolicy(), self.clock)
        self._owns_store = owns_store

    @classmethod
    def open(cls, url: str, *, schema: str | None = None, **kwargs: Any) -> Accounts:
        """An ``Accounts`` with its own store (the CLI); :meth:`close` closes it."""
        return cls(Store(url, schema=schema, pool_size=2), owns_store=True, **kwargs)

    async def close(self) -> None:
        if self._owns_store:
            await self.store.close()

    # -- people ---------------------------------------------------------------

    async def create(
        self,
        username: str,
        password: str,
        *,
        display_name: str,
        roles: Mapping[str, Iterable[str]] | Iterable[str],
        tenant: str = "",
        must_change: bool = False,
        actor: str = "",
    ) -> Account:
        name = normalize_username(username)
        display = check_display_name(display_name)
        clean_roles = normalize_roles(roles)
        check_tenant(tenant)
        check_policy(password, username=name)
        password_hash = await self.passwords.hash(password)
        now = self.clock.now()
        try:
            async with self.store.write() as conn:
                if await self._row(conn, name) is not None:
                    raise AccountExists(name)
                result = await conn.execute(
                    sa.insert(s.accounts).values(
                        username=name,
                        display_name=display,
                        password_hash=password_hash,
                        roles=roles_to_json(clean_roles),
                        tenant=tenant,
                        active=True,
                        must_change_password=must_change,
                        created_at=now,
                        last_sign_in_at=None,
                        updated_at=now,
                    )
                )
                pk = result.inserted_primary_key
                assert pk is not None
                account_id = int(pk[0])
                await self._audit(conn, "created", name, account_id, "", _by(actor))
                row = await self._row(conn, name)
        except AccountExists:
            raise
        except Conflict as e:  # two creates of one name raced; the unique index said no
            raise AccountExists(name) from e
        assert row is not None
        return _account(row)

    async def get(self, username: str) -> Account | None:
        try:
            name = normalize_username(username)
        except InvalidAccount:
            return None
        async with self.store.read() as conn:
            row = await self._row(conn, name)
        return None if row is None else _account(row)

    async def get_by_id(self, account_id: int) -> Account | None:
        async with self.store.read() as conn:
            row = (
                await conn.execute(sa.select(*_ACCOUNT_COLUMNS).where(_a.id == account_id))
            ).one_or_none()
        return None if row is None else _account(row)

    async def list(self, tenant: str | None = None) -> builtins.list[Account]:
        """Every account (of ``tenant`` when given), by username."""
        stmt = sa.select(*_ACCOUNT_COLUMNS).order_by(_a.username)
        if tenant is not None:
            stmt = stmt.where(_a.tenant == tenant)
        async with self.store.read() as conn:
            rows = (await conn.execute(stmt)).all()
        return [_account(r) for r in rows]

    async def set_password(
        self,
        username: str,
        password: str,
        *,
        must_change: bool = False,
        keep_session: str | None = None,
        actor: str = "",
    ) -> builtins.list[str]:
        """Set a new password and end the account's sessions (all but the one
        whose token is ``keep_session``). Returns the ended session ids."""
        name = normalize_username(username)
        check_policy(password, username=name)
        password_hash = await self.passwords.hash(password)
        now = self.clock.now()
        async with self.store.write() as conn:
            row = await self._row(conn, name)
            if row is None:
                raise AccountNotFound(name)
            await conn.execute(
                sa.update(s.accounts)
                .where(_a.id == row.id)
                .values(
                    password_hash=password_hash, must_change_password=must_change, updated_at=now
                )
            )
            keep = _session_id(keep_session) if keep_session else None
            ended = await self._end_sessions(conn, int(row.id), now, keep=keep)
            detail = _by(actor) + (" must_change" if must_change else "")
            await self._audit(conn, "password_changed", name, int(row.id), "", detail.strip())
        return ended

    async def set_active(
        self, username: str, active: bool, *, actor: str = ""
    ) -> builtins.list[str]:
        """Enable or disable an account. Disabling ends its sessions at once;
        the ended session ids are returned so the server can close their
        live connections."""
        name = normalize_username(username)
        now = self.clock.now()
        async with self.store.write() as conn:
            row = await self._row(conn, name)
            if row is None:
                raise AccountNotFound(name)
            await conn.execute(
                sa.update(s.accounts).where(_a.id == row.id).values(active=active, updated_at=now)
            )
            ended = [] if active else await self._end_sessions(conn, int(row.id), now)
            event = "enabled" if active else "disabled"
            await self._audit(conn, event, name, int(row.id), "", _by(actor))
        return ended

    async def update(
        self,
        username: str,
        *,
        display_name: str | None = None,
        roles: Mapping[str, Iterable[str]] | Iterable[str] | None = None,
        tenant: str | None = None,
        actor: str = "",
    ) -> Account:
        name = normalize_username(username)
        values: dict[str, Any] = {}
        if display_name is not None:
            values["display_name"] = check_display_name(display_name)
        if roles is not None:
            values["roles"] = roles_to_json(normalize_roles(roles))
        if tenant is not None:
            values["tenant"] = check_tenant(tenant)
        async with self.store.write() as conn:
            row = await self._row(conn, name)
            if row is None:
                raise AccountNotFound(name)
            if values:
                values["updated_at"] = self.clock.now()
                await conn.execute(sa.update(s.accounts).where(_a.id == row.id).values(**values))
                fields = ",".join(sorted(k for k in values if k != "updated_at"))
                await self._audit(
                    conn, "updated", name, int(row.id), "", f"{_by(actor)} {fields}".strip()
                )
            row = await self._row(conn, name)
        assert row is not None
        return _account(row)

    # -- sign-in --------------------------------------------------------------

    async def authenticate(self, username: str, password: str, *, address: str) -> Account:
        """The account whose password this is, or :class:`SignInFailed` (the
        same for an unknown user, a wrong password and a disabled account) or
        :class:`SignInThrottled` (too many failures for the name or address)."""
        address = _bounded(address, 64)
        try:
            name = normalize_username(username)
            shown = name
        except InvalidAccount:
            # Charged under a key of its own; not echoed to the audit log
            # (people type their password in the username box).
            name = ""
            raw = username if isinstance(username, str) else ""
            shown = "(invalid)"
            user_key = username_key("#" + hashlib.sha256(raw.encode(errors="replace")).hexdigest())
        else:
            user_key = username_key(name)
        addr_key = address_key(address)
        password = password if isinstance(password, str) else ""

        row: Any = None
        wait = 0.0
        for attempt in range(_CHARGE_TRIES):
            try:
                async with self.store.write() as conn:
                    row = (
                        (
                            await conn.execute(sa.select(s.accounts).where(_a.username == name))
                        ).one_or_none()
                        if name
                        else None
                    )
                    wait = await self.throttle.charge(conn, [user_key, addr_key])
                    if wait > 0:
                        account_id = None if row is None else int(row.id)
                        await self._audit(conn, "throttled", shown, account_id, address, "")
                break
            except Conflict:
                if attempt == _CHARGE_TRIES - 1:
                    raise
        if wait > 0:
            raise SignInThrottled(wait)

        ok, new_hash = await self.passwords.verify(
            None if row is None else row.password_hash, password
        )
        now = self.clock.now()
        reason = (
            "unknown_user"
            if row is None
            else "wrong_password"
            if not ok
            else "disabled"
            if not row.active
            else ""
        )
        async with self.store.write() as conn:
            if reason:
                account_id = None if row is None else int(row.id)
                await self._audit(conn, "failure", shown, account_id, address, reason)
                fresh = None
            else:
                values: dict[str, Any] = {"last_sign_in_at": now}
                if new_hash is not None:
                    values["password_hash"] = new_hash
                await conn.execute(sa.update(s.accounts).where(_a.id == row.id).values(**values))
                await self.throttle.refund(conn, account=user_key, address=addr_key)
                await self._audit(conn, "sign_in", shown, int(row.id), address, "")
                fresh = await self._row(conn, name)
        if fresh is None:
            raise SignInFailed()
        return _account(fresh)

    async def clear_throttle(self, username: str) -> None:
        """Let a username try again at once (an admin's unlock)."""
        name = normalize_username(username)
        async with self.store.write() as conn:
            await self.throttle.clear(conn, username_key(name))

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
                    id=_session_id(token),
                    account_id=account.id,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + ttl,
                    ended_at=None,
                    address=_bounded(address, 64),
                    user_agent=_bounded(user_agent, 255),
                )
            )
        return token

    async def session(self, token: str) -> tuple[Account, SessionInfo] | None:
        """The account and session of a cookie token, or ``None`` when the
        session is unknown, expired or ended, or its account is disabled."""
        if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_CHARS:
            return None
        sid = _session_id(token)
        now = self.clock.now()
        stmt = (
            sa.select(s.sessions, *[c.label(f"a_{c.name}") for c in _ACCOUNT_COLUMNS])
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
        account = _account(_Prefixed(row, "a_"))
        return account, info

    async def end_session(self, token: str) -> str | None:
        """End the session of ``token`` (sign-out); its id, or ``None`` if
        there was no open one."""
        if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_CHARS:
            return None
        sid = _session_id(token)
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

    # -- helpers --------------------------------------------------------------

    async def _row(self, conn: DbConn, name: str) -> Any:
        return (
            await conn.execute(sa.select(*_ACCOUNT_COLUMNS).where(_a.username == name))
        ).one_or_none()

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
                username=_bounded(username, 64),
                account_id=account_id,
                address=_bounded(address, 64),
                event=event,
                detail=_bounded(detail, 255),
            )
        )


def _by(actor: str) -> str:
    return f"by={_bounded(actor, 64)}" if actor else ""


class _Prefixed:
    """A row's ``a_``-labelled columns seen without the prefix."""

    def __init__(self, row: Any, prefix: str) -> None:
        self._row = row
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, self._prefix + name)
