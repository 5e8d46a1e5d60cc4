"""Attention outside the tab in the inbox: off by default (only the unread
count in the tab's title); once the agent turns it on after the prompt, a
new WhatsApp message rings and shows a desktop notification while the agent
works in another tab."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.apps.appserver import AppServer
from tests.apps.browsing import Contexts, contexts

from .conftest import Factory
from .test_inbox_browser import WIDE, sign_in

__all__ = ["contexts"]

pytestmark = pytest.mark.browser

AWAY = (
    "Object.defineProperty(document, 'visibilityState', {get: () => 'hidden'});"
    "document.hasFocus = () => false;"
)


@pytest.fixture
async def app(make_server: Factory) -> AppServer:
    return await make_server({})


async def test_a_new_message_rings_and_notifies_an_agent_in_another_tab(
    app: AppServer, contexts: Contexts
) -> None:
    ctx, page = await contexts.page(**WIDE)
    await ctx.grant_permissions(["notifications"], origin=app.url)
    await ctx.add_init_script(AWAY)
    await sign_in(page, app.url, "luis@condorito")
    await expect(page).to_have_title(re.compile(r"^\(\d+\) "))  # the unread count, always
    await page.locator("#sim-incoming").click()
    await expect(page.locator(".toast").first).to_contain_text("Nuevo mensaje")
    assert await page.locator("body").get_attribute("data-notifications") is None  # off

    await page.locator("#avisos").click()
    await page.click('dialog button:has-text("Activar avisos")')
    await expect(page.locator("#avisos")).to_have_attribute("aria-pressed", "true")
    await page.locator("#sim-incoming").click()
    await expect(page.locator("body")).to_have_attribute("data-notifications", "1")
    await expect(page.locator("body")).to_have_attribute("data-chimes", "1")
    # kept for this agent after a reload
    await page.reload()
    await page.wait_for_function("window.__inboxReady === true")
    await expect(page.locator("#avisos")).to_have_attribute("aria-pressed", "true")
