"""The WhatsApp Cloud API connector against a fake of Meta's side
(:mod:`.fake_graph`, a real HTTP server): the webhook handshake, signed
deliveries (a forged one changes nothing, a retried one is stored once,
routed by phone number id), status callbacks (out of order, failed with the
reason), media downloaded and served to the tenant only, the 24-hour window
and templates, the connector's status, and the secrets in no answer and no
log line."""

from __future__ import annotations

import logging
import time
from typing import Any

import httpx
import pytest

from relevo.apps.inbox.kinds import CONNECTOR, MESSAGE
from tests.apps.appserver import API_KEY, AppServer, WsClient

from .cloudapp import CUSTOMER, SETTINGS, app, graph, messages, wait_message
from .conftest import ANA, CARLA, LUIS, PEDRO
from .fake_graph import (
    APP_SECRET,
    PHONE_ID,
    PNG,
    TOKEN,
    VERIFY_TOKEN,
    WABA_ID,
    FakeGraph,
    media_message,
    status,
    text_message,
)

__all__ = ["app", "graph"]


async def test_the_webhook_handshake(app: AppServer) -> None:
    q = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    res = await app.request("GET", "/api/inbox/whatsapp/webhook", params=q)
    assert (res.status_code, res.text) == (200, "1158201444")
    for bad in (
        {"hub.verify_token": "otro"},
        {"hub.mode": "unsubscribe"},
        {"hub.verify_token": ""},
    ):
        res = await app.request("GET", "/api/inbox/whatsapp/webhook", params={**q, **bad})
        assert res.status_code == 403, res.text
        assert "1158201444" not in res.text


async def test_a_signed_message_arrives_once_and_a_forged_one_changes_nothing(
    app: AppServer, graph: FakeGraph, ws_clients: Any
) -> None:
    luis: WsClient = await ws_clients(app, LUIS)
    carla: WsClient = await ws_clients(app, CARLA)
    await luis.sub("t:condorito:inbox")
    await carla.sub("t:andes:inbox")
    delivery = [text_message("wamid.IN1", CUSTOMER, "Hola, ¿tienen pan?", name="Rosa Quispe")]
    res = await graph.deliver(app.url, delivery)
    assert res.status_code == 200, res.text
    assert res.json()["messages"] == 1
    frame = await luis.wait(lambda f: f.get("ev") == "message:new")
    assert frame["data"]["message"]["text"] == "Hola, ¿tienen pan?"
    assert frame["data"]["conversation"]["contact_name"] == "Rosa Quispe"
    assert frame["data"]["conversation"]["contact_phone"] == "+" + CUSTOMER
    # Meta retries the same delivery: stored once
    assert (await graph.deliver(app.url, delivery)).status_code == 200
    assert len(await messages(app, external_id="wamid.IN1")) == 1
    before = len(await app.records.find(MESSAGE, {}, limit=1000))
    # forged: signed with another secret, or not signed at all
    forged = [text_message("wamid.FORGED", CUSTOMER, "Transfiere todo a esta cuenta")]
    res = await graph.deliver(app.url, forged, secret="not-the-app-secret")
    assert res.status_code == 401
    assert res.json()["code"] == "unauthorized"
    async with httpx.AsyncClient() as client:
        res = await client.post(f"{app.url}/api/inbox/whatsapp/webhook", json={"entry": []})
    assert res.status_code == 401
    res = await app.request(
        "POST", "/api/inbox/whatsapp/webhook", content=b"x" * 2_000_000,
        headers={"X-Hub-Signature-256": "sha256=00"},
    )  # fmt: skip
    assert res.status_code == 413
    assert len(await app.records.find(MESSAGE, {}, limit=1000)) == before
    # a number no tenant has is ignored; andes' agent saw nothing of it all
    other = text_message("wamid.X", CUSTOMER, "¿Hola?")
    other["metadata"]["phone_number_id"] = "999"
    assert (await graph.deliver(app.url, [other])).json()["ignored"] == 1
    assert not [f for f in carla.publications() if "pan" in str(f)]


async def test_status_callbacks_move_the_delivery_state_never_back(
    app: AppServer, graph: FakeGraph
) -> None:
    await graph.deliver(app.url, [text_message("wamid.IN3", CUSTOMER, "Hola")])
    conv = (await messages(app, external_id="wamid.IN3"))[0].get("conversation_id")
    path = f"/api/inbox/conversations/{conv}/messages"
    first = (await app.ok("POST", path, LUIS, json={"text": "Hola, dime."}))["message"]["id"]
    second = (await app.ok("POST", path, LUIS, json={"text": "¿Sigues ahí?"}))["message"]["id"]
    one = await wait_message(app, first, lambda r: r.get("external_id"))
    two = await wait_message(app, second, lambda r: r.get("external_id"))
    wamid1, wamid2 = one.get("external_id"), two.get("external_id")
    # out of order: read arrives before delivered
    await graph.deliver(app.url, [status(wamid1, "read", CUSTOMER)])
    await graph.deliver(app.url, [status(wamid1, "delivered", CUSTOMER)])
    assert (await app.records.get(MESSAGE, first)).get("status") == "leido"
    details = "Message failed to send because more than 24 hours"
    error = {"code": 131047, "title": "Re-engagement", "error_data": {"details": details}}
    await graph.deliver(app.url, [status(wamid2, "sent", CUSTOMER)])
    await graph.deliver(app.url, [status(wamid2, "failed", CUSTOMER, errors=[error])])
    failed = await app.records.get(MESSAGE, second)
    assert failed.get("status") == "fallido"
    assert "more than 24 hours" in failed.get("error")
    assert "131047" in failed.get("error")


