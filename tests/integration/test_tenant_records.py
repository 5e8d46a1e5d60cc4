"""Channels that carry records never take a client publish, whatever the
config file says: an agent cannot forge an inbox event for its supervisor's
screen (trust finding 4)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from relevo.apps import inbox
from relevo.records import Records
from relevo.records.extension import records_extension
from relevo.server.app import RelevoServer
from relevo.server.config import load_settings, write_dev_config
from relevo.server.run import build_server
from relevo.settings import AuthSettings, NamespaceSettings, Rule, ServerSettings, Settings
from tests.conftest import SECRET
from tests.helpers import RawWS

CARLA = ("carla@andes", ("agente",), "andes")  # an agent of the demo tenant andes
FORGED = {"kind": "inbox_conversation", "id": "1", "version": 1_000_000_000, "state": "open"}


def carla_token(secret: str) -> str:
    from relevo.hub.auth import mint_token

    user, roles, tenant = CARLA
    return mint_token(secret, user, roles, tenant)


async def agent(port: int, secret: str) -> RawWS:
    ws = await RawWS.connect(port)
    reply = await ws.request({"id": 0, "op": "connect", "token": carla_token(secret)})
    assert "ok" in reply, reply
    return ws


async def pub(ws: RawWS, ch: str, data: Any) -> dict[str, Any]:
    return await ws.request({"id": 1, "op": "pub", "ch": ch, "ev": "UPDATED", "data": data})


@pytest.fixture
async def stop_later() -> AsyncIterator[list[RelevoServer]]:
    servers: list[RelevoServer] = []
    yield servers
    for srv in servers:
        await srv.stop()


async def test_record_channels_refuse_client_publish_even_where_the_config_allows_it(
    tmp_path: Path, stop_later: list[RelevoServer]
) -> None:
    # The t namespace the old relevo.toml template wrote: client publish allowed.
    loose = NamespaceSettings(
        "t",
        subscribe=(Rule(channel="t:{tenant}:*"),),
        publish=(Rule(channel="t:{tenant}:*"),),
    )
    settings = Settings(
        server=ServerSettings(host="127.0.0.1", port=0, log_level="warning"),
        auth=AuthSettings(secret=SECRET),
        namespaces=(loose,),
    )
    records = Records(f"sqlite+aiosqlite:///{tmp_path / 'r.db'}", inbox.kinds())
    server = RelevoServer(settings, extensions=[records_extension(records)])
    records.attach(server.hub)
    await server.start()
    stop_later.append(server)
    ws = await agent(server.port, SECRET)
    for ch in ("t:andes:inbox", "t:andes:conv:1", "t:andes:bulk"):
        denied = await pub(ws, ch, FORGED)
        assert denied["err"]["code"] == "forbidden", (ch, denied)
        assert "records" in denied["err"]["message"]
    # What the file allows beside the records' channels still works.
    typing = await pub(ws, "t:andes:typing", {"user": "carla"})
    assert "ok" in typing, typing
    await ws.close()


async def test_relevo_serve_with_the_written_config_and_the_inbox_app(
    tmp_path: Path, stop_later: list[RelevoServer]
) -> None:
    """The exact attack, on what ``relevo demo`` runs: the relevo.toml it
    writes, the inbox app mounted by ``build_server``."""
    config = tmp_path / "relevo.toml"
    written = write_dev_config(config)
    assert all(ns.name != "t" for ns in written.namespaces)
    settings = load_settings(
        config,
        {
            "server": {"port": 0, "log_level": "warning"},
            "database": {"url": f"sqlite+aiosqlite:///{tmp_path / 'relevo.db'}"},
            "apps": ["inbox"],
            "app": {"inbox": {"simulate_every": 0}},
        },
        environ={},
    )
    server = build_server(settings)
    await server.start()
    stop_later.append(server)
    ws = await agent(server.port, settings.auth.secret)
    assert "ok" in await ws.request({"id": 5, "op": "sub", "ch": "t:andes:inbox"})
    denied = await pub(ws, "t:andes:inbox", FORGED)
    assert denied["err"]["code"] == "forbidden", denied
    await ws.close()
