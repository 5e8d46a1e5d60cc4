"""The kit's simulator plumbing against a real server: ``online_users`` names
the people connected to the hub now, the ones a simulator never acts for."""

from __future__ import annotations

import asyncio
from pathlib import Path

from relevo.apps import cargue
from relevo.apps.kit.simulate import online_users
from tests.apps.appserver import WsClient, start_app_server, token
from tests.helpers import timeout


async def test_online_users_are_those_connected_now(tmp_path: Path) -> None:
    srv = await start_app_server(cargue, tmp_path / "cargue.db", {"simulate": False})
    try:
        hub = srv.server.hub
        online = online_users(hub)
        assert online() == set()
        v1_left = asyncio.Event()
        hub.add_leave_listener(lambda user: v1_left.set() if user == "v1" else None)
        v1 = await WsClient.open(srv, token("v1", ("vendedor",)))
        twice = await WsClient.open(srv, token("v1", ("vendedor",)))
        despacho = await WsClient.open(srv, token("despacho1", ("despachador",)))
        assert online() == {"v1", "despacho1"}
        await v1.close()
        await twice.close()
        await asyncio.wait_for(v1_left.wait(), timeout(10))
        assert online() == {"despacho1"}
        await despacho.close()
    finally:
        await srv.stop()
