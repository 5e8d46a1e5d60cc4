"""Apply the records store's Alembic migrations (``relevo migrate``, and at
``relevo serve`` start). Several nodes starting at once take a database lock
first, so only one of them migrates."""

from __future__ import annotations

import asyncio
import sys
from importlib import resources
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from relevo.records.store import Store, database_url
from relevo.settings import Settings

__all__ = ["alembic_config", "migrate_database", "upgrade"]

_LOCK_ID = 0x7265_6C65  # "rele"


def alembic_config(connection: Any = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("relevo.records") / "migrations"))
    cfg.attributes["connection"] = connection
    return cfg


async def upgrade(store: Store, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (all migrations by default)."""

    def run(conn: sa.Connection) -> None:
        if store.dialect == "postgresql":
            conn.execute(sa.text(f"SELECT pg_advisory_xact_lock({_LOCK_ID})"))
        elif store.dialect == "mysql":
            conn.execute(sa.text("SELECT GET_LOCK('relevo_migrate', 60)"))
        try:
            command.upgrade(alembic_config(conn), revision)
        finally:
            if store.dialect == "mysql":
                conn.execute(sa.text("SELECT RELEASE_LOCK('relevo_migrate')"))

    await store.run_sync(run)


async def _migrate(url: str) -> None:
    store = Store(url)
    try:
        await upgrade(store)
    finally:
        await store.close()


def migrate_database(settings: Settings) -> None:
    url = database_url(settings)
    asyncio.run(_migrate(url))
    shown = sa.engine.make_url(url).render_as_string(hide_password=True)
    print(f"relevo: records store at {shown} is up to date", file=sys.stderr)
