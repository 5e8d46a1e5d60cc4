"""The inbox app on a real server: records + inbox on SQLite, the demo data,
and the simulator on but not ticking (tests ask it for each message)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from relevo.apps import inbox
from tests.apps.appserver import AppServer, WsClient, start_app_server, token

# agents of the two demo tenants
ANA = token("ana@condorito", ("supervisor",), "condorito", name="Ana Torres")
LUIS = token("luis@condorito", ("agente",), "condorito", name="Luis Mamani")
PEDRO = token("pedro@andes", ("supervisor",), "andes", name="Pedro Huamán")
CARLA = token("carla@andes", ("agente",), "andes", name="Carla Vargas")
QUIET = {"simulate_every": 0, "sim_bulk_interval": 0.02, "sim_scan_after": 0}

Factory = Callable[..., Awaitable[AppServer]]


@pytest.fixture
async def make_server(tmp_path: Path) -> AsyncIterator[Factory]:
    started: list[AppServer] = []

    async def make(options: dict[str, Any] | None = None, **kwargs: Any) -> AppServer:
        kwargs["options"] = {**QUIET, **(options or {})}
        srv = await start_app_server(inbox, tmp_path / f"inbox{len(started)}.db", **kwargs)
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
