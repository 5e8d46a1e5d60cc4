"""``relevo demo`` keeps the turnero alive (issue 15, defect 1 for turnos):
the seed replays the last minutes of a morning, so the screens open on a
plausible day whose no-show deadlines fall one by one; the simulator (a
kiosk and operators nobody sees) keeps it moving, bounded, and leaves alone
an operator who is signed in. The logic runs on virtual time (a VirtualClock:
thirty minutes in a few seconds); one short real-server test checks the
simulator publishes while the server runs and stops with it."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from relevo.apps.base import AppContext
from relevo.apps.turnos import namespaces, seed_demo
from relevo.apps.turnos.demo import DEMO_OPERADORES
from relevo.apps.turnos.kinds import build_kinds
from relevo.apps.turnos.options import parse_options
from relevo.apps.turnos.service import Turnero
from relevo.apps.turnos.simulator import MAX_WAITING, TurnosSimulator
from relevo.broker.memory import MemoryBroker
from relevo.clock import VirtualClock
from relevo.hub.hub import Hub
from relevo.records import Record, Records
from relevo.settings import Settings

from .conftest import FAST, Listener, StartTurnos

TEN_AM = 1_767_261_600.0  # 2026-01-01 10:00 UTC
OPTIONS = {"timezone": "UTC"}


@dataclass
class Virtual:
    clock: VirtualClock
    records: Records
    ctx: AppContext

    async def turnos(self) -> list[Record]:
        return await self.records.find("turno", limit=100_000)


@pytest.fixture
async def virtual(tmp_path: Path) -> AsyncIterator[Virtual]:
    """The turnero on SQLite and a memory hub, its time a VirtualClock at 10:00."""
    settings = Settings(namespaces=namespaces(OPTIONS), app={"turnos": OPTIONS}, demo=True)
    hub = Hub(settings, MemoryBroker())
    await hub.start()
    clock = VirtualClock(TEN_AM)
    url = f"sqlite+aiosqlite:///{tmp_path / 'sim.db'}"
    records = Records(url, build_kinds(parse_options(OPTIONS)), options=FAST, clock=clock)
    records.attach(hub)
    await records.start(migrate=True)
    try:
        yield Virtual(clock, records, AppContext("turnos", settings, hub, records, OPTIONS))
    finally:
        await records.close()
        await hub.close()


async def test_the_seed_is_a_staggered_morning(virtual: Virtual) -> None:
    await seed_demo(virtual.ctx)
    now = virtual.clock.now()
    turnos = await virtual.turnos()
    by_state: dict[str, list[Record]] = {}
    for t in turnos:
        by_state.setdefault(str(t.state), []).append(t)
    assert len(by_state.get("finalizado", [])) >= 10, {k: len(v) for k, v in by_state.items()}
    assert 1 <= len(by_state.get("en_espera", [])) <= MAX_WAITING
    at_desks = by_state.get("llamado", []) + by_state.get("atendiendo", [])
    assert len(at_desks) >= 2
    # the morning is spread over the last ~45 minutes, not one instant
    created = sorted(t.created_at for t in turnos)
    assert created[0] < now - 30 * 60
    assert created[-1] > now - 5 * 60
    # turnos left "llamado" were called moments ago: their no-show deadlines
    # (5 min) are minutes away and apart, none at start
    deadlines = sorted(t["llamado_at"] / 1000 + 300 for t in by_state.get("llamado", []))
    assert all(d > now + 60 for d in deadlines), deadlines
    assert len(set(deadlines)) == len(deadlines)
    # each number was issued once, in order, per trámite
    for prefijo in {t["numero_visible"][0] for t in turnos}:
        nums = sorted(t["numero"] for t in turnos if t["numero_visible"][0] == prefijo)
        assert nums == list(range(1, len(nums) + 1))
    await seed_demo(virtual.ctx)  # a restart of `relevo demo` adds nothing
    assert len(await virtual.turnos()) == len(turnos)


async def test_thirty_minutes_later_the_day_still_looks_plausible(virtual: Virtual) -> None:
    await seed_demo(virtual.ctx)
    start = virtual.clock.now()
    before = {t.id: t.state for t in await virtual.turnos()}
    turnero = Turnero(virtual.records, parse_options(OPTIONS))
    # Carla is signed in: her mesa (1) is hers, the simulator leaves it alone
    sim = TurnosSimulator(turnero, lambda: {"carla"}, random.Random(7), DEMO_OPERADORES)
    rnd = random.Random(8)
    samples: list[int] = []
    while virtual.clock.now() < start + 30 * 60:
        virtual.clock.advance(rnd.uniform(4.8, 11.2))  # simulate_every = 8 s, ±40 %
        await sim.act()
        if len(samples) < (virtual.clock.now() - start) // 60:  # about once a minute
            open_ = await virtual.records.find("turno", {"state": ["en_espera", "llamado"]})
            waiting = [t for t in open_ if t.state == "en_espera"]
            samples.append(len(waiting))
            now = virtual.clock.now()
            called = [now - t["llamado_at"] / 1000 for t in open_ if t.state == "llamado"]
            assert all(age < 120 for age in called), called  # attended long before 5 min
    assert max(samples) <= MAX_WAITING, samples
    assert sum(n == 0 for n in samples) <= len(samples) // 5, samples
    after = await virtual.turnos()
    finished = [t for t in after if t.state == "finalizado" and before.get(t.id) != "finalizado"]
    assert len(finished) >= 15
    no_shows = [t for t in after if t.state == "no_presento" and before.get(t.id) != "no_presento"]
    assert len(no_shows) <= len(finished) // 4  # occasional
    assert not [t for t in no_shows if (await history_by(virtual, t)) == "system"]
    # nothing at Carla's mesa was touched by the simulator while she was here
    assert not [t for t in after if t.get("mesa_id") == "1" and t["llamado_at"] / 1000 > start]
    mesas = {m.id: m for m in await virtual.records.find("mesa")}
    assert mesas["2"].lease_held(virtual.clock.now()) is not None  # Jorge's, kept open
    assert mesas["2"]["operador_nombre"] == "Jorge Salazar"


async def history_by(virtual: Virtual, turno: Record) -> str:
    """Who made the turno's last change (``system``: a timer)."""
    return (await virtual.records.history("turno", turno.id))[-1].by


def simulator_tasks() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if t.get_name() == "simulator:turnos"]


async def test_the_simulator_runs_with_a_demo_server_and_stops_with_it(
    start_turnos: StartTurnos, listen: Any
) -> None:
    turnos = await start_turnos({"simulate_every": 0.1}, demo=True, config={})
    monitor: Listener = await listen(turnos.ws_url, ["turnos:monitor"])
    await seed_demo(turnos.ctx)
    assert len(simulator_tasks()) == 1
    seeded = {t.id for t in await turnos.records.find("turno", limit=10_000)}
    # a ticket the seed did not issue, on the public channel
    await monitor.wait_for(
        lambda f: f["ev"] == "turno_creado" and str(f["data"]["id"]) not in seeded, wait=20
    )
    await turnos.server.stop()
    assert simulator_tasks() == []


async def test_no_simulator_unless_demo_and_simulate(start_turnos: StartTurnos) -> None:
    await start_turnos({"simulate": False, "simulate_every": 0.1}, demo=True, config={})
    await start_turnos({"simulate_every": 0.1})  # not a demo server
    assert simulator_tasks() == []