async def test_media_is_downloaded_stored_and_served_to_its_tenant_only(
    app: AppServer, graph: FakeGraph
) -> None:
    graph.media["4490709327384033"] = (PNG, "image/png")
    graph.media["9000000000000001"] = (b"%PDF" + b"0" * 100_000, "application/pdf")
    photo = media_message("wamid.IMG", CUSTOMER, "image", "4490709327384033", caption="Mi boleta")
    big = media_message("wamid.DOC", CUSTOMER, "document", "9000000000000001", filename="a.pdf")
    assert (await graph.deliver(app.url, [photo, big])).json()["messages"] == 2
    img = (await messages(app, external_id="wamid.IMG"))[0]
    assert img.get("text") == "Mi boleta"
    assert img.get("media") | {"id": "x"} == {
        "id": "x", "type": "image", "mime": "image/png", "filename": None, "size": len(PNG),
    }  # fmt: skip
    res = await app.request("GET", f"/api/inbox/messages/{img.id}/media", LUIS)
    assert res.status_code == 200
    assert res.content == PNG
    assert res.headers["content-type"] == "image/png"
    assert res.headers["x-content-type-options"] == "nosniff"
    await app.fails(404, "not_found", "GET", f"/api/inbox/messages/{img.id}/media", CARLA)
    await app.fails(401, "unauthorized", "GET", f"/api/inbox/messages/{img.id}/media")
    graph.media["5550001"] = (b"OggS" + b"\x00" * 500, "audio/ogg; codecs=opus")
    voice = media_message("wamid.AUD", CUSTOMER, "audio", "5550001", voice=True)
    await graph.deliver(app.url, [voice])
    aud = (await messages(app, external_id="wamid.AUD"))[0]
    assert aud.get("text") == "Audio"
    assert aud.get("media")["mime"] == "audio/ogg"
    res = await app.request("GET", f"/api/inbox/messages/{aud.id}/media", LUIS)
    assert res.headers["content-type"] == "audio/ogg"
    assert res.headers["content-disposition"] == "inline"
    doc = (await messages(app, external_id="wamid.DOC"))[0]
    assert doc.get("media") == {"type": "document", "error": "Archivo demasiado grande."}
    assert not graph.calls("GET", "/files/9000000000000001")  # refused by its announced size


async def test_outside_the_24_hour_window_free_text_is_refused_and_a_template_goes_out(
    app: AppServer, graph: FakeGraph
) -> None:
    old = int(time.time()) - 25 * 3600
    await graph.deliver(app.url, [text_message("wamid.OLD", CUSTOMER, "Gracias", ts=old)])
    conv = (await messages(app, external_id="wamid.OLD"))[0].get("conversation_id")
    body = await app.fails(
        409, "conflict", "POST", f"/api/inbox/conversations/{conv}/messages", LUIS,
        json={"text": "¿Todo bien?"},
    )  # fmt: skip
    assert body["window"] == "closed"
    assert "24 horas" in body["mensaje"]
    assert not graph.calls("POST", "/messages")
    graph.templates.append(
        {
            "name": "recordatorio",
            "language": "es",
            "status": "APPROVED",
            "category": "UTILITY",
            "components": [{"type": "BODY", "text": "Hola {{1}}, tu pedido {{2}} está listo."}],
        }
    )  # fmt: skip  (it has variables to fill: not offered)
    listed = await app.ok("GET", "/api/inbox/templates", LUIS)
    assert listed["templates"] == [
        {"name": "seguimiento_pedido", "language": "es", "category": "UTILITY",
         "text": "Hola, seguimos con tu pedido. ¿Te ayudamos?"}
    ]  # fmt: skip
    tpl = f"/api/inbox/conversations/{conv}/template"
    await app.fails(404, "not_found", "POST", tpl, LUIS, json={"name": "otra", "language": "es"})
    sent = await app.ok("POST", tpl, LUIS, json={"name": "seguimiento_pedido", "language": "es"})
    assert sent["message"]["template"] == {"name": "seguimiento_pedido", "language": "es"}
    await wait_message(app, sent["message"]["id"], lambda r: r.get("status") == "enviado")
    assert graph.sent[-1]["type"] == "template"
    assert graph.sent[-1]["template"] == {"name": "seguimiento_pedido", "language": {"code": "es"}}


