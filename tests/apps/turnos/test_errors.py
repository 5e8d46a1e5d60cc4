"""Must hold 6: bad input gets a clear error (a stable code and a Spanish
``mensaje``) and writes nothing — no record, history, outbox or sequence row."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from relevo.records import schema as s

from .conftest import ADMIN, Turnos, token


async def _rows(turnos: Turnos) -> dict[str, int]:
    out = {}
    async with turnos.records.store.read() as conn:
        for table in (s.records, s.history, s.outbox, s.sequences, s.timers):
            count = sa.select(sa.func.count()).select_from(table)
            out[table.name] = int((await conn.execute(count)).scalar_one())
        values = sa.select(sa.func.coalesce(sa.func.sum(s.sequences.c.value), 0))
        out["sequence_total"] = int((await conn.execute(values)).scalar_one())
    return out


async def test_calling_on_a_mesa_that_does_not_exist(turnos: Turnos) -> None:
    await turnos.emitir("consultas")
    await turnos.records.wait_published()
    before = await _rows(turnos)
    res = await turnos.call("POST", "/api/turnos/mesas/99/siguiente")
    assert res.status_code == 404
    assert res.json()["code"] == "not_found"
    assert res.json()["mensaje"] == "La mesa 99 no existe."
    assert await _rows(turnos) == before


async def test_finishing_a_turno_that_is_not_being_attended(turnos: Turnos) -> None:
    waiting = (await turnos.emitir("consultas"))["turno"]
    res = await turnos.call("POST", f"/api/turnos/turnos/{waiting['id']}/finalizar", {})
    assert res.status_code == 409
    assert res.json()["code"] == "conflict"
    assert res.json()["mensaje"] == (
        "El turno A-001 no está en atención (en espera): no se puede finalizar."
    )
    called = await turnos.siguiente("1")
    assert called is not None
    await turnos.records.wait_published()
    before = await _rows(turnos)
    res = await turnos.call("POST", f"/api/turnos/turnos/{called['id']}/finalizar", {})
    assert res.status_code == 409
    assert "(llamado)" in res.json()["mensaje"]
    assert res.json()["state"] == "llamado"
    # the wrong mesa, an unknown action, a bad motivo, a second call while busy
    res = await turnos.call("POST", f"/api/turnos/turnos/{called['id']}/atender", {"mesa_id": "2"})
    assert res.status_code == 409
    assert "no está en esta mesa" in res.json()["mensaje"]
    res = await turnos.call("POST", f"/api/turnos/turnos/{called['id']}/borrar", {})
    assert res.status_code == 404
    res = await turnos.call("POST", f"/api/turnos/turnos/{called['id']}/rellamar", {"motivo": 1})
    assert res.status_code == 400
    res = await turnos.call("POST", "/api/turnos/mesas/1/siguiente")
    assert res.status_code == 409
    assert res.json()["mensaje"].startswith("La Mesa 1 tiene el turno A-001 llamado")
    assert res.json()["turno_id"] == called["id"]
    assert await _rows(turnos) == before
    current = await turnos.ok("GET", "/api/turnos/mesas/1/actual")
    assert current["turno"]["state"] == "llamado"
    assert current["turno"]["version"] == called["version"]


async def test_a_kiosk_flood_is_rate_limited_without_gaps(start_turnos: object) -> None:
    turnos: Turnos = await start_turnos({"kiosk_rate": 0.2, "kiosk_burst": 5})  # type: ignore[operator]
    body = {"tramite_id": "consultas"}
    results = await asyncio.gather(
        *(turnos.call("POST", "/api/turnos/turnos", body, auth=None) for _ in range(30))
    )
    ok = [r for r in results if r.status_code == 201]
    limited = [r for r in results if r.status_code == 429]
    assert len(ok) == 5
    assert len(limited) == 25
    err = limited[0].json()
    assert err["code"] == "rate_limited"
    assert err["retry"] is True
    assert err["mensaje"].startswith("Demasiados turnos seguidos")
    assert int(limited[0].headers["retry-after"]) >= 1
    numbers = sorted(r.json()["turno"]["numero_visible"] for r in ok)
    assert numbers == ["A-001", "A-002", "A-003", "A-004", "A-005"]  # none skipped
    stored = await turnos.records.find("turno")
    assert len(stored) == 5
    # the backend (API key) is not a kiosk: never limited
    assert (await turnos.emitir("consultas"))["turno"]["numero_visible"] == "A-006"


async def test_bad_tickets_are_refused_before_anything_is_written(turnos: Turnos) -> None:
    before = await _rows(turnos)
    cases = [
        ({"tramite_id": "nada"}, 404, "El trámite nada no existe."),
        ({}, 400, "Elija un trámite."),
        ({"tramite_id": "consultas", "prioridad": "alta"}, 400, "La prioridad debe ser 0 o 1."),
        ({"tramite_id": "consultas", "prioridad_motivo": "vip"}, 400,
         "El motivo de prioridad no es válido."),
        ({"tramite_id": "consultas", "persona_nombre": "x" * 81}, 400,
         "El nombre puede tener hasta 80 caracteres."),
        ({"tramite_id": 7}, 400, "El campo tramite_id debe ser texto."),
    ]  # fmt: skip
    for body, status, mensaje in cases:
        res = await turnos.call("POST", "/api/turnos/turnos", body, auth="api")
        assert res.status_code == status, body
        assert res.json()["mensaje"] == mensaje
    res = await turnos.http.post(
        "/api/turnos/turnos", content=b"{not json", headers={"X-API-Key": "turnos-test-api-key"}
    )
    assert res.status_code == 400
    assert res.json()["code"] == "bad_request"
    assert await _rows(turnos) == before


async def test_operator_actions_need_an_operator(turnos: Turnos) -> None:
    tid = (await turnos.emitir("consultas"))["turno"]["id"]
    res = await turnos.call("POST", "/api/turnos/mesas/1/siguiente", auth=None)
    assert res.status_code == 401
    assert res.json()["code"] == "unauthorized"
    kiosk = token("k1", "kiosco")
    res = await turnos.call("POST", "/api/turnos/mesas/1/siguiente", auth=kiosk)
    assert res.status_code == 403
    res = await turnos.call("POST", "/api/turnos/mesas/1/siguiente", auth="not.a.jwt")
    assert res.status_code == 401
    assert (await turnos.siguiente("1")) is not None  # the operator may
    assert (await turnos.call("GET", f"/api/turnos/turnos/{tid}", auth=ADMIN)).status_code == 200


async def test_behind_a_trusted_proxy_each_kiosk_has_its_own_bucket(
    start_turnos: object,
) -> None:
    """The test client is 127.0.0.1, a trusted proxy by default: the kiosk
    limit keys on X-Forwarded-For, so kiosks behind one proxy do not share."""
    turnos: Turnos = await start_turnos({"kiosk_rate": 0.2, "kiosk_burst": 2})  # type: ignore[operator]

    async def take(kiosk: str) -> int:
        res = await turnos.http.post(
            "/api/turnos/turnos",
            json={"tramite_id": "consultas"},
            headers={"X-Forwarded-For": kiosk},
        )
        return res.status_code

    assert [await take("203.0.113.1") for _ in range(3)] == [201, 201, 429]
    assert [await take("203.0.113.2") for _ in range(2)] == [201, 201]


async def test_one_operator_per_mesa(turnos: Turnos) -> None:
    """op1 opens Mesa 1; op2 may neither open it nor call or act at it until
    op1 leaves it. The backend (API key) is never refused."""
    op2 = token("op2", "operador")
    opened = await turnos.ok("POST", "/api/turnos/mesas/1/abrir")
    assert opened["lease"]["holder"] == "op1"

    async def operadores() -> dict[str, str | None]:
        stats = (await turnos.ok("GET", "/api/turnos/stats", auth=ADMIN))["stats"]
        return {m["id"]: m["operador"] for m in stats["mesas"]}

    assert (await operadores())["1"] == "op1"
    again = await turnos.ok("POST", "/api/turnos/mesas/1/abrir")  # a renewal, same token
    assert again["lease"]["fencing_token"] == opened["lease"]["fencing_token"]

    await turnos.emitir()
    for path in ("/api/turnos/mesas/1/abrir", "/api/turnos/mesas/1/siguiente"):
        res = await turnos.call("POST", path, auth=op2)
        assert res.status_code == 423, res.text
        assert (res.json()["code"], res.json()["holder"]) == ("locked", "op1")
        assert res.json()["mensaje"] == "La Mesa 1 está abierta por op1."
    called = await turnos.siguiente("1")
    assert called is not None
    res = await turnos.call("POST", f"/api/turnos/turnos/{called['id']}/rellamar", {}, auth=op2)
    assert res.status_code == 423
    res = await turnos.call("POST", "/api/turnos/mesas/1/cerrar", auth=op2)
    assert res.status_code == 423
    assert (await turnos.ok("POST", "/api/turnos/mesas/2/abrir", auth=op2))["lease"][
        "holder"
    ] == "op2"

    await turnos.ok("POST", "/api/turnos/mesas/1/cerrar")
    assert (await operadores())["1"] is None
    taken = await turnos.ok("POST", "/api/turnos/mesas/1/abrir", auth=op2)
    assert taken["lease"]["holder"] == "op2"
    assert taken["lease"]["fencing_token"] == opened["lease"]["fencing_token"] + 1
    acted = await turnos.call("POST", f"/api/turnos/turnos/{called['id']}/atender", {}, auth="api")
    assert acted.status_code == 200
    assert (await turnos.ok("POST", "/api/turnos/mesas/1/abrir", auth="api"))["lease"] is None


async def test_an_operator_who_leaves_frees_the_mesa(turnos: Turnos) -> None:
    await turnos.ok("POST", "/api/turnos/mesas/1/abrir")
    await turnos.turnero().operador_salio("op1")
    taken = await turnos.ok("POST", "/api/turnos/mesas/1/abrir", auth=token("op2", "operador"))
    assert taken["lease"]["holder"] == "op2"
