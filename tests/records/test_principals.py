"""The server is a principal of its own (``SYSTEM``), not whoever is called
``"system"``: a user with that name, acting through an app as a privileged
actor, is still bound by the leases every other user is."""

from __future__ import annotations

import pytest

from relevo.protocol.errors import Locked
from relevo.records import SYSTEM, Actor
from relevo.records.tx import actor_of

from .conftest import NodeFactory

GTR = Actor("g1", frozenset({"gtr"}))
A4 = Actor("4", frozenset({"asesor"}))


def test_only_the_server_is_the_system() -> None:
    assert SYSTEM.is_system
    assert actor_of("system") is SYSTEM  # app code's in-process shorthand
    assert not Actor("system", frozenset({"asesor"}), privileged=True).is_system
    assert not Actor.trusted("system").is_system
    assert not Actor("system", frozenset({"admin"})).is_system


async def test_a_user_named_system_does_not_pass_a_lease(make_node: NodeFactory) -> None:
    r = (await make_node()).records
    lead = await r.create("lead", {"nombre": "Ana"}, by=GTR)
    await r.transition("lead", lead.id, "assign", {"asesor_id": 4}, by=GTR)
    lease = await r.acquire_lease("lead", lead.id, by=A4)
    # What an app builds for a signed-in user whose token says sub "system".
    named_system = Actor("system", frozenset({"asesor"}), privileged=True)
    with pytest.raises(Locked):
        await r.release_lease("lead", lead.id, by=named_system)
    with pytest.raises(Locked):
        await r.heartbeat("lead", lead.id, by=named_system, fencing_token=lease.fencing_token)
    with pytest.raises(Locked):
        await r.transition("lead", lead.id, "note", {"nota": "mine"}, by=named_system)
    rec = await r.get("lead", lead.id)
    assert (rec.lease.holder if rec.lease else None, rec["nota"]) == ("4", None)
    # The server itself may.
    await r.release_lease("lead", lead.id, by=SYSTEM)