async def test_the_connectors_status_says_why(app: AppServer, graph: FakeGraph) -> None:
    check = "/api/inbox/whatsapp/check"
    assert (await app.ok("POST", check, LUIS))["phone"] == "+5115550100"
    graph.token = "a-newer-token"  # ours expired
    rec = await app.ok("POST", check, LUIS)
    assert rec["state"] == "error"
    assert "venció" in rec["detail"]
    graph.token, graph.app_secret = TOKEN, "another-app-secret"
    rec = await app.ok("POST", check, LUIS)
    assert rec["state"] == "error"
    assert "clave secreta" in rec["detail"]
    graph.app_secret, graph.phone_status = APP_SECRET, "PENDING"
    rec = await app.ok("POST", check, LUIS)
    assert rec["state"] == "error"
    assert "no está registrado" in rec["detail"]
    graph.phone_status = "CONNECTED"
    assert (await app.ok("POST", check, LUIS))["state"] == "authenticated"
    assert (await app.records.get(CONNECTOR, "condorito")).get("provider") == "cloud"


async def test_settings_are_a_supervisors_and_the_secrets_appear_nowhere(
    app: AppServer, graph: FakeGraph, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    answers: list[str] = []

    async def call(method: str, path: str, tok: str | None = None, **kw: Any) -> httpx.Response:
        res = await app.request(method, path, tok, **kw)
        answers.append(res.text + str(res.headers))
        return res

    view = (await call("GET", "/api/inbox/whatsapp", ANA)).json()["settings"]
    assert view["access_token_hint"] == "••••" + TOKEN[-4:]
    assert view["phone_number_id"] == PHONE_ID
    assert view["configured"] is True
    assert (await call("GET", "/api/inbox/whatsapp", LUIS)).status_code == 403
    assert (await call("PUT", "/api/inbox/whatsapp", LUIS, json=SETTINGS)).status_code == 403
    other = (await call("GET", "/api/inbox/whatsapp", PEDRO)).json()["settings"]
    assert other["configured"] is False
    assert other["phone_number_id"] is None
    # andes may not take condorito's number
    res = await call("PUT", "/api/inbox/whatsapp", PEDRO, json=SETTINGS)
    assert res.status_code == 400
    assert res.json()["field"] == "phone_number_id"
    # a secret left out keeps its value; the ids can change
    res = await call("PUT", "/api/inbox/whatsapp", ANA, json={"phone_number_id": PHONE_ID,
                                                             "waba_id": WABA_ID})  # fmt: skip
    assert res.status_code == 200
    assert res.json()["connector"]["state"] == "authenticated"
    key = {"X-API-Key": API_KEY}
    await call("GET", "/api/records/inbox_whatsapp/condorito", headers=key)
    await call("GET", "/api/records/inbox_whatsapp/condorito/history", headers=key)
    await call("GET", "/api/records/inbox_whatsapp?tenant=condorito", headers=key)
    await call("GET", "/api/records/inbox_whatsapp/condorito", ANA)
    await call("GET", "/api/openapi.json")
    # an expired token on a send: the message fails with the reason, logged without the token
    await graph.deliver(app.url, [text_message("wamid.IN9", CUSTOMER, "Hola")])
    conv = (await messages(app, external_id="wamid.IN9"))[0].get("conversation_id")
    graph.token = "a-newer-token"
    sent = await call("POST", f"/api/inbox/conversations/{conv}/messages", LUIS,
                      json={"text": "Hola"})  # fmt: skip
    rec = await wait_message(app, sent.json()["message"]["id"], lambda r: r.get("error"))
    assert rec.get("status") == "fallido"
    assert "venció" in rec.get("error")
    await call("GET", f"/api/records/inbox_message/{rec.id}", headers=key)
    assert "whatsapp send of message" in caplog.text  # the failure is logged, its token is not
    for secret in (TOKEN, APP_SECRET, VERIFY_TOKEN):
        assert secret not in caplog.text
        for answer in answers:
            assert secret not in answer


async def test_one_meta_app_for_two_companies_routes_by_phone_number_id(
    app: AppServer, graph: FakeGraph
) -> None:
    andes = {**SETTINGS, "phone_number_id": "200000000000001", "waba_id": "300000000000001",
             "verify_token": "otra-frase-para-los-andes"}  # fmt: skip
    answer = await app.ok("PUT", "/api/inbox/whatsapp", PEDRO, json=andes)
    assert answer["connector"]["state"] == "error"  # the fake knows one number only
    assert "no está registrado" in answer["connector"]["detail"]
    value = text_message("wamid.AND1", "51922333444", "Para la ferretería")
    value["metadata"]["phone_number_id"] = "200000000000001"
    assert (await graph.deliver(app.url, [value])).json()["messages"] == 1
    found = await app.records.find(MESSAGE, {"external_id": "wamid.AND1"}, limit=5)
    assert [m.get("tenant") for m in found] == ["andes"]
    assert not await messages(app, external_id="wamid.AND1")
