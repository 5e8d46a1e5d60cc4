"""Issue 15, "Missing" for leads, over HTTP: editing a lead (audited, who may),
"Volver a llamar" at a time (a durable timer, also across a restart), bulk
assign (a result per lead), the asesor's own completed leads, and the CSV
export of the filtered board (formula-safe)."""

from __future__ import annotations

import csv
import io
import random
import time
from pathlib import Path
from typing import Any

from relevo.clock import VirtualClock

from .conftest import LeadsServer, seed_users, start_leads_server, token

SECRETS = ("Rosa", "955000123", "derivado")


def _bare(res: Any, status: int = 403) -> None:
    assert res.status_code == status, res.text
    assert set(res.json()) == {"code", "message", "retry"}, res.text
    for secret in SECRETS:
        assert secret not in res.text


async def _open(app: LeadsServer, lead_id: str, user: str = "4") -> int:
    opened = await app.ok("POST", f"/api/leads/{lead_id}/open", user, json={"tab": "t"})
    return int(opened["lease"]["fencing_token"])


# -- edit --------------------------------------------------------------------------------


async def test_gtr_edits_any_lead_and_the_history_says_who_and_what(app: LeadsServer) -> None:
    lead = await app.create("Rosa Quispe", "955000123")
    res = await app.ok(
        "POST",
        f"/api/leads/{lead['id']}/edit",
        "g1",
        json={"data": {"nombre": "  Rosa  Quispe Mamani ", "telefono": "955 000 124"}},
    )
    rec = res["record"]
    assert (rec["nombre"], rec["telefono"], rec["state"]) == (
        "Rosa Quispe Mamani",
        "955000124",
        "nuevo",
    )
    history = await app.ok("GET", f"/api/records/lead/{lead['id']}/history", "g1")
    last = history["entries"][-1]
    assert last["event"] == "CLIENT_EDITED"
    assert last["by"] == "g1"
    assert last["data"]["changes"] == {"nombre": "Rosa Quispe Mamani", "telefono": "955000124"}
    # Nothing different: nothing written.
    same = await app.ok("POST", f"/api/leads/{lead['id']}/edit", "g1",
                        json={"data": {"nombre": "Rosa Quispe Mamani"}})  # fmt: skip
    assert same["record"]["version"] == rec["version"]


async def test_asesor_edits_only_their_own_assigned_lead(app: LeadsServer) -> None:
    mine = await app.create("Jorge Salazar", "945112908")
    other = await app.create("Rosa Quispe", "955000123")
    await app.assign(mine["id"], "4")
    await app.assign(other["id"], "5")
    res = await app.ok("POST", f"/api/leads/{mine['id']}/edit", "4",
                       json={"data": {"notas": "Prefiere WhatsApp"}})  # fmt: skip
    assert res["record"]["notas"] == "Prefiere WhatsApp"
    # The asesor's edit is their activity: last_activity moved (the countdown stays exact).
    assert res["record"]["last_activity"] >= res["record"]["derivado_at"]
    _bare(await app.request("POST", f"/api/leads/{other['id']}/edit", "4",
                            json={"data": {"notas": "x"}}))  # fmt: skip
    # Another tenant's user, a role without leads, anonymous: no data either.
    stranger = {"Authorization": f"Bearer {token('op1', 'operador')}"}
    _bare(await app.request("POST", f"/api/leads/{other['id']}/edit", headers=stranger,
                            json={"data": {"notas": "x"}}))  # fmt: skip
    _bare(await app.request("POST", f"/api/leads/{other['id']}/edit",
                            json={"data": {"notas": "x"}}), 401)  # fmt: skip
    rec = await app.ok("GET", f"/api/records/lead/{other['id']}", "g1")
    assert rec["notas"] is None


