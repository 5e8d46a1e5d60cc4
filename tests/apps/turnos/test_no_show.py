"""Must hold 4 (server side): a turno called and not attended for the
configured time becomes ``no_presento`` by itself — a records timer — and
every channel hears it: the area (operators), the monitor, the statistics."""

from __future__ import annotations

import time
from typing import Any

from tests.helpers import timeout

from .conftest import ADMIN, OPERADOR, Listener, StartTurnos

NO_SHOW = {"no_show_minutes": 0.02}  # 1.2 s


async def test_a_called_turno_nobody_attends_becomes_no_presento(
    start_turnos: StartTurnos, listen: Any
) -> None:
    turnos = await start_turnos(NO_SHOW)
    area: Listener = await listen(turnos.ws_url, ["turnos:area:atencion"], OPERADOR)
    monitor: Listener = await listen(turnos.ws_url, ["turnos:monitor"])
    stats: Listener = await listen(turnos.ws_url, ["turnos:stats"], ADMIN)
    await turnos.emitir("consultas")
    attended = (await turnos.emitir("consultas"))["turno"]

    started = time.monotonic()  # before the call: its timer is armed inside it
    called = await turnos.siguiente("1")
    assert called is not None
    other = await turnos.siguiente("2")
    assert other is not None
    assert other["id"] == attended["id"]
    await turnos.accion(other["id"], "atender")  # attended in time: no timer

    for lis in (area, monitor):
        frame = await lis.wait_for(lambda f: f["ev"] == "turno_no_presento", wait=5)
        data = frame["data"]
        assert data["id"] == called["id"]
        assert data["by"] == "system"
        assert data["reason"] == "timer:no_presento"
        assert data["record"]["state"] == "no_presento"
    elapsed = time.monotonic() - started
    assert 1.0 < elapsed < timeout(1.2 + 2.0)
    figures = await stats.wait_for(
        lambda f: f["data"]["stats"]["totales"]["no_presento"] == 1, wait=6
    )
    assert figures["data"]["stats"]["mesas"][0]["no_presento"] == 1
    assert (await turnos.ok("GET", "/api/turnos/mesas/1/actual"))["turno"] is None
    assert (await turnos.ok("GET", f"/api/turnos/turnos/{other['id']}"))["turno"]["state"] == (
        "atendiendo"
    )
    # the mesa is free again
    assert await turnos.siguiente("1") is None


async def test_a_recall_gives_the_person_the_full_time_again(
    start_turnos: StartTurnos, listen: Any
) -> None:
    turnos = await start_turnos({"no_show_minutes": 0.03})  # 1.8 s
    area: Listener = await listen(turnos.ws_url, ["turnos:area:atencion"], OPERADOR)
    await turnos.emitir("consultas")
    called = await turnos.siguiente("1")
    assert called is not None
    t0 = time.monotonic()
    await area.wait_for(lambda f: f["ev"] == "turno_llamado")
    import asyncio

    await asyncio.sleep(1.2)
    await turnos.accion(called["id"], "rellamar")
    recalled = time.monotonic()
    await area.wait_for(lambda f: f["ev"] == "turno_no_presento", wait=6)
    assert time.monotonic() - recalled >= 1.7  # counted from the recall...
    assert time.monotonic() - t0 >= 2.9  # ...not from the first call
