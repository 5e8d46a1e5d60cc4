"""axe-core (WCAG 2.1 A/AA, tests/a11y) on what the team features add to the
inbox: a chat with an internal note, another agent in the header and the
"está escribiendo…" line, the quick replies list open in the composer, the
note mode, the supervisor's "Respuestas rápidas" dialog, the contact profile, the
template picker, the WhatsApp Cloud settings, and a bulk send's confirmation and
cancellation. Zero violations. Skipped where tests/a11y (axe-core from npm) is
not there. Each dialog is named (tests/a11y/dialogs.py): ``axe_dialog``."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.apps.appserver import AppServer
from tests.apps.browsing import Contexts, contexts

from .conftest import ANA, LUIS
from .test_inbox_browser import WIDE, sign_in
from .test_team_browser import open_maria

axe = pytest.importorskip("tests.a11y.axe")

__all__ = ["contexts"]

pytestmark = pytest.mark.browser


async def clean(page: Page, where: str, include: str | None = None) -> None:
    found = await axe.violations(page, include)
    assert not found, "\n" + axe.report(where, found)


async def axe_dialog(page: Page, name: str) -> None:
    found = await axe.dialog_violations(page, name)
    assert not found, "\n" + axe.report(f"dialog {name}", found)


async def test_notes_quick_replies_and_presence_pass_axe(
    app: AppServer, contexts: Contexts
) -> None:
    _, ana = await contexts.page(bypass_csp=True, **WIDE)
    _, luis = await contexts.page(bypass_csp=True, **WIDE)
    await sign_in(ana, app.url, "ana@condorito")
    await sign_in(luis, app.url, "luis@condorito")
    await open_maria(ana)
    await open_maria(luis)
    conv = await ana.evaluate("new URLSearchParams(location.hash.slice(1)).get('c')")
    await app.ok(
        "POST", f"/api/inbox/conversations/{conv}/notes", LUIS, json={"text": "Cliente VIP"}
    )
    await app.ok(
        "POST", "/api/inbox/quick-replies", ANA, json={"titulo": "Horario", "texto": "De 8 a 22 h."}
    )
    await luis.locator("#reply").press_sequentially("Hola")
    await expect(ana.locator("#typing")).to_contain_text("está escribiendo")
    await expect(ana.locator("#viewers")).to_be_visible()
    await expect(ana.locator('.ib-msg[data-dir="note"]', has_text="Cliente VIP")).to_be_visible()
    await clean(ana, "/inbox/ with a note, a viewer, typing", "#chat")
    await ana.locator("#quick-open").click()
    await expect(ana.locator("#quick-list .ib-quick-item")).to_have_count(4)
    await clean(ana, "quick replies list", "#chat")
    await ana.locator("#quick-manage").click()
    await axe_dialog(ana, "inbox-quick")
    await ana.keyboard.press("Escape")
    await ana.locator("#compose-mode button", has_text="Nota interna").click()
    await clean(ana, "note mode", "#chat")
    await ana.locator("#profile-open").click()
    await axe_dialog(ana, "inbox-profile")
    await ana.keyboard.press("Escape")
    await ana.locator('#compose-mode button[data-value="reply"]').click()
    await ana.locator("#template").click()
    await axe_dialog(ana, "inbox-template")
    await ana.keyboard.press("Escape")
    await ana.locator("#wa-configure").click()
    await axe_dialog(ana, "inbox-cloud")
    await ana.keyboard.press("Escape")

    # A bulk send, confirmed; WhatsApp is down, so it waits and can be cancelled.
    await app.ok("POST", "/api/inbox/sim/disconnect", ANA)
    await ana.goto(f"{app.url}/inbox/masivo")
    await ana.wait_for_function("window.__inboxReady === true")
    await ana.locator("#nombre").fill("Ofertas del lunes")
    await ana.locator("#texto").fill("Hola, este lunes 2x1 en panadería.")
    await ana.locator('input[name="dest"][value="lista"]').check()
    await ana.locator("#phones").fill("+51900000001\n+51900000002")
    await ana.locator("#start").click()
    await axe_dialog(ana, "inbox-bulk-confirm")
    await ana.locator("dialog[open]").get_by_role("button", name="Enviar a 2 contactos").click()
    card = ana.locator(".ib-campaign", has_text="Ofertas del lunes")
    await card.locator('[data-action="cancel"]').click()
    await axe_dialog(ana, "inbox-bulk-cancel")
