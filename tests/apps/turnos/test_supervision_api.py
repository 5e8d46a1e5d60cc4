"""Issue 15, "Missing" → Turnos, through the API: configuration by the
supervisor while operators hold mesas, operator pause, transfers, the
estimated wait, and reports for a date range (JSON and CSV)."""

from __future__ import annotations

import csv
import io
from typing import Any

from relevo.hub.auth import mint_token

from .conftest import ADMIN, OPERADOR, SECRET, Turnos, token

OP2 = token("op2", "operador")


async def test_config_on_a_mesa_an_operator_holds_is_a_clear_423_and_writes_nothing(
    turnos: Turnos,
) -> None:
    await turnos.ok("POST", "/api/turnos/mesas/1/abrir")  # op1 holds Mesa 1
    before = await turnos.ok("GET", "/api/turnos/config", auth=None)
    body = {"mesas": [{"id": "1", "nombre": "Mesa Uno", "tramites": ["consultas"]},
                      {"id": "2", "nombre": "Mesa Dos"}]}  # fmt: skip
    res = await turnos.call("POST", "/api/turnos/config", body, auth=ADMIN)
    assert res.status_code == 423, res.text
    err = res.json()
    assert err["code"] == "locked"
    assert err["mensaje"] == (
        "La Mesa 1 está abierta por op1: pida que la cierre antes de cambiar su configuración."
    )
    assert (await turnos.ok("GET", "/api/turnos/config", auth=None))["mesas"] == before["mesas"]
    # once free, the same change goes through
    await turnos.ok("POST", "/api/turnos/mesas/1/cerrar")
    after = await turnos.ok("POST", "/api/turnos/config", body, auth=ADMIN)
    assert {m["id"]: m["nombre"] for m in after["mesas"]}["1"] == "Mesa Uno"


async def test_a_paused_mesa_is_not_called_and_shows_as_paused(turnos: Turnos) -> None:
    await turnos.emitir("consultas")
    out = await turnos.ok("POST", "/api/turnos/mesas/1/pausa", {"motivo": "descanso"})
    assert out["mesa"]["pausa"] is True
    assert out["mesa"]["pausa_motivo"] == "descanso"
    res = await turnos.call("POST", "/api/turnos/mesas/1/siguiente")
    assert res.status_code == 409
    assert res.json()["mensaje"] == "La Mesa 1 está en pausa: reanúdela para llamar al siguiente."
    # another operator may not pause or resume a mesa op1 holds
    res = await turnos.call("POST", "/api/turnos/mesas/1/reanudar", auth=OP2)
    assert res.status_code == 423
    # the admin's figures and the public monitor say so
    stats = (await turnos.ok("GET", "/api/turnos/stats", auth=ADMIN))["stats"]
    mesa1 = next(m for m in stats["mesas"] if m["id"] == "1")
    assert mesa1["pausa"] is True
    assert mesa1["pausa_desde"] is not None
    monitor = await turnos.ok("GET", "/api/turnos/monitor", auth=None)
    assert monitor["pausas"] == ["1"]
    # Mesa 2 still calls; Mesa 1 calls again once resumed
    assert (await turnos.siguiente("2")) is not None
    await turnos.emitir("consultas")
    out = await turnos.ok("POST", "/api/turnos/mesas/1/reanudar")
    assert out["mesa"]["pausa"] is False
    assert (await turnos.siguiente("1")) is not None
    res = await turnos.call("POST", "/api/turnos/mesas/1/pausa", {"motivo": "x" * 200})
    assert res.status_code == 400


async def test_a_transfer_keeps_number_and_priority_and_is_audited(turnos: Turnos) -> None:
    prio = (await turnos.emitir("consultas", prioridad_motivo="embarazada"))["turno"]
    await turnos.emitir("consultas")
    called = await turnos.siguiente("1")
    assert called is not None
    assert called["id"] == prio["id"]
    await turnos.accion(called["id"], "atender")
    # Mesa 1 sends A-001 to Caja (another area)
    res = await turnos.call(
        "POST", f"/api/turnos/turnos/{called['id']}/transferir", {"tramite_id": "pagos"}
    )
    assert res.status_code == 200, res.text
    moved = res.json()["turno"]
    assert moved["numero_visible"] == "A-001"
    assert moved["prioridad"] == 1
    assert moved["state"] == "en_espera"
    assert (moved["area_id"], moved["tramite_id"]) == ("caja", "pagos")
    assert moved["mesa_id"] is None
    # the caja calls it next (priority first), with its number
    nxt = await turnos.siguiente("caja1")
    assert nxt is not None
    assert nxt["numero_visible"] == "A-001"
    # a transfer to one mesa: only that mesa calls it
    await turnos.accion(nxt["id"], "atender")
    await turnos.ok("POST", f"/api/turnos/turnos/{nxt['id']}/transferir", {"mesa_id": "2"})
    await turnos.emitir("consultas")  # A-003, waiting longer than nothing
    first_at_1 = await turnos.siguiente("1")
    assert first_at_1 is not None
    assert first_at_1["numero_visible"] == "A-002"  # Mesa 1 does not get A-001
    at_2 = await turnos.siguiente("2")
    assert at_2 is not None
    assert at_2["numero_visible"] == "A-001"
    history = (await turnos.ok("GET", f"/api/records/turno/{prio['id']}/history", auth=ADMIN))[
        "entries"
    ]
    transfers = [h for h in history if h.get("transition") == "transferir"]
    assert [(h["by"], h["reason"]) for h in transfers] == [
        ("op1", "a Pagos (Caja)"),
        ("op1", "a Mesa 2"),
    ]
    await turnos.accion(at_2["id"], "atender")
    await turnos.accion(at_2["id"], "finalizar")
    # refusals: nothing, both, an unknown mesa, a finished turno
    for body, status in [({}, 400), ({"mesa_id": "2", "tramite_id": "pagos"}, 400),
                         ({"mesa_id": "99"}, 404), ({"mesa_id": "caja1"}, 409)]:  # fmt: skip
        res = await turnos.call("POST", f"/api/turnos/turnos/{prio['id']}/transferir", body)
        assert res.status_code == status, (body, res.text)
        assert res.json()["mensaje"]


