"""Availability: the GTR sees which asesores are online (presence on their
presencia:{id} channel) and busy (holding a wizard); when an asesor's last
connection goes, the leave hook frees the wizards they held."""

from __future__ import annotations

import time
from typing import Any

from tests.helpers import timeout

from .conftest import FAST, LeadsServer


async def test_gtr_sees_asesores_come_and_go(app: LeadsServer, ws_clients: Any) -> None:
    gtr = await ws_clients(app, "g1")
    assert "ok" in await gtr.sub("presencia:4")
    before = await gtr.call({"op": "presence", "ch": "presencia:4"})
    assert [c["user"] for c in before["ok"]["clients"].values()] == ["g1"]

    asesor = await ws_clients(app, "4")
    assert "ok" in await asesor.sub("presencia:4")
    await gtr.wait(lambda f: f.get("ev") == "$join" and f["data"]["user"] == "4")
    now = await gtr.call({"op": "presence", "ch": "presencia:4"})
    assert sorted(c["user"] for c in now["ok"]["clients"].values()) == ["4", "g1"]
    await asesor.close()
    await gtr.wait(lambda f: f.get("ev") == "$leave" and f["data"]["user"] == "4")


async def test_a_dead_tab_releases_its_wizard(app: LeadsServer, ws_clients: Any) -> None:
    gtr = await ws_clients(app, "g1")
    await gtr.sub("gtr")
    asesor = await ws_clients(app, "4")
    await asesor.sub("asesor:4")
    lead = await app.create("Miguel Torres", "912004556")
    await app.assign(lead["id"], "4")
    await app.ok("POST", f"/api/leads/{lead['id']}/open", "4", json={"tab": "t"})
    await gtr.wait(lambda f: f.get("ev") == "CLIENT_IN_GESTION")
    closed = time.monotonic()
    await asesor.close()  # the tab is gone; nobody heartbeats the lease any more
    _, frame = await gtr.wait(
        lambda f: f.get("ev") == "CLIENT_UNLOCKED" and f["data"]["id"] == lead["id"], wait=10
    )
    bound = FAST.leave_grace + FAST.node_heartbeat
    assert time.monotonic() - closed < timeout(bound + 1)
    rec = frame["data"]["record"]
    assert rec["lease"] is None
    assert rec["state"] == "en_gestion"  # still theirs; the timeout decides the rest
    assert frame["data"]["by"] == "system"
