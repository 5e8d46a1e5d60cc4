"""Chromium: agents of two tenants side by side. A simulated incoming message
appears in the condorito agent's open chat within a second, and never on the
andes agent's page (nor the reverse); the answer goes out and is delivered;
the QR flow; a bulk send's progress bar moves live. Writes docs/img/inbox-*.png."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.apps.appserver import AppServer
from tests.apps.browsing import Contexts, contexts, screenshot

from .conftest import CARLA, LUIS, Factory

__all__ = ["contexts"]

pytestmark = pytest.mark.browser

WIDE = {"viewport": {"width": 1440, "height": 900}}


async def sign_in(page: Page, url: str, user: str) -> None:
    await page.goto(f"{url}/inbox/login")
    await page.locator(f'[data-user="{user}"]').click()
    await page.wait_for_url("**/inbox/")
    await page.wait_for_function("window.__inboxReady === true")
    await expect(page.locator("#convs .ib-conv").first).to_be_visible()


@pytest.fixture
async def app(make_server: Factory) -> AppServer:
    return await make_server({"sim_bulk_interval": 0.35})


async def test_a_simulated_message_reaches_only_its_tenants_agent(
    app: AppServer, contexts: Contexts
) -> None:
    _, condorito = await contexts.page(**WIDE)
    _, andes = await contexts.page(**WIDE)
    await sign_in(condorito, app.url, "luis@condorito")
    await sign_in(andes, app.url, "carla@andes")
    await expect(condorito.locator(".tenant-chip")).to_have_text("Minimarket Condorito")
    await expect(andes.locator(".tenant-chip")).to_have_text("Ferretería Los Andes")

    # Luis opens María's conversation; María writes (through the simulator)
    maria = condorito.locator(".ib-conv", has_text="María Quispe")
    await maria.click()
    chat = condorito.locator("#msgs")
    await expect(chat.locator(".ib-msg").first).to_be_visible()
    await app.ok(
        "POST",
        "/api/inbox/sim/incoming",
        LUIS,
        json={"from": "+51987654321", "text": "¿Me traen también una gaseosa?"},
    )
    bubble = chat.locator('.ib-msg[data-dir="in"]', has_text="¿Me traen también una gaseosa?")
    await expect(bubble).to_be_visible()  # live, no reload (speed: relevo bench)
    await expect(maria).to_contain_text("¿Me traen también una gaseosa?")
    # the simulator's button: a message (to a contact it picks at random,
    # sometimes María's open chat), counted in the figures
    received = condorito.locator('[data-stat="entrantes"] .stat-value')
    before = int(await received.inner_text())
    await condorito.locator("#sim-incoming").click()
    await expect(received).to_have_text(str(before + 1))
    # a message in another conversation: the list and a toast
    await app.ok(
        "POST",
        "/api/inbox/sim/incoming",
        LUIS,
        json={"from": "+51911000222", "text": "Hola, ¿abren mañana?"},
    )
    toast = condorito.locator(".toast", has_text="¿abren mañana?")
    await expect(toast).to_contain_text("Nuevo mensaje")
    await expect(condorito.locator(".ib-conv", has_text="¿abren mañana?")).to_be_visible()
    await expect(received).to_have_text(str(before + 2))

    # andes' agent saw none of it, and andes' traffic never reaches condorito
    await app.ok(
        "POST",
        "/api/inbox/sim/incoming",
        CARLA,
        json={"from": "+51923456789", "text": "Solo para Los Andes"},
    )
    await expect(andes.locator(".ib-conv", has_text="Solo para Los Andes")).to_be_visible(
        timeout=1000
    )
    await expect(andes.locator("body")).not_to_contain_text("gaseosa")
    await expect(andes.locator("body")).not_to_contain_text("María Quispe")
    await expect(condorito.locator("body")).not_to_contain_text("Solo para Los Andes")

    # Luis answers: the bubble goes pendiente → enviado → entregado
    await condorito.locator("#reply").fill("Claro, va con el pedido.")
    await condorito.locator("#reply").press("Enter")
    mine = chat.locator('.ib-msg[data-dir="out"]', has_text="Claro, va con el pedido.")
    await expect(mine).to_be_visible(timeout=1000)
    await expect(mine).to_have_attribute("data-status", "entregado")
    await expect(maria).to_contain_text("Tú: Claro, va con el pedido.")
    await expect(maria).to_have_attribute("data-unread", "0")
    await screenshot(condorito, "inbox-bandeja")

    # the connector: QR → (simulated scan) → connected
    await condorito.locator("#sim-qr").click()
    await expect(condorito.locator("#wa-qr svg.ib-qr")).to_be_visible(timeout=1000)
    await expect(condorito.locator("#wa-chip .chip")).to_have_text("Escanear QR")
    await expect(andes.locator("#wa-chip .chip")).to_have_text("Conectado")
    await screenshot(condorito, "inbox-qr", clip={"x": 960, "y": 60, "width": 480, "height": 260})
    await condorito.locator("#sim-scan").click()
    await expect(condorito.locator("#wa-chip .chip")).to_have_text("Conectado", timeout=1000)
    await expect(condorito.locator("#wa-qr")).to_be_hidden()


async def test_a_bulk_sends_progress_bar_moves_live(app: AppServer, contexts: Contexts) -> None:
    _, page = await contexts.page(**WIDE)
    await sign_in(page, app.url, "ana@condorito")
    await page.locator("nav a", has_text="Envío masivo").click()
    await page.wait_for_url("**/inbox/masivo")
    await page.wait_for_function("window.__inboxReady === true")
    await expect(page.locator("#all-label")).to_contain_text("(6)")
    await page.locator("#nombre").fill("Ofertas del lunes")
    await page.locator("#texto").fill("Hola, este lunes 2x1 en panadería. ¡Te esperamos!")
    await page.locator("#start").click()
    await page.locator("dialog[open]").get_by_role("button", name="Enviar a 6 contactos").click()
    card = page.locator(".ib-campaign", has_text="Ofertas del lunes")
    await expect(card.locator(".chip")).to_have_text("Enviando")
    bar = card.locator('[role="progressbar"]')
    await expect(bar).not_to_have_attribute("aria-valuenow", "0")
    await expect(bar).to_have_attribute("aria-valuenow", re.compile("^[2-5]$"))
    await screenshot(page, "inbox-masivo")
    await expect(card.locator(".chip")).to_have_text("Completado")
    await expect(bar).to_have_attribute("aria-valuenow", "6")
    await expect(page.locator(".toast").first).to_contain_text("enviados")
    # bad input is explained on the form
    await page.locator("#nombre").fill("Sin texto")
    await page.locator("#start").click()
    await expect(page.locator(".toast", has_text="El mensaje está vacío")).to_be_visible()
    await expect(page.locator("#texto")).to_have_attribute("aria-invalid", "true")
