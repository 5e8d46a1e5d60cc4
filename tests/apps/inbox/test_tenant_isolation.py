"""Tenant isolation as a tested guarantee, at the frame level: two agents of
two tenants hold every subscription their tokens allow while both tenants
are busy (messages in and out, connector changes, a bulk send, stats,
internal notes, quick replies, typing, a contact renamed, agents' presence);
neither receives one frame of the other tenant. And neither can reach the
other's records by HTTP, by id, or through the records API."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from tests.apps.appserver import API, AppServer, WsClient, token

from .conftest import ANA, CARLA, LUIS, PEDRO

OpenWs = Callable[[AppServer, str], Awaitable[WsClient]]

TENANTS = {"condorito": LUIS, "andes": CARLA}
SUPERVISORS = {"condorito": ANA, "andes": PEDRO}  # bulk sends are theirs


async def subscribe_everything(app: AppServer, ws: WsClient, tok: str, tenant: str) -> None:
    for ch in (f"t:{tenant}:inbox", f"t:{tenant}:bulk"):
        assert "ok" in await ws.sub(ch), ch
    snap = await app.ok("GET", "/api/records/inbox_conversation", tok, params={"tenant": tenant})
    for conv in snap["rows"]:
        assert "ok" in await ws.sub(f"t:{tenant}:conv:{conv['id']}")
        assert "ok" in await ws.sub(f"equipo:{tenant}:conv:{conv['id']}")


async def busy_tenant(app: AppServer, ws: WsClient, tenant: str, tok: str, marker: str) -> None:
    """Everything that publishes, for one tenant."""
    t = f"/api/inbox/t/{tenant}"
    d = await app.ok(
        "POST",
        t + "/incoming",
        headers=API,
        json={"from": "+51955000111", "name": f"Cliente {tenant}", "text": marker},
    )
    conv = d["conversation"]["id"]
    assert "ok" in await ws.sub(f"t:{tenant}:conv:{conv}")  # a new conversation: the page opens it
    assert "ok" in await ws.sub(f"equipo:{tenant}:conv:{conv}")
    on = f"/api/inbox/conversations/{conv}"
    await app.ok("POST", on + "/notes", tok, json={"text": f"{marker} nota"})
    await app.ok("POST", on + "/typing", tok)
    await app.ok("POST", on + "/contact", tok, json={"name": f"{marker} contacto"})
    await app.ok(
        "POST",
        "/api/inbox/quick-replies",
        SUPERVISORS[tenant],
        json={"titulo": marker, "texto": f"{marker} respuesta"},
    )
    await app.ok("POST", "/api/inbox/sim/incoming", tok, json={"text": f"{marker} sim"})
    await app.ok("POST", f"/api/inbox/conversations/{conv}/messages", tok, json={"text": marker})
    await app.ok("POST", f"/api/inbox/conversations/{conv}/resolve", tok)
    await app.ok("POST", "/api/inbox/sim/qr", tok)
    await app.ok("POST", "/api/inbox/sim/scan", tok)
    await app.ok(
        "POST",
        "/api/inbox/bulk",
        SUPERVISORS[tenant],
        json={"nombre": marker, "texto": marker, "destinatarios": "todos"},
    )


async def test_no_frame_of_one_tenant_reaches_another(app: AppServer, ws_clients: OpenWs) -> None:
    clients = {tenant: await ws_clients(app, tok) for tenant, tok in TENANTS.items()}
    for tenant, tok in TENANTS.items():
        await subscribe_everything(app, clients[tenant], tok, tenant)
        other = next(t for t in TENANTS if t != tenant)
        # guessing the other tenant's channel names does not work
        for ch in (
            f"t:{other}:inbox",
            f"t:{other}:bulk",
            f"t:{other}:conv:1",
            f"t:{other}:x",
            f"equipo:{other}:conv:1",
        ):
            reply = await clients[tenant].sub(ch)
            assert reply["err"]["code"] == "forbidden", reply

    for tenant, tok in TENANTS.items():
        await busy_tenant(app, clients[tenant], tenant, tok, f"MARK-{tenant}")
    for tenant, ws in clients.items():
        await ws.wait(
            lambda f, t=tenant: (
                f.get("ev") == "bulk:completed" and f["data"]["record"]["nombre"] == f"MARK-{t}"
            ),
            wait=15,
        )
        await ws.wait(
            lambda f, t=tenant: (
                f.get("ev") == "inbox_message.updated"
                and f["data"]["record"]["status"] == "entregado"
            ),
            wait=10,
        )

    for tenant, ws in clients.items():
        await ws.wait(lambda f: f.get("ev") == "typing")
        other = next(t for t in TENANTS if t != tenant)
        pubs = ws.publications()
        assert len(pubs) > 20, f"{tenant} saw too little traffic to prove anything"
        for frame in ws.frames:
            text = json.dumps(frame, ensure_ascii=False)
            assert f"t:{other}:" not in text or "err" in frame, frame
            assert f"equipo:{other}:" not in text or "err" in frame, frame
            assert f"MARK-{other}" not in text, frame
            if "off" in frame:
                assert frame["ch"].split(":")[:2] in (["t", tenant], ["equipo", tenant]), frame
                data: dict[str, Any] = frame["data"]
                rec = data.get("record") or data.get("message") or {}
                assert rec.get("tenant", tenant) == tenant, frame


async def test_no_http_path_reaches_another_tenant(app: AppServer) -> None:
    def conv_of(snap: dict[str, Any]) -> str:
        return str(snap["rows"][0]["id"])

    andes = await app.ok(
        "GET", "/api/records/inbox_conversation", CARLA, params={"tenant": "andes"}
    )
    theirs = conv_of(andes)
    records = "/api/records"
    # live queries and reads by id
    await app.fails(
        403, "forbidden", "GET", f"{records}/inbox_conversation", LUIS, params={"tenant": "andes"}
    )
    await app.fails(403, "forbidden", "GET", f"{records}/inbox_conversation/{theirs}", LUIS)
    await app.fails(
        403,
        "forbidden",
        "GET",
        f"{records}/inbox_message",
        LUIS,
        params={"tenant": "andes", "conversation_id": theirs},
    )
    await app.fails(403, "forbidden", "GET", f"{records}/inbox_conversation/{theirs}/history", LUIS)
    await app.fails(400, "bad_request", "GET", f"{records}/inbox_conversation", LUIS)  # no tenant
    # a query pinned to our tenant but naming their conversation returns nothing of theirs
    snap = await app.ok(
        "GET",
        f"{records}/inbox_message",
        LUIS,
        params={"tenant": "condorito", "conversation_id": theirs},
    )
    assert all(m["tenant"] == "condorito" for m in snap["rows"])
    # the app's actions: their ids do not exist for us
    for path, body in (
        (f"/api/inbox/conversations/{theirs}/messages", {"text": "hola"}),
        (f"/api/inbox/conversations/{theirs}/read", None),
        (f"/api/inbox/conversations/{theirs}/resolve", None),
        (f"/api/inbox/conversations/{theirs}/assign", {"agent": "luis@condorito"}),
        (f"/api/inbox/conversations/{theirs}/notes", {"text": "hola"}),
        (f"/api/inbox/conversations/{theirs}/typing", None),
        (f"/api/inbox/conversations/{theirs}/contact", {"name": "Otro"}),
    ):
        await app.fails(404, "not_found", "POST", path, LUIS, json=body)
    quick = await app.ok("GET", f"{records}/inbox_quick_reply", CARLA, params={"tenant": "andes"})
    await app.fails(
        404, "not_found", "DELETE", f"/api/inbox/quick-replies/{quick['rows'][0]['id']}", ANA
    )
    bulk = await app.ok("GET", f"{records}/inbox_bulk", CARLA, params={"tenant": "andes"})
    await app.fails(
        404, "not_found", "POST", f"/api/inbox/bulk/{bulk['rows'][0]['id']}/cancel", ANA
    )
    # a token claiming a tenant that smuggles a channel separator is refused
    sly = token("x", ("agente",), "condorito:conv")
    await app.fails(403, "forbidden", "POST", "/api/inbox/sim/incoming", sly)
    # nothing of theirs changed
    after = await app.ok("GET", f"{records}/inbox_conversation/{theirs}", CARLA)
    assert after["version"] == next(r for r in andes["rows"] if r["id"] == theirs)["version"]
