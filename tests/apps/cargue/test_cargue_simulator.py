"""``relevo demo`` keeps cargue alive (issue 15, defect 1): simulated vendors
tick V, a simulated dispatcher ticks D (now and then noting a short load),
closes finished days and, once all are closed, reopens one for a second
trip — bounded, never acting for someone signed in, and only in demo mode
with ``simulate`` on. Steps are run directly (no waiting on the ticker)."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from typing import Any

from relevo.apps.cargue.kinds import CIERRE, ITEM
from relevo.apps.cargue.options import parse_options
from relevo.apps.cargue.service import CargueService
from relevo.apps.cargue.simulator import CargueSimulator
from tests.apps.appserver import AppServer
from tests.helpers import timeout

from .conftest import Factory


def simulator_tasks() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if t.get_name() == "simulator:cargue"]


def simulator(app: AppServer, online: set[str] | None = None) -> CargueSimulator:
    service = CargueService(app.records, parse_options({}))
    return CargueSimulator(service, lambda: set(online or ()), random.Random(15))


async def test_the_sheet_keeps_moving_and_stays_bounded(app: AppServer) -> None:
    sim = simulator(app)
    before = await app.records.find(ITEM, {}, limit=1000)
    acted = [await sim.act() for _ in range(160)]
    assert sum(acted) >= 150, Counter(acted)
    items = await app.records.find(ITEM, {}, limit=1000)
    by_vendor = Counter(str(r.get("vendedor_id")) for r in items)
    assert max(by_vendor.values()) <= 40
    assert len(items) > len(before)  # second trips added products
    sent = sum(r.state == "despachado" for r in items)
    assert sent > sum(r.state == "despachado" for r in before)
    names = {(r.get("v_nombre"), r.get("d_nombre")) for r in items if r.get("d")}
    assert ("Carlos Ruiz", "Marta Ríos") in names
    assert any(r.get("cargada") is not None and r.get("motivo") for r in items)
    # every day was closed once, and one reopened for a second trip, with its reason
    reopened = []
    for c in await app.records.find(CIERRE, {}, limit=100):
        moves = [(e.transition, e.reason) for e in await app.records.history(CIERRE, c.id)]
        assert ("cerrar", None) in moves
        reopened += [m for m in moves if m[0] == "reabrir"]
    assert ("reabrir", "Segundo viaje del día") in reopened


async def test_it_never_acts_for_someone_signed_in(app: AppServer) -> None:
    sim = simulator(app, online={"v1", "despacho1", "admin"})
    v1_before = {r.id: r.version for r in await app.records.find(ITEM, {"vendedor_id": "v1"})}
    for _ in range(60):
        await sim.act()
    items = await app.records.find(ITEM, {}, limit=1000)
    assert {r.id: r.version for r in items if r.get("vendedor_id") == "v1"} == v1_before
    assert not [r for r in items if r.get("d") and r.get("vendedor_id") != "v1"]
    assert all(r.state != "pendiente" for r in items if r.get("vendedor_id") != "v1")
    assert await app.records.find(CIERRE, {"state": "cerrado"}) == []


async def test_it_runs_only_in_demo_with_simulate_and_stops_with_the_server(
    make_server: Factory,
) -> None:
    await make_server(options={"simulate": True, "simulate_every": 0.05}, demo=False)
    await make_server(options={"simulate": False})
    assert simulator_tasks() == []
    srv = await make_server(options={"simulate": True, "simulate_every": 0.05})
    assert len(simulator_tasks()) == 1
    ticked = {r.id for r in await srv.records.find(ITEM, {}, limit=1000) if r.get("v")}
    deadline = asyncio.get_running_loop().time() + timeout(20)
    while not {r.id for r in await srv.records.find(ITEM, {}, limit=1000) if r.get("v")} - ticked:
        assert asyncio.get_running_loop().time() < deadline, "the simulator ticked nothing"
        await asyncio.sleep(0.05)
    await srv.stop()
    assert simulator_tasks() == []


async def test_the_seeded_ticks_are_spread_over_the_early_morning(app: AppServer) -> None:
    now_ms = time.time() * 1000
    items = await app.records.find(ITEM, {}, limit=1000)
    v_at = sorted(int(r.get("v_at")) for r in items if r.get("v"))
    d_at = sorted(int(r.get("d_at")) for r in items if r.get("d"))
    assert len(v_at) == 10
    assert len(d_at) == 3
    assert len(set(v_at + d_at)) == 13, "two seeded ticks share one instant"
    assert all(t < now_ms for t in v_at + d_at)
    assert min(d_at) > max(v_at)  # each D after its V
    # the rows' history agrees with their timestamps
    first = next(r for r in items if r.get("v_at") == v_at[0])
    moves = [e for e in await app.records.history(ITEM, first.id) if e.transition == "marcar_v"]
    assert int(moves[0].at * 1000) == v_at[0]
