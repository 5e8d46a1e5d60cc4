"""``relevo demo`` stays alive (issue 15, defect 1): the sample leads'
activity is spread over the past, so their timeouts fall due one by one, and
a simulator keeps the board moving after they have — and stops with the
server. Intervals are shortened through the options, not waited out."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from relevo.apps.leads.kinds import ACTIVE, LEAD
from tests.helpers import timeout

from .conftest import LeadsServer


def simulator_tasks() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if t.get_name() == "simulator:leads"]


async def test_seeded_active_leads_fall_due_one_by_one(make_server: Any) -> None:
    srv: LeadsServer = await make_server({"simulate": False}, demo=True)
    active = [r for r in await srv.records.find(LEAD, limit=1000) if r.state in ACTIVE]
    assert len(active) >= 10
    deadlines = sorted(r.get("last_activity") / 1000 + 300 for r in active)
    now = time.time()
    assert deadlines[0] > now + 10, "a sample lead is about to time out at start"
    # Spread over most of the 5 minutes, no two within the same few seconds.
    assert deadlines[-1] - deadlines[0] > 0.6 * 300, deadlines
    gaps = [b - a for a, b in zip(deadlines, deadlines[1:], strict=False)]
    assert sum(g < 1 for g in gaps) <= 2, gaps
    # The history reads true: the lead was derived minutes ago.
    entry = (await srv.records.history(LEAD, active[0].id))[0]
    assert entry.at < now - 20


async def test_the_board_stays_alive_after_the_seeded_timeouts(make_server: Any) -> None:
    opts = {"timeout": 2.0, "lease_ttl": 5.0, "simulate_every": 0.1, "demo_leads": 30}
    srv: LeadsServer = await make_server({**opts, "simulate": True}, demo=True)
    seeded = {r.id: r for r in await srv.records.find(LEAD, limit=1000) if r.state in ACTIVE}
    last_due = max(r.get("last_activity") / 1000 + 2.0 for r in seeded.values())
    # Past every seeded deadline, plus the timer's second: those leads have
    # timed out or been worked by now.
    await asyncio.sleep(max(0.0, last_due + 1.5 - time.time()))
    deadline = time.monotonic() + timeout(10)
    while True:
        leads = await srv.records.find(LEAD, limit=1000)
        fresh = [r for r in leads if r.state in ACTIVE and r.get("last_activity") / 1000 > last_due]
        returned = [r for r in leads if r.get("motivo") == "timeout_no_gestionado"]
        if len(fresh) >= 3 and returned:
            break
        assert time.monotonic() < deadline, [(r.id, r.state) for r in leads]
        await asyncio.sleep(0.1)
    assert {r.state for r in fresh} <= set(ACTIVE)
    # Bounded: it keeps a handful waiting, it does not pile up new leads.
    assert sum(r.state == "nuevo" for r in leads) <= 30
    assert len(simulator_tasks()) == 1
    await srv.server.stop()
    assert simulator_tasks() == []


async def test_no_simulator_unless_demo_and_simulate(make_server: Any) -> None:
    await make_server({"simulate": False}, demo=True)
    await make_server({"simulate": True, "simulate_every": 0.1})  # not a demo server
    assert simulator_tasks() == []