async def test_edit_checks_its_input_and_an_open_wizard(app: LeadsServer) -> None:
    lead = await app.create("Jorge Salazar", "945112908")
    await app.create("Rosa Quispe", "955000123")
    path = f"/api/leads/{lead['id']}/edit"
    for data, field in (
        ({"telefono": "12"}, "telefono"),
        ({"telefono": "955000123"}, "telefono"),  # another open lead has it
        ({"nombre": "   "}, "nombre"),
        ({"notas": "x" * 2001}, "notas"),
        ({"estado": "terminado"}, "estado"),
        ({"nombre": 5}, "nombre"),
    ):
        res = await app.request("POST", path, "g1", json={"data": data})
        assert res.status_code == 400, (data, res.text)
        assert res.json()["field"] == field, (data, res.text)
    await app.assign(lead["id"], "4")
    await _open(app, lead["id"])
    res = await app.request("POST", path, "g1", json={"data": {"notas": "otra"}})
    assert res.status_code == 423, res.text
    assert res.json()["holder"] == "4", res.text
    # The holder may edit while the wizard is open.
    await app.ok("POST", path, "4", json={"data": {"notas": "mía"}})


# -- callback ---------------------------------------------------------------------------------


async def _schedule(app: LeadsServer, lead_id: str, at_ms: int) -> dict[str, Any]:
    fence = await _open(app, lead_id)
    res = await app.ok(
        "POST",
        f"/api/leads/{lead_id}/schedule",
        "4",
        json={"fencing_token": fence, "data": {"resultado_contacto": "contactado",
              "notas": "Llamar a las 10", "callback_at": at_ms}},
    )  # fmt: skip
    rec: dict[str, Any] = res["record"]
    return rec


async def test_a_callback_brings_the_lead_back_to_its_asesor_at_that_time(
    make_server: Any, ws_clients: Any
) -> None:
    clock = VirtualClock(start=time.time())
    app: LeadsServer = await make_server({"timeout": 300}, clock=clock)
    asesor = await ws_clients(app, "4")
    await asesor.sub("asesor:4")
    lead = await app.create("Jorge Salazar", "945112908")
    await app.assign(lead["id"], "4")
    at = int((clock.now() + 1800) * 1000) / 1000  # within the test tokens' hour; ms
    rec = await _schedule(app, lead["id"], int(at * 1000))
    assert rec["state"] == "agendado"
    assert rec["asesor_id"] == "4"
    assert rec["lease"] is None
    assert rec["tipificacion"] == "volver_a_llamar"
    # An edit while it waits (the GTR's, the asesor's) does not move the callback.
    await app.ok("POST", f"/api/leads/{lead['id']}/edit", "g1", json={"data": {"notas": "a"}})
    await app.ok("POST", f"/api/leads/{lead['id']}/edit", "4", json={"data": {"notas": "b"}})
    assert await app.records.timers.next_deadline() == at
    clock.advance_to(at - 1)  # the 5-minute timeout does not run while agendado
    assert (await app.records.get("lead", lead["id"])).state == "agendado"
    clock.advance_to(at)
    _, frame = await asesor.wait(
        lambda f: f.get("ev") == "CLIENT_CALLBACK_DUE" and f["data"]["id"] == lead["id"]
    )
    back = frame["data"]["record"]
    assert (back["state"], back["asesor_id"]) == ("derivado", "4")
    history = await app.records.history("lead", lead["id"])
    assert [h.at for h in history if h.reason == "timer:callback"] == [at]
    # Back in derivado, the ordinary timeout runs again from the callback.
    clock.advance_to(at + 300)
    await asesor.wait(lambda f: f.get("ev") == "CLIENT_RETURNED_TO_GTR")


async def test_a_callback_survives_a_restart(tmp_path: Path) -> None:
    clock = VirtualClock(start=time.time())
    db = tmp_path / "cb.db"
    first = await start_leads_server(db, {"simulate": False}, clock=clock)
    try:
        await seed_users(first.records)
        lead = await first.create("Jorge Salazar", "945112908")
        await first.assign(lead["id"], "4")
        at = clock.now() + 24 * 3600
        await _schedule(first, lead["id"], int(at * 1000))
    finally:
        await first.server.stop()
    clock.advance_to(at + 60)  # the server was down when it fell due
    second = await start_leads_server(db, {"simulate": False}, clock=clock)
    try:
        for _ in range(200):
            rec = await second.records.get("lead", lead["id"])
            if rec.state == "derivado":
                break
            await clock.sleep(0)  # let the scheduler's start-up pass run
            await second.records.timers.fire_due()
        assert rec.state == "derivado"
        assert rec.get("asesor_id") == "4"
        history = await second.records.history("lead", lead["id"])
        assert [h.reason for h in history][-1] == "timer:callback"
    finally:
        await second.server.stop()


