"""axe-core (WCAG 2.1 A/AA, tests/a11y) on what the team features add to the
inbox: a chat with an internal note, another agent in the header and the
"está escribiendo…" line, the quick replies list open in the composer, the
note mode, the supervisor's "Respuestas rápidas" dialog, the contact profile. Zero
violations. Skipped where tests/a11y (axe-core from npm) is not there."""

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
    await clean(ana, "quick replies dialog", "dialog[open]")
    await ana.keyboard.press("Escape")
    await ana.locator("#compose-mode button", has_text="Nota interna").click()
    await clean(ana, "note mode", "#chat")
    await ana.locator("#profile-open").click()
    await clean(ana, "contact profile", "dialog[open]")
