"""The SQL store: one async engine per database, and what differs between them.

SQLite (the embedded default), PostgreSQL and MySQL/MariaDB differ in three
ways that matter here, and this module is the only place that knows:

- **Write concurrency.** SQLite has one writer. Write transactions open with
  ``BEGIN IMMEDIATE`` (so two processes on one file queue on the busy timeout
  instead of failing at commit) and are serialised in-process by a lock.
  Reads use a second engine in WAL mode and never wait for writers. SQLite
  runs inline on the loop thread (see :class:`DbConn`).
- **Row claims.** ``FOR UPDATE SKIP LOCKED`` on PostgreSQL and MariaDB/MySQL
  lets several nodes claim due timers and outbox rows without blocking each
  other; on SQLite the single writer already makes a claim exclusive.
- **Upserts.** Each dialect spells "insert or update" its own way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from relevo.protocol.errors import Conflict, RelevoError, Unavailable
from relevo.settings import Settings

__all__ = ["DEFAULT_URL", "DbConn", "Store", "database_url"]

T = TypeVar("T")

log = logging.getLogger("relevo.records")

DEFAULT_URL = "sqlite+aiosqlite:///relevo.db"
_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "mysql": "mysql+asyncmy",
    "mariadb": "mysql+asyncmy",
}


def database_url(settings: Settings) -> str:
    """The records store's URL: ``database.url``, or ``relevo.db`` in the
    current directory (where ``relevo serve`` finds its ``relevo.toml``)."""
    return normalize_url(settings.database.url or DEFAULT_URL)


def normalize_url(url: str) -> str:
    """Give a bare ``postgresql://`` or ``sqlite:///`` URL its async driver."""
    scheme, sep, rest = url.partition("://")
    if sep and "+" not in scheme and scheme in _DRIVERS:
        return f"{_DRIVERS[scheme]}://{rest}"
    return url


class DbConn:
    """One connection in a transaction, the same API on every database.

    PostgreSQL and MySQL go through SQLAlchemy's asyncio engine. SQLite runs
    *inline* on the event loop thread through the sync engine: a statement on
    a local WAL file takes tens of microseconds, far less than handing it to
    a driver thread and back (aiosqlite costs ~0.2 ms a statement, which made
    the writer, not SQLite, the bottleneck). Writers are serialised by an
    asyncio lock, and WAL readers never wait, so the loop does not block on
    locks held in this process; only another process writing the same file
    can make it wait (up to the busy timeout)."""

    __slots__ = ("_async", "_sync")

    def __init__(self, conn: AsyncConnection | sa.Connection) -> None:
        self._async = conn if isinstance(conn, AsyncConnection) else None
        self._sync = conn if isinstance(conn, sa.Connection) else None

    async def execute(
        self,
        stmt: sa.Executable,
        params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
    ) -> sa.CursorResult[*tuple[Any, ...]]:
        if self._sync is not None:
            return self._sync.execute(stmt, params)
        assert self._async is not None
        return await self._async.execute(stmt, params)

    @contextlib.asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        if self._sync is not None:
            with self._sync.begin_nested():
                yield
            return
        assert self._async is not None
        async with self._async.begin_nested():
            yield


#: Seconds a pooled connection may sit unused before it is checked (pinged)
#: on its way out: one the database dropped meanwhile is replaced, not used.
PING_AFTER_IDLE = 2.0


