"""Issue 15, defect 5: the inbox while the server is down. Every panel shows
its data as stale (the UI kit's ``bindStale``), the WhatsApp card does not
claim "Conectado" (relevo cannot know), and a conversation opened during the
outage says so in Spanish instead of spinning; once the server is back its
messages load by themselves and nothing is stale any more."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import expect

from relevo.apps import inbox
from tests.apps.appserver import start_app_server
from tests.apps.browsing import Contexts, contexts, screenshot
from tests.browser.conftest import free_port
from tests.helpers import timeout

from .conftest import QUIET
from .test_inbox_browser import WIDE, sign_in

__all__ = ["contexts"]

pytestmark = pytest.mark.browser

BACK_MS = timeout(30) * 1000  # a reconnect waits out relevo.js's backoff (10 s at most)
PANELS = ("#stats", "#connector", ".ib-list-pane", "#chat")


async def test_the_inbox_shows_an_outage(tmp_path: Path, contexts: Contexts) -> None:
    db, port = tmp_path / "inbox.db", free_port()
    srv = await start_app_server(inbox, db, QUIET, port=port)
    try:
        _, page = await contexts.page(**WIDE)
        await sign_in(page, srv.url, "luis@condorito")
        chip = page.locator("#wa-chip .chip")
        await expect(chip).to_have_text("Conectado")
        for panel in PANELS:
            await expect(page.locator(panel)).not_to_have_attribute("data-stale", "true")

        await srv.stop()
        await expect(page.locator("#offline")).to_be_visible()
        for panel in PANELS:
            await expect(page.locator(panel)).to_have_attribute("data-stale", "true")
        await expect(chip).not_to_have_text("Conectado")
        await expect(chip).to_have_text("Desconocido")
        await expect(page.locator("#wa-detail")).to_contain_text("Sin conexión con el servidor")

        # a conversation opened now: a clear message, no endless spinner
        await page.locator(".ib-conv", has_text="Jorge Salazar").click()
        msgs = page.locator("#msgs")
        await expect(msgs).to_contain_text("Sin conexión con el servidor")
        await expect(msgs.locator(".spinner")).to_have_count(0)
        await expect(page.locator(".ib-chat-name")).to_have_text("Jorge Salazar")
        await screenshot(page, "inbox-sin-conexion")

        srv = await start_app_server(inbox, db, QUIET, port=port)
        bubble = msgs.locator(".ib-msg", has_text="ya pagué")
        await expect(bubble).to_be_visible(timeout=BACK_MS)
        await expect(page.locator("#offline")).to_be_hidden()
        await expect(chip).to_have_text("Conectado")
        for panel in PANELS:
            await expect(page.locator(panel)).not_to_have_attribute("data-stale", "true")
    finally:
        await srv.stop()
