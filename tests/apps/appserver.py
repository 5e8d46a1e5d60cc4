"""A real relevo server with the records layer and one app mounted, on a
SQLite file and a port the test picks, and clients that talk to it as the
pages do: HTTP with a user's token, and a WebSocket that keeps every frame.
Used by the cargue and inbox tests; :func:`pg_app_server` puts the app on
a PostgreSQL schema of its own (the concurrency tests, marker ``postgres``)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import sqlalchemy as sa
import websockets
from sqlalchemy.ext.asyncio import create_async_engine

from relevo.apps.base import AppContext
from relevo.hub.auth import mint_token
from relevo.records import Records, RecordsOptions
from relevo.server.app import RelevoServer
from relevo.server.standalone import build_app_server
from relevo.settings import AuthSettings, ServerSettings, Settings
from tests.helpers import missing_service, timeout

SECRET = "apps-test-secret-0123456789abcdef-xyz"
API_KEY = "apps-test-api-key"
API = {"X-API-Key": API_KEY}
PG_URL = os.environ.get("RELEVO_TEST_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
FAST = RecordsOptions(
    relay_poll=0.2, relay_grace=0.5, node_heartbeat=0.5, node_timeout=2.0, leave_grace=1.0
)


def token(user: str, roles: tuple[str, ...], tenant: str = "", **extra: Any) -> str:
    return mint_token(SECRET, user, roles, tenant, ttl=3600, extra=extra or None)


def bearer(tok: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tok}"}


@dataclass
class AppServer:
    server: RelevoServer
    records: Records
    ctx: AppContext

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.server.port}/ws"

    async def request(
        self, method: str, path: str, tok: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if tok is not None:
            headers.update(bearer(tok))
        async with httpx.AsyncClient(base_url=self.url, timeout=timeout(10)) as client:
            return await client.request(method, path, headers=headers, **kwargs)

    async def ok(self, method: str, path: str, tok: str | None = None, **kwargs: Any) -> Any:
        res = await self.request(method, path, tok, **kwargs)
        assert res.status_code in (200, 201), f"{method} {path}: {res.status_code} {res.text}"
        return res.json()

    async def fails(
        self, status: int, code: str, method: str, path: str, tok: str | None = None, **kw: Any
    ) -> dict[str, Any]:
        res = await self.request(method, path, tok, **kw)
        assert res.status_code == status, f"{method} {path}: {res.status_code} {res.text}"
        body: dict[str, Any] = res.json()
        assert body["code"] == code, body
        return body

    async def stop(self) -> None:
        if not self.server.server.should_exit:
            await self.server.stop()


async def start_app_server(
    app: ModuleType,
    db: Path,
    options: Mapping[str, Any] | None = None,
    *,
    demo: bool = True,
    seed: bool = True,
    port: int = 0,
    url: str | None = None,
    schema: str | None = None,
) -> AppServer:
    """Records + ``app`` on ``db`` (or on ``url``/``schema``: PostgreSQL, MySQL);
    ``seed`` runs the app's ``seed_demo`` (a server in demo mode also seeds
    itself at start, as ``relevo demo`` does)."""
    opts = dict(options or {})
    settings = Settings(
        server=ServerSettings(host="127.0.0.1", port=port, log_level="warning"),
        auth=AuthSettings(secret=SECRET, api_key=API_KEY),
        apps=(app.NAME,),
        app={app.NAME: opts},
        demo=demo,
    )
    url = url or f"sqlite+aiosqlite:///{db}"
    server, records = build_app_server(settings, url, schema=schema, records_options=FAST)
    await server.start()
    ctx = AppContext(app.NAME, settings, server.hub, records, opts)
    srv = AppServer(server, records, ctx)
    if seed:
        await app.seed_demo(ctx)
        await records.wait_published()
    return srv


async def _pg_ddl(sql: str) -> None:
    engine = create_async_engine(PG_URL)
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text(sql))
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def pg_app_server(
    app: ModuleType, tmp_path: Path, options: Mapping[str, Any] | None = None
) -> AsyncIterator[AppServer]:
    """``app`` (seeded) on PostgreSQL at ``RELEVO_TEST_PG``, in a schema of
    its own that is dropped after; PostgreSQL not there skips the test (fails
    it under CI, :func:`~tests.helpers.missing_service`)."""
    schema = f"relevo_{app.NAME}_{secrets.token_hex(4)}"
    try:
        await asyncio.wait_for(_pg_ddl(f"CREATE SCHEMA {schema}"), 5)
    except Exception as exc:  # noqa: BLE001 - any reason the server is not there
        missing_service(f"PostgreSQL not reachable: {str(exc).splitlines()[0]}")
    srv = None
    try:
        srv = await start_app_server(
            app, tmp_path / "unused.db", options, url=PG_URL, schema=schema
        )
        yield srv
    finally:
        if srv is not None:
            await srv.stop()
        await _pg_ddl(f"DROP SCHEMA {schema} CASCADE")


@dataclass
class WsClient:
    """One connection as a page holds it: every frame kept in order, with
    waits on conditions over them."""

    ws: Any
    frames: list[dict[str, Any]] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _ids: int = 0
    _task: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, srv: AppServer, tok: str) -> WsClient:
        ws = await websockets.connect(srv.ws_url)
        client = cls(ws)
        client._task = asyncio.get_running_loop().create_task(client._read())
        ok = await client.call({"op": "connect", "token": tok})
        assert "ok" in ok, ok
        return client

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in self.ws:
                self.frames.append(json.loads(raw))
                self._changed.set()

    async def wait(
        self, predicate: Callable[[dict[str, Any]], bool], wait: float = 5
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout(wait)
        seen = 0
        while True:
            for frame in self.frames[seen:]:
                if predicate(frame):
                    return frame
            seen = len(self.frames)
            self._changed.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no matching frame in {wait}s; last: {self.frames[-5:]}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)

    async def call(self, frame: dict[str, Any]) -> dict[str, Any]:
        self._ids += 1
        fid = self._ids
        await self.ws.send(json.dumps({"id": fid, **frame}))
        return await self.wait(lambda f: f.get("id") == fid)

    async def sub(self, channel: str) -> dict[str, Any]:
        return await self.call({"op": "sub", "ch": channel})

    def publications(self) -> list[dict[str, Any]]:
        return [f for f in self.frames if "off" in f and "ch" in f]

    async def close(self) -> None:
        await self.ws.close()
        if self._task is not None:
            await self._task
