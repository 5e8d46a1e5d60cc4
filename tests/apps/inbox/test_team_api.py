"""What agents do for each other, over real sockets: internal notes (live in
the conversation's stream, never sent, never another tenant's), quick
replies (a supervisor's to manage, every agent's to read), who is looking at
a conversation and who is typing (``equipo:<tenant>:conv:<id>``). Each route
as an agent of the tenant, an agent of another tenant and anonymous:
denials carry the bare error body, never record data."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from relevo.apps.inbox import InboxService
from relevo.apps.inbox.options import parse_options
from relevo.apps.inbox.team import Typing
from relevo.clock import VirtualClock
from relevo.records import Actor
from tests.apps.appserver import API, AppServer, WsClient, token

from .conftest import ANA, CARLA, LUIS, PEDRO, QUIET

OpenWs = Callable[[AppServer, str], Awaitable[WsClient]]
SOFIA = token("sofia@condorito", ("agente",), "condorito", name="Sofía Rojas")
BARE = {"code", "message", "retry", "mensaje", "retry_after"}


async def a_conversation(app: AppServer, tenant: str = "condorito") -> dict[str, Any]:
    body = {"from": "+51900222333", "name": "Nora Campos", "text": "¿Tienen pan?"}
    d = await app.ok("POST", f"/api/inbox/t/{tenant}/incoming", headers=API, json=body)
    conv: dict[str, Any] = d["conversation"]
    return conv


async def denied(
    app: AppServer, status: int, method: str, path: str, tok: str | None, **kw: Any
) -> None:
    res = await app.request(method, path, tok, **kw)
    assert res.status_code == status, (method, path, res.status_code, res.text)
    assert set(res.json()) <= BARE, res.json()  # no record data on a denial


async def test_an_internal_note_reaches_the_tenants_agents_only(
    app: AppServer, ws_clients: OpenWs
) -> None:
    conv = await a_conversation(app)
    path = f"/api/inbox/conversations/{conv['id']}/notes"
    sofia, carla = await ws_clients(app, SOFIA), await ws_clients(app, CARLA)
    assert "ok" in await sofia.sub(f"t:condorito:conv:{conv['id']}")
    assert "ok" in await sofia.sub("t:condorito:inbox")
    assert "err" in await carla.sub(f"t:condorito:conv:{conv['id']}")

    note = await app.ok(
        "POST", path, LUIS, json={"text": "  Cliente VIP: ofrecer delivery gratis "}
    )
    assert (note["direction"], note["status"], note["text"]) == (
        "note",
        "nota",
        "Cliente VIP: ofrecer delivery gratis",
    )
    assert (note["author"], note["author_name"]) == ("luis@condorito", "Luis Mamani")
    frame = await sofia.wait(
        lambda f: (f.get("data") or {}).get("record", {}).get("id") == note["id"]
    )
    assert frame["ch"] == f"t:condorito:conv:{conv['id']}"
    # it moves nothing on the conversation, and no message:new rings anyone
    rows = await app.ok(
        "GET", "/api/records/inbox_conversation", LUIS, params={"tenant": "condorito"}
    )
    mine = next(r for r in rows["rows"] if r["id"] == conv["id"])
    assert (mine["last_text"], mine["unread"]) == ("¿Tienen pan?", 1)
    assert not any(f.get("ev") == "message:new" and "VIP" in str(f) for f in sofia.frames)
    # never sent: a delivery status for it is refused, it stays a note
    status = f"/api/inbox/t/condorito/messages/{note['id']}/status"
    await app.fails(400, "bad_request", "POST", status, headers=API, json={"status": "enviado"})

    # another tenant, anonymous, bad input
    await denied(app, 404, "POST", path, CARLA, json={"text": "hola"})
    await denied(app, 401, "POST", path, None, json={"text": "hola"})
    await app.fails(400, "bad_request", "POST", path, LUIS, json={"text": "x" * 2001})
    await app.fails(400, "bad_request", "POST", path, LUIS, json={"text": "   "})
    await denied(
        app, 404, "POST", "/api/inbox/conversations/999999/notes", LUIS, json={"text": "x"}
    )
    where = {"tenant": "condorito", "conversation_id": conv["id"]}
    msgs = await app.request("GET", "/api/records/inbox_message", CARLA, params=where)
    assert msgs.status_code == 403
    assert "VIP" not in msgs.text
    assert not any("VIP" in str(f) for f in carla.frames)


async def test_quick_replies_are_a_supervisors_to_manage_and_every_agents_to_use(
    app: AppServer, ws_clients: OpenWs
) -> None:
    luis = await ws_clients(app, LUIS)
    assert "ok" in await luis.sub("t:condorito:inbox")
    body = {"titulo": "Garantía", "texto": "Cambios dentro de los 7 días, con la boleta."}
    rec = await app.ok("POST", "/api/inbox/quick-replies", ANA, json=body)
    assert (rec["tenant"], rec["titulo"], rec["creado_por_nombre"]) == (
        "condorito",
        "Garantía",
        "Ana Torres",
    )
    await luis.wait(lambda f: (f.get("data") or {}).get("record", {}).get("id") == rec["id"])
    rows = await app.ok(
        "GET", "/api/records/inbox_quick_reply", LUIS, params={"tenant": "condorito"}
    )
    texts = [r["texto"] for r in rows["rows"]]
    assert body["texto"] in texts
    assert len(texts) == 4  # with the demo's three

    # an agent may not manage them; another tenant's supervisor cannot see or touch them
    await denied(app, 403, "POST", "/api/inbox/quick-replies", LUIS, json=body)
    await denied(app, 403, "DELETE", f"/api/inbox/quick-replies/{rec['id']}", LUIS)
    await denied(app, 404, "DELETE", f"/api/inbox/quick-replies/{rec['id']}", PEDRO)
    await denied(app, 401, "POST", "/api/inbox/quick-replies", None, json=body)
    await denied(app, 401, "DELETE", f"/api/inbox/quick-replies/{rec['id']}", None)
    other = await app.request(
        "GET", "/api/records/inbox_quick_reply", PEDRO, params={"tenant": "condorito"}
    )
    assert other.status_code == 403
    assert "Garantía" not in other.text
    theirs = await app.ok(
        "GET", "/api/records/inbox_quick_reply", PEDRO, params={"tenant": "andes"}
    )
    assert [r["titulo"] for r in theirs["rows"]] == ["Horario", "Cotización"]  # their own

    # bounded: lengths and count
    await app.fails(400, "bad_request", "POST", "/api/inbox/quick-replies", ANA,
                    json={"titulo": "x" * 61, "texto": "hola"})  # fmt: skip
    await app.fails(400, "bad_request", "POST", "/api/inbox/quick-replies", ANA,
                    json={"titulo": "Largo", "texto": "x" * 1001})  # fmt: skip
    for i in range(50 - len(texts)):
        await app.ok(
            "POST", "/api/inbox/quick-replies", ANA, json={"titulo": f"R{i}", "texto": "ok"}
        )
    await app.fails(409, "conflict", "POST", "/api/inbox/quick-replies", ANA,
                    json={"titulo": "Una más", "texto": "no cabe"})  # fmt: skip

    deleted = await app.ok("DELETE", f"/api/inbox/quick-replies/{rec['id']}", ANA)
    assert deleted == {"deleted": rec["id"]}
    await luis.wait(lambda f: f.get("ev") == "inbox_quick_reply.deleted")
    await app.fails(404, "not_found", "DELETE", f"/api/inbox/quick-replies/{rec['id']}", ANA)


async def test_agents_see_who_is_on_a_conversation_and_who_is_typing(
    app: AppServer, ws_clients: OpenWs
) -> None:
    conv = await a_conversation(app)
    ch = f"equipo:condorito:conv:{conv['id']}"
    luis, sofia, carla = [await ws_clients(app, t) for t in (LUIS, SOFIA, CARLA)]
    assert "ok" in await sofia.sub(ch)
    assert "ok" in await luis.sub(ch)
    await sofia.wait(lambda f: f.get("ev") == "$join" and f["data"]["user"] == "luis@condorito")
    now = await sofia.call({"op": "presence", "ch": ch})
    assert sorted(c["user"] for c in now["ok"]["clients"].values()) == [
        "luis@condorito",
        "sofia@condorito",
    ]
    # another tenant's agent can neither subscribe nor ask who is there; nobody publishes
    assert "err" in await carla.sub(ch)
    assert "err" in await carla.call({"op": "presence", "ch": ch})
    assert "err" in await luis.call({"op": "pub", "ch": ch, "ev": "typing", "data": {"user": "x"}})

    typing = f"/api/inbox/conversations/{conv['id']}/typing"
    assert await app.ok("POST", typing, LUIS) == {"sent": True}
    frame = await sofia.wait(lambda f: f.get("ev") == "typing")
    assert frame["data"] == {"user": "luis@condorito", "nombre": "Luis Mamani"}
    await denied(app, 404, "POST", typing, CARLA)
    await denied(app, 401, "POST", typing, None)
    await denied(app, 404, "POST", "/api/inbox/conversations/999999/typing", LUIS)
    assert not any(f.get("ev") == "typing" for f in carla.frames)
    await luis.close()
    await sofia.wait(lambda f: f.get("ev") == "$leave" and f["data"]["user"] == "luis@condorito")


async def test_typing_is_said_at_most_once_a_second(app: AppServer, ws_clients: OpenWs) -> None:
    conv = await a_conversation(app)
    sofia = await ws_clients(app, SOFIA)
    assert "ok" in await sofia.sub(f"equipo:condorito:conv:{conv['id']}")
    clock = VirtualClock()
    typing = Typing(InboxService(app.records, parse_options(QUIET)), app.ctx.hub, clock)
    luis = Actor("luis@condorito", frozenset({"agente"}), "condorito", {"name": "Luis Mamani"})
    assert await typing.typing(luis, conv["id"]) is True
    clock.advance(0.5)
    assert await typing.typing(luis, conv["id"]) is False  # said half a second ago
    clock.advance(0.5)
    assert await typing.typing(luis, conv["id"]) is True
    said: list[dict[str, Any]] = []
    await sofia.wait(lambda f: f.get("ev") == "typing" and not said.append(f) and len(said) == 2)


async def test_agents_name_the_contact_and_see_the_profile(
    app: AppServer, ws_clients: OpenWs
) -> None:
    conv = await a_conversation(app)
    assert (conv["atenciones"], conv["contact_name_by"]) == (1, None)
    assert conv["first_at"] > 0  # the first contact
    first = conv["first_at"]
    sofia = await ws_clients(app, SOFIA)
    assert "ok" in await sofia.sub("t:condorito:inbox")
    path = f"/api/inbox/conversations/{conv['id']}/contact"
    named = await app.ok("POST", path, LUIS, json={"name": "  Nora (panadería)  "})
    assert (named["contact_name"], named["contact_name_by"]) == (
        "Nora (panadería)",
        "luis@condorito",
    )
    await sofia.wait(
        lambda f: (
            f.get("ev") == "conversation:updated"
            and f["data"]["record"]["contact_name"] == "Nora (panadería)"
        )
    )

    # WhatsApp's profile name no longer overrides it; coming back after a resolve counts
    await app.ok("POST", f"/api/inbox/conversations/{conv['id']}/resolve", LUIS)
    body = {"from": "+51900222333", "name": "Nora C.", "text": "Otra vez yo"}
    d = await app.ok("POST", "/api/inbox/t/condorito/incoming", headers=API, json=body)
    assert (d["conversation"]["contact_name"], d["conversation"]["atenciones"]) == (
        "Nora (panadería)",
        2,
    )
    d = await app.ok("POST", "/api/inbox/t/condorito/incoming", headers=API, json=body)
    assert d["conversation"]["atenciones"] == 2  # still open: the same conversation
    assert d["conversation"]["first_at"] == first
    older = {**body, "at": first - 86_400_000}  # a late webhook of an older message
    d = await app.ok("POST", "/api/inbox/t/condorito/incoming", headers=API, json=older)
    assert d["conversation"]["first_at"] == first - 86_400_000

    # another tenant, anonymous, bad input; the records API does not rename
    await denied(app, 404, "POST", path, CARLA, json={"name": "Hackeado"})
    await denied(app, 401, "POST", path, None, json={"name": "Hackeado"})
    await app.fails(400, "bad_request", "POST", path, LUIS, json={"name": "x" * 81})
    await app.fails(400, "bad_request", "POST", path, LUIS, json={"name": " "})
    generic = f"/api/records/inbox_conversation/{conv['id']}/transitions/renombrar"
    res = await app.request("POST", generic, LUIS, json={"data": {"contact_name": "Otro"}})
    assert res.status_code == 403, res.text
    rows = await app.ok(
        "GET", "/api/records/inbox_conversation", LUIS, params={"tenant": "condorito"}
    )
    assert (
        next(r for r in rows["rows"] if r["id"] == conv["id"])["contact_name"] == "Nora (panadería)"
    )
