"""Issue 15, defect 2: the inbox on a phone (390 × 844). The list and the
chat are two screens: the list scrolls (with the finger, here the wheel)
through every conversation; tapping one shows the chat on the screen with
the contact's name in its header, the number on one line and "Resolver"
within reach; a back button returns to the list. Writes
docs/img/inbox-phone-*.png."""

from __future__ import annotations

import pytest
from playwright.async_api import Locator, Page, expect

from tests.apps.appserver import AppServer
from tests.apps.browsing import PHONE, Contexts, contexts, screenshot

from .conftest import LUIS
from .test_inbox_browser import sign_in

__all__ = ["contexts"]

pytestmark = pytest.mark.browser

ON_SCREEN = """el => {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.top < 0 || r.left < 0) return false;
    if (r.bottom > innerHeight || r.right > innerWidth) return false;
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return el.contains(hit);
}"""


async def on_screen(el: Locator) -> bool:
    """Wholly inside the viewport and not covered: what a person can see and tap."""
    return bool(await el.evaluate(ON_SCREEN))


async def scroll_to(page: Page, el: Locator, over: Locator) -> None:
    """Scroll as a finger would (the wheel over ``over``), until ``el`` shows."""
    box = await over.bounding_box()
    assert box is not None
    await page.mouse.move(box["x"] + box["width"] / 2, min(box["y"] + 40, 800))
    for _ in range(40):
        if await on_screen(el):
            return
        await page.mouse.wheel(0, 250)
        await page.wait_for_function("() => new Promise(requestAnimationFrame)")
    raise AssertionError("could not scroll to the element")


async def test_the_inbox_on_a_phone_is_two_screens(app: AppServer, contexts: Contexts) -> None:
    for i in range(8):  # a list longer than the screen
        await app.ok(
            "POST",
            "/api/inbox/sim/incoming",
            LUIS,
            json={"from": f"+5198800{i:04d}", "text": f"Consulta número {i}"},
        )
    _, page = await contexts.page(**PHONE)
    await sign_in(page, app.url, "luis@condorito")
    items = page.locator("#convs .ib-conv")
    await expect(items).to_have_count(14)
    no_sideways = "document.scrollingElement.scrollWidth <= innerWidth"
    assert await page.evaluate(no_sideways)
    await screenshot(page, "inbox-phone-lista")

    # the list scrolls through every conversation
    await scroll_to(page, items.last, items.first)
    maria = items.filter(has_text="María Quispe")
    await scroll_to(page, maria, items.first)

    # tapping one: the chat is the screen now
    await maria.tap()
    chat = page.locator("#chat")
    await expect(page.locator("#msgs .ib-msg").first).to_be_visible()
    await expect(page.locator(".ib-list-pane")).to_be_hidden()
    head = page.locator(".ib-chat-head")
    name = head.locator(".ib-chat-name")
    await expect(name).to_have_text("María Quispe")
    number = head.locator(".ib-chat-phone")
    await expect(number).to_have_text("+51 987 654 321")
    assert await on_screen(name)
    assert await on_screen(number)
    box = await number.bounding_box()
    assert box is not None
    assert box["height"] < 24, f"the number wraps: {box}"
    resolve = page.locator("#resolve")
    await expect(resolve).to_have_text("Resolver")
    assert await on_screen(resolve), "Resolver is cut off"
    assert await on_screen(page.locator("#reply"))
    assert await on_screen(page.locator("#msgs .ib-msg").last)
    chat_box = await chat.bounding_box()
    assert chat_box is not None
    assert chat_box["y"] < 200, f"the chat is below the fold: {chat_box}"
    assert await page.evaluate(no_sideways)
    await screenshot(page, "inbox-phone-chat")

    # and back to the list
    back = page.locator("#back")
    assert await on_screen(back)
    await back.tap()
    await expect(page.locator(".ib-list-pane")).to_be_visible()
    await expect(chat).to_be_hidden()
    await scroll_to(page, maria, items.first)
