"""rv.live(): a records query kept current by the channel's deltas, against a
real server with an in-test stand-in for the records layer (same contract:
GET /api/records/{kind} → rows + channel position; deltas on the channel)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.browser.conftest import CutProxy, LiveServer, OpenHarness, RecordsStub

pytestmark = pytest.mark.browser

OPEN_LIVE = """(filter) => {
    window.rv = relevo.connect({ minDelay: 50 });
    window.changes = [];
    window.live = rv.live("lead", filter, {
        onChange: (rows, change) => changes.push([change.type, change.id ?? null]),
    });
    window.view = () => [...live.rows.values()]
        .map((r) => [r.id, r.version, r.estado, r.asesor_id])
        .sort((a, b) => (a[0] < b[0] ? -1 : 1));
}"""


def expected(records: RecordsStub, asesor: int) -> list[list[Any]]:
    rows = [r for r in records.rows.values() if r["asesor_id"] == asesor]
    return sorted([r["id"], r["version"], r["estado"], r["asesor_id"]] for r in rows)


async def test_live_collection_applies_deltas(
    relevo_server: LiveServer, harness: OpenHarness
) -> None:
    rec = relevo_server.records
    await rec.upsert("r1", asesor_id=4, estado="nuevo")
    await rec.upsert("r2", asesor_id=5, estado="nuevo")
    await rec.upsert("r3", asesor_id=4, estado="derivado")
    page = await harness(relevo_server.url)
    await page.evaluate(OPEN_LIVE, {"asesor_id": 4})
    await page.wait_for_function("changes.length === 1 && live._sub.state === 'live'")
    assert await page.evaluate("view()") == [["r1", 1, "nuevo", 4], ["r3", 1, "derivado", 4]]
    assert await page.evaluate("live.channel") == "rec:lead"

    await rec.upsert("r2", asesor_id=4)  # enters the filter
    await rec.upsert("r1", estado="en_gestion")  # changes
    await rec.upsert("r3", asesor_id=5)  # leaves the filter
    stale = {"op": "upsert", "id": "r1", "version": 1, "record": {"id": "r1", "asesor_id": 4}}
    await rec.send(stale)  # an older version than the row has: ignored
    other = {"kind": "ticket", "op": "upsert", "id": "r1", "version": 9, "record": {}}
    await relevo_server.hub.publish("rec:lead", "ticket.upsert", json.dumps(other).encode())
    await rec.upsert("r9", asesor_id=6, estado="nuevo")  # never matched: nothing to do
    await rec.delete("r2")
    await page.wait_for_function("changes.length === 5")
    assert await page.evaluate("changes") == [
        ["snapshot", None],
        ["insert", "r2"],
        ["update", "r1"],
        ["remove", "r3"],
        ["remove", "r2"],
    ]
    assert await page.evaluate("view()") == [["r1", 2, "en_gestion", 4]]
    assert await page.evaluate("view()") == expected(rec, 4)


async def test_live_collection_reloads_when_the_gap_cannot_be_closed(
    relevo_server: LiveServer, proxy: CutProxy, harness: OpenHarness
) -> None:
    rec = relevo_server.records
    await rec.upsert("r1", asesor_id=4, estado="nuevo")
    await rec.upsert("r2", asesor_id=4, estado="nuevo")
    page = await harness(proxy.url)
    await page.evaluate(OPEN_LIVE, {"asesor_id": 4})
    await page.wait_for_function("changes.length === 1 && live._sub.state === 'live'")

    proxy.cut(block=True)
    await page.wait_for_function("rv.state !== 'connected'")
    # More changes than the channel's history keeps (3): recovery must say no.
    await rec.upsert("r1", estado="derivado")
    await rec.upsert("r2", asesor_id=5)
    await rec.upsert("r4", asesor_id=4, estado="nuevo")
    await rec.upsert("r5", asesor_id=4, estado="nuevo")
    await rec.upsert("r4", estado="en_gestion")
    proxy.blocked = False
    await page.wait_for_function(
        "changes.filter(([type]) => type === 'snapshot').length === 2 && rv.state === 'connected'"
    )
    assert await page.evaluate("view()") == expected(rec, 4)

    await rec.upsert("r5", estado="terminado")  # and it is live again
    await page.wait_for_function("view().some(([id, v, estado]) => estado === 'terminado')")
    assert await page.evaluate("view()") == expected(rec, 4)


async def test_live_collection_joins_a_channel_already_subscribed(
    relevo_server: LiveServer, harness: OpenHarness
) -> None:
    rec = relevo_server.records
    await rec.upsert("r1", asesor_id=4, estado="nuevo")
    page = await harness(relevo_server.url)
    await page.evaluate(
        """() => {
            window.raw = [];
            window.early = relevo.connect();
            early.subscribe("rec:lead", (pub) => raw.push(pub.off));
        }"""
    )
    await page.wait_for_function("early.state === 'connected'")
    await rec.upsert("r1", estado="derivado")
    await page.wait_for_function("raw.length === 1")
    # The same client opens a live view on the channel it already follows.
    await page.evaluate(
        """() => {
            window.changes = [];
            window.live = early.live("lead", { asesor_id: 4 }, {
                onChange: (rows, change) => changes.push([change.type, change.id ?? null]),
            });
        }"""
    )
    await page.wait_for_function("changes.length === 1 && live._sub.state === 'live'")
    await rec.upsert("r1", estado="en_gestion")
    await page.wait_for_function("changes.length === 2")
    assert await page.evaluate("changes") == [["snapshot", None], ["update", "r1"]]
    assert await page.evaluate("live.rows.get('r1').estado") == "en_gestion"
    assert relevo_server.hub.subscriber_count("rec:lead") == 1


async def test_an_older_version_arriving_after_a_row_left_does_not_bring_it_back(
    relevo_server: LiveServer, harness: OpenHarness
) -> None:
    """Two nodes' relays may publish two versions of a record in reverse
    order: the row left the filter (v3), then v2 (still matching) arrives.
    The collection remembers what left, so it ends equal to the database."""
    rec = relevo_server.records
    await rec.upsert("r1", asesor_id=4, estado="nuevo")  # v1
    page = await harness(relevo_server.url)
    await page.evaluate(OPEN_LIVE, {"asesor_id": 4})
    await page.wait_for_function("changes.length === 1 && live._sub.state === 'live'")
    v2 = {**rec.rows["r1"], "estado": "derivado", "version": 2}
    await rec.upsert("r1", estado="derivado")  # v2, published in order...
    await rec.upsert("r1", asesor_id=5)  # v3: leaves the filter
    await rec.send({"op": "upsert", "id": "r1", "version": 2, "record": v2})  # ...and again, late
    await rec.upsert("r7", asesor_id=4, estado="nuevo")  # a marker after the late one
    await page.wait_for_function("live.rows.has('r7')")
    assert await page.evaluate("view()") == expected(rec, 4)
    # And a deleted row does not come back from a late update either.
    await rec.delete("r7")  # v2 of r7 (delete)
    await rec.send(
        {"op": "upsert", "id": "r7", "version": 1, "record": {"id": "r7", "asesor_id": 4}}
    )
    await rec.upsert("r8", asesor_id=4, estado="nuevo")
    await page.wait_for_function("live.rows.has('r8')")
    assert await page.evaluate("view()") == expected(rec, 4)
