"""Sending through the WhatsApp Cloud API, against the fake Graph API: a
reply goes out once despite a 429 then a 500, a bulk send once per
recipient, once across two nodes resuming one pending message; a status
that beats Graph's answer is taken on Meta's retry; the connection is
checked at start, and settings saved on one node are used by another."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from relevo.apps import inbox
from relevo.apps.inbox._graph import GraphClient
from relevo.apps.inbox.bulk import BulkSends
from relevo.apps.inbox.cloud import CloudConnector
from relevo.apps.inbox.kinds import CONNECTOR, MESSAGE
from relevo.apps.inbox.options import parse_options
from relevo.apps.inbox.service import InboxService
from relevo.clock import VirtualClock
from tests.apps.appserver import AppServer, start_app_server

from .cloudapp import CUSTOMER, SETTINGS, app, graph, messages, wait_message
from .conftest import ANA, LUIS, Factory
from .fake_graph import (
    PHONE_ID,
    TOKEN,
    FakeGraph,
    status,
    text_message,
)

__all__ = ["app", "graph"]


async def test_a_reply_goes_out_once_despite_a_429_then_a_500(
    app: AppServer, graph: FakeGraph
) -> None:
    await graph.deliver(app.url, [text_message("wamid.IN2", CUSTOMER, "¿A qué hora abren?")])
    conv = (await messages(app, external_id="wamid.IN2"))[0].get("conversation_id")
    graph.fail_next(429, 4, retry_after="0")
    graph.fail_next(500)
    sent = await app.ok(
        "POST", f"/api/inbox/conversations/{conv}/messages", LUIS, json={"text": "A las 7:00."}
    )
    mid = sent["message"]["id"]
    rec = await wait_message(app, mid, lambda r: r.get("status") != "pendiente")
    assert rec.get("status") == "enviado"
    assert rec.get("external_id") == "wamid.OUT000001"
    attempts = graph.calls("POST", f"/{PHONE_ID}/messages")
    assert len(attempts) == 3
    assert len(graph.sent) == 1
    assert graph.sent[0]["to"] == CUSTOMER
    assert graph.sent[0]["text"] == {"body": "A las 7:00."}
    # each attempt was the same request: the token in the header, never in the URL
    assert all(a.headers["authorization"] == f"Bearer {TOKEN}" for a in attempts)
    assert all(TOKEN not in a.path + str(a.query) for a in attempts)


async def test_a_bulk_send_goes_out_through_graph_once_per_recipient(
    app: AppServer, graph: FakeGraph
) -> None:
    phones = ["+51911000001", "+51911000002", "+51911000003"]
    graph.fail_next(500)
    graph.fail_next(400, 131026)  # after a retried 500, the first recipient is refused
    rec = await app.ok(
        "POST", "/api/inbox/bulk", ANA,
        json={"nombre": "Aviso", "texto": "Mañana abrimos a las 9.", "destinatarios": phones},
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while (bulk := await app.records.get("inbox_bulk", rec["id"])).state != "completado":
        assert time.monotonic() < deadline, bulk
        await app.records.wait_published()
        await app.records.clock.sleep(0.02)
    assert (bulk.get("enviados"), bulk.get("fallidos")) == (2, 1)
    assert sorted(m["to"] for m in graph.sent) == ["51911000002", "51911000003"]
    assert len(graph.calls("POST", "/messages")) == 4  # 500, 400, then one each
    out = [m for m in await messages(app) if m.get("bulk_id") == rec["id"]]
    assert sorted(m.get("status") for m in out) == ["enviado", "enviado", "fallido"]


async def test_two_nodes_resuming_one_pending_message_send_it_once(
    app: AppServer, graph: FakeGraph
) -> None:
    await graph.deliver(app.url, [text_message("wamid.IN7", CUSTOMER, "Hola")])
    conv = (await messages(app, external_id="wamid.IN7"))[0].get("conversation_id")
    graph.gate = asyncio.Event()  # this node's send is in flight at Graph
    path = f"/api/inbox/conversations/{conv}/messages"
    mid = (await app.ok("POST", path, LUIS, json={"text": "Va en camino."}))["message"]["id"]
    await graph.wait_for(lambda: len(graph.calls("POST", "/messages")) == 1)
    # another node (its own connector, the same database) resumes the same message
    opts = parse_options(app.ctx.options)
    clock = VirtualClock()
    service = InboxService(app.records, opts)
    other = CloudConnector(service, BulkSends(service), GraphClient(graph.base, clock))
    task = asyncio.create_task(other.deliver("condorito", mid))
    while clock.sleepers == 0:  # it waits the first node's claim out (never a 2nd POST)
        assert not task.done()
        assert len(graph.calls("POST", "/messages")) == 1
        await asyncio.sleep(0.01)
    graph.gate.set()
    await wait_message(app, mid, lambda r: r.get("external_id"))
    clock.advance(other.claim_ms() / 1000)
    await task
    await other.graph.aclose()
    assert len(graph.calls("POST", "/messages")) == 1
    assert len(graph.sent) == 1


async def test_the_connection_is_checked_when_the_server_starts(
    app: AppServer, graph: FakeGraph, tmp_path: Path
) -> None:
    await app.stop()
    graph.token = "a-newer-token"  # ours expired while relevo was down
    again = await start_app_server(inbox, tmp_path / "inbox0.db", app.ctx.options, seed=False)
    try:
        deadline = time.monotonic() + 20
        while (rec := await again.records.get(CONNECTOR, "condorito")).state != "error":
            assert time.monotonic() < deadline, rec
            await again.records.clock.sleep(0.02)
        assert "venció" in str(rec.get("detail"))
        assert graph.calls("GET", f"/{PHONE_ID}")
    finally:
        await again.stop()


async def test_settings_saved_on_one_node_are_used_by_another(
    make_server: Factory, graph: FakeGraph, tmp_path: Path
) -> None:
    options = {"graph_url": graph.base, "graph_backoff": 0.01, "media_dir": str(tmp_path / "m")}
    node_a = await make_server(options)
    node_b = await start_app_server(inbox, tmp_path / "inbox0.db", node_a.ctx.options, seed=False)
    try:
        await node_a.ok("PUT", "/api/inbox/whatsapp", ANA, json=SETTINGS)
        await graph.deliver(node_b.url, [text_message("wamid.N1", CUSTOMER, "Hola")])
        conv = (await messages(node_b, external_id="wamid.N1"))[0].get("conversation_id")
        sent = await node_b.ok(
            "POST", f"/api/inbox/conversations/{conv}/messages", LUIS, json={"text": "Hola, dime"}
        )
        await wait_message(node_b, sent["message"]["id"], lambda r: r.get("external_id"))
        assert [m["text"] for m in graph.sent] == [{"body": "Hola, dime"}]
    finally:
        await node_b.stop()


async def test_a_status_that_beats_graphs_answer_is_taken_on_metas_retry(
    app: AppServer, graph: FakeGraph
) -> None:
    await graph.deliver(app.url, [text_message("wamid.IN8", CUSTOMER, "Hola")])
    conv = (await messages(app, external_id="wamid.IN8"))[0].get("conversation_id")
    graph.gate = asyncio.Event()  # Graph accepted it, its answer has not reached relevo
    path = f"/api/inbox/conversations/{conv}/messages"
    mid = (await app.ok("POST", path, LUIS, json={"text": "Ya sale."}))["message"]["id"]
    await graph.wait_for(lambda: len(graph.calls("POST", "/messages")) == 1)
    early = [status("wamid.OUT000001", "delivered", CUSTOMER)]
    res = await graph.deliver(app.url, early)
    assert res.status_code == 503, res.text
    assert (await app.records.get(MESSAGE, mid)).get("status") == "pendiente"
    graph.gate.set()
    await wait_message(app, mid, lambda r: r.get("external_id") == "wamid.OUT000001")
    assert (await graph.deliver(app.url, early)).status_code == 200  # Meta's retry
    assert (await app.records.get(MESSAGE, mid)).get("status") == "entregado"
    # a status of a message relevo never sent is taken and ignored (no endless retries)
    assert (await graph.deliver(app.url, [status("wamid.ELSE", "read", CUSTOMER)])).is_success
