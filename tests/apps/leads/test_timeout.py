"""The timeout is a records Timer: no activity by the asesor for `timeout`
seconds in derivado / en_gestion → no_gestionado, asesor cleared, back in the
GTR's pool (CLIENT_RETURNED_TO_GTR, motivo timeout_no_gestionado) — fired
within a second of the deadline, and pushed by every action of the asesor."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from tests.helpers import timeout

from .conftest import LeadsServer


def returned(lead_id: str) -> Any:
    return lambda f: f.get("ev") == "CLIENT_RETURNED_TO_GTR" and f["data"]["id"] == lead_id


async def test_no_activity_returns_the_lead_within_a_second_of_the_deadline(
    make_server: Any, ws_clients: Any
) -> None:
    app: LeadsServer = await make_server({"timeout": 1.5})
    gtr = await ws_clients(app, "g1")
    asesor = await ws_clients(app, "4")
    await gtr.sub("gtr")
    await asesor.sub("asesor:4")
    lead = await app.create("Jorge Salazar", "945112908")
    rec = await app.assign(lead["id"], "4")
    deadline = rec["last_activity"] / 1000 + 1.5
    _, frame = await gtr.wait(returned(lead["id"]), wait=5)
    late = time.time() - deadline
    assert -0.05 < late < timeout(1), late
    record = frame["data"]["record"]
    assert record["state"] == record["seguimiento_status"] == "no_gestionado"
    assert record["asesor_id"] is None
    assert record["previous_asesor_id"] == "4"
    assert record["motivo"] == "timeout_no_gestionado"
    assert frame["data"]["reason"] == "timer:timeout_no_gestionado"
    await asesor.wait(returned(lead["id"]))  # the asesor's panel hears it leave
    snap = await app.ok("GET", "/api/records/lead", "4", params={"asesor_id": "4"})
    assert snap["rows"] == []
    # Back in the pool: the GTR can derive it again.
    again = await app.assign(lead["id"], "5")
    assert again["state"] == "derivado"
    assert again["previous_asesor_id"] is None


async def test_activity_keeps_pushing_the_deadline(make_server: Any, ws_clients: Any) -> None:
    app: LeadsServer = await make_server({"timeout": 1.5})
    gtr = await ws_clients(app, "g1")
    await gtr.sub("gtr")
    lead = await app.create("Carmen Villanueva", "999231870")
    await app.assign(lead["id"], "4")
    opened = await app.ok("POST", f"/api/leads/{lead['id']}/open", "4", json={"tab": "t"})
    token = opened["lease"]["fencing_token"]
    started = time.monotonic()
    # Heartbeats every 0.5 s for 3 s: twice the timeout, and still en_gestion.
    while time.monotonic() - started < 3.0:
        await asyncio.sleep(0.5)
        await app.ok(
            "POST", f"/api/leads/{lead['id']}/heartbeat", "4", json={"fencing_token": token}
        )
    rec = await app.ok("GET", f"/api/records/lead/{lead['id']}", "g1")
    assert rec["state"] == "en_gestion"
    assert not [f for _, f in gtr.frames if f.get("ev") == "CLIENT_RETURNED_TO_GTR"]
    # A GTR's edit is not the asesor's activity; closing the wizard is, once.
    closed_at = time.time()
    await app.ok("POST", f"/api/leads/{lead['id']}/close", "4", json={"fencing_token": token})
    _, frame = await gtr.wait(returned(lead["id"]), wait=5)
    late = time.time() - (closed_at + 1.5)
    assert -0.1 < late < timeout(1), late
    assert frame["data"]["record"]["lease"] is None


async def test_a_lead_that_left_the_asesor_is_not_timed_out_for_them(
    make_server: Any, ws_clients: Any
) -> None:
    """Reassignment re-arms the timer for the new asesor; completion disarms it."""
    app: LeadsServer = await make_server({"timeout": 1.0})
    gtr = await ws_clients(app, "g1")
    await gtr.sub("gtr")
    lead = await app.create("Luis Rojas", "912004556")
    await app.assign(lead["id"], "4")
    await asyncio.sleep(0.6)
    moved = await app.assign(lead["id"], "5")
    assert moved["previous_asesor_id"] == "4"
    opened = await app.ok("POST", f"/api/leads/{lead['id']}/open", "5", json={"tab": "t"})
    await app.ok(
        "POST",
        f"/api/leads/{lead['id']}/complete",
        "5",
        json={
            "fencing_token": opened["lease"]["fencing_token"],
            "data": {"tipificacion": "interesado"},
        },
    )
    await asyncio.sleep(1.5)
    assert not [f for _, f in gtr.frames if f.get("ev") == "CLIENT_RETURNED_TO_GTR"]
    rec = await app.ok("GET", f"/api/records/lead/{lead['id']}", "g1")
    assert rec["state"] == "terminado"
