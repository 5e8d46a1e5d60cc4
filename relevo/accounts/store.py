"""``Accounts``: people, their sessions and the sign-in audit, in the records
database.

It runs over a records :class:`~relevo.records.store.Store` (the server
passes its own; :meth:`Accounts.open` makes one for the CLI). Password
hashes and raw session tokens stay inside this package: no method returns
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
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from relevo.accounts import schema as s
from relevo.accounts._rows import ACCOUNT_COLUMNS, account_of, bounded, by_actor
from relevo.accounts.audit import MAX_AUDIT_LIMIT
from relevo.accounts.errors import (
    AccountExists,
    AccountNotFound,
    InvalidAccount,
    SignInFailed,
    SignInThrottled,
)
from relevo.accounts.model import (
    Account,
    check_display_name,
    check_tenant,
    normalize_roles,
    normalize_username,
    roles_to_json,
)
from relevo.accounts.passwords import Passwords, check_policy
from relevo.accounts.sessions import (
    MAX_SESSION_TTL,
    MAX_TOKEN_CHARS,
    TOUCH_EVERY,
    SessionQueries,
    session_id,
)
from relevo.accounts.throttle import Throttle, ThrottlePolicy, address_key, username_key
from relevo.clock import Clock, SystemClock
from relevo.protocol.errors import Conflict
from relevo.records.store import DbConn, Store

__all__ = ["MAX_AUDIT_LIMIT", "MAX_SESSION_TTL", "MAX_TOKEN_CHARS", "TOUCH_EVERY", "Accounts"]

_a = s.accounts.c
_CHARGE_TRIES = 5


class Accounts(SessionQueries):
    """The accounts store. All methods are coroutines; one instance per server.
    Sessions (:mod:`relevo.accounts.sessions`) and the audit log
    (:mod:`relevo.accounts.audit`) are its other two halves."""

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
                await self._audit(conn, "created", name, account_id, "", by_actor(actor))
                row = await self._row(conn, name)
        except AccountExists:
            raise
        except Conflict as e:  # two creates of one name raced; the unique index said no
            raise AccountExists(name) from e
        assert row is not None
        return account_of(row)

    async def get(self, username: str) -> Account | None:
        try:
            name = normalize_username(username)
        except InvalidAccount:
            return None
        async with self.store.read() as conn:
            row = await self._row(conn, name)
        return None if row is None else account_of(row)

    async def get_by_id(self, account_id: int) -> Account | None:
        async with self.store.read() as conn:
            row = (
                await conn.execute(sa.select(*ACCOUNT_COLUMNS).where(_a.id == account_id))
            ).one_or_none()
        return None if row is None else account_of(row)

    async def list(self, tenant: str | None = None) -> builtins.list[Account]:
        """Every account (of ``tenant`` when given), by username."""
        stmt = sa.select(*ACCOUNT_COLUMNS).order_by(_a.username)
        if tenant is not None:
            stmt = stmt.where(_a.tenant == tenant)
        async with self.store.read() as conn:
            rows = (await conn.execute(stmt)).all()
        return [account_of(r) for r in rows]

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
            keep = session_id(keep_session) if keep_session else None
            ended = await self._end_sessions(conn, int(row.id), now, keep=keep)
            detail = by_actor(actor) + (" must_change" if must_change else "")
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
            await self._audit(conn, event, name, int(row.id), "", by_actor(actor))
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
                    conn, "updated", name, int(row.id), "", f"{by_actor(actor)} {fields}".strip()
                )
            row = await self._row(conn, name)
        assert row is not None
        return account_of(row)

    # -- sign-in --------------------------------------------------------------

    async def authenticate(
        self, username: str, password: str, *, address: str, sign_in: bool = True
    ) -> Account:
        """The account whose password this is, or :class:`SignInFailed` (the
        same for an unknown user, a wrong password and a disabled account) or
        :class:`SignInThrottled` (too many failures for the name or address).
        ``sign_in=False``: only a check of the password (before changing it),
        throttled and audited on failure alike, but on success neither a
        ``sign_in`` entry nor a new last sign-in time."""
        address = bounded(address, 64)
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
                values: dict[str, Any] = {"last_sign_in_at": now} if sign_in else {}
                if new_hash is not None:
                    values["password_hash"] = new_hash
                if values:
                    await conn.execute(
                        sa.update(s.accounts).where(_a.id == row.id).values(**values)
                    )
                await self.throttle.refund(conn, account=user_key, address=addr_key)
                if sign_in:
                    await self._audit(conn, "sign_in", shown, int(row.id), address, "")
                fresh = await self._row(conn, name)
        if fresh is None:
            raise SignInFailed()
        return account_of(fresh)

    async def clear_throttle(self, username: str) -> None:
        """Let a username try again at once (an admin's unlock)."""
        name = normalize_username(username)
        async with self.store.write() as conn:
            await self.throttle.clear(conn, username_key(name))

    # -- helpers --------------------------------------------------------------

    async def _row(self, conn: DbConn, name: str) -> Any:
        return (
            await conn.execute(sa.select(*ACCOUNT_COLUMNS).where(_a.username == name))
        ).one_or_none()
