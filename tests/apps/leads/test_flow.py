"""The seguimiento flow over a real server, measured at the WebSocket level:
each action reaches the GTR's channel and the asesor's channel, in order,
with the state the seeds name — the bug of seed 000 (GTR never heard
CLIENT_IN_GESTION) cannot happen, because every change of a lead is published
by the records layer, not by a hand-written emit."""

from __future__ import annotations

import time
from typing import Any

from tests.helpers import timeout

from .conftest import LeadsServer


def _lead_event(lead_id: str, event: str) -> Any:
    return lambda f: f.get("ev") == event and f.get("data", {}).get("id") == lead_id


async def test_assign_open_complete_reach_both_screens(app: LeadsServer, ws_clients: Any) -> None:
    gtr = await ws_clients(app, "g1")
    asesor = await ws_clients(app, "4")
    assert "ok" in await gtr.sub("gtr")
    snap = await app.ok("GET", "/api/records/lead", "4", params={"asesor_id": "4"})
    assert snap["channel"] == "asesor:4"
    assert snap["rows"] == []
    assert "ok" in await asesor.sub("asesor:4", {"epoch": snap["epoch"], "offset": snap["offset"]})

    lead = await app.create("Rosa Quispe", "987 654 321", campana="Fibra")
    assert lead["state"] == "nuevo"
    assert lead["telefono"] == "987654321"
    await gtr.wait(_lead_event(lead["id"], "lead.created"))

    # 1. GTR assigns: both screens hear it, within a second.
    sent = time.monotonic()
    await app.assign(lead["id"], "4")
    at_gtr, f_gtr = await gtr.wait(_lead_event(lead["id"], "CLIENT_REASSIGNED"))
    at_ase, f_ase = await asesor.wait(_lead_event(lead["id"], "CLIENT_REASSIGNED"))
    assert max(at_gtr, at_ase) - sent < timeout(1)
    rec = f_gtr["data"]["record"]
    assert rec["state"] == rec["seguimiento_status"] == "derivado"
    assert rec["asesor_id"] == "4"
    assert rec["derivado_at"]
    assert rec["last_activity"]
    assert f_ase["data"]["record"] == rec

    # 2. The asesor opens the wizard: CLIENT_LOCKED then CLIENT_IN_GESTION, on GTR too.
    sent = time.monotonic()
    opened = await app.ok("POST", f"/api/leads/{lead['id']}/open", "4", json={"tab": "t1"})
    assert opened["record"]["state"] == "en_gestion"
    token = opened["lease"]["fencing_token"]
    at, locked = await gtr.wait(_lead_event(lead["id"], "CLIENT_LOCKED"))
    at, in_gestion = await gtr.wait(_lead_event(lead["id"], "CLIENT_IN_GESTION"))
    assert at - sent < timeout(1)
    assert locked["off"] < in_gestion["off"]
    assert in_gestion["data"]["record"]["lease"]["holder"] == "4"
    assert in_gestion["data"]["record"]["opened_at"]
    await asesor.wait(_lead_event(lead["id"], "CLIENT_IN_GESTION"))

    # A wizard step and a heartbeat are activity: last_activity moves, GTR sees it.
    step = await app.ok(
        "POST",
        f"/api/leads/{lead['id']}/step",
        "4",
        json={
            "fencing_token": token,
            "data": {"wizard_step": 2, "resultado_contacto": "contactado"},
        },
    )
    assert step["record"]["resultado_contacto"] == "contactado"
    beat = await app.ok(
        "POST", f"/api/leads/{lead['id']}/heartbeat", "4", json={"fencing_token": token}
    )
    assert beat["record"]["last_activity"] >= step["record"]["last_activity"]
    await gtr.wait(_lead_event(lead["id"], "CLIENT_ACTIVITY"))

    # Complete: Terminado on GTR; the asesor's channel hears it leave (asesor cleared).
    sent = time.monotonic()
    done = await app.ok(
        "POST",
        f"/api/leads/{lead['id']}/complete",
        "4",
        json={"fencing_token": token, "data": {"tipificacion": "venta", "notas": "Cerró hoy"}},
    )
    assert done["record"]["state"] == "terminado"
    at, f = await gtr.wait(_lead_event(lead["id"], "CLIENT_COMPLETED"))
    assert at - sent < timeout(1)
    rec = f["data"]["record"]
    assert rec["seguimiento_status"] == "terminado"
    assert rec["asesor_id"] is None
    assert rec["previous_asesor_id"] == "4"
    assert rec["fecha_wizard_completado"]
    assert rec["lease"] is None
    assert rec["tipificacion"] == "venta"
    _, f = await asesor.wait(_lead_event(lead["id"], "CLIENT_COMPLETED"))
    snap = await app.ok("GET", "/api/records/lead", "4", params={"asesor_id": "4"})
    assert snap["rows"] == []

    history = await app.ok("GET", f"/api/records/lead/{lead['id']}/history", "g1")
    events = [e["event"] for e in history["entries"]]
    assert events == [
        "lead.created",
        "CLIENT_REASSIGNED",
        "CLIENT_LOCKED",
        "CLIENT_IN_GESTION",
        "CLIENT_UPDATED",
        "CLIENT_ACTIVITY",
        "CLIENT_COMPLETED",
    ]
    assert [e["by"] for e in history["entries"]][:3] == ["g1", "g1", "4"]
