"""Two nodes write the same records at once, on one PostgreSQL and one Redis,
with a CPU hog beside them; a filtered live collection in Chromium, fed by
one of them, must end equal to the database (issue 12: each node's relay
publishes in its own commit order, so versions of one record can reach the
channel out of order — an older one must never bring back a row that left)."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import secrets
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from relevo.hub.auth import mint_token
from relevo.records import Records
from relevo.records.extension import records_extension
from relevo.server.app import RelevoServer
from relevo.settings import BrokerSettings, ServerSettings
from tests.apps.browsing import Contexts, contexts  # noqa: F401 - the fixture
from tests.broker.broker_fixtures import delete_prefix, redis_url

from .conftest import API_KEY, FAST, SECRET, SETTINGS, Db
from .sample_kinds import ALL
from .shared_broker import cpu_hog  # noqa: F401 - the fixture

pytestmark = [pytest.mark.browser, pytest.mark.redis, pytest.mark.slow]

LEADS = 60
WRITES = 600
API = {"X-API-Key": API_KEY}


@pytest.fixture
async def two_nodes(db: Db) -> AsyncIterator[list[RelevoServer]]:
    prefix = "test-" + secrets.token_hex(6)
    settings = dataclasses.replace(
        SETTINGS,
        server=ServerSettings(port=0, log_level="warning"),
        broker=BrokerSettings(url=redis_url(prefix)),
    )
    servers: list[RelevoServer] = []
    try:
        for name in ("node-a", "node-b"):
            records = Records(db.url, ALL, schema=db.schema, options=FAST, node=name)
            srv = RelevoServer(settings, extensions=[records_extension(records, migrate=True)])
            records.attach(srv.hub)
            await srv.start()
            servers.append(srv)
        yield servers
    finally:
        for srv in reversed(servers):
            await srv.stop()
        await delete_prefix(prefix)


@pytest.mark.parametrize("db", ["postgres"], indirect=True)
async def test_a_filtered_screen_ends_equal_to_the_database_when_two_nodes_write(
    two_nodes: list[RelevoServer],
    contexts: Contexts,  # noqa: F811
    cpu_hog: Callable[[], Any],  # noqa: F811
) -> None:
    a, b = two_nodes
    base = [f"http://127.0.0.1:{srv.port}" for srv in (a, b)]
    # Idle keep-alive connections are dropped before the server's 5 s
    # keep-alive ends: a loaded machine must not race a reuse against it.
    limits = httpx.Limits(keepalive_expiry=2.0)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        ids = []
        for i in range(LEADS):
            data = {"nombre": f"Lead {i}", "asesor_id": 4 + i % 2}
            r = await http.post(f"{base[i % 2]}/api/records/lead", json={"data": data}, headers=API)
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])

        _, page = await contexts.page()
        await page.goto(f"{base[0]}/healthz")
        gtr = mint_token(SECRET, "g1", ["gtr"], ttl=3600)
        await page.evaluate(
            """async (token) => {
                const relevo = await import("/relevo.js");
                window.rv = relevo.connect(location.origin, { token });
                window.live = rv.live("lead", { asesor_id: "4" });
                await live.ready;
            }""",
            gtr,
        )
        cpu_hog()
        rng = random.Random(12)
        gate = asyncio.Semaphore(16)

        async def write(n: int) -> None:
            rid = rng.choice(ids)
            node = base[rng.randrange(2)]
            async with gate:
                r = await http.patch(
                    f"{node}/api/records/lead/{rid}",
                    json={"data": {"asesor_id": rng.choice([4, 5]), "nota": f"w{n}"}},
                    headers=API,
                )
            assert r.status_code == 200, r.text

        await asyncio.gather(*(write(n) for n in range(WRITES)))
        # The relays publish on their own: wait on the screen, not on them.
        truth = await http.get(
            f"{base[1]}/api/records/lead", params={"asesor_id": "4", "limit": "1000"}, headers=API
        )
        want = sorted(row["id"] for row in truth.json()["rows"])
        versions = {row["id"]: row["version"] for row in truth.json()["rows"]}
        await page.wait_for_function(
            """([want, versions]) => {
                const have = [...live.rows.keys()].sort();
                return JSON.stringify(have) === JSON.stringify(want)
                    && want.every((id) => live.rows.get(id).version === versions[id]);
            }""",
            arg=[want, versions],
            timeout=60_000,
        )
