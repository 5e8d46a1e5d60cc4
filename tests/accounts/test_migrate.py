"""Migration 0002 creates exactly the accounts tables, on the three databases,
and goes down and up again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from relevo.accounts.schema import ALL_TABLES, metadata
from relevo.records.migrate import alembic_config, upgrade
from relevo.records.store import Store

from .conftest import Db

OURS = {t.name for t in ALL_TABLES}


def _ours(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
    return table in OURS


def _diff(conn: Any) -> list[Any]:
    ctx = MigrationContext.configure(
        conn, opts={"version_table": "relevo_alembic_version", "include_object": _ours}
    )
    return list(compare_metadata(ctx, metadata))


async def test_migrated_schema_matches_the_accounts_tables(adb: Db) -> None:
    store = Store(adb.url, schema=adb.schema)
    try:
        diff = await store.run_sync(_diff)
    finally:
        await store.close()
    assert diff == []


async def test_0002_goes_down_and_up(tmp_path: Path) -> None:
    store = Store(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    names = OURS
    try:
        await upgrade(store)
        await store.run_sync(lambda c: command.downgrade(alembic_config(c), "0001"))
        left = await store.run_sync(lambda c: set(sa.inspect(c).get_table_names()))
        assert not names & left
        assert "relevo_records" in left
        await upgrade(store)
        back = await store.run_sync(lambda c: set(sa.inspect(c).get_table_names()))
        assert names <= back
    finally:
        await store.close()