async def test_the_estimated_wait_comes_from_recent_service_times(turnos: Turnos) -> None:
    first = await turnos.emitir("consultas")
    assert first["espera_estimada_s"] is None  # no service measured yet today
    t = await turnos.siguiente("1")
    assert t is not None
    await turnos.accion(t["id"], "atender")
    await turnos.accion(t["id"], "finalizar")
    for _ in range(3):
        await turnos.emitir("consultas")
    ticket = await turnos.emitir("consultas")
    assert ticket["adelante"] == 3
    est = ticket["espera_estimada_s"]
    monitor = await turnos.ok("GET", "/api/turnos/monitor", auth=None)
    area = monitor["estimacion"]["atencion"]
    assert area["servicio_s"] is not None
    assert area["mesas"] == 2  # Mesa 1 and Mesa 2 are in service
    assert est == round(3 * area["servicio_s"] / 2)


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


async def test_reports_per_area_mesa_and_operator_with_csv(turnos: Turnos) -> None:
    await turnos.emitir("consultas", persona_nombre='=HYPERLINK("http://x")')
    await turnos.emitir("pagos")
    t = await turnos.siguiente("1")
    assert t is not None
    await turnos.accion(t["id"], "atender")
    await turnos.accion(t["id"], "finalizar")
    hoy = (await turnos.ok("GET", "/api/turnos/config", auth=None))["hoy"]
    rep = await turnos.ok("GET", f"/api/turnos/reportes?desde={hoy}&hasta={hoy}", auth=ADMIN)
    assert rep["desde"] == rep["hasta"] == hoy
    areas = {a["id"]: a for a in rep["areas"]}
    assert areas["atencion"]["emitidos"] == 1
    assert areas["atencion"]["finalizados"] == 1
    assert areas["atencion"]["espera_promedio_s"] is not None
    assert areas["atencion"]["atencion_promedio_s"] is not None
    assert areas["caja"]["emitidos"] == 1
    assert areas["caja"]["finalizados"] == 0
    assert [m["id"] for m in rep["mesas"] if m["atendidos"]] == ["1"]
    assert rep["operadores"] == [
        {**rep["operadores"][0], "id": "op1", "nombre": "op1", "atendidos": 1}
    ]
    assert [d["fecha"] for d in rep["dias"]] == [hoy]
    res = await turnos.call("GET", f"/api/turnos/reportes.csv?desde={hoy}&hasta={hoy}", auth=ADMIN)
    assert res.status_code == 200
    assert res.headers["content-type"].startswith("text/csv")
    assert "attachment" in res.headers["content-disposition"]
    rows = _rows(res.text)
    assert rows[0][:3] == ["grupo", "id", "nombre"]
    assert any(r[0] == "area" and r[1] == "atencion" for r in rows)
    # who may read them, and bounds on the range
    assert (await turnos.call("GET", f"/api/turnos/reportes?desde={hoy}&hasta={hoy}",
                              auth=OPERADOR)).status_code == 403  # fmt: skip
    assert (await turnos.call("GET", "/api/turnos/reportes.csv", auth=None)).status_code == 401
    for q in ("desde=2026-13-01&hasta=2026-12-01", "desde=2026-02-01&hasta=2026-01-01",
              "desde=2020-01-01&hasta=2026-01-01", "desde=x"):  # fmt: skip
        res = await turnos.call("GET", f"/api/turnos/reportes?{q}", auth=ADMIN)
        assert res.status_code == 400, q
        assert res.json()["mensaje"]


async def test_csv_cells_that_start_a_formula_are_escaped(turnos: Turnos) -> None:
    bad = [{"id": "x", "nombre": "=cmd|' /C calc'!A0", "orden": 3}]
    await turnos.ok("POST", "/api/turnos/config", {"areas": bad}, auth=ADMIN)
    hoy = (await turnos.ok("GET", "/api/turnos/config", auth=None))["hoy"]
    res = await turnos.call("GET", f"/api/turnos/reportes.csv?desde={hoy}&hasta={hoy}", auth=ADMIN)
    rows = _rows(res.text)
    cells: list[Any] = [c for r in rows for c in r]
    assert "'=cmd|' /C calc'!A0" in cells
    assert not any(c[:1] in ("=", "+", "-", "@") for c in cells)


async def test_the_public_config_never_names_the_operator_of_a_mesa(turnos: Turnos) -> None:
    carla = mint_token(SECRET, "carla", ["operador"], extra={"name": "Carla Ruiz"})
    await turnos.ok("POST", "/api/turnos/mesas/1/abrir", auth=carla)
    res = await turnos.call("GET", "/api/turnos/config", auth=None)
    assert "Carla" not in res.text
    assert "operador_id" not in res.text
