"""Durable timers: 300 s without activity → no_gestionado, on virtual time;
fired at start if due while down; once per timer across two nodes."""

from __future__ import annotations

import asyncio
import json

import sqlalchemy as sa

from relevo.records import Actor, MockClock
from relevo.records import schema as s

from .conftest import Node, NodeFactory, wait_for

GTR = Actor("g1", frozenset({"gtr"}))


async def _assigned(node: Node) -> str:
    lead = await node.records.create("lead", {"nombre": "Ana"}, by=GTR)
    await node.records.transition("lead", lead.id, "assign", {"asesor_id": 4}, by=GTR)
    return lead.id


async def _state(node: Node, id: str) -> str | None:
    return (await node.records.get("lead", id)).state


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0.005)


async def test_idle_lead_returns_to_gtr_after_300_seconds(make_node: NodeFactory) -> None:
    clock = MockClock()
    node = await make_node(clock=clock)
    id = await _assigned(node)
    clock.advance(299)
    await _settle()
    assert await _state(node, id) == "derivado"
    clock.advance(1.5)
    await wait_for(lambda: _state(node, id), 5)
    await wait_for(lambda: _is(node, id, "no_gestionado"))
    rec = await node.records.get("lead", id)
    assert rec["asesor_id"] is None
    last = (await node.records.history("lead", id))[-1]
    assert (last.event, last.by, last.reason) == (
        "CLIENT_RETURNED_TO_GTR",
        "system",
        "timer:timeout",
    )
    await node.records.wait_published()
    pubs, _ = await node.hub.history("asesor:4", None, 10)
    assert pubs[-1].event == "CLIENT_RETURNED_TO_GTR"  # the asesor's screen drops it
    assert json.loads(pubs[-1].data)["record"]["state"] == "no_gestionado"


async def _is(node: Node, id: str, state: str) -> bool:
    return await _state(node, id) == state


async def test_activity_by_the_assigned_user_pushes_the_deadline(make_node: NodeFactory) -> None:
    clock = MockClock()
    node = await make_node(clock=clock)
    id = await _assigned(node)
    clock.advance(200)
    assert await node.records.touch("lead", id, by="5") is None  # not their lead
    pushed = await node.records.touch("lead", id, by=Actor("4", frozenset({"asesor"})))
    assert pushed == clock.now() + 300
    clock.advance(200)  # 400 s after the assignment, 200 s after the activity
    await _settle()
    assert await _state(node, id) == "derivado"
    clock.advance(101)
    await wait_for(lambda: _is(node, id, "no_gestionado"))


async def test_reassigning_restarts_the_clock_and_leaving_disarms(make_node: NodeFactory) -> None:
    clock = MockClock()
    node = await make_node(clock=clock)
    id = await _assigned(node)
    clock.advance(250)
    await node.records.transition("lead", id, "assign", {"asesor_id": 5}, by=GTR)
    clock.advance(100)
    await _settle()
    assert await _state(node, id) == "derivado"
    lease = await node.records.acquire_lease("lead", id, by="5")
    await node.records.transition("lead", id, "open", by="5", fencing_token=lease.fencing_token)
    await node.records.transition("lead", id, "complete", by="5")
    async with node.records.store.read() as conn:
        left = (await conn.execute(sa.select(sa.func.count()).select_from(s.timers))).scalar()
    assert left == 0  # terminado: no timeout, and the lease's expiry timer is gone too


async def test_timers_due_while_down_fire_at_start(make_node: NodeFactory) -> None:
    clock = MockClock()
    first = await make_node(clock=clock)
    id = await _assigned(first)
    await first.records.close()
    clock.advance(3600)
    second = await make_node(clock=clock)
    await wait_for(lambda: _is(second, id, "no_gestionado"))


async def test_two_nodes_fire_each_timer_exactly_once(make_node: NodeFactory) -> None:
    a = await make_node(node="node-a")
    b = await make_node(node="node-b")
    created = {}
    for i in range(40):
        writer = a if i % 2 else b
        rec = await writer.records.create("ping", {"n": i}, by="system")
        created[rec.id] = rec.created_at

    async def all_fired() -> bool:
        return len(await a.records.find("ping", {"state": "fired"})) == 40

    await wait_for(all_fired, 10)
    async with a.records.store.read() as conn:
        h = s.history.c
        rows = (
            await conn.execute(
                sa.select(h.record_id, h.created_at).where(
                    h.kind == "ping", h.event == "PING_FIRED"
                )
            )
        ).all()
    fired_ids = [r[0] for r in rows]
    assert sorted(fired_ids) == sorted(created)  # each once, none twice
    lateness = [at - (created[rid] + 0.5) for rid, at in rows]
    assert max(lateness) < 1.0, lateness
    assert a.records.timers.fired + b.records.timers.fired >= 40
    await a.records.wait_published()
    await b.records.wait_published()
    pa, _ = await a.hub.history("pings", None, 200)
    pb, _ = await b.hub.history("pings", None, 200)
    fired_pubs = [p for p in [*pa, *pb] if p.event == "PING_FIRED"]
    assert len(fired_pubs) == 40
