"""The cargue app on a real server (records + cargue, SQLite, demo data)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from relevo.apps import cargue
from tests.apps.appserver import AppServer, WsClient, start_app_server, token

DESPACHO = token("despacho1", ("despachador",), name="Marta Ríos")
V1 = token("v1", ("vendedor",), name="Carlos Ruiz")
V2 = token("v2", ("vendedor",), name="Lucía Gómez")

Factory = Callable[..., Awaitable[AppServer]]


@pytest.fixture
async def make_server(tmp_path: Path) -> AsyncIterator[Factory]:
    started: list[AppServer] = []

    async def make(**kwargs: Any) -> AppServer:
        # The demo's simulator stays off unless a test asks for it: it ticks.
        kwargs["options"] = {"simulate": False, **(kwargs.get("options") or {})}
        srv = await start_app_server(cargue, tmp_path / f"cargue{len(started)}.db", **kwargs)
        started.append(srv)
        return srv

    yield make
    for srv in started:
        await srv.stop()


@pytest.fixture
async def app(make_server: Factory) -> AppServer:
    return await make_server()


@pytest.fixture
async def ws_clients() -> AsyncIterator[Callable[[AppServer, str], Awaitable[WsClient]]]:
    opened: list[WsClient] = []

    async def open_client(srv: AppServer, tok: str) -> WsClient:
        c = await WsClient.open(srv, tok)
        opened.append(c)
        return c

    yield open_client
    for c in opened:
        await c.close()
