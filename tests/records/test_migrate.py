"""The shipped migrations create exactly the tables the code uses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from relevo.records.migrate import migrate_database
from relevo.records.schema import metadata
from relevo.records.store import Store
from relevo.settings import DatabaseSettings, Settings

from .conftest import Db


def _records_only(obj: Any, name: str | None, type_: str, reflected: bool, other: Any) -> bool:
    # The same migrations create the accounts tables (tests/accounts compares those).
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
    return table in metadata.tables


def _diff(conn: Any) -> list[Any]:
    ctx = MigrationContext.configure(
        conn,
        opts={"version_table": "relevo_alembic_version", "include_object": _records_only},
    )
    return [d for d in compare_metadata(ctx, metadata) if d[0] != "remove_table"]


async def test_migrated_schema_matches_the_metadata(db: Db) -> None:
    store = Store(db.url, schema=db.schema)
    try:
        diff = await store.run_sync(_diff)
    finally:
        await store.close()
    assert diff == []


def test_relevo_migrate_creates_a_sqlite_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    migrate_database(Settings(database=DatabaseSettings(url=url)))
    migrate_database(Settings(database=DatabaseSettings(url=url)))  # idempotent
    assert (tmp_path / "fresh.db").exists()
