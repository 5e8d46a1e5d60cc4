"""Durable timers: 300 s without activity → no_gestionado, on virtual time;
fired at start if due while down; once per timer across two nodes."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from relevo.clock import VirtualClock
from relevo.protocol.types import Publication
from relevo.records import Actor, Records
from relevo.records import schema as s
from tests.helpers import timeout

from .conftest import Node, NodeFactory, wait_for
from .shared_broker import SharedNodes, cpu_hog, shared_nodes

__all__ = ["cpu_hog", "shared_nodes"]  # fixtures used here

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
    clock = VirtualClock()
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
    clock = VirtualClock()
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
    clock = VirtualClock()
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
    clock = VirtualClock()
    first = await make_node(clock=clock)
    id = await _assigned(first)
    await first.records.close()
    clock.advance(3600)
    second = await make_node(clock=clock)
    await wait_for(lambda: _is(second, id, "no_gestionado"))


@pytest.mark.redis
async def test_two_nodes_fire_each_timer_exactly_once(shared_nodes: SharedNodes) -> None:
    # One broker for both nodes, as in production: a row both relays publish
    # (one node slower than relay_grace) is still one publication.
    clock = VirtualClock()
    a = await shared_nodes.node(node="node-a", clock=clock)
    b = await shared_nodes.node(node="node-b", clock=clock)
    created = {}
    for i in range(40):
        writer = a if i % 2 else b
        rec = await writer.records.create("ping", {"n": i}, by="system")
        created[rec.id] = rec.created_at

    async def all_fired() -> bool:
        return len(await a.records.find("ping", {"state": "fired"})) == 40

    clock.advance(0.5)  # every timer is due, and time stands still while they fire
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
    assert max(abs(x) for x in lateness) < 1e-3, lateness  # fired at the deadline's time
    assert a.records.timers.fired + b.records.timers.fired >= 40
    await a.records.wait_published()
    await b.records.wait_published()
    pubs, _ = await a.hub.history("pings", None, 200)
    assert sorted(_fired(pubs)) == sorted(created)


# -- exactly once under load, on one shared broker --------------------------------------------

# The issue asks for 10,000; on a 2-core machine shared with other test runs
# (load average 8-14 while this was written) one timer transition costs
# 20-100 ms, so the default keeps the test near a minute. A quiet machine can
# run the full figure: RELEVO_TEST_LOAD_TIMERS=10000.
LOAD_TIMERS = int(os.environ.get("RELEVO_TEST_LOAD_TIMERS", "300"))


async def _settled(records: Records) -> bool:
    """Every timer fired and every outbox row marked sent: nobody will publish more."""
    async with records.store.read() as conn:
        timers = (await conn.execute(sa.select(sa.func.count()).select_from(s.timers))).scalar()
        pending = (
            await conn.execute(
                sa.select(sa.func.count()).select_from(s.outbox).where(s.outbox.c.sent_at.is_(None))
            )
        ).scalar()
    return timers == 0 and pending == 0


def _fired(pubs: list[Publication]) -> list[str]:
    return [json.loads(p.data)["id"] for p in pubs if p.event == "PING_FIRED"]


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.parametrize(
    "db", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_two_nodes_under_cpu_load_publish_each_timer_once(
    shared_nodes: SharedNodes, cpu_hog: Callable[[], None]
) -> None:
    # A node slowed past relay_grace has its rows republished by the other
    # node's relay (here nearly every row is published by both): the broker
    # must turn each repeat into nothing.
    clock = VirtualClock()
    a = await shared_nodes.node(node="node-a", clock=clock)
    b = await shared_nodes.node(node="node-b", clock=clock)
    screen = await shared_nodes.screen("pings")
    ids: set[str] = set()
    chunk = 250
    for start in range(0, LOAD_TIMERS, chunk):
        writer = a if (start // chunk) % 2 else b
        async with writer.records.transaction() as tx:
            for i in range(start, min(start + chunk, LOAD_TIMERS)):
                ids.add((await tx.create("ping", {"n": i}, by="system")).id)
    cpu_hog()
    clock.advance(1.0)  # every timer falls due at once

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout(100)
    while not await _settled(a.records):
        assert loop.time() < deadline, "timers not fired and published in time"
        # Another node's work: nothing here to await. Time moves on meanwhile,
        # so relays flush their marks and claim rows older than their grace.
        clock.advance(0.5)
        await asyncio.sleep(0.1)
    assert a.records.timers.fired + b.records.timers.fired == LOAD_TIMERS
    # Per-channel order on pub/sub: once this marker arrives, everything
    # published before it has.
    marker = await a.hub.publish("pings", "MARKER", b"{}")
    seen: list[Publication] = []
    while (pub := await screen.next("pings")).offset != marker.offset:
        seen.append(pub)
    assert len(_fired(seen)) == LOAD_TIMERS
    assert set(_fired(seen)) == ids
    assert [p.offset for p in seen] == list(range(1, marker.offset))
    history, _ = await b.hub.history("pings", None, 50_000)
    assert len(_fired(history)) == LOAD_TIMERS
    assert set(_fired(history)) == ids
    assert len(history) == marker.offset == 2 * LOAD_TIMERS + 1  # creations, firings, marker
