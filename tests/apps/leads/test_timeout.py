"""The timeout is a records Timer: no activity by the asesor for `timeout`
seconds in derivado / en_gestion → no_gestionado, asesor cleared, back in the
GTR's pool (CLIENT_RETURNED_TO_GTR, motivo timeout_no_gestionado) — fired at
the deadline, and pushed by every action of the asesor.

The server runs on a virtual clock: the timeout is the real 5 minutes, and
it passes when the test advances the clock, whatever the machine's speed."""

from __future__ import annotations

import time
from typing import Any

from relevo.clock import VirtualClock

from .conftest import LeadsServer

TIMEOUT = 300.0


def returned(lead_id: str) -> Any:
    return lambda f: f.get("ev") == "CLIENT_RETURNED_TO_GTR" and f["data"]["id"] == lead_id


def returns(client: Any) -> list[Any]:
    return [f for _, f in client.frames if f.get("ev") == "CLIENT_RETURNED_TO_GTR"]


async def _state(app: LeadsServer, lead_id: str) -> str:
    return str((await app.ok("GET", f"/api/records/lead/{lead_id}", "g1"))["state"])


async def test_no_activity_returns_the_lead_at_the_deadline(
    make_server: Any, ws_clients: Any
) -> None:
    # Real wall time to start from: the test's tokens are minted on it.
    clock = VirtualClock(start=time.time())
    app: LeadsServer = await make_server({"timeout": TIMEOUT}, clock=clock)
    gtr = await ws_clients(app, "g1")
    asesor = await ws_clients(app, "4")
    await gtr.sub("gtr")
    await asesor.sub("asesor:4")
    lead = await app.create("Jorge Salazar", "945112908")
    await app.assign(lead["id"], "4")
    deadline = (await app.records.get("lead", lead["id"])).updated_at + TIMEOUT
    clock.advance_to(deadline - 1)
    assert await _state(app, lead["id"]) == "derivado"
    clock.advance_to(deadline)
    _, frame = await gtr.wait(returned(lead["id"]), wait=5)
    history = await app.records.history("lead", lead["id"])
    fired = [h for h in history if h.reason == "timer:timeout_no_gestionado"]
    assert [h.at for h in fired] == [deadline]  # at the deadline, not a moment later
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
    clock = VirtualClock(start=time.time())
    app: LeadsServer = await make_server({"timeout": TIMEOUT}, clock=clock)
    gtr = await ws_clients(app, "g1")
    await gtr.sub("gtr")
    lead = await app.create("Carmen Villanueva", "999231870")
    await app.assign(lead["id"], "4")
    opened = await app.ok("POST", f"/api/leads/{lead['id']}/open", "4", json={"tab": "t"})
    token = opened["lease"]["fencing_token"]
    # A heartbeat every 20 s (the lease lasts 60) for 600 s: twice the
    # timeout, and still en_gestion.
    for _ in range(30):
        clock.advance(20)
        await app.ok(
            "POST", f"/api/leads/{lead['id']}/heartbeat", "4", json={"fencing_token": token}
        )
    assert await _state(app, lead["id"]) == "en_gestion"
    assert not returns(gtr)
    # Closing the wizard is the asesor's last activity: the timeout counts from it.
    closed_at = clock.now()
    await app.ok("POST", f"/api/leads/{lead['id']}/close", "4", json={"fencing_token": token})
    clock.advance(TIMEOUT - 1)
    assert await _state(app, lead["id"]) == "en_gestion"
    clock.advance_to(closed_at + TIMEOUT)
    _, frame = await gtr.wait(returned(lead["id"]), wait=5)
    history = await app.records.history("lead", lead["id"])
    fired = [h.at for h in history if h.reason == "timer:timeout_no_gestionado"]
    assert fired == [closed_at + TIMEOUT]
    assert frame["data"]["record"]["lease"] is None


async def test_a_lead_that_left_the_asesor_is_not_timed_out_for_them(
    make_server: Any, ws_clients: Any
) -> None:
    """Reassignment re-arms the timer for the new asesor; completion disarms it."""
    clock = VirtualClock(start=time.time())
    app: LeadsServer = await make_server({"timeout": TIMEOUT}, clock=clock)
    gtr = await ws_clients(app, "g1")
    await gtr.sub("gtr")
    lead = await app.create("Luis Rojas", "912004556")
    await app.assign(lead["id"], "4")
    clock.advance(TIMEOUT * 0.6)
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
    armed = await app.records.timers.next_deadline()
    assert armed is None  # terminado: no timer left to fire
    clock.advance(TIMEOUT * 2)
    assert await _state(app, lead["id"]) == "terminado"
    assert not returns(gtr)
