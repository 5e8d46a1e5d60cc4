"""One records suite, three databases: SQLite always, the machine's
PostgreSQL (``-m postgres``) and MariaDB (``-m mysql``) when they answer.

Each run gets its own PostgreSQL schema / MariaDB database, migrated once and
dropped at the end; every test starts from empty tables.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from relevo.broker.memory import MemoryBroker
from relevo.clock import Clock
from relevo.hub.hub import Hub
from relevo.records import Records, RecordsOptions
from relevo.records.extension import records_extension
from relevo.records.kinds import Kind
from relevo.records.migrate import upgrade
from relevo.records.schema import ALL_TABLES
from relevo.records.store import Store
from relevo.server.app import RelevoServer
from relevo.settings import AuthSettings, NamespaceSettings, Rule, ServerSettings, Settings
from tests.helpers import missing_service

from .sample_kinds import ALL

PG_URL = os.environ.get("RELEVO_TEST_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
MY_URL = os.environ.get("RELEVO_TEST_MYSQL", "mysql+asyncmy://root@127.0.0.1:3306/test")
SECRET = "test-secret-0123456789-0123456789"
API_KEY = "test-api-key"

SETTINGS = Settings(
    auth=AuthSettings(secret=SECRET, api_key=API_KEY),
    namespaces=(
        NamespaceSettings("gtr", subscribe=(Rule(role="gtr"),)),
        NamespaceSettings("asesor", subscribe=(Rule(channel="asesor:{user}"), Rule(role="gtr"))),
        NamespaceSettings("cargue", subscribe=(Rule(),)),
        NamespaceSettings("turnos", subscribe=(Rule(anonymous=True),)),
        NamespaceSettings("t", subscribe=(Rule(channel="t:{tenant}:*"),)),
        NamespaceSettings("pings", subscribe=(Rule(),)),
    ),
)

FAST = RecordsOptions(
    relay_poll=0.2, relay_grace=0.5, node_heartbeat=0.5, node_timeout=2.0, leave_grace=1.0
)


@dataclass
class Db:
    name: str
    url: str
    schema: str | None = None
    clean: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


def _run(coro: Any) -> Any:
    """Run set-up code on its own loop: session fixtures may be first requested
    from inside a test's running loop."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def _migrate(url: str, schema: str | None) -> None:
    store = Store(url, schema=schema)
    try:
        await upgrade(store)
    finally:
        await store.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("records") / "template.db"
    _run(_migrate(f"sqlite+aiosqlite:///{path}", None))
    return path


def _server_up(url: str) -> str | None:
    async def probe() -> None:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
        finally:
            await engine.dispose()

    try:
        _run(asyncio.wait_for(probe(), 5))
    except Exception as exc:
        return str(exc).splitlines()[0]
    return None


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str]:
    why = _server_up(PG_URL)
    if why:
        missing_service(f"PostgreSQL not reachable: {why}")
    schema = f"relevo_t_{secrets.token_hex(4)}"

    async def ddl(sql: str) -> None:
        engine = create_async_engine(PG_URL)
        async with engine.begin() as conn:
            await conn.execute(sa.text(sql))
        await engine.dispose()

    _run(ddl(f"CREATE SCHEMA {schema}"))
    try:
        _run(_migrate(PG_URL, schema))
        yield schema
    finally:
        _run(ddl(f"DROP SCHEMA {schema} CASCADE"))


@pytest.fixture(scope="session")
def mysql_database() -> Iterator[str]:
    why = _server_up(MY_URL)
    if why:
        missing_service(f"MariaDB not reachable: {why}")
    name = f"relevo_t_{secrets.token_hex(4)}"

    async def ddl(sql: str) -> None:
        engine = create_async_engine(MY_URL)
        async with engine.begin() as conn:
            await conn.execute(sa.text(sql))
        await engine.dispose()

    _run(ddl(f"CREATE DATABASE {name} CHARACTER SET utf8mb4"))
    try:
        _run(_migrate(MY_URL, name))
        yield name
    finally:
        _run(ddl(f"DROP DATABASE {name}"))


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    pytest.param("mysql", id="mysql", marks=pytest.mark.mysql),
]


async def truncate(db: Db) -> None:
    store = Store(db.url, schema=db.schema)
    try:
        async with store.write() as conn:
            for table in ALL_TABLES:
                await conn.execute(sa.delete(table))
    finally:
        await store.close()


@pytest.fixture(params=BACKENDS)
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> Db:
    if request.param == "sqlite":
        path = tmp_path / "relevo.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return Db("sqlite", f"sqlite+aiosqlite:///{path}")
    if request.param == "postgres":
        d = Db("postgres", PG_URL, request.getfixturevalue("pg_schema"))
    else:
        d = Db("mysql", MY_URL, request.getfixturevalue("mysql_database"))
    await truncate(d)
    return d


@dataclass
class Node:
    records: Records
    hub: Hub


NodeFactory = Callable[..., Any]


@pytest.fixture
async def make_node(db: Db) -> AsyncIterator[NodeFactory]:
    """Start a records node (Records + Hub on a memory broker) on ``db``."""
    nodes: list[Node] = []

    async def make(
        *,
        clock: Clock | None = None,
        options: RecordsOptions = FAST,
        start: bool = True,
        node: str | None = None,
        kinds: Iterable[Kind] = ALL,
    ) -> Node:
        hub = Hub(SETTINGS, MemoryBroker())
        await hub.start()
        records = Records(db.url, kinds, schema=db.schema, options=options, clock=clock, node=node)
        records.attach(hub)
        n = Node(records, hub)
        nodes.append(n)
        if start:
            await records.start()
        return n

    yield make
    for n in reversed(nodes):
        await n.records.close()
        await n.hub.close()


@contextlib.asynccontextmanager
async def serve_records(
    db: Db, kinds: Iterable[Kind] = ALL, settings: Settings | None = None
) -> AsyncIterator[tuple[RelevoServer, Records]]:
    """A real server on a free port with the records API over ``kinds``
    (``settings``: the server's, on port 0; the records tests' by default)."""
    records = Records(db.url, kinds, schema=db.schema, options=FAST)
    if settings is None:
        settings = dataclasses.replace(SETTINGS, server=ServerSettings(port=0, log_level="warning"))
    srv = RelevoServer(settings, extensions=[records_extension(records, migrate=True)])
    records.attach(srv.hub)
    await srv.start()
    try:
        yield srv, records
    finally:
        await srv.stop()


@pytest.fixture
async def server(db: Db) -> AsyncIterator[RelevoServer]:
    async with serve_records(db) as (srv, _):
        yield srv


@pytest.fixture
async def http(server: RelevoServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
        yield client


async def wait_for(predicate: Callable[[], Any], timeout: float = 5.0) -> None:
    """Poll ``predicate`` (sync or async) until true; for effects of background tasks."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout * float(os.environ.get("RELEVO_TEST_TIMEOUT_SCALE", "1"))
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)
