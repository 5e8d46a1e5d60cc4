"""The inbox flows over real sockets: a backend's incoming message reaches
the tenant's agents (message:new, conversation:updated, the message
record), agents answer and the (simulated) connector delivers, the QR flow,
bulk sends with live progress, daily stats, and bad input with clear codes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tests.apps.appserver import API, AppServer, WsClient, token

from .conftest import ANA, LUIS, PEDRO, Factory

OpenWs = Callable[[AppServer, str], Awaitable[WsClient]]


def ev(name: str, **data: Any) -> Callable[[dict[str, Any]], bool]:
    def match(f: dict[str, Any]) -> bool:
        if f.get("ev") != name:
            return False
        d = f.get("data") or {}
        rec = d.get("record") or d.get("message") or {}
        return all((k in rec and rec[k] == v) or (k in d and d[k] == v) for k, v in data.items())

    return match


async def conversations(app: AppServer, tok: str, tenant: str) -> list[dict[str, Any]]:
    snap = await app.ok("GET", "/api/records/inbox_conversation", tok, params={"tenant": tenant})
    rows: list[dict[str, Any]] = snap["rows"]
    return rows


async def test_an_incoming_message_reaches_the_tenants_agents(
    app: AppServer, ws_clients: OpenWs
) -> None:
    agent = await ws_clients(app, LUIS)
    assert "ok" in await agent.sub("t:condorito:inbox")
    body = {"from": "+51 900 111 222", "name": "Nora Campos", "text": "¿Tienen pan?", "id": "wa-1"}
    d = await app.ok("POST", "/api/inbox/t/condorito/incoming", headers=API, json=body)
    conv, msg = d["conversation"], d["message"]
    assert (conv["contact_phone"], conv["contact_name"], conv["unread"]) == (
        "+51900111222",
        "Nora Campos",
        1,
    )
    assert (msg["direction"], msg["status"], msg["external_id"]) == ("in", "recibido", "wa-1")
    new = await agent.wait(ev("message:new", text="¿Tienen pan?"))
    assert new["ch"] == "t:condorito:inbox"
    assert new["data"]["clientCode"] == "condorito"  # the seed's payload shape
    assert new["data"]["conversation"]["id"] == conv["id"]
    await agent.wait(ev("conversation:updated", id=conv["id"], last_text="¿Tienen pan?"))
    # the chat pane's channel carries the message record
    assert "ok" in await agent.sub(f"t:condorito:conv:{conv['id']}")
    snap = await app.ok(
        "GET",
        "/api/records/inbox_message",
        LUIS,
        params={"tenant": "condorito", "conversation_id": conv["id"]},
    )
    assert [m["text"] for m in snap["rows"]] == ["¿Tienen pan?"]
    assert snap["channel"] == f"t:condorito:conv:{conv['id']}"

    # a retried webhook is harmless: same message, nothing published
    again = await app.request("POST", "/api/inbox/t/condorito/incoming", headers=API, json=body)
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert again.json()["message"]["id"] == msg["id"]
    await app.ok(
        "POST",
        "/api/inbox/t/condorito/incoming",
        headers=API,
        json={**body, "id": "wa-2", "text": "marker"},
    )
    await agent.wait(ev("message:new", text="marker"))
    news = [f for f in agent.publications() if f["ev"] == "message:new"]
    assert [f["data"]["message"]["text"] for f in news] == ["¿Tienen pan?", "marker"]

    stats = await app.ok("GET", "/api/records/inbox_stats", LUIS, params={"tenant": "condorito"})
    assert stats["rows"][0]["entrantes"] >= 12  # the demo's ten, and these two


async def test_an_agent_answers_and_the_connector_delivers(
    app: AppServer, ws_clients: OpenWs
) -> None:
    conv = next(c for c in await conversations(app, LUIS, "condorito") if c["unread"])
    agent = await ws_clients(app, LUIS)
    await agent.sub(f"t:condorito:conv:{conv['id']}")
    await agent.sub("t:condorito:inbox")
    # offline connector: the answer waits as "pendiente"
    await app.ok("POST", "/api/inbox/sim/disconnect", LUIS)
    await agent.wait(ev("whatsapp:disconnected"))
    sent = await app.ok(
        "POST",
        f"/api/inbox/conversations/{conv['id']}/messages",
        LUIS,
        json={"text": "Enseguida le ayudo"},
    )
    msg = sent["message"]
    assert (msg["direction"], msg["status"], msg["author"], msg["author_name"]) == (
        "out",
        "pendiente",
        "luis@condorito",
        "Luis Mamani",
    )
    assert sent["conversation"]["unread"] == 0  # answering reads it
    await agent.wait(ev("inbox_message.created", id=msg["id"]))
    # the QR flow: qr → (scan) authenticated, and the waiting answer goes out
    qr = await app.ok("POST", "/api/inbox/sim/qr", LUIS)
    assert qr["state"] == "qr"
    assert qr["qr"].startswith("relevo-sim://")
    await agent.wait(ev("whatsapp:qr"))
    await app.ok("POST", "/api/inbox/sim/scan", LUIS)
    await agent.wait(ev("whatsapp:authenticated"))
    await agent.wait(ev("inbox_message.updated", id=msg["id"], status="enviado"))
    await agent.wait(ev("inbox_message.updated", id=msg["id"], status="entregado"))


async def test_conversation_moves(app: AppServer, ws_clients: OpenWs) -> None:
    convs = await conversations(app, ANA, "condorito")
    conv = next(c for c in convs if c["state"] == "abierta" and c["unread"])
    agent = await ws_clients(app, ANA)
    await agent.sub("t:condorito:inbox")
    base = f"/api/inbox/conversations/{conv['id']}"
    rec = await app.ok("POST", base + "/assign", ANA, json={"agent": "sofia@condorito"})
    assert (rec["assigned_to"], rec["assigned_name"]) == ("sofia@condorito", "Sofía Rojas")
    assert (await app.ok("POST", base + "/resolve", ANA))["state"] == "resuelta"
    await app.fails(409, "conflict", "POST", base + "/resolve", ANA)
    assert (await app.ok("POST", base + "/reopen", ANA))["state"] == "abierta"
    rec = await app.ok("POST", base + "/read", ANA)
    assert rec["unread"] == 0  # resolving read it: no move
    assert (await app.ok("POST", base + "/assign", ANA, json={"agent": None}))[
        "assigned_to"
    ] is None
    await agent.wait(ev("conversation:updated", id=conv["id"], assigned_to=None))
    moves = [
        f["data"]["transition"]
        for f in agent.publications()
        if f["ev"] == "conversation:updated" and f["data"]["id"] == conv["id"]
    ]
    assert moves == ["asignar", "resolver", "reabrir", "asignar"]
    # an agent of another tenant is not assignable, and an incoming message reopens
    await app.fails(404, "not_found", "POST", base + "/assign", ANA, json={"agent": "pedro@andes"})
    await app.ok("POST", base + "/resolve", ANA)
    d = await app.ok(
        "POST",
        "/api/inbox/t/condorito/incoming",
        headers=API,
        json={"from": conv["contact_phone"], "text": "una cosa más"},
    )
    assert d["conversation"]["state"] == "abierta"


async def test_a_bulk_send_publishes_its_progress(app: AppServer, ws_clients: OpenWs) -> None:
    agent = await ws_clients(app, LUIS)
    await agent.sub("t:condorito:bulk")
    total = len(await conversations(app, LUIS, "condorito"))
    rec = await app.ok(
        "POST",
        "/api/inbox/bulk",
        ANA,
        json={"nombre": "Promo", "texto": "2x1 hoy", "destinatarios": "todos"},
    )
    assert (rec["state"], rec["total"], rec["enviados"]) == ("en_cola", total, 0)
    assert "destinatarios" not in rec  # the phone list stays out of answers and publications
    await agent.wait(ev("bulk:started", id=rec["id"]))
    done = await agent.wait(ev("bulk:completed", id=rec["id"]), wait=15)
    final = done["data"]["record"]
    assert final["enviados"] + final["fallidos"] == total
    progress = [
        f["data"]["record"]["enviados"] + f["data"]["record"]["fallidos"]
        for f in agent.publications()
        if f["ev"] == "bulk:progress"
    ]
    assert progress == sorted(progress)
    assert len(progress) == total - 1
    # a list of numbers, while WhatsApp is disconnected (it waits), then cancelled
    await app.ok("POST", "/api/inbox/sim/disconnect", LUIS)
    body = {"nombre": "Aviso", "texto": "Cerrado el lunes", "destinatarios": ["+51911000111"] * 2}
    one = await app.ok("POST", "/api/inbox/bulk", ANA, json=body)
    assert one["total"] == 1  # duplicates are dropped
    cancelled = await app.ok("POST", f"/api/inbox/bulk/{one['id']}/cancel", ANA)
    assert (cancelled["state"], cancelled["enviados"]) == ("cancelado", 0)
    await app.fails(409, "conflict", "POST", f"/api/inbox/bulk/{one['id']}/cancel", ANA)
    await app.ok("POST", "/api/inbox/sim/scan", LUIS)
    await agent.wait(ev("bulk:cancelled", id=one["id"]))


async def test_a_backend_runs_a_bulk_send_and_reports(make_server: Factory) -> None:
    app = await make_server(demo=False)  # no simulator: the backend sends
    rec = await app.ok(
        "POST",
        "/api/inbox/bulk",
        ANA,
        json={"nombre": "Real", "texto": "Hola", "destinatarios": ["+51911222333", "+51911222444"]},
    )
    full = await app.ok("GET", f"/api/records/inbox_bulk/{rec['id']}", headers=API)
    assert full["state"] == "en_cola"
    url = f"/api/inbox/t/condorito/bulk/{rec['id']}/progress"
    assert (await app.ok("POST", url, headers=API, json={"enviados": 1, "fallidos": 0}))[
        "state"
    ] == ("enviando")
    await app.fails(
        400, "bad_request", "POST", url, headers=API, json={"enviados": 5, "fallidos": 0}
    )
    done = await app.ok("POST", url, headers=API, json={"enviados": 2, "fallidos": 0, "done": True})
    assert done["state"] == "completado"
    await app.fails(409, "conflict", "POST", url, headers=API, json={"enviados": 2, "fallidos": 0})
    await app.fails(403, "forbidden", "POST", url, ANA, json={"enviados": 2, "fallidos": 0})
    # the simulator does not exist outside demo mode
    await app.fails(404, "not_found", "POST", "/api/inbox/sim/incoming", ANA)
    await app.fails(404, "not_found", "GET", "/api/inbox/demo/users")
    # connector and delivery reports
    con = await app.ok(
        "POST",
        "/api/inbox/t/condorito/connector",
        headers=API,
        json={"status": "qr", "qr": "2@abc"},
    )
    assert (con["state"], con["qr"]) == ("qr", "2@abc")
    d = await app.ok("POST", "/api/inbox/conversations/1/messages", ANA, json={"text": "hola"})
    st = await app.ok(
        "POST",
        f"/api/inbox/t/condorito/messages/{d['message']['id']}/status",
        headers=API,
        json={"status": "leido"},
    )
    assert st["status"] == "leido"


async def test_bad_input_gets_clear_codes(app: AppServer) -> None:
    conv = (await conversations(app, LUIS, "condorito"))[0]["id"]
    send = f"/api/inbox/conversations/{conv}/messages"
    cases: list[tuple[int, str, str, str, str | None, dict[str, Any]]] = [
        (400, "bad_request", "POST", send, LUIS, {"json": {"text": "  "}}),
        (400, "bad_request", "POST", send, LUIS, {"json": {"text": "x" * 5000}}),
        (400, "bad_request", "POST", send, LUIS, {"content": b"{oops"}),
        (401, "unauthorized", "POST", send, None, {"json": {"text": "hola"}}),
        (
            404,
            "not_found",
            "POST",
            "/api/inbox/conversations/9999/messages",
            LUIS,
            {"json": {"text": "hola"}},
        ),
        (404, "not_found", "POST", f"/api/inbox/conversations/{conv}/archive", LUIS, {}),
        (403, "forbidden", "POST", send, token("x", ("agente",)), {"json": {"text": "hola"}}),
        (
            403,
            "forbidden",
            "POST",
            send,
            token("x", ("agente",), "condorito:x"),
            {"json": {"text": "hola"}},
        ),
        (
            403,
            "forbidden",
            "POST",
            send,
            token("x", ("gtr",), "condorito"),
            {"json": {"text": "hola"}},
        ),
        (
            403,
            "forbidden",
            "POST",
            "/api/inbox/t/condorito/incoming",
            LUIS,
            {"json": {"from": "+51900000000", "text": "x"}},
        ),
        (
            401,
            "unauthorized",
            "POST",
            "/api/inbox/t/condorito/incoming",
            None,
            {"headers": {"X-API-Key": "wrong"}, "json": {"from": "+51900000000", "text": "x"}},
        ),
        (
            400,
            "bad_request",
            "POST",
            "/api/inbox/t/Condorito!/incoming",
            None,
            {"headers": API, "json": {"from": "+51900000000", "text": "x"}},
        ),
        (
            400,
            "bad_request",
            "POST",
            "/api/inbox/t/condorito/incoming",
            None,
            {"headers": API, "json": {"from": "llámame", "text": "x"}},
        ),
        (
            400,
            "bad_request",
            "POST",
            "/api/inbox/t/condorito/incoming",
            None,
            {"headers": API, "json": {"from": "+51900000000", "text": "x", "at": "ayer"}},
        ),
        (
            400,
            "bad_request",
            "POST",
            "/api/inbox/t/condorito/connector",
            None,
            {"headers": API, "json": {"status": "online"}},
        ),
        (
            400,
            "bad_request",
            "POST",
            "/api/inbox/t/condorito/connector",
            None,
            {"headers": API, "json": {"status": "qr"}},
        ),
        (
            400,
            "bad_request",
            "POST",
            "/api/inbox/bulk",
            ANA,
            {"json": {"nombre": "x", "texto": "y", "destinatarios": "algunos"}},
        ),
        (
            400,
            "bad_request",
            "POST",
            "/api/inbox/bulk",
            ANA,
            {"json": {"nombre": "", "texto": "y", "destinatarios": "todos"}},
        ),
        (
            400,
            "bad_request",
            "POST",
            "/api/inbox/bulk",
            ANA,
            {"json": {"nombre": "x", "texto": "y", "destinatarios": ["123"]}},
        ),
        (404, "not_found", "POST", "/api/inbox/sim/teleport", LUIS, {}),
    ]
    for status, code, method, path, tok, kw in cases:
        body = await app.fails(status, code, method, path, tok, **kw)
        if status == 400 and "mensaje" not in body:
            raise AssertionError(f"{path}: a 400 without a Spanish mensaje: {body}")
    # the records API answers agents' reads, never their writes
    await app.fails(
        403,
        "forbidden",
        "POST",
        f"/api/records/inbox_conversation/{conv}/transitions/resolver",
        LUIS,
    )
    await app.fails(
        403,
        "forbidden",
        "PATCH",
        f"/api/records/inbox_conversation/{conv}",
        LUIS,
        json={"data": {"unread": 0}},
    )
    await app.fails(
        403,
        "forbidden",
        "POST",
        "/api/records/inbox_message",
        LUIS,
        json={
            "data": {"tenant": "andes", "conversation_id": "1", "direction": "in", "text": "forged"}
        },
    )
    me = await app.ok("GET", "/api/inbox/me", PEDRO)
    assert (me["tenant"], me["tenant_nombre"], me["nombre"]) == (
        "andes",
        "Ferretería Los Andes",
        "Pedro Huamán",
    )


async def test_resolving_a_conversation_reads_it(app: AppServer) -> None:
    """Issue 15, defect 4: "Sin leer" counted the unread messages of resolved
    conversations. Resolving reads the
    conversation, so the unread messages of a tenant are those of its
    open conversations; a message after that starts the count again at 1."""
    convs = await conversations(app, ANA, "condorito")
    bodega = next(c for c in convs if c["contact_name"] == "Bodega San Martín")
    jorge = next(c for c in convs if c["contact_name"] == "Jorge Salazar")
    assert (bodega["state"], bodega["unread"], jorge["unread"]) == ("abierta", 2, 1)
    rec = await app.ok("POST", f"/api/inbox/conversations/{bodega['id']}/resolve", LUIS)
    assert (rec["state"], rec["unread"]) == ("resuelta", 0)
    # the records API is no way around it (agents write through /api/inbox)
    resolver = f"/api/records/inbox_conversation/{jorge['id']}/transitions/resolver"
    await app.fails(403, "forbidden", "POST", resolver, LUIS)
    rec = await app.ok("POST", f"/api/inbox/conversations/{jorge['id']}/resolve", ANA)
    assert (rec["state"], rec["unread"]) == ("resuelta", 0)
    after = await conversations(app, ANA, "condorito")
    assert all(c["unread"] == 0 for c in after if c["state"] == "resuelta")
    d = await app.ok(
        "POST",
        "/api/inbox/t/condorito/incoming",
        headers=API,
        json={"from": bodega["contact_phone"], "text": "¿Y la factura?"},
    )
    assert (d["conversation"]["state"], d["conversation"]["unread"]) == ("abierta", 1)


async def test_bulk_sends_are_a_supervisors_and_cancel_stops_the_rest(
    app: AppServer, ws_clients: OpenWs
) -> None:
    """Issue 15, defect 3: only a supervisor starts or cancels a bulk send,
    enforced by the server (an agent's call is 403 ``forbidden`` with the bare
    error body, before any record is looked at); a cancel while it runs stops
    the messages not yet sent."""
    body = {"nombre": "Promo", "texto": "2x1 hoy", "destinatarios": "todos"}
    denied = await app.fails(403, "forbidden", "POST", "/api/inbox/bulk", LUIS, json=body)
    assert set(denied) <= {"code", "message", "retry", "mensaje"}
    assert "supervisor" in denied["mensaje"]
    await app.fails(403, "forbidden", "POST", "/api/inbox/bulk", headers=API, json=body)
    await app.fails(401, "unauthorized", "POST", "/api/inbox/bulk", json=body)
    snap = await app.ok("GET", "/api/records/inbox_bulk", LUIS, params={"tenant": "condorito"})
    assert len(snap["rows"]) == 1  # the demo's only: nothing was created
    done = snap["rows"][0]["id"]
    # an agent cannot cancel, whether the send exists, is over, or is another's
    for bulk_id in (done, "9999"):
        denied = await app.fails(
            403, "forbidden", "POST", f"/api/inbox/bulk/{bulk_id}/cancel", LUIS
        )
        assert set(denied) <= {"code", "message", "retry", "mensaje"}
    cancelar = f"/api/records/inbox_bulk/{done}/transitions/cancelar"
    await app.fails(403, "forbidden", "POST", cancelar, LUIS)

    # a supervisor's send to many numbers, cancelled while it runs
    watcher = await ws_clients(app, LUIS)
    await watcher.sub("t:condorito:bulk")
    phones = [f"+5190000{i:04d}" for i in range(200)]
    rec = await app.ok(
        "POST",
        "/api/inbox/bulk",
        ANA,
        json={"nombre": "Larga", "texto": "Hola", "destinatarios": phones},
    )
    assert rec["total"] == 200

    def progressed(f: dict[str, Any]) -> bool:
        r = (f.get("data") or {}).get("record") or {}
        return f.get("ev") == "bulk:progress" and r.get("id") == rec["id"] and r["enviados"] >= 2

    await watcher.wait(progressed)
    cancelled = await app.ok("POST", f"/api/inbox/bulk/{rec['id']}/cancel", ANA)
    assert cancelled["state"] == "cancelado"
    sent = cancelled["enviados"] + cancelled["fallidos"]
    assert 2 <= sent < 200
    # another send runs to its end after it: the cancelled one's sender had its turns
    after = await app.ok(
        "POST",
        "/api/inbox/bulk",
        ANA,
        json={"nombre": "Corta", "texto": "Hola", "destinatarios": phones[:5]},
    )
    await watcher.wait(ev("bulk:completed", id=after["id"]), wait=15)
    final = await app.ok("GET", f"/api/records/inbox_bulk/{rec['id']}", ANA)
    assert (final["state"], final["enviados"] + final["fallidos"]) == ("cancelado", sent)
    msgs = await app.records.find("inbox_message", {"tenant": "condorito"}, limit=10_000)
    assert sum(m.get("bulk_id") == rec["id"] for m in msgs) == sent
