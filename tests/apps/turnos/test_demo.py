"""``relevo demo``: sample areas, trámites and mesas, people already waiting,
and development tokens for the staff screens — only in demo mode."""

from __future__ import annotations

from relevo.apps.turnos import seed_demo

from .conftest import StartTurnos


async def test_seed_demo_is_idempotent_and_the_demo_login_mints_staff_tokens(
    start_turnos: StartTurnos,
) -> None:
    turnos = await start_turnos({"simulate": False}, demo=True, config={})
    await seed_demo(turnos.ctx)
    seeded = len(await turnos.records.find("turno", limit=10_000))
    await seed_demo(turnos.ctx)  # a restart of `relevo demo` adds nothing
    config = await turnos.ok("GET", "/api/turnos/config", auth=None)
    assert config["demo"] is True
    assert [t["prefijo"] for t in config["tramites"]] == ["A", "R", "L", "C"]
    assert len(config["mesas"]) == 6
    assert len(await turnos.records.find("turno", limit=10_000)) == seeded > 20  # a morning
    monitor = await turnos.ok("GET", "/api/turnos/monitor", auth=None)
    assert len(monitor["llamados"]) == config["monitor_last"]

    users = await turnos.ok("GET", "/api/turnos/demo/users", auth=None)
    ids = [u["id"] for u in users["users"]]
    assert ids == ["carla", "jorge", "milagros", "raul", "patricia", "hugo", "supervisor"]
    assert {u["mesa"] for u in users["users"] if "operador" in u["roles"]} == {
        m["id"] for m in config["mesas"]
    }  # one operator per mesa
    login = await turnos.ok("POST", "/api/turnos/demo/token", {"user": "supervisor"}, auth=None)
    stats = await turnos.ok("GET", "/api/turnos/stats", auth=login["token"])
    assert stats["stats"]["totales"]["emitidos"] == seeded


async def test_no_demo_tokens_outside_demo_mode(start_turnos: StartTurnos) -> None:
    turnos = await start_turnos()
    res = await turnos.call("POST", "/api/turnos/demo/token", {"user": "carla"}, auth=None)
    assert res.status_code == 404
    assert (await turnos.ok("GET", "/api/turnos/config", auth=None))["demo"] is False
