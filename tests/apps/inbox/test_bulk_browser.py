"""Issue 15, defect 3: bulk sends have safeguards. A supervisor confirms the
count before anything goes out and can cancel a send while it runs (the
server stops the rest); an agent sees the progress but no form and no
cancel (the server refuses them anyway: tests/apps/inbox/test_inbox_api.py);
counts read in correct Spanish ("1 fallido", "2 fallidos")."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.apps.appserver import API, AppServer
from tests.apps.browsing import Contexts, contexts

from .conftest import ANA, Factory
from .test_inbox_browser import WIDE, sign_in

__all__ = ["contexts"]

pytestmark = pytest.mark.browser


@pytest.fixture
async def app(make_server: Factory) -> AppServer:
    return await make_server({"sim_bulk_interval": 0.3})


async def open_masivo(page: Page, url: str, user: str) -> None:
    await sign_in(page, url, user)
    await page.goto(f"{url}/inbox/masivo")
    await page.wait_for_function("window.__inboxReady === true")
    await expect(page.locator(".ib-campaign").first).to_be_visible()


async def test_a_bulk_send_is_confirmed_cancellable_and_a_supervisors(
    app: AppServer, contexts: Contexts
) -> None:
    _, sup = await contexts.page(**WIDE)
    await open_masivo(sup, app.url, "ana@condorito")
    cards = sup.locator(".ib-campaign")
    await expect(cards).to_have_count(1)  # the demo's
    await sup.locator("#nombre").fill("Ofertas del lunes")
    await sup.locator("#texto").fill("Hola, este lunes 2x1 en panadería.")
    await sup.locator('input[name="dest"][value="lista"]').check()
    await sup.locator("#phones").fill("\n".join(f"+5190000{i:04d}" for i in range(40)))
    await expect(sup.locator("#start")).to_have_text("Enviar a 40 contactos")

    # the confirmation names the count; going back sends nothing
    await sup.locator("#start").click()
    dialog = sup.locator("dialog[open]")
    await expect(dialog).to_contain_text("¿Enviar a 40 contactos?")
    await dialog.get_by_role("button", name="Volver").click()
    await expect(dialog).to_have_count(0)
    await expect(cards).to_have_count(1)
    snap = await app.ok("GET", "/api/records/inbox_bulk", ANA, params={"tenant": "condorito"})
    assert len(snap["rows"]) == 1
    await sup.locator("#start").click()
    await dialog.get_by_role("button", name="Enviar a 40 contactos").click()
    card = cards.filter(has_text="Ofertas del lunes")
    await expect(card.locator(".chip")).to_have_text("Enviando")
    await expect(card.locator('[role="progressbar"]')).not_to_have_attribute("aria-valuenow", "0")

    # an agent sees it running, without a form or a cancel button
    _, agent = await contexts.page(**WIDE)
    await open_masivo(agent, app.url, "luis@condorito")
    await expect(agent.locator("#only-supervisor")).to_be_visible()
    await expect(agent.locator("#start")).to_be_disabled()
    theirs = agent.locator(".ib-campaign", has_text="Ofertas del lunes")
    await expect(theirs.locator(".chip")).to_have_text("Enviando")
    await expect(theirs.locator('[data-action="cancel"]')).to_have_count(0)

    # the supervisor cancels it while it runs: it stops short of 40
    await card.locator('[data-action="cancel"]').click()
    await dialog.get_by_role("button", name="Cancelar envío").click()
    await expect(card.locator(".chip")).to_have_text("Cancelado")
    await expect(theirs.locator(".chip")).to_have_text("Cancelado")
    await expect(sup.locator(".toast", has_text="Se detuvo con")).to_be_visible()
    bulk_id = await card.get_attribute("data-id")
    rec = await app.ok("GET", f"/api/records/inbox_bulk/{bulk_id}", ANA)
    assert rec["state"] == "cancelado"
    assert rec["enviados"] + rec["fallidos"] < 40

    # Spanish plurals, from a backend's reports (WhatsApp is down: the simulator waits)
    await app.ok("POST", "/api/inbox/sim/disconnect", ANA)
    rec = await app.ok(
        "POST",
        "/api/inbox/bulk",
        ANA,
        json={
            "nombre": "Aviso",
            "texto": "Cerrado el lunes",
            "destinatarios": ["+51911000111", "+51911000222", "+51911000333"],
        },
    )
    url = f"/api/inbox/t/condorito/bulk/{rec['id']}/progress"
    aviso = cards.filter(has_text="Aviso")
    await app.ok("POST", url, headers=API, json={"enviados": 1, "fallidos": 1})
    await expect(aviso.locator(".ib-failed")).to_have_text("1 fallido")
    await expect(aviso.locator(".ib-sent")).to_have_text("1 de 3 enviados")
    await app.ok("POST", url, headers=API, json={"enviados": 1, "fallidos": 2, "done": True})
    await expect(aviso.locator(".ib-failed")).to_have_text("2 fallidos")
    await expect(sup.locator(".toast", has_text="1 enviado, 2 fallidos.")).to_be_visible()
