"""The records store's connection pool on PostgreSQL: a connection the
database dropped while it sat idle in the pool (a PostgreSQL restart, a
proxy's idle timeout) is replaced before a transaction uses it, so no
request fails for it — without a ping before every transaction of a busy
pool (one round trip in seven on the records path)."""

from __future__ import annotations

import asyncio

import asyncpg
import sqlalchemy as sa

from relevo.records.store import Store
from tests.records.conftest import PG_URL

_ADMIN = PG_URL.replace("postgresql+asyncpg://", "postgresql://")


async def _backend_pids(store: Store) -> set[int]:
    pids = set()
    async with store.read() as conn:
        pids.add(int((await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one()))
    return pids


async def test_a_connection_dropped_while_idle_is_replaced_before_use(pg_schema: str) -> None:
    store = Store(PG_URL, schema=pg_schema, pool_size=2, ping_after_idle=0.2)
    admin = await asyncpg.connect(_ADMIN)
    try:
        [pid] = await _backend_pids(store)
        await admin.execute("SELECT pg_terminate_backend($1)", pid)
        await asyncio.sleep(0.3)  # idle longer than ping_after_idle
        async with store.write() as conn:
            assert (await conn.execute(sa.text("SELECT 1"))).scalar_one() == 1
        assert pid not in await _backend_pids(store)
    finally:
        await admin.close()
        await store.close()


async def test_a_busy_pool_does_not_ping_before_each_transaction(pg_schema: str) -> None:
    store = Store(PG_URL, schema=pg_schema, pool_size=1, ping_after_idle=60.0)
    pings = 0
    assert store.engine is not None
    dialect = store.engine.sync_engine.dialect
    real_ping = dialect.do_ping

    def counting_ping(dbapi_connection: object) -> bool:
        nonlocal pings
        pings += 1
        return bool(real_ping(dbapi_connection))

    dialect.do_ping = counting_ping  # type: ignore[method-assign]
    try:
        for _ in range(20):
            async with store.write() as conn:
                await conn.execute(sa.text("SELECT 1"))
        assert pings == 0
    finally:
        await store.close()
