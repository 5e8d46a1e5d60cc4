"""Sign-in throttling: increasing delays per username and per address.

Every sign-in attempt is **charged before** its password is checked (a
success gives the charge back), so a burst of parallel guesses is counted
in full: the charge takes a row lock on the key's row (SQLite's single
writer does the same), and the check and the increment happen under it.

A key may fail ``free`` times; after that each failure makes it wait
``base_delay * 2 ** (failures - free)`` seconds from the last failure, up to
``max_delay``: with the defaults a username gets 5 free tries, then 1 s, 2 s,
4 s, ... 15 min; an address (many people behind one NAT) gets 50. An attempt
made while a key must wait is refused with the time left and not counted,
so hammering does not lengthen the wait. A key with no failure for
``forget_after`` starts over.

The counters live in the records database (``relevo_auth_throttle``), so
every node of a cluster sees the same ones. The time comes from an
injectable :class:`~relevo.clock.Clock`, so the tests move it
instead of sleeping.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from relevo.accounts import schema as s
from relevo.clock import Clock
from relevo.records.store import DbConn, Store

__all__ = ["Throttle", "ThrottlePolicy", "address_key", "username_key"]

_t = s.throttle.c


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    account_free: int = 5
    """Failures a username may have before it must wait."""
    address_free: int = 50
    """Failures an address may have before it must wait."""
    base_delay: float = 1.0
    """Seconds of the first wait; each further failure doubles it."""
    max_delay: float = 900.0
    """The longest wait (15 min)."""
    forget_after: float = 3600.0
    """Seconds without a failure after which a key starts over."""

    def delay(self, failures: int, free: int) -> float:
        if failures < free:
            return 0.0
        step = min(failures - free, 40)  # 2**40 s is past any max_delay
        return float(min(self.base_delay * 2.0**step, self.max_delay))


def username_key(username: str) -> str:
    """The key for a (normalised) username; long ones are hashed to fit."""
    key = f"u:{username}"
    return key if len(key) <= 128 else "u#" + hashlib.sha256(username.encode()).hexdigest()


def address_key(address: str) -> str:
    key = f"a:{address}"
    return key if len(key) <= 128 else "a#" + hashlib.sha256(address.encode()).hexdigest()


class Throttle:
    def __init__(self, store: Store, policy: ThrottlePolicy, clock: Clock) -> None:
        self.store = store
        self.policy = policy
        self.clock = clock
        self._pruned_at = 0.0
        if store.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            self._ensure: sa.Executable = pg_insert(s.throttle).on_conflict_do_nothing()
        elif store.dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            self._ensure = sqlite_insert(s.throttle).on_conflict_do_nothing()
        else:
            from sqlalchemy.dialects.mysql import insert as my_insert

            self._ensure = my_insert(s.throttle).prefix_with("IGNORE")

    def _free(self, key: str) -> int:
        return self.policy.account_free if key.startswith("u") else self.policy.address_free

    async def charge(self, conn: DbConn, keys: Sequence[str]) -> float:
        """Count one attempt against every key, in ``conn``'s transaction; or,
        when a key must still wait, count nothing and return the seconds left
        (the largest over the keys). ``0.0`` means the attempt may go on.

        Two first failures of one key at once may deadlock on MariaDB (the
        duplicate-key check takes a shared lock); the caller retries the
        transaction on :class:`~relevo.protocol.errors.Conflict`."""
        now = self.clock.now()
        await self._prune(conn, now)
        counts: dict[str, int] = {}
        wait = 0.0
        for key in sorted(set(keys)):  # one lock order for every caller
            select = self.store.locked(sa.select(_t.failures, _t.last_at).where(_t.key == key))
            row = (await conn.execute(select)).one_or_none()
            if row is None:  # a first failure: make the row to lock (a race may make it too)
                await conn.execute(self._ensure, {"key": key, "failures": 0, "last_at": now})
                row = (await conn.execute(select)).one()
            failures = 0 if now - row.last_at > self.policy.forget_after else row.failures
            counts[key] = failures
            wait = max(wait, row.last_at + self.policy.delay(failures, self._free(key)) - now)
        if wait > 0:
            return wait
        for key, failures in counts.items():
            await conn.execute(
                sa.update(s.throttle)
                .where(_t.key == key)
                .values(failures=failures + 1, last_at=now)
            )
        return 0.0

    async def refund(self, conn: DbConn, *, account: str, address: str) -> None:
        """A success: the username starts over, the address gets its charge back."""
        await conn.execute(sa.delete(s.throttle).where(_t.key == account))
        await conn.execute(
            sa.update(s.throttle)
            .where(_t.key == address, _t.failures > 0)
            .values(failures=_t.failures - 1)
        )

    async def clear(self, conn: DbConn, key: str) -> None:
        await conn.execute(sa.delete(s.throttle).where(_t.key == key))

    async def retry_after(self, conn: DbConn, key: str) -> float:
        """Seconds ``key`` must still wait (0 if none); for admin views and tests."""
        now = self.clock.now()
        row = (
            await conn.execute(sa.select(_t.failures, _t.last_at).where(_t.key == key))
        ).one_or_none()
        if row is None or now - row.last_at > self.policy.forget_after:
            return 0.0
        return max(0.0, float(row.last_at) + self.policy.delay(row.failures, self._free(key)) - now)

    async def _prune(self, conn: DbConn, now: float) -> None:
        # Keys for made-up usernames would pile up; drop forgotten ones once a minute.
        if now - self._pruned_at < 60:
            return
        self._pruned_at = now
        await conn.execute(sa.delete(s.throttle).where(_t.last_at < now - self.policy.forget_after))
