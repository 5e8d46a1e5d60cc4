"""The demo page, as the README's five-minute tour opens it."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import LiveServer, token
from tests.helpers import BROWSER_CONTEXT, SCREENSHOTS

pytestmark = pytest.mark.browser


async def test_demo_shows_api_publications_and_publishes_with_a_token(
    relevo_server: LiveServer, page: Page
) -> None:
    ana = token("ana")
    await page.goto(f"{relevo_server.url}/static/demo.html?room=tour&token={ana}")
    await expect(page.locator("#indicator")).to_have_attribute("data-state", "connected")
    await expect(page.locator("#indicator")).to_have_text("Conectado")
    await expect(page.locator("#who")).to_have_text("como ana")
    await expect(page.locator("#presence")).to_contain_text("ana")

    await relevo_server.publish("demo:tour", "mensaje", {"texto": "hola desde la API"})
    first = page.locator("#feed li.pub").first
    await expect(first).to_have_attribute("data-off", "1")
    await expect(first).to_contain_text("hola desde la API")

    await page.fill("#event", "saludo")
    await page.fill("#data", '{"texto": "hola desde el navegador"}')
    await page.press("#data", "Control+Enter")
    await expect(page.locator("#publish-result")).to_have_text("Publicado como #2")
    await expect(page.locator("#feed li.pub").first).to_contain_text("hola desde el navegador")
    await expect(page.locator("#feed li.pub")).to_have_count(2)


async def test_demo_without_a_token_reads_and_explains_how_to_publish(
    relevo_server: LiveServer, page: Page
) -> None:
    await page.goto(f"{relevo_server.url}/static/demo.html?room=anon")
    await expect(page.locator("#indicator")).to_have_attribute("data-state", "connected")
    await expect(page.locator("#who")).to_have_text("anónimo")
    await expect(page.locator("#publish")).to_be_disabled()  # inside a disabled fieldset
    await expect(page.locator("#publish-needs-token")).to_contain_text("relevo token --user ana")
    await expect(page.locator("#cli-publish")).to_have_text(
        'relevo publish demo:anon mensaje \'{"texto":"hola"}\''
    )
    await relevo_server.publish("demo:anon", "mensaje", {"texto": "solo lectura"})
    await expect(page.locator("#feed li.pub").first).to_contain_text("solo lectura")
    await expect(page.locator("#feed-empty")).to_be_hidden()


async def test_demo_screenshot(relevo_server: LiveServer, browser: Browser, page: Page) -> None:
    """The picture in the README's tour: docs/img/demo.png."""
    other = await browser.new_context(**BROWSER_CONTEXT)
    try:
        luis = await other.new_page()
        await luis.goto(f"{relevo_server.url}/static/demo.html?room=lobby&token={token('luis')}")
        await expect(luis.locator("#indicator")).to_have_attribute("data-state", "connected")
        await page.goto(f"{relevo_server.url}/static/demo.html?room=lobby&token={token('ana')}")
        await expect(page.locator("#indicator")).to_have_attribute("data-state", "connected")
        await expect(page.locator("#presence li")).to_have_count(2)
        await relevo_server.publish("demo:lobby", "mensaje", {"texto": "Buenos días, equipo"})
        await relevo_server.publish("demo:lobby", "pedido", {"id": 1042, "estado": "listo"})
        await expect(page.locator("#feed li.pub")).to_have_count(2)
        await page.wait_for_function(
            "document.getAnimations().every((a) => a.animationName !== 'ui-flash')"
        )
        await luis.fill("#data", '{"texto": "¿Quién atiende la mesa 3?"}')
        await luis.click("#publish")
        await expect(page.locator("#feed li.pub")).to_have_count(3)
        await page.set_viewport_size({"width": 1280, "height": 1000})
        await page.screenshot(path=str(SCREENSHOTS / "demo.png"))
    finally:
        await other.close()
