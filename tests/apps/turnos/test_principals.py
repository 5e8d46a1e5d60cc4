"""The backend is the API key, not a user id: a token whose ``sub`` is
``"api"`` (or ``"system"``) is an operator like any other — bound to one
mesa at a time and, at the kiosk, to its rate limit (issue 11, finding 12)."""

from __future__ import annotations

import pytest

from .conftest import ADMIN, StartTurnos, token


@pytest.mark.parametrize("sub", ["api", "system"])
async def test_a_user_called_api_is_not_the_backend(start_turnos: StartTurnos, sub: str) -> None:
    turnos = await start_turnos({"kiosk_rate": 0.01, "kiosk_burst": 2})
    impostor = token(sub, "operador")
    assert (await turnos.ok("POST", "/api/turnos/mesas/1/abrir"))["lease"]["holder"] == "op1"
    await turnos.emitir()
    for path in ("/api/turnos/mesas/1/abrir", "/api/turnos/mesas/1/siguiente",
                 "/api/turnos/mesas/1/cerrar"):  # fmt: skip
        res = await turnos.call("POST", path, auth=impostor)
        assert res.status_code == 423, (path, res.text)
        assert (res.json()["code"], res.json()["holder"]) == ("locked", "op1")
    called = await turnos.siguiente("1")
    assert called is not None
    res = await turnos.call("POST", f"/api/turnos/turnos/{called['id']}/atender", {},
                            auth=impostor)  # fmt: skip
    assert res.status_code == 423, res.text
    # A free mesa: it takes it, as an operator does (the backend takes none).
    taken = await turnos.ok("POST", "/api/turnos/mesas/2/abrir", auth=impostor)
    assert taken["lease"] is not None
    assert taken["lease"]["holder"] == sub
    # At the kiosk it is one more client: limited like the others.
    body = {"tramite_id": "reclamos"}
    codes = [
        (await turnos.call("POST", "/api/turnos/turnos", body, auth=impostor)).status_code
        for _ in range(4)
    ]
    assert codes == [201, 201, 429, 429]
    # The API key still acts for any mesa, takes none, and is never limited.
    acted = await turnos.call("POST", f"/api/turnos/turnos/{called['id']}/atender", {}, auth="api")
    assert acted.status_code == 200, acted.text
    assert (await turnos.ok("POST", "/api/turnos/mesas/1/abrir", auth="api"))["lease"] is None
    for _ in range(3):
        await turnos.emitir("reclamos")


async def test_an_id_chosen_through_the_records_api_never_blocks_the_kiosk(
    start_turnos: StartTurnos,
) -> None:
    """Only the backend may choose a turno's id (an admin's token may not),
    and the kiosk's next ticket goes past it instead of failing forever."""
    turnos = await start_turnos()
    first = (await turnos.emitir())["turno"]
    chosen = str(int(first["id"]) + 1)
    data = {"numero_visible": "X-001", "numero": 1, "fecha": first["fecha"],
            "tramite_id": "consultas", "area_id": "atencion"}  # fmt: skip
    res = await turnos.call("POST", "/api/records/turno", {"id": chosen, "data": data}, auth=ADMIN)
    assert (res.status_code, res.json()["code"]) == (400, "bad_request"), res.text
    res = await turnos.call("POST", "/api/records/turno", {"id": chosen, "data": data}, auth="api")
    assert res.status_code == 201, res.text
    numbers = [(await turnos.emitir())["turno"] for _ in range(3)]
    assert [t["numero_visible"] for t in numbers] == ["A-002", "A-003", "A-004"]
    assert chosen not in {t["id"] for t in numbers}
