"""Must hold 4 (server side): a turno called and not attended for the
configured time becomes ``no_presento`` by itself — a records timer — and
every channel hears it: the area (operators), the monitor, the statistics.

The server runs on a virtual clock: the wait is the real 5 minutes, and it
passes when the test advances the clock, whatever the machine's speed."""

from __future__ import annotations

import time
from typing import Any

from relevo.clock import VirtualClock

from .conftest import ADMIN, OPERADOR, Listener, StartTurnos

NO_SHOW = 300.0  # the default no_show_minutes = 5


async def _state(turnos: Any, turno_id: str) -> str:
    return str((await turnos.ok("GET", f"/api/turnos/turnos/{turno_id}"))["turno"]["state"])


async def test_a_called_turno_nobody_attends_becomes_no_presento(
    start_turnos: StartTurnos, listen: Any
) -> None:
    # Real wall time to start from: the test's tokens are minted on it.
    clock = VirtualClock(start=time.time())
    turnos = await start_turnos(clock=clock)
    area: Listener = await listen(turnos.ws_url, ["turnos:area:atencion"], OPERADOR)
    monitor: Listener = await listen(turnos.ws_url, ["turnos:monitor"])
    stats: Listener = await listen(turnos.ws_url, ["turnos:stats"], ADMIN)
    await turnos.emitir("consultas")
    attended = (await turnos.emitir("consultas"))["turno"]

    called = await turnos.siguiente("1")
    assert called is not None
    deadline = (await turnos.records.get("turno", called["id"])).updated_at + NO_SHOW
    other = await turnos.siguiente("2")
    assert other is not None
    assert other["id"] == attended["id"]
    await turnos.accion(other["id"], "atender")  # attended in time: no timer

    clock.advance_to(deadline - 1)
    assert await _state(turnos, called["id"]) == "llamado"
    clock.advance_to(deadline)
    for lis in (area, monitor):
        frame = await lis.wait_for(lambda f: f["ev"] == "turno_no_presento", wait=5)
        data = frame["data"]
        assert data["id"] == called["id"]
        assert data["by"] == "system"
        assert data["reason"] == "timer:no_presento"
        assert data["record"]["state"] == "no_presento"
    history = await turnos.records.history("turno", called["id"])
    assert [h.at for h in history if h.reason == "timer:no_presento"] == [deadline]
    clock.advance(3.0)  # the statistics look again within 3 s of a no-show deadline
    figures = await stats.wait_for(
        lambda f: f["data"]["stats"]["totales"]["no_presento"] == 1, wait=6
    )
    assert figures["data"]["stats"]["mesas"][0]["no_presento"] == 1
    assert (await turnos.ok("GET", "/api/turnos/mesas/1/actual"))["turno"] is None
    assert await _state(turnos, other["id"]) == "atendiendo"
    # the mesa is free again
    assert await turnos.siguiente("1") is None


async def test_a_recall_gives_the_person_the_full_time_again(
    start_turnos: StartTurnos, listen: Any
) -> None:
    clock = VirtualClock(start=time.time())
    turnos = await start_turnos(clock=clock)
    area: Listener = await listen(turnos.ws_url, ["turnos:area:atencion"], OPERADOR)
    await turnos.emitir("consultas")
    called = await turnos.siguiente("1")
    assert called is not None
    await area.wait_for(lambda f: f["ev"] == "turno_llamado")
    clock.advance(200)
    await turnos.accion(called["id"], "rellamar")
    recalled = (await turnos.records.get("turno", called["id"])).updated_at
    clock.advance(NO_SHOW - 1)  # 499 s after the first call, 299 after the recall
    assert await _state(turnos, called["id"]) == "llamado"  # counted from the recall...
    clock.advance_to(recalled + NO_SHOW)
    await area.wait_for(lambda f: f["ev"] == "turno_no_presento", wait=6)
    history = await turnos.records.history("turno", called["id"])
    fired = [h.at for h in history if h.reason == "timer:no_presento"]
    assert fired == [recalled + NO_SHOW]  # ...not from the first call
