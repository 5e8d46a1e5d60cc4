"""What must never happen: two holders of one wizard, a frame about another
asesor's lead on an asesor's connection, a GTR action run by an asesor, a
half-written change after bad input."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from relevo.clock import VirtualClock

from .conftest import LeadsServer


async def _open(app: LeadsServer, lead_id: str, user: str, tab: str) -> Any:
    return await app.request("POST", f"/api/leads/{lead_id}/open", user, json={"tab": tab})


# -- 4. races for the wizard -----------------------------------------------------------------


@pytest.mark.parametrize("rounds", [5])
async def test_two_tabs_of_one_asesor_race_exactly_one_wins(app: LeadsServer, rounds: int) -> None:
    for i in range(rounds):
        lead = await app.create(f"Cliente {i}", f"98765432{i}")
        await app.assign(lead["id"], "4")
        a, b = await asyncio.gather(
            _open(app, lead["id"], "4", "tab-a"), _open(app, lead["id"], "4", "tab-b")
        )
        assert sorted([a.status_code, b.status_code]) == [200, 423], (a.text, b.text)
        loser = b if a.status_code == 200 else a
        err = loser.json()
        assert err["code"] == "locked"
        assert err["holder"] == "4"
        assert err["same_user"] is True
        assert err["holder_name"] == "Lucía Gómez"
        # The winner's tab reopening (a reload) gets it back; the other still cannot.
        winner_tab = "tab-a" if a.status_code == 200 else "tab-b"
        assert (await _open(app, lead["id"], "4", winner_tab)).status_code == 200
        other = "tab-b" if winner_tab == "tab-a" else "tab-a"
        assert (await _open(app, lead["id"], "4", other)).status_code == 423


async def test_two_asesores_race_the_other_is_told_who_holds_it(app: LeadsServer) -> None:
    lead = await app.create("Ana Torres", "955300771")
    await app.assign(lead["id"], "4")
    results = await asyncio.gather(
        _open(app, lead["id"], "4", "t4"), _open(app, lead["id"], "5", "t5")
    )
    assert [r.status_code for r in results].count(200) == 1
    assert results[0].status_code == 200  # only the assigned asesor can win
    loser = results[1].json()
    assert loser["code"] == "forbidden"
    # Once held, another asesor still learns nothing (not who holds it); a
    # second tab of the owner is told it is theirs.
    again = (await _open(app, lead["id"], "5", "t5")).json()
    assert again["code"] == "forbidden"
    assert "holder" not in again
    tab = (await _open(app, lead["id"], "4", "t4-b")).json()
    assert tab["code"] == "locked"
    assert tab["holder"] == "4"
    assert tab["same_user"] is True
    lease_count = [
        e
        for e in (await app.ok("GET", f"/api/records/lead/{lead['id']}/history", "g1"))["entries"]
        if e["event"] == "CLIENT_LOCKED"
    ]
    assert len(lease_count) == 1


async def test_gtr_reassigning_an_open_wizard_needs_force(
    app: LeadsServer, ws_clients: Any
) -> None:
    asesor = await ws_clients(app, "4")
    await asesor.sub("asesor:4")
    lead = await app.create("Diego Campos", "933444555")
    await app.assign(lead["id"], "4")
    opened = (await _open(app, lead["id"], "4", "t")).json()
    res = await app.request(
        "POST", f"/api/leads/{lead['id']}/assign", "g1", json={"asesor_id": "5"}
    )
    assert res.status_code == 423
    assert res.json()["holder_name"] == "Lucía Gómez"
    moved = await app.assign(lead["id"], "5", force=True)
    assert moved["asesor_id"] == "5"
    assert moved["lease"] is None
    # The lead is no longer the old holder's: its heartbeat and its complete
    # are refused, and the reply says nothing of the new asesor.
    token = opened["lease"]["fencing_token"]
    beat = await app.request(
        "POST", f"/api/leads/{lead['id']}/heartbeat", "4", json={"fencing_token": token}
    )
    assert beat.status_code == 403
    assert set(beat.json()) == {"code", "message", "retry"}
    done = await app.request(
        "POST",
        f"/api/leads/{lead['id']}/complete",
        "4",
        json={"fencing_token": token, "data": {"tipificacion": "venta"}},
    )
    assert done.status_code in (403, 409, 423)
    _, frame = await asesor.wait(
        lambda f: f.get("ev") == "CLIENT_REASSIGNED" and f["data"]["record"]["asesor_id"] == "5"
    )
    assert frame["data"]["reason"] == "forced"


# -- 5. isolation -------------------------------------------------------------------------------


async def test_an_asesor_never_receives_a_frame_about_another_asesors_lead(
    make_server: Any, ws_clients: Any
) -> None:
    # Virtual time: the timeouts fire when the test says, not when a busy
    # machine lets a 1-second real timer lapse under the asesor's feet.
    clock = VirtualClock(start=time.time())
    app: LeadsServer = await make_server({"timeout": 300.0}, clock=clock)
    four = await ws_clients(app, "4")
    five = await ws_clients(app, "5")
    gtr = await ws_clients(app, "g1")
    for client, ch in ((four, "asesor:4"), (five, "asesor:5"), (gtr, "gtr")):
        assert "ok" in await client.sub(ch)
    assert "ok" in await four.sub("presencia:4")

    # A day in the life of asesor 5, and of leads that were never 4's.
    leads = [await app.create(f"Cliente {i}", f"91234567{i}") for i in range(4)]
    ids = [x["id"] for x in leads]
    for lead_id in ids:
        await app.assign(lead_id, "5")
    opened = (await _open(app, ids[0], "5", "t")).json()
    tok = opened["lease"]["fencing_token"]
    await app.ok(
        "POST",
        f"/api/leads/{ids[0]}/step",
        "5",
        json={"fencing_token": tok, "data": {"resultado_contacto": "contactado"}},
    )
    await app.ok(
        "POST",
        f"/api/leads/{ids[0]}/complete",
        "5",
        json={"fencing_token": tok, "data": {"tipificacion": "venta"}},
    )
    await app.ok(
        "POST", "/api/leads/import", "g1", content=b"nombre,telefono\nImportado Uno,900100200\n"
    )
    # One lead of 4's, then taken from 4: 4 hears it leave, and nothing after.
    mine = await app.create("Lead de cuatro", "900300400")
    await app.assign(mine["id"], "4")
    await app.assign(mine["id"], "5")
    await app.ok("POST", f"/api/leads/{mine['id']}/open", "5", json={"tab": "t"})
    # Timeouts on 5's leads fire while we watch.
    clock.advance(301)
    await gtr.wait(lambda f: f.get("ev") == "CLIENT_RETURNED_TO_GTR", wait=5)
    await asyncio.sleep(0.3)

    lead_frames = [f for f in four.publications() if f["ch"] != "presencia:4"]
    assert lead_frames, "asesor 4 heard nothing at all"
    for f in four.publications():
        assert f["ch"] in ("asesor:4", "presencia:4"), f
    for f in lead_frames:
        rec = f["data"]["record"]
        assert "4" in (rec["asesor_id"], rec["previous_asesor_id"]), f
        assert f["data"]["id"] == mine["id"], f
    # After 4 lost it, 5 opened it: that frame went to 5 and the GTR only.
    assert not [f for f in lead_frames if f["ev"] in ("CLIENT_LOCKED", "CLIENT_IN_GESTION")]
    assert [
        f
        for f in five.publications()
        if f["data"]["id"] == mine["id"] and f["ev"] == "CLIENT_IN_GESTION"
    ]
    # Pushes (presence) name users only, never a lead.
    for _, f in four.frames:
        if f.get("ev") in ("$join", "$leave"):
            assert set(f["data"]) == {"user", "client"}


async def test_an_asesor_cannot_subscribe_to_gtr_nor_run_gtr_actions(
    app: LeadsServer, ws_clients: Any
) -> None:
    four = await ws_clients(app, "4")
    for ch in ("gtr", "asesor:5", "presencia:5"):
        reply = await four.sub(ch)
        assert reply["err"]["code"] == "forbidden", (ch, reply)
    presence = await four.call({"op": "presence", "ch": "presencia:4"})
    assert presence["err"]["code"] == "forbidden"
    lead = await app.create("María Flores", "977888999")
    await app.assign(lead["id"], "5")
    lid = lead["id"]
    forbidden = [
        ("POST", f"/api/leads/{lid}/assign", {"json": {"asesor_id": "4"}}),
        ("POST", "/api/leads/create", {"json": {"data": {"nombre": "X", "telefono": "900000001"}}}),
        ("POST", "/api/leads/import", {"content": b"nombre,telefono\nX,900000002\n"}),
        (
            "POST",
            f"/api/records/lead/{lid}/transitions/assign",
            {"json": {"data": {"asesor_id": "4"}}},
        ),
        ("POST", f"/api/records/lead/{lid}/transitions/open", {"json": {}}),
        ("POST", f"/api/records/lead/{lid}/lease", {"json": {}}),
        ("PATCH", f"/api/records/lead/{lid}", {"json": {"data": {"asesor_id": "4"}}}),
        ("POST", "/api/records/lead", {"json": {"data": {"nombre": "X"}}}),
        ("GET", f"/api/records/lead/{lid}", {}),
        ("GET", f"/api/records/lead/{lid}/history", {}),
        ("GET", "/api/records/lead", {"params": {"asesor_id": "5"}}),
        ("GET", "/api/records/lead", {}),
        ("GET", "/api/records/leads_user", {}),
        ("POST", f"/api/leads/{lid}/open", {"json": {"tab": "t"}}),
    ]
    for method, path, kwargs in forbidden:
        res = await app.request(method, path, "4", **kwargs)
        assert res.status_code == 403, (method, path, res.status_code, res.text)
        assert res.json()["code"] == "forbidden"
    # Nothing changed, nothing was written.
    rec = await app.ok("GET", f"/api/records/lead/{lid}", "g1")
    assert rec["asesor_id"] == "5"
    assert rec["version"] == 2
    assert rec["lease"] is None
    # Even the GTR cannot move a lead around the rules through the generic API.
    res = await app.request(
        "POST",
        f"/api/records/lead/{lid}/transitions/assign",
        "g1",
        json={"data": {"asesor_id": "99"}},
    )
    assert res.status_code == 403
    res = await app.request(
        "PATCH", f"/api/records/lead/{lid}", "g1", json={"data": {"asesor_id": "4"}}
    )
    assert res.status_code == 403
    fixed = await app.ok(
        "PATCH", f"/api/records/lead/{lid}", "g1", json={"data": {"nombre": "María Flores R."}}
    )
    assert fixed["nombre"] == "María Flores R."


# -- 6. bad input ----------------------------------------------------------------------------------


async def test_bad_input_gets_clear_errors_and_writes_nothing(app: LeadsServer) -> None:
    lead = await app.create("Patricia Núñez", "956300771")
    lid = lead["id"]

    async def versions() -> tuple[int, int]:
        rec = await app.ok("GET", f"/api/records/lead/{lid}", "g1")
        hist = await app.ok("GET", f"/api/records/lead/{lid}/history", "g1")
        return rec["version"], len(hist["entries"])

    before = await versions()
    for asesor, reason in (("99", "unknown_asesor"), ("g1", "not_asesor"), ("", None)):
        res = await app.request(
            "POST", f"/api/leads/{lid}/assign", "g1", json={"asesor_id": asesor}
        )
        assert res.status_code == 400, res.text
        body = res.json()
        assert body["code"] == "bad_request"
        assert body["field"] == "asesor_id"
        if reason:
            assert body["reason"] == reason
            assert asesor in body["message"]
    missing = await app.request("POST", "/api/leads/999/assign", "g1", json={"asesor_id": "4"})
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    assert await versions() == before

    # Opening a lead that is not yours.
    await app.assign(lid, "5")
    res = await _open(app, lid, "4", "t")
    assert res.status_code == 403
    assert res.json()["code"] == "forbidden"
    assert "not assigned" in res.json()["message"]
    res = await app.request("POST", f"/api/leads/{lid}/open", "5", json={})
    assert res.status_code == 400
    assert res.json()["field"] == "tab"

    # Completing without a tipificación, then twice.
    opened = (await _open(app, lid, "5", "t")).json()
    tok = opened["lease"]["fencing_token"]
    res = await app.request("POST", f"/api/leads/{lid}/complete", "5", json={"fencing_token": tok})
    assert res.status_code == 409
    assert "tipificacion" in res.json()["message"]
    res = await app.request(
        "POST",
        f"/api/leads/{lid}/complete",
        "5",
        json={"fencing_token": tok, "data": {"tipificacion": "nope"}},
    )
    assert res.status_code == 400
    assert res.json()["field"] == "tipificacion"
    res = await app.request(
        "POST",
        f"/api/leads/{lid}/step",
        "5",
        json={"fencing_token": tok, "data": {"notas": "x" * 2001}},
    )
    assert res.status_code == 400
    assert res.json()["field"] == "notas"
    res = await app.request(
        "POST",
        f"/api/leads/{lid}/step",
        "5",
        json={"fencing_token": tok + 1, "data": {"notas": "hola"}},
    )
    assert res.status_code == 423  # a fencing token that was never granted
    mid = await versions()
    ok = await app.request(
        "POST",
        f"/api/leads/{lid}/complete",
        "5",
        json={"fencing_token": tok, "data": {"tipificacion": "venta"}},
    )
    assert ok.status_code == 200
    twice = await app.request(
        "POST",
        f"/api/leads/{lid}/complete",
        "5",
        json={"fencing_token": tok, "data": {"tipificacion": "venta"}},
    )
    assert twice.status_code == 409
    body = twice.json()
    assert body["code"] == "conflict"
    assert body["state"] == "terminado"
    assert body["reason"] == "already_completed"
    after = await versions()
    assert after[0] == mid[0] + 1
    assert after[1] == mid[1] + 1
    res = await app.request("POST", f"/api/leads/{lid}/assign", "g1", json={"asesor_id": "4"})
    assert res.status_code == 409
    assert res.json()["state"] == "terminado"

    # Malformed bodies.
    res = await app.request("POST", f"/api/leads/{lid}/heartbeat", "5", content=b"{nope")
    assert res.status_code == 400
    assert res.json()["code"] == "bad_request"
    res = await app.request("POST", f"/api/leads/{lid}/heartbeat", "5", json={"fencing_token": "1"})
    assert res.status_code == 400
    assert res.json()["field"] == "fencing_token"
    res = await app.request(
        "POST", "/api/leads/create", "g1", json={"data": {"nombre": "Sin teléfono"}}
    )
    assert res.status_code == 400
    assert res.json()["field"] == "telefono"
    dup = await app.request(
        "POST",
        "/api/leads/create",
        "g1",
        json={"data": {"nombre": "Otra", "telefono": "956 300 771"}},
    )
    assert dup.status_code == 201  # the earlier lead with that phone is terminado
    dup = await app.request(
        "POST",
        "/api/leads/create",
        "g1",
        json={"data": {"nombre": "Otra más", "telefono": "956300771"}},
    )
    assert dup.status_code == 400
    assert dup.json()["reason"] == "exists"
    no_token = await app.request("POST", f"/api/leads/{lid}/assign", json={"asesor_id": "4"})
    assert no_token.status_code == 401


CSV = """nombre;telefono;documento;campaña;fuente;color
Rosa Quispe;987 654 321;45871236;Fibra;Facebook;azul
;999111222;;Fibra;Web;
Jorge Salazar;12;;Fibra;Web;
Carmen Villanueva;999 231 870;ABC;Fibra;Web;
Luis Rojas;987-654-321;;Fibra;Web;
Elena Vega;(01) 445-2210;10203040;Portabilidad;Referido;