def _ping_when_idle(engine: sa.Engine, after: float) -> None:
    """``pool_pre_ping``, only for connections idle ``after`` seconds or more.

    A connection taken back within ``after`` was working a moment ago; one
    that sat longer may have been dropped (a restart, a proxy's idle
    timeout) and is pinged, then replaced if dead (the pool retries on
    ``DisconnectionError``). Pinging every checkout cost the records path one
    round trip in seven. Real time on purpose: this is the connection's own
    liveness, not an application deadline."""

    @event.listens_for(engine, "checkin")
    def _checkin(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < after:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as e:
            raise exc.DisconnectionError(f"pooled connection dropped while idle: {e}") from e
        if not alive:
            raise exc.DisconnectionError("pooled connection dropped while idle")


class Store:
    def __init__(
        self,
        url: str,
        *,
        schema: str | None = None,
        pool_size: int = 10,
        ping_after_idle: float = PING_AFTER_IDLE,
    ) -> None:
        self.url: URL = make_url(normalize_url(url))
        backend = self.url.get_backend_name()
        self.dialect = "mysql" if backend in ("mysql", "mariadb") else backend
        if self.dialect not in ("sqlite", "postgresql", "mysql"):
            raise RelevoError(f"unsupported records database {backend!r}")
        self.schema = schema
        self.skip_locked = self.dialect != "sqlite"
        self._write_lock: asyncio.Lock | None = None
        self._cache: dict[tuple[str, str, tuple[str, ...]], sa.Executable] = {}
        self.engine: AsyncEngine | None = None
        self.sqlite: sa.Engine | None = None
        self.sqlite_reader: sa.Engine | None = None
        if self.dialect == "sqlite":
            self.sqlite = self._sqlite_engine(immediate=True)
            self.sqlite_reader = self._sqlite_engine(immediate=False)
        else:
            kwargs: dict[str, Any] = {
                "pool_size": pool_size,
                "max_overflow": pool_size,
                "isolation_level": "READ COMMITTED",
            }
            url_ = self.url
            if schema and self.dialect == "postgresql":
                kwargs["connect_args"] = {"server_settings": {"search_path": schema}}
            elif schema:
                url_ = url_.set(database=schema)
            self.engine = create_async_engine(url_, **kwargs)
            _ping_when_idle(self.engine.sync_engine, ping_after_idle)

    def _sqlite_engine(self, *, immediate: bool) -> sa.Engine:
        # Inline use from one thread (see DbConn); every transaction ends in
        # an explicit COMMIT or ROLLBACK, so no reset-on-return rollback.
        engine = sa.create_engine(
            self.url.set(drivername="sqlite+pysqlite"),
            poolclass=sa.pool.QueuePool,
            pool_size=1 if immediate else 4,
            max_overflow=0 if immediate else 8,
            pool_reset_on_return=None,
            connect_args={"check_same_thread": False},
        )
        begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn: Any, record: Any) -> None:
            # Take BEGIN away from the driver so we can say IMMEDIATE and so
            # savepoints work (SQLAlchemy's documented pysqlite recipe).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=5000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql(begin)

        return engine

    async def close(self) -> None:
        if self.engine is not None:
            await self.engine.dispose()
        for engine in (self.sqlite, self.sqlite_reader):
            if engine is not None:
                engine.dispose()

    # -- transactions ---------------------------------------------------------

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[DbConn]:
        """One write transaction; commits on success, rolls back on error, and
        turns database errors into relevo's (``conflict``, ``unavailable``)."""
        async with self.write_lock():
            try:
                if self.sqlite is not None:
                    with self.sqlite.begin() as sconn:
                        yield DbConn(sconn)
                else:
                    assert self.engine is not None
                    async with self.engine.begin() as conn:
                        yield DbConn(conn)
            except exc.DBAPIError as e:
                raise self.map_error(e) from e
            except OSError as e:
                raise Unavailable(f"records database unreachable: {e}") from e

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[DbConn]:
        """A read-only transaction: one consistent snapshot on every database."""
        try:
            if self.sqlite_reader is not None:
                with self.sqlite_reader.begin() as sconn:
                    yield DbConn(sconn)
            else:
                assert self.engine is not None
                async with self.engine.connect() as conn, conn.begin():
                    yield DbConn(conn)
        except exc.DBAPIError as e:
            raise self.map_error(e) from e
        except OSError as e:
            raise Unavailable(f"records database unreachable: {e}") from e

    async def run_sync(self, fn: Callable[[sa.Connection], T]) -> T:
        """``fn(connection)`` in one transaction (Alembic, schema checks)."""
        async with self.write_lock():
            if self.sqlite is not None:
                with self.sqlite.begin() as sconn:
                    return fn(sconn)
            assert self.engine is not None
            async with self.engine.begin() as conn:
                return await conn.run_sync(fn)

    def write_lock(self) -> contextlib.AbstractAsyncContextManager[Any]:
        if self.dialect != "sqlite":
            return contextlib.nullcontext()
        if self._write_lock is None:
            self._write_lock = asyncio.Lock()
        return self._write_lock

    def map_error(self, e: exc.DBAPIError) -> RelevoError:
        orig = e.orig
        code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
        if code is None and orig is not None and orig.args and isinstance(orig.args[0], int):
            code = str(orig.args[0])
        if code in ("40001", "40P01", "1213", "1205"):
            return Conflict("a concurrent change won; retry")
        if isinstance(e, exc.IntegrityError):
            return Conflict(f"constraint violated: {str(orig).splitlines()[0]}")
        if isinstance(e, exc.OperationalError | exc.InterfaceError):
            return Unavailable(f"records database error: {str(orig).splitlines()[0]}")
        log.error("records database error", exc_info=e)
        return RelevoError("records database error")

    # -- dialect helpers ------------------------------------------------------

    def locked(self, stmt: sa.Select[Any], *, skip: bool = False) -> sa.Select[Any]:
        """``stmt`` taking row locks where the database has them."""
        if self.dialect == "sqlite":
            return stmt
        return stmt.with_for_update(skip_locked=skip)

    def upsert(self, table: sa.Table, update: Sequence[str]) -> sa.Executable:
        """Insert the row given at execution, or update the ``update`` columns
        of the row with the same key (built once per table and columns)."""
        key = ("upsert", table.name, tuple(update))
        stmt = self._cache.get(key)
        if stmt is None:
            stmt = self._cache[key] = self._upsert(table, update)
        return stmt

    def _upsert(self, table: sa.Table, update: Sequence[str]) -> sa.Executable:
        keys = [c.name for c in table.primary_key.columns]
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            pg = pg_insert(table)
            return pg.on_conflict_do_update(
                index_elements=keys, set_={c: pg.excluded[c] for c in update}
            )
        if self.dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            lite = sqlite_insert(table)
            return lite.on_conflict_do_update(
                index_elements=keys, set_={c: lite.excluded[c] for c in update}
            )
        from sqlalchemy.dialects.mysql import insert as my_insert

        my = my_insert(table)
        return my.on_duplicate_key_update({c: my.inserted[c] for c in update})

    def raise_to(self, table: sa.Table, name: str, value: int) -> sa.Executable:
        """Set a counter row to at least ``value``, creating it at ``value``."""
        col = table.c.value
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            pg = pg_insert(table).values(name=name, value=value)
            new = sa.case((col < pg.excluded.value, pg.excluded.value), else_=col)
            return pg.on_conflict_do_update(index_elements=["name"], set_={"value": new})
        if self.dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            lite = sqlite_insert(table).values(name=name, value=value)
            new = sa.case((col < lite.excluded.value, lite.excluded.value), else_=col)
            return lite.on_conflict_do_update(index_elements=["name"], set_={"value": new})
        from sqlalchemy.dialects.mysql import insert as my_insert

        my = my_insert(table).values(name=name, value=value)
        return my.on_duplicate_key_update(
            value=sa.case((col < my.inserted.value, my.inserted.value), else_=col)
        )

    def increment(self, table: sa.Table, name: str, by: int = 1) -> sa.Executable:
        """Add ``by`` to a counter row, creating it at ``by`` (sequences)."""
        col = table.c.value
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            pg = pg_insert(table).values(name=name, value=by)
            return pg.on_conflict_do_update(index_elements=["name"], set_={"value": col + by})
        if self.dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            lite = sqlite_insert(table).values(name=name, value=by)
            return lite.on_conflict_do_update(index_elements=["name"], set_={"value": col + by})
        from sqlalchemy.dialects.mysql import insert as my_insert

        return my_insert(table).values(name=name, value=by).on_duplicate_key_update(value=col + by)
