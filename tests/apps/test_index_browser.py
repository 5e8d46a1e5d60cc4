"""The index and the stat cards of the whole product, as ``relevo demo``
serves them (issue 15, defect 9)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.apps.browsing import DESK, Contexts, contexts
from tests.web.fullserver import API_KEY, FullServer, start_full_server

__all__ = ["contexts"]

pytestmark = pytest.mark.browser


@pytest.fixture
async def full(tmp_path: Path) -> AsyncIterator[FullServer]:
    srv = await start_full_server(tmp_path / "all.db", demo=True)
    yield srv
    await srv.stop()


async def test_demo_en_vivo_leads_to_the_apps(full: FullServer, contexts: Contexts) -> None:
    _, page = await contexts.page(**DESK)
    await page.goto(f"{full.url}/")
    await expect(page.locator("#apps a.card")).to_have_count(5)  # the four apps and Personas
    await expect(page.locator('#apps a.card[href="/admin/personas"]')).to_contain_text("Personas")
    await page.get_by_role("link", name="Demo en vivo").click()
    assert page.url.endswith("#apps")
    assert not page.url.endswith("demo.html")
    await expect(page.locator("#apps a.card").first).to_be_in_viewport()
    # The hub's pub/sub lobby is still one click away, under its own name.
    await expect(page.locator("#lobby")).to_have_attribute("href", "/static/demo.html")


async def test_stat_cards_keep_their_own_height(full: FullServer, contexts: Contexts) -> None:
    ctx, page = await contexts.page(**DESK)
    await ctx.add_init_script(f"sessionStorage.setItem('relevo.admin.credential', '{API_KEY}')")
    await page.goto(f"{full.url}/static/admin.html")
    cards = page.locator("#stats .stat")
    await expect(cards).to_have_count(5)
    heights = await cards.evaluate_all("(els) => els.map((e) => e.getBoundingClientRect().height)")
    tops = await cards.evaluate_all("(els) => els.map((e) => e.getBoundingClientRect().top)")
    assert len(set(tops)) == 1, tops  # one row at this width
    # Conexiones has no sparkline, Publicaciones has one: not stretched to it.
    assert heights[0] < heights[2] - 10, heights