"Inversiones Lima; SAC";+51 912 004 556;20123456789;Empresas;Feria;
"""


async def test_csv_import_reports_bad_rows_by_line_and_imports_the_good_ones(
    app: LeadsServer, ws_clients: Any
) -> None:
    gtr = await ws_clients(app, "g1")
    await gtr.sub("gtr")
    existing = await app.create("Ya existe", "014452210")
    body = CSV.encode("cp1252")  # Excel's CSV on a Spanish Windows

    dry = await app.ok("POST", "/api/leads/import", "g1", params={"dry_run": "1"}, content=body)
    assert dry["dry_run"] is True
    assert dry["imported"] == 0
    assert dry["total"] == 7
    problems = {(e["line"], e["field"], e["code"]) for e in dry["errors"]}
    assert problems == {
        (3, "nombre", "missing"),
        (4, "telefono", "invalid"),
        (5, "documento", "invalid"),
        (6, "telefono", "duplicate"),
        (7, "telefono", "exists"),
    }
    assert next(e for e in dry["errors"] if e["line"] == 6)["ref"] == "2"
    assert next(e for e in dry["errors"] if e["line"] == 7)["ref"] == existing["id"]
    assert dry["valid"] == 2
    assert dry["ignored_columns"] == ["color"]
    strict = await app.request("POST", "/api/leads/import?strict=1", "g1", content=body)
    assert strict.status_code == 400
    assert len(strict.json()["errors"]) == 5
    rows = await app.ok("GET", "/api/records/lead", "g1")
    assert [r["nombre"] for r in rows["rows"]] == ["Ya existe"]  # neither wrote anything

    res = await app.ok("POST", "/api/leads/import", "g1", content=body)
    assert res["imported"] == 2
    assert len(res["errors"]) == 5
    rows = {r["id"]: r for r in (await app.ok("GET", "/api/records/lead", "g1"))["rows"]}
    new = [rows[i] for i in res["ids"]]
    assert [(r["nombre"], r["telefono"], r["campana"], r["state"]) for r in new] == [
        ("Rosa Quispe", "987654321", "Fibra", "nuevo"),
        ("Inversiones Lima; SAC", "+51912004556", "Empresas", "nuevo"),
    ]
    for lead_id in res["ids"]:
        await gtr.wait(lambda f, i=lead_id: f.get("ev") == "lead.created" and f["data"]["id"] == i)

    for content, reason in (
        (b"", "empty"),
        (b"foo,bar\n1,2\n", "bad_header"),
        (b"nombre,nombre,telefono\n", "bad_header"),
    ):
        res = await app.request("POST", "/api/leads/import", "g1", content=content)
        assert res.status_code == 400, res.text
        assert res.json()["reason"] == reason
