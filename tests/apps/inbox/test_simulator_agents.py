"""``relevo demo`` keeps the inbox plausible over hours (issue 15): the
simulator's agents take, answer and resolve conversations through the
service calls the inbox page makes, so the open ones stay bounded while
customers keep writing; never for an agent who is signed in. Rounds run on
a virtual clock (hours in a moment), driven directly; the last test watches
the demo server's own ticker do it."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from relevo.apps import inbox
from relevo.apps.base import AppContext
from relevo.apps.inbox.bulk import BulkSends
from relevo.apps.inbox.demo import DEMO_AGENTS
from relevo.apps.inbox.kinds import CONVERSATION, MESSAGE
from relevo.apps.inbox.options import parse_options
from relevo.apps.inbox.service import InboxService
from relevo.apps.inbox.simulator import Simulator
from relevo.clock import VirtualClock
from relevo.records import Record
from relevo.server.standalone import build_app_server
from relevo.settings import AuthSettings, ServerSettings, Settings
from tests.apps.appserver import API_KEY, FAST, SECRET, AppServer
from tests.helpers import STILL, timeout

from .conftest import QUIET, Factory

EVERY = 40.0  # the demo's default: a customer writes to each tenant every ~40 s
AGENTS = {uid for uid, *_ in DEMO_AGENTS}
HOURS = 2
BOUND = 8  # open conversations per tenant, at any moment of the run


@pytest.fixture
async def virtual(tmp_path: Path) -> AsyncIterator[tuple[AppServer, VirtualClock]]:
    """The inbox in demo mode (seeded), every clock of it virtual; its own
    simulator does not tick (the test runs the rounds)."""
    clock = VirtualClock(start=time.time())
    settings = Settings(
        server=ServerSettings(host="127.0.0.1", port=0, log_level="warning"),
        auth=AuthSettings(secret=SECRET, api_key=API_KEY),
        apps=(inbox.NAME,),
        app={inbox.NAME: dict(QUIET)},
        demo=True,
    )
    settings = dataclasses.replace(settings, liveness=STILL)
    url = f"sqlite+aiosqlite:///{tmp_path / 'inbox.db'}"
    server, records = build_app_server(settings, url, records_options=FAST, clock=clock)
    await server.start()
    srv = AppServer(server, records, AppContext(inbox.NAME, settings, server.hub, records, {}))
    try:
        yield srv, clock
    finally:
        await srv.stop()


def simulator(app: AppServer, online: Callable[[], set[str]] = set) -> Simulator:
    service = InboxService(app.records, parse_options({"simulate_every": EVERY}))

    async def tenants() -> list[str]:
        return ["condorito", "andes"]

    sim = Simulator(service, BulkSends(service), tenants, online)
    sim.rnd = random.Random(15)
    return sim


async def conversations(app: AppServer, tenant: str) -> list[Record]:
    return await app.records.find(CONVERSATION, {"tenant": tenant}, limit=1000)


async def moves(app: AppServer, conv: Record) -> list[tuple[str | None, str]]:
    return [(e.transition, e.by) for e in await app.records.history(CONVERSATION, conv.id)]


async def test_over_hours_the_open_conversations_stay_bounded(
    virtual: tuple[AppServer, VirtualClock],
) -> None:
    app, clock = virtual
    sim = simulator(app)
    before = {t: await conversations(app, t) for t in ("condorito", "andes")}
    most = dict.fromkeys(before, 0)
    rounds = 0
    while rounds * EVERY < HOURS * 3600:
        clock.advance(EVERY * (0.6 + 0.8 * sim.rnd.random()))
        await sim.tick()
        rounds += 1
        for tenant in before:
            open_now = [c for c in await conversations(app, tenant) if c.state == "abierta"]
            most[tenant] = max(most[tenant], len(open_now))
    assert max(most.values()) <= BOUND, most
    for tenant, seeded in before.items():
        convs = await conversations(app, tenant)
        assert len(convs) > len(seeded) + 10  # new customers kept writing
        resolved_by_agents = 0
        for conv in convs:
            resolved_by_agents += sum(
                1 for t, by in await moves(app, conv) if t == "resolver" and by in AGENTS
            )
        seeded_resolved = sum(c.state == "resuelta" for c in seeded)
        assert resolved_by_agents > seeded_resolved + 20, (tenant, resolved_by_agents)
        # customers who wrote got an answer, signed by an agent of their company
        answers = await app.records.find(
            MESSAGE, {"tenant": tenant, "direction": "out"}, limit=10_000
        )
        agents = {str(m.get("author")) for m in answers if m.get("author")}
        assert agents
        assert agents <= {uid for uid, t, *_ in DEMO_AGENTS if t == tenant}
        # and the conversations left open are recent ones, not forgotten
        for conv in convs:
            if conv.state == "abierta":
                assert clock.now() * 1000 - int(conv.get("last_at")) < 4 * EVERY * 1000


async def test_it_never_acts_for_an_agent_who_is_signed_in(
    virtual: tuple[AppServer, VirtualClock],
) -> None:
    app, clock = virtual
    # Condorito's whole team is signed in, and Carla at Los Andes.
    signed_in = {uid for uid, t, *_ in DEMO_AGENTS if t == "condorito"} | {"carla@andes"}
    sim = simulator(app, lambda: set(signed_in))
    seen = {
        c.id: len(await moves(app, c))
        for t in ("condorito", "andes")
        for c in await conversations(app, t)
    }
    for _ in range(60):
        clock.advance(EVERY)
        await sim.tick()
    # Condorito: customers wrote (new conversations too), nobody acted for the team.
    for conv in await conversations(app, "condorito"):
        new = (await moves(app, conv))[seen.get(conv.id, 0) :]
        assert {by for _, by in new} <= {"system"}, (conv.id, new)
    # Los Andes: Carla's conversations are hers alone; Pedro, away, keeps the rest moving.
    andes = await conversations(app, "andes")
    assert any(c.get("assigned_to") == "carla@andes" for c in andes)  # the seed gives her one
    for conv in andes:
        new = (await moves(app, conv))[seen.get(conv.id, 0) :]
        if conv.get("assigned_to") == "carla@andes":
            assert {by for _, by in new} <= {"system"}, (conv.id, new)
        else:
            assert "carla@andes" not in {by for _, by in new}
    pedro = [("resolver", "pedro@andes") in await moves(app, c) for c in andes]
    assert any(pedro)


async def test_the_demo_server_s_ticker_resolves_conversations(make_server: Factory) -> None:
    app = await make_server(options={"simulate_every": 0.05})
    seeded = {
        c.id for c in await app.records.find(CONVERSATION, {}, limit=1000) if c.state == "resuelta"
    }
    deadline = asyncio.get_running_loop().time() + timeout(30)
    while True:
        resolved = [
            c
            for c in await app.records.find(CONVERSATION, {"state": "resuelta"}, limit=1000)
            if c.id not in seeded
        ]
        if resolved:
            break
        assert asyncio.get_running_loop().time() < deadline, "no agent resolved anything"
        await asyncio.sleep(0.05)
    assert any(by in AGENTS for t, by in await moves(app, resolved[0]) if t == "resolver")
