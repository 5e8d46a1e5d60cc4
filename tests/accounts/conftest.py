"""The accounts suite runs on the records suite's three databases (SQLite
always, PostgreSQL with ``-m postgres``, MariaDB with ``-m mysql``): the
same migrated schema, each test starting from empty tables."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import sqlalchemy as sa

from relevo.accounts import Accounts, HashParameters, Passwords, ThrottlePolicy
from relevo.accounts.schema import ALL_TABLES
from relevo.records.clock import MockClock
from relevo.records.store import Store
from tests.records.conftest import (  # noqa: F401  (fixtures)
    Db,
    db,
    mysql_database,
    pg_schema,
    sqlite_template,
)

#: Cheap argon2id parameters for tests that are not about the hash's cost.
FAST_HASH = HashParameters(memory_kib=256, time_cost=1, parallelism=1)
#: A policy that never throttles, for tests that are not about throttling.
NO_THROTTLE = ThrottlePolicy(account_free=10_000, address_free=10_000)
PASSWORD = "correct horse battery"


async def _empty(d: Db) -> None:
    store = Store(d.url, schema=d.schema)
    try:
        async with store.write() as conn:
            for table in ALL_TABLES:
                await conn.execute(sa.delete(table))
    finally:
        await store.close()


@pytest.fixture
async def adb(db: Db) -> Db:  # noqa: F811
    if db.name != "sqlite":
        await _empty(db)
    return db


@pytest.fixture
def clock() -> MockClock:
    return MockClock()


AccountsFactory = Callable[..., Any]


@pytest.fixture
async def make_accounts(adb: Db, clock: MockClock) -> AsyncIterator[AccountsFactory]:
    """``Accounts`` over the test database (one per call: two calls are two nodes)."""
    made: list[Accounts] = []
    passwords = Passwords(FAST_HASH)

    def make(**kwargs: Any) -> Accounts:
        kwargs.setdefault("clock", clock)
        kwargs.setdefault("passwords", passwords)
        kwargs.setdefault("throttle", NO_THROTTLE)
        accounts = Accounts.open(adb.url, schema=adb.schema, **kwargs)
        made.append(accounts)
        return accounts

    yield make
    for accounts in made:
        await accounts.close()


@pytest.fixture
def accounts(make_accounts: AccountsFactory) -> Accounts:
    result: Accounts = make_accounts()
    return result
