"""Leases: exclusive with TTL, heartbeat, release, announced expiry, and
fencing tokens that refuse a stalled holder's late write."""

from __future__ import annotations

import json

import pytest

from relevo.clock import VirtualClock
from relevo.protocol.errors import Locked, StaleFencingToken
from relevo.records import Actor

from .conftest import Node, NodeFactory, wait_for

GTR = Actor("g1", frozenset({"gtr"}))
A4 = Actor("4", frozenset({"asesor"}))
# 5 also sees the GTR board, so these leads are visible to both asesores and
# the lease, not visibility, decides who may write (tests/records/test_http.py
# has an asesor who cannot see the lead).
A5 = Actor("5", frozenset({"asesor", "gtr"}))


async def _lead(node: Node) -> str:
    lead = await node.records.create("lead", {"nombre": "Ana"}, by=GTR)
    await node.records.transition("lead", lead.id, "assign", {"asesor_id": 4}, by=GTR)
    return lead.id


async def test_lock_heartbeat_release_are_announced(make_node: NodeFactory) -> None:
    clock = VirtualClock()
    node = await make_node(clock=clock)
    r = node.records
    id = await _lead(node)
    lease = await r.acquire_lease("lead", id, by=A4)
    assert (lease.holder, lease.fencing_token) == ("4", 1)
    with pytest.raises(Locked) as err:
        await r.acquire_lease("lead", id, by=A5)
    assert err.value.holder == "4"
    assert err.value.extra["holder"] == "4"
    clock.advance(50)
    renewed = await r.heartbeat("lead", id, by=A4, fencing_token=1)
    assert renewed.fencing_token == 1
    assert renewed.expires_at == clock.now() + 60
    rec = await r.release_lease("lead", id, by=A4, fencing_token=1)
    assert rec.lease is None
    assert rec.fence == 1
    again = await r.acquire_lease("lead", id, by=A5)
    assert again.fencing_token == 2  # tokens never go back, even after a release
    await r.wait_published()
    pubs, _ = await node.hub.history("gtr", None, 20)
    events = [p.event for p in pubs]
    assert events[-3:] == ["CLIENT_LOCKED", "CLIENT_UNLOCKED", "CLIENT_LOCKED"]
    locked = json.loads(pubs[-1].data)["record"]["lease"]
    assert locked["holder"] == "5"
    assert locked["fencing_token"] == 2


async def test_expiry_is_announced(make_node: NodeFactory) -> None:
    clock = VirtualClock()
    node = await make_node(clock=clock)
    id = await _lead(node)
    await node.records.acquire_lease("lead", id, by=A4, ttl=30)
    clock.advance(31)

    async def released() -> bool:
        return (await node.records.get("lead", id)).lease is None

    await wait_for(released)
    await node.records.wait_published()
    pubs, _ = await node.hub.history("asesor:4", None, 20)
    last = json.loads(pubs[-1].data)
    assert pubs[-1].event == "CLIENT_UNLOCKED"
    assert last["reason"] == "expired"
    assert last["by"] == "system"


async def test_stale_fencing_token_is_refused(make_node: NodeFactory) -> None:
    """Asesor 4 takes the lead, stalls past the TTL; asesor 5 takes it over.
    4's late write carries token 1 and must not clobber 5's work."""
    clock = VirtualClock()
    node = await make_node(clock=clock)
    r = node.records
    id = await _lead(node)
    await r.transition("lead", id, "assign", {"asesor_id": 4}, by=GTR)
    first = await r.acquire_lease("lead", id, by=A4)
    clock.advance(61)
    await wait_for(lambda: _unleased(node, id))
    second = await r.acquire_lease("lead", id, by=A5)
    assert second.fencing_token == first.fencing_token + 1

    with pytest.raises(StaleFencingToken) as err:
        await r.transition("lead", id, "note", {"nota": "late"}, by=A4, fencing_token=1)
    assert err.value.holder == "5"
    assert err.value.code == "locked"
    with pytest.raises(StaleFencingToken):
        await r.heartbeat("lead", id, by=A4, fencing_token=first.fencing_token)
    with pytest.raises(Locked) as locked:
        await r.transition("lead", id, "note", {"nota": "late"}, by=A4)
    assert locked.value.holder == "5"

    rec = await r.transition(
        "lead", id, "note", {"nota": "5 was here"}, by=A5, fencing_token=second.fencing_token
    )
    assert rec["nota"] == "5 was here"
    assert (await r.get("lead", id))["nota"] == "5 was here"


async def _unleased(node: Node, id: str) -> bool:
    return (await node.records.get("lead", id)).lease is None


async def test_transition_requiring_the_lease(make_node: NodeFactory) -> None:
    node = await make_node()
    r = node.records
    id = await _lead(node)
    with pytest.raises(Locked, match="take the lease") as err:
        await r.transition("lead", id, "open", by=A4)
    assert err.value.holder is None
    await r.acquire_lease("lead", id, by=A4)
    rec = await r.transition("lead", id, "open", by=A4)
    assert rec.state == "en_gestion"
    assert rec.lease is not None
    done = await r.transition("lead", id, "complete", by=A4)
    assert done.state == "terminado"
    assert done.lease is None


async def test_leave_hook_can_release_a_users_leases(make_node: NodeFactory) -> None:
    node = await make_node(start=False)
    r = node.records
    ids = [await _lead(node) for _ in range(3)]
    for id in ids[:2]:
        await r.acquire_lease("lead", id, by=A4)
    await r.acquire_lease("lead", ids[2], by=A5)
    released = await r.release_leases("4")
    assert sorted(x.id for x in released) == sorted(ids[:2])
    assert (await r.get("lead", ids[2])).lease is not None
