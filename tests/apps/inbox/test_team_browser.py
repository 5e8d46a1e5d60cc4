"""Chromium: two agents of one tenant side by side on the same conversation.
Each sees the other in the chat header; what one types shows "… está
escribiendo…" on the other's page and goes away by itself; an internal note
appears live in both chats, marked "Nota interna", and moves nothing in the
list. Quick replies: the supervisor saves one in "Administrar respuestas",
the agent's composer lists it at once on "/" and inserts its text. The
contact profile renames the contact for every agent. On a phone the quick
replies list, the note mode and the profile fit the screen.
Writes docs/img/inbox-equipo.png and docs/img/inbox-respuestas.png."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.apps.appserver import AppServer
from tests.apps.browsing import PHONE, Contexts, contexts, screenshot

from .test_inbox_browser import WIDE, sign_in
from .test_phone_browser import on_screen

__all__ = ["contexts"]

pytestmark = pytest.mark.browser


async def open_maria(page: Page) -> None:
    await page.locator(".ib-conv", has_text="María Quispe").click()
    await expect(page.locator("#msgs .ib-msg").first).to_be_visible()


async def test_two_agents_see_each_other_typing_and_notes(
    app: AppServer, contexts: Contexts
) -> None:
    _, luis = await contexts.page(**WIDE)
    _, sofia = await contexts.page(**WIDE)
    await sign_in(luis, app.url, "luis@condorito")
    await sign_in(sofia, app.url, "sofia@condorito")
    await open_maria(luis)
    await expect(luis.locator("#viewers")).to_have_count(0)  # alone so far
    await open_maria(sofia)

    # who is looking at it: each sees the other (never themself)
    await expect(luis.locator("#viewers")).to_have_attribute(
        "aria-label", "También en esta conversación: Sofía Rojas"
    )
    await expect(sofia.locator("#viewers")).to_have_attribute(
        "aria-label", "También en esta conversación: Luis Mamani"
    )
    await expect(luis.locator('#viewers [data-user="sofia@condorito"]')).to_have_text("SR")

    # typing, between agents only; it expires without updates
    await luis.locator("#reply").press_sequentially("Hola Mar")
    typing = sofia.locator("#typing")
    await expect(typing).to_have_text("Luis Mamani está escribiendo…")
    await expect(luis.locator("#typing")).to_have_text("")
    await expect(typing).to_have_text("", timeout=15_000)
    await luis.locator("#reply").fill("")

    # an internal note: live in both chats, distinct, nothing in the list
    maria = sofia.locator(".ib-conv", has_text="María Quispe")
    last = await maria.locator(".sub").inner_text()
    await luis.locator("#compose-mode button", has_text="Nota interna").click()
    await expect(luis.locator(".ib-compose")).to_have_attribute("data-mode", "note")
    await luis.locator("#reply").fill("Cliente frecuente: ofrecerle el delivery gratis.")
    await luis.locator("#reply").press("Enter")
    note = sofia.locator('#msgs .ib-msg[data-dir="note"]', has_text="ofrecerle el delivery gratis")
    await expect(note).to_be_visible()
    await expect(note).to_contain_text("Nota interna")
    await expect(note).to_contain_text("Luis Mamani")
    await expect(
        luis.locator('#msgs .ib-msg[data-dir="note"]', has_text="delivery gratis")
    ).to_be_visible()
    await expect(luis.locator("#reply")).to_have_value("")
    await expect(maria.locator(".sub")).to_have_text(last)
    await screenshot(sofia, "inbox-equipo")

    # Sofía leaves the conversation: Luis no longer sees her
    await sofia.locator(".ib-conv").filter(has_not_text="María Quispe").first.click()
    await expect(luis.locator("#viewers")).to_have_count(0)


async def test_quick_replies_from_the_supervisor_to_the_agents_composer(
    app: AppServer, contexts: Contexts
) -> None:
    _, ana = await contexts.page(**WIDE)
    _, luis = await contexts.page(**WIDE)
    await sign_in(ana, app.url, "ana@condorito")
    await sign_in(luis, app.url, "luis@condorito")
    await open_maria(luis)
    await luis.locator("#quick-open").click()
    items = luis.locator("#quick-list .ib-quick-item")
    await expect(items).to_have_count(3)  # the demo's: Delivery, Horario, Medios de pago
    await expect(items.first).to_contain_text("Delivery")
    await expect(luis.locator("#quick-manage")).to_have_count(0)  # an agent only uses them
    await luis.locator("#reply").press("Escape")
    await expect(luis.locator("#quick")).to_be_hidden()

    # the supervisor saves two
    await open_maria(ana)
    await ana.locator("#quick-open").click()
    await ana.locator("#quick-manage").click()
    dialog = ana.locator("dialog[open]")
    for title, text in (
        ("Boletas", "Emitimos boleta o factura electrónica: pídala al pagar."),
        ("Garantía", "Cambios dentro de los 7 días, con la boleta y el producto cerrado."),
    ):
        await dialog.locator("#quick-title").fill(title)
        await dialog.locator("#quick-text").fill(text)
        await dialog.locator("#quick-save").click()
        await expect(dialog.locator(".ib-quick-admin")).to_contain_text(title)
    await screenshot(ana, "inbox-respuestas")
    await dialog.get_by_role("button", name="Cerrar").click()

    # the agent: "/" opens the list live, typing filters, Enter inserts
    reply = luis.locator("#reply")
    await reply.press_sequentially("/garan")
    await expect(items).to_have_count(1)
    await expect(items.first).to_contain_text("Garantía")
    await reply.press("Enter")
    await expect(reply).to_have_value(
        "Cambios dentro de los 7 días, con la boleta y el producto cerrado."
    )
    await expect(luis.locator("#quick")).to_be_hidden()
    await expect(luis.locator('#msgs .ib-msg[data-dir="out"]', has_text="7 días")).to_have_count(0)
    # the button inserts at the caret, by click
    await reply.fill("Buenas. ")
    await luis.locator("#quick-open").click()
    await expect(items).to_have_count(5)
    await luis.locator("#quick-list .ib-quick-item", has_text="Boletas").click()
    await expect(reply).to_have_value(
        "Buenas. Emitimos boleta o factura electrónica: pídala al pagar."
    )
    await reply.press("Enter")
    await expect(
        luis.locator('#msgs .ib-msg[data-dir="out"]', has_text="Buenas. Emitimos")
    ).to_be_visible()

    # the supervisor deletes one: gone from the agent's list at once
    await ana.locator("#quick-open").click()
    await ana.locator("#quick-manage").click()
    await ana.locator("dialog[open]").get_by_role("button", name="Borrar «Boletas»").click()
    await luis.locator("#quick-open").click()
    await expect(items).to_have_count(4)
    await expect(luis.locator("#quick-list")).not_to_contain_text("Boletas")


async def test_the_contact_profile_names_the_contact_for_every_agent(
    app: AppServer, contexts: Contexts
) -> None:
    _, luis = await contexts.page(**WIDE)
    _, sofia = await contexts.page(**WIDE)
    await sign_in(luis, app.url, "luis@condorito")
    await sign_in(sofia, app.url, "sofia@condorito")
    await open_maria(luis)
    await open_maria(sofia)
    await luis.locator("#profile-open").click()
    panel = luis.locator("dialog[open]")
    await expect(panel).to_contain_text("Perfil del contacto")
    facts = panel.locator("#contact-facts")
    await expect(facts).to_contain_text("+51 987 654 321")
    await expect(facts.locator('[data-fact="primer"]')).to_contain_text(":")  # a date and time
    await expect(facts.locator('[data-fact="atenciones"]')).to_have_text("1 conversación")
    await expect(panel.locator("#contact-name")).to_have_value("María Quispe")
    await panel.locator("#contact-name").fill("María Quispe (bodega)")
    await panel.locator("#contact-save").click()
    await expect(panel).to_contain_text("Nombre puesto por Luis Mamani.")
    await screenshot(luis, "inbox-contacto")
    # every agent of the company sees the new name at once: list and header
    await expect(sofia.locator(".ib-conv", has_text="María Quispe (bodega)")).to_be_visible()
    await expect(sofia.locator("#profile-open")).to_have_text("María Quispe (bodega)")
    await luis.keyboard.press("Escape")
    await expect(luis.locator("dialog[open]")).to_have_count(0)
    await expect(luis.locator("#profile-open")).to_have_text("María Quispe (bodega)")


async def test_on_a_phone_quick_replies_notes_and_the_profile_fit(
    app: AppServer, contexts: Contexts
) -> None:
    _, page = await contexts.page(**PHONE)
    await sign_in(page, app.url, "luis@condorito")
    await page.locator(".ib-conv", has_text="María Quispe").tap()
    await expect(page.locator("#msgs .ib-msg").first).to_be_visible()
    await page.locator("#quick-open").tap()
    first = page.locator("#quick-list .ib-quick-item").first
    await expect(first).to_be_visible()
    assert await on_screen(first)
    await first.tap()
    await expect(page.locator("#reply")).to_have_value(re.compile("delivery es gratis"))
    await page.locator("#compose-mode button", has_text="Nota interna").tap()
    assert await on_screen(page.locator("#send"))
    await page.locator("#profile-open").tap()
    save = page.locator("#contact-save")
    await expect(save).to_be_visible()
    assert await on_screen(save)