async def test_schedule_is_the_holders_and_bounded(app: LeadsServer) -> None:
    lead = await app.create("Jorge Salazar", "945112908")
    await app.assign(lead["id"], "4")
    fence = await _open(app, lead["id"])
    path = f"/api/leads/{lead['id']}/schedule"
    now_ms = int(time.time() * 1000)
    for at in (now_ms - 1000, now_ms + 91 * 86400_000, "mañana", None):
        body = {"fencing_token": fence, "data": {"callback_at": at}}
        res = await app.request("POST", path, "4", json=body)
        assert res.status_code == 400, (at, res.text)
        assert res.json()["field"] == "callback_at", (at, res.text)
    body = {"fencing_token": fence, "data": {"callback_at": now_ms + 3600_000}}
    _bare(await app.request("POST", path, "5", json=body))
    _bare(await app.request("POST", path, "g1", json=body))
    _bare(await app.request("POST", path, json=body), 401)
    stale = {"fencing_token": fence + 7, "data": {"callback_at": now_ms + 3600_000}}
    assert (await app.request("POST", path, "4", json=stale)).status_code == 423
    # The GTR may take a scheduled lead back and derive it elsewhere: no callback then.
    await app.ok("POST", path, "4", json=body)
    moved = await app.assign(lead["id"], "5")
    assert moved["callback_at"] is None
    assert moved["state"] == "derivado"


# -- bulk assign -------------------------------------------------------------------------------


async def test_bulk_assign_answers_per_lead(app: LeadsServer) -> None:
    a = await app.create("Uno", "900000001")
    b = await app.create("Dos", "900000002")
    c = await app.create("Tres", "900000003")
    await app.assign(c["id"], "5")
    await _open(app, c["id"], "5")  # a wizard open: not taken away in bulk
    ids = [a["id"], b["id"], c["id"], "999", a["id"]]
    res = await app.ok("POST", "/api/leads/assign", "g1", json={"ids": ids, "asesor_id": "4"})
    assert (res["assigned"], res["failed"]) == (2, 2)
    by_id = {r["id"]: r for r in res["results"]}
    assert by_id[a["id"]]["ok"]
    assert by_id[b["id"]]["ok"]
    assert by_id[c["id"]]["code"] == "locked"
    assert by_id[c["id"]]["holder"] == "5"
    assert by_id["999"]["code"] == "not_found"
    mine = await app.ok("GET", "/api/records/lead", "4", params={"asesor_id": "4"})
    assert sorted(r["id"] for r in mine["rows"]) == sorted([a["id"], b["id"]])
    # A bad asesor, a bad list: the whole request refused, nothing written.
    for body in (
        {"ids": [a["id"]], "asesor_id": "nadie"},
        {"ids": [], "asesor_id": "4"},
        {"ids": ["1"] * 201, "asesor_id": "4"},
        {"ids": [1], "asesor_id": "4"},
    ):
        assert (await app.request("POST", "/api/leads/assign", "g1", json=body)).status_code == 400
    _bare(await app.request("POST", "/api/leads/assign", "4",
                            json={"ids": [a["id"]], "asesor_id": "4"}))  # fmt: skip


# -- the asesor's completed leads ------------------------------------------------------------


