"""Chromium, against the fake Graph API: a signed WhatsApp message reaches
both condorito agents' screens; the reply goes out through Graph and the
status callback turns it "Leído" on both; a photo is shown in the chat; a
conversation outside the 24-hour window offers a template instead; the
supervisor's settings dialog never shows a secret. Writes
docs/img/inbox-whatsapp-*.png."""

from __future__ import annotations

import time

import pytest
from playwright.async_api import expect

from tests.apps.appserver import AppServer
from tests.apps.browsing import Contexts, contexts, screenshot

from .cloudapp import SETTINGS, app, graph
from .fake_graph import PNG, TOKEN, FakeGraph, media_message, status, text_message
from .test_inbox_browser import WIDE, sign_in

__all__ = ["app", "contexts", "graph"]

pytestmark = pytest.mark.browser

CUSTOMER = "51944555666"


async def test_a_signed_message_reaches_both_agents_and_the_read_status_shows(
    app: AppServer, graph: FakeGraph, contexts: Contexts
) -> None:
    _, luis = await contexts.page(**WIDE)
    _, ana = await contexts.page(**WIDE)
    await sign_in(luis, app.url, "luis@condorito")
    await sign_in(ana, app.url, "ana@condorito")
    for page in (luis, ana):
        await expect(page.locator("#wa-chip .chip")).to_have_text("Conectado")
        await expect(page.locator("#wa-detail")).to_contain_text("+5115550100")

    text = "Hola, ¿me confirman el pedido 1043?"
    res = await graph.deliver(app.url, [text_message("wamid.B1", CUSTOMER, text, "Rosa Quispe")])
    assert res.status_code == 200
    for page in (luis, ana):
        conv = page.locator(".ib-conv", has_text="Rosa Quispe")
        await expect(conv).to_contain_text(text)  # live, no reload
        await conv.click()
        await expect(page.locator('#msgs .ib-msg[data-dir="in"]', has_text=text)).to_be_visible()

    # Luis answers: out through Graph, then Meta says "read"
    await luis.locator("#reply").fill("Confirmado, sale hoy.")
    await luis.locator("#reply").press("Enter")
    mine = '#msgs .ib-msg[data-dir="out"]'
    for page in (luis, ana):
        bubble = page.locator(mine, has_text="Confirmado, sale hoy.")
        await expect(bubble).to_have_attribute("data-status", "enviado")
    assert [m["text"] for m in graph.sent] == [{"body": "Confirmado, sale hoy."}]
    await graph.deliver(app.url, [status(graph.sent[0]["wamid"], "read", CUSTOMER)])
    for page in (luis, ana):
        bubble = page.locator(mine, has_text="Confirmado, sale hoy.")
        await expect(bubble).to_have_attribute("data-status", "leido")
        await expect(bubble.locator(".ib-status")).to_have_attribute("aria-label", "Leído")

    # a photo: downloaded through Graph, stored, drawn in the chat
    graph.media["778899"] = (PNG, "image/png")
    photo = media_message("wamid.B2", CUSTOMER, "image", "778899", caption="La boleta")
    await graph.deliver(app.url, [photo])
    img = luis.locator("#msgs .ib-msg", has_text="La boleta").locator("img.ib-media-img")
    await expect(img).to_be_visible()
    await luis.wait_for_function(
        "document.querySelector('#msgs img.ib-media-img')?.naturalWidth === 96"
    )
    await screenshot(luis, "inbox-whatsapp-chat")

    # the token never reached a page
    for page in (luis, ana):
        assert TOKEN not in await page.content()


async def test_outside_the_window_the_agent_sends_a_template(
    app: AppServer, graph: FakeGraph, contexts: Contexts
) -> None:
    old = int(time.time()) - 30 * 3600
    await graph.deliver(app.url, [text_message("wamid.OLD", CUSTOMER, "Gracias", "Hugo", ts=old)])
    _, luis = await contexts.page(**WIDE)
    await sign_in(luis, app.url, "luis@condorito")
    await luis.locator(".ib-conv", has_text="Hugo").click()
    await luis.locator("#reply").fill("¿Le llegó todo bien?")
    await luis.locator("#reply").press("Enter")
    await expect(luis.locator(".toast", has_text="24 horas").first).to_be_visible()
    dialog = luis.locator("dialog[open]")
    await expect(dialog).to_contain_text("seguimiento_pedido")
    await screenshot(luis, "inbox-whatsapp-plantilla")
    await dialog.locator('[data-template="seguimiento_pedido"]').click()
    bubble = luis.locator('#msgs .ib-msg[data-dir="out"]', has_text="Plantilla")
    await expect(bubble).to_have_attribute("data-status", "enviado")
    assert graph.sent[-1]["type"] == "template"
    assert not [m for m in graph.sent if m.get("type") == "text"]
    # Meta could not deliver it after all: the bubble says why
    error = {"code": 131026, "title": "Message undeliverable",
             "error_data": {"details": "El número no tiene WhatsApp"}}  # fmt: skip
    await graph.deliver(app.url, [status(graph.sent[-1]["wamid"], "failed", CUSTOMER,
                                         errors=[error])])  # fmt: skip
    await expect(bubble).to_have_attribute("data-status", "fallido")
    await expect(bubble.locator(".ib-msg-error")).to_contain_text("El número no tiene WhatsApp")
    # the simulator's session buttons are gone for a company on the real WhatsApp
    await expect(luis.locator("#sim-qr")).to_be_hidden()


async def test_the_supervisor_configures_without_seeing_a_secret(
    app: AppServer, graph: FakeGraph, contexts: Contexts
) -> None:
    _, ana = await contexts.page(**WIDE)
    await sign_in(ana, app.url, "ana@condorito")
    await ana.locator("#wa-configure").click()
    dialog = ana.locator("dialog[open]")
    await expect(dialog.locator("#wa-phone_number_id")).to_have_value(SETTINGS["phone_number_id"])
    await expect(dialog.locator("#wa-access_token")).to_have_value("")
    placeholder = await dialog.locator("#wa-access_token").get_attribute("placeholder")
    assert placeholder is not None
    assert TOKEN[-4:] in placeholder
    assert TOKEN not in await ana.content()
    await expect(dialog.locator("#wa-webhook")).to_have_text(
        f"{app.url}/api/inbox/whatsapp/webhook"
    )
    await screenshot(ana, "inbox-whatsapp-config")
    # a new (wrong) token: saved, checked, and the card says why
    await dialog.locator("#wa-access_token").fill("EAAG-a-token-that-meta-does-not-know")
    await dialog.locator("#wa-save").click()
    await expect(ana.locator("#wa-chip .chip")).to_have_text("Error")
    await expect(ana.locator("#wa-detail")).to_contain_text("venció")
    # the agent's "Comprobar" after the fix at Meta's side
    graph.token = "EAAG-a-token-that-meta-does-not-know"
    await ana.locator("#wa-check").click()
    await expect(ana.locator("#wa-chip .chip")).to_have_text("Conectado")
