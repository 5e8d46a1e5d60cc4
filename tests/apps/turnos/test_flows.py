"""The turnero over a real server: numbering, call order, the seed's events
on each channel, and what each audience may read."""

from __future__ import annotations

from typing import Any

from .conftest import ADMIN, OPERADOR, Listener, Turnos, eventually


async def test_numbers_restart_per_tramite_and_count_people_ahead(turnos: Turnos) -> None:
    a1 = await turnos.emitir("consultas")
    a2 = await turnos.emitir("consultas", persona_nombre="Ana")
    r1 = await turnos.emitir("reclamos")
    p = await turnos.emitir("consultas", prioridad_motivo="adulto_mayor")
    assert [x["turno"]["numero_visible"] for x in (a1, a2, r1, p)] == [
        "A-001", "A-002", "R-001", "A-003",
    ]  # fmt: skip
    assert [x["adelante"] for x in (a1, a2, r1)] == [0, 1, 0]
    assert p["adelante"] == 0  # priority goes first
    assert p["turno"]["prioridad"] == 1
    t = a2["turno"]
    assert t["state"] == "en_espera"
    assert t["tramite_nombre"] == "Consultas"
    assert t["area_id"] == "atencion"
    assert "persona_nombre" not in t  # the kiosk answer is public too


async def test_call_next_takes_priority_then_arrival_among_the_mesas_tramites(
    turnos: Turnos,
) -> None:
    r1 = (await turnos.emitir("reclamos"))["turno"]
    a1 = (await turnos.emitir("consultas"))["turno"]
    c1 = (await turnos.emitir("pagos"))["turno"]
    a2 = (await turnos.emitir("consultas", prioridad=1))["turno"]

    first = await turnos.siguiente("2")  # Mesa 2 serves consultas only
    assert first is not None
    assert first["numero_visible"] == a2["numero_visible"]
    assert first["mesa_nombre"] == "Mesa 2"
    assert first["state"] == "llamado"
    second = await turnos.siguiente("1")  # consultas + reclamos: R-001 came first
    assert second is not None
    assert second["id"] == r1["id"]
    await turnos.accion(first["id"], "atender", mesa_id="2")
    await turnos.accion(first["id"], "finalizar", mesa_id="2")
    third = await turnos.siguiente("2")
    assert third is not None
    assert third["id"] == a1["id"]
    await turnos.accion(third["id"], "no_presento")
    assert await turnos.siguiente("2") is None  # nobody left for consultas
    caja = await turnos.siguiente("caja1")
    assert caja is not None
    assert caja["id"] == c1["id"]


async def test_each_step_publishes_the_seeds_event(turnos: Turnos, listen: Any) -> None:
    area: Listener = await listen(turnos.ws_url, ["turnos:area:atencion"], OPERADOR)
    stats: Listener = await listen(turnos.ws_url, ["turnos:stats"], ADMIN)
    monitor: Listener = await listen(turnos.ws_url, ["turnos:monitor"])

    tid = (await turnos.emitir("consultas", persona_nombre="María Test"))["turno"]["id"]
    created = await area.wait_for(lambda f: f["ev"] == "turno_creado")
    assert created["data"]["record"]["numero_visible"] == "A-001"
    assert created["data"]["to"] == "en_espera"

    called = await turnos.siguiente("1")
    assert called is not None
    assert called["persona_nombre"] == "María Test"  # operators read the name
    await turnos.accion(tid, "rellamar", mesa_id="1")
    await turnos.accion(tid, "atender", mesa_id="1")
    edited = await turnos.ok("PATCH", f"/api/turnos/turnos/{tid}", {"persona_nombre": "María T."})
    assert edited["turno"]["persona_nombre"] == "María T."
    done = await turnos.accion(tid, "finalizar", mesa_id="1", motivo="derivado")
    assert done["motivo"] == "derivado"

    expected = ["turno_creado", "turno_llamado", "turno_llamado", "turno_atendiendo",
                "turno_actualizado", "turno_finalizado"]  # fmt: skip
    for lis in (area, monitor):
        await eventually(lambda lis=lis: len(lis.events()) >= len(expected))
        assert [f["ev"] for f in lis.events()] == expected
    recall = area.events()[2]["data"]["record"]
    assert recall["llamadas"] == 2
    assert recall["mesa_nombre"] == "Mesa 1"
    final = area.events()[-1]["data"]
    assert final["record"]["motivo"] == "derivado"
    assert final["by"] == "op1"

    last = await stats.wait_for(
        lambda f: (
            f["ev"] == "stats_actualizadas" and f["data"]["stats"]["totales"]["finalizado"] == 1
        )
    )
    assert last["data"]["timestamp"] > 0
    mesa1 = next(m for m in last["data"]["stats"]["mesas"] if m["id"] == "1")
    assert mesa1["atendidos"] == 1