async def test_an_asesor_sees_only_their_own_completed_leads(app: LeadsServer) -> None:
    done = []
    for i, asesor in enumerate(("4", "4", "5")):
        lead = await app.create(f"Cliente {i}", f"90000001{i}")
        await app.assign(lead["id"], asesor)
        fence = await _open(app, lead["id"], asesor)
        await app.ok("POST", f"/api/leads/{lead['id']}/complete", asesor,
                     json={"fencing_token": fence, "data": {"tipificacion": "venta"}})  # fmt: skip
        done.append(lead["id"])
    pending = await app.create("Pendiente", "900000099")
    await app.assign(pending["id"], "4")
    mine = await app.ok("GET", "/api/leads/mine/completed", "4")
    assert [r["id"] for r in mine["leads"]] == [done[1], done[0]]  # newest first
    assert all(r["state"] == "terminado" for r in mine["leads"])
    theirs = await app.ok("GET", "/api/leads/mine/completed", "5")
    assert [r["id"] for r in theirs["leads"]] == [done[2]]
    _bare(await app.request("GET", "/api/leads/mine/completed", "g1"))
    _bare(await app.request("GET", "/api/leads/mine/completed"), 401)
    bad = await app.request("GET", "/api/leads/mine/completed?limit=5000", "4")
    assert bad.status_code == 400


# -- CSV export --------------------------------------------------------------------------------


async def test_export_is_the_filtered_board_and_formula_safe(app: LeadsServer) -> None:
    evil = await app.create('=HYPERLINK("http://x")', "900000001", campana="Fibra")
    plain = await app.create("Ánibal Pérez", "900000002", campana="Fibra", fuente="@web")
    other = await app.create("Otro", "900000003", campana="Móvil")
    await app.assign(plain["id"], "4")
    res = await app.request("GET", "/api/leads/export", "g1", params={"campana": "Fibra"})
    assert res.status_code == 200, res.text
    assert res.headers["content-type"].startswith("text/csv")
    assert "attachment" in res.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(res.content.decode("utf-8-sig"))))
    assert [r["id"] for r in rows] == [plain["id"], evil["id"]]  # newest first, Fibra only
    assert rows[1]["nombre"] == '\'=HYPERLINK("http://x")'
    assert rows[0]["fuente"] == "'@web"
    assert rows[0]["asesor"] not in ("", "4")  # the asesor's name, not the id
    # The board's other filters: state, asesor, text without accents.
    for params, ids in (
        ({"estado": "derivado"}, [plain["id"]]),
        ({"asesor": "-"}, [other["id"], evil["id"]]),
        ({"asesor": "4"}, [plain["id"]]),
        ({"q": "anibal"}, [plain["id"]]),
    ):
        got = await app.request("GET", "/api/leads/export", "g1", params=params)
        found = [r["id"] for r in csv.DictReader(io.StringIO(got.content.decode("utf-8-sig")))]
        assert found == ids, (params, found)
    assert (await app.request("GET", "/api/leads/export?estado=x", "g1")).status_code == 400
    _bare(await app.request("GET", "/api/leads/export", "4"))
    _bare(await app.request("GET", "/api/leads/export"), 401)


class _CallsBack(random.Random):
    """The simulator's dice, loaded: its asesores always pick "Volver a llamar"."""

    def choice(self, seq: Any) -> Any:
        return "volver_a_llamar" if "volver_a_llamar" in seq else super().choice(seq)


async def test_the_demo_simulator_schedules_callbacks(app: LeadsServer) -> None:
    from relevo.apps.leads.options import parse_options
    from relevo.apps.leads.service import LeadsService
    from relevo.apps.leads.simulator import LeadsSimulator

    lead = await app.create("Jorge Salazar", "945112908")
    await app.assign(lead["id"], "4")
    await app.ok("POST", f"/api/leads/{lead['id']}/open", "4", json={"tab": "t"})
    await app.ok("POST", f"/api/leads/{lead['id']}/close", "4", json={"fencing_token": 1})
    sim = LeadsSimulator(LeadsService(app.records, parse_options({})), set, _CallsBack(7))
    rec = await app.records.get("lead", lead["id"])
    assert rec.state == "en_gestion"
    assert await sim._complete(rec)
    rec = await app.records.get("lead", lead["id"])
    assert rec.state == "agendado"
    assert rec.get("asesor_id") == "4"
    ahead = rec.get("callback_at") / 1000 - time.time()
    assert 100 < ahead < 500
