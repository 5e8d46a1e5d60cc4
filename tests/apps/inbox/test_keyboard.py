"""The inbox without a mouse: from the page's first Tab, the agent reaches
the conversation list, moves through it with the arrow keys and opens one
with Enter — the list is a listbox with one tab stop, not a row of items
only a pointer (or the j/k shortcuts) could open."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.apps.appserver import AppServer
from tests.apps.browsing import Contexts, contexts

from .conftest import Factory
from .test_inbox_browser import WIDE, sign_in

__all__ = ["contexts"]

pytestmark = pytest.mark.browser


@pytest.fixture
async def app(make_server: Factory) -> AppServer:
    return await make_server({})


async def test_an_agent_opens_a_conversation_with_the_keyboard(
    app: AppServer, contexts: Contexts
) -> None:
    _, page = await contexts.page(**WIDE)
    await sign_in(page, app.url, "luis@condorito")
    convs = page.locator("#convs .ib-conv:not([hidden])")
    assert await convs.count() >= 2
    second_name = (await convs.nth(1).locator(".title").inner_text()).strip()
    # Tab from the top: the skip link, then into the content, until the list.
    await page.keyboard.press("Tab")
    await expect(page.locator(".skip-link")).to_be_focused()
    await page.keyboard.press("Enter")
    for _ in range(15):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement?.classList.contains('ib-conv')"):
            break
    else:
        raise AssertionError("the conversation list has no tab stop")
    assert await page.locator("#convs .ib-conv[tabindex='0']").count() == 1
    await page.keyboard.press("ArrowDown")
    await expect(convs.nth(1)).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(convs.nth(1)).to_have_attribute("aria-selected", "true")
    await expect(page.locator("#chat")).to_contain_text(second_name)
    await page.keyboard.press("Home")
    await expect(convs.first).to_be_focused()