async def test_the_monitor_never_receives_a_name(turnos: Turnos, listen: Any) -> None:
    """No frame on turnos:monitor, and no monitor snapshot, carries
    persona_nombre (nor prioridad_motivo): not the field, not the value."""
    monitor: Listener = await listen(turnos.ws_url, ["turnos:monitor", "turnos:config"])
    names = ["María Test", "Jorge Privado"]
    a = (await turnos.emitir("consultas", persona_nombre=names[0]))["turno"]
    await turnos.emitir("reclamos", persona_nombre=names[1], prioridad_motivo="embarazada")
    await turnos.siguiente("1")
    await turnos.siguiente("2")
    await turnos.accion(a["id"], "rellamar")
    await turnos.ok("PATCH", f"/api/turnos/turnos/{a['id']}", {"persona_nombre": "Otra Persona"})
    snapshot = await turnos.call("GET", "/api/turnos/monitor", auth=None)
    await eventually(lambda: len(monitor.events("turnos:monitor")) >= 6)

    texts = [*monitor.raw, snapshot.text]
    for text in texts:
        for secret in ("persona_nombre", "prioridad_motivo", "embarazada", "Otra Persona", *names):
            assert secret not in text
    body = snapshot.json()
    assert [t["numero_visible"] for t in body["llamados"]] == ["A-001", "R-001"]
    assert body["en_espera"] == {}


async def test_who_may_read_what(turnos: Turnos, listen: Any) -> None:
    tid = (await turnos.emitir("consultas", persona_nombre="Ana"))["turno"]["id"]
    # anonymous: the monitor and the configuration, nothing else
    assert (await turnos.call("GET", "/api/turnos/monitor", auth=None)).status_code == 200
    assert (await turnos.call("GET", "/api/turnos/config", auth=None)).status_code == 200
    for path in (f"/api/turnos/turnos/{tid}", "/api/turnos/stats", "/api/turnos/mesas/1/actual"):
        res = await turnos.call("GET", path, auth=None)
        assert res.status_code == 401, path
    # operators: not the admin's figures
    res = await turnos.call("GET", "/api/turnos/stats")
    assert res.status_code == 403
    assert res.json()["mensaje"]
    assert (await turnos.call("GET", "/api/turnos/stats", auth=ADMIN)).status_code == 200
    # the generic records API: operators read, only admins write
    rows = await turnos.ok("GET", "/api/records/turno?area_id=atencion")
    assert rows["channel"] == "turnos:area:atencion"
    assert "persona_nombre" not in rows["rows"][0]
    res = await turnos.call("POST", f"/api/records/turno/{tid}/transitions/llamar",
                            {"data": {"mesa_id": "1"}})  # fmt: skip
    assert res.status_code == 403
    # channels: an anonymous screen may not follow an area
    import json

    import websockets

    async with websockets.connect(turnos.ws_url) as ws:
        await ws.send(json.dumps({"id": 1, "op": "sub", "ch": "turnos:area:atencion"}))
        assert json.loads(await ws.recv())["err"]["code"] == "forbidden"
        await ws.send(json.dumps({"id": 2, "op": "sub", "ch": "turnos:stats"}))
        assert json.loads(await ws.recv())["err"]["code"] == "forbidden"


async def test_configuration_is_validated_as_a_whole(turnos: Turnos) -> None:
    before = await turnos.ok("GET", "/api/turnos/config", auth=None)
    bad = {
        "tramites": [{"id": "nuevo", "nombre": "Nuevo", "prefijo": "A", "area_id": "atencion"}],
        "mesas": [{"id": "9", "nombre": "Mesa 9", "area_id": "atencion", "tramites": ["nuevo"]}],
    }
    res = await turnos.call("POST", "/api/turnos/config", bad, auth=ADMIN)
    assert res.status_code == 400
    assert "letra A" in res.json()["mensaje"]
    assert await turnos.ok("GET", "/api/turnos/config", auth=None) == before  # nothing written
    bad["tramites"][0]["prefijo"] = "N"
    bad["mesas"][0]["tramites"] = ["nuevo", "pagos"]  # pagos is the caja's
    res = await turnos.call("POST", "/api/turnos/config", bad, auth=ADMIN)
    assert res.status_code == 400
    assert "otra área" in res.json()["mensaje"]
    bad["mesas"][0]["tramites"] = ["nuevo"]
    assert (await turnos.call("POST", "/api/turnos/config", bad)).status_code == 403
    after = await turnos.ok("POST", "/api/turnos/config", bad, auth=ADMIN)
    assert "9" in [m["id"] for m in after["mesas"]]
    n1 = await turnos.emitir("nuevo")
    assert n1["turno"]["numero_visible"] == "N-001"
