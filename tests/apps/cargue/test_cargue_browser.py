"""Chromium: a vendor ticks V on the phone page and the dispatcher's table
shows it within a second, without a reload; the dispatcher's D reaches the
phone; a tick made without network is kept, shown as "Sin conexión", and
goes out when the network is back. Writes docs/img/cargue-*.png."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.apps.appserver import AppServer
from tests.apps.browsing import DESK, PHONE, Contexts, contexts, screenshot

from .conftest import DESPACHO

__all__ = ["contexts"]

pytestmark = pytest.mark.browser


async def sign_in(page: Page, url: str, user: str, screen: str) -> None:
    """The demo login, as a person uses it."""
    await page.goto(f"{url}/cargue/")
    await page.locator(f'[data-user="{user}"]').click()
    await page.wait_for_url(f"**/cargue/{screen}")
    await page.wait_for_function("window.__cargueReady === true")


async def v1_rows(app: AppServer) -> list[dict[str, Any]]:
    snap = await app.ok("GET", "/api/records/cargue_item", DESPACHO, params={"vendedor_id": "v1"})
    return sorted(snap["rows"], key=lambda r: r["orden"])


async def test_phone_tick_reaches_the_dispatcher_live(app: AppServer, contexts: Contexts) -> None:
    phone_ctx, phone = await contexts.page(**PHONE)
    _, desk = await contexts.page(**DESK)
    await sign_in(phone, app.url, "v1", "vendedor")
    await sign_in(desk, app.url, "despacho1", "despacho")
    first, second = [r["id"] for r in await v1_rows(app) if r["state"] == "pendiente"][:2]
    tick = phone.locator(f'li[data-id="{first}"] .cg-tick')
    row = desk.locator(f'tr[data-key="{first}"]')
    await expect(tick).to_have_attribute("aria-pressed", "false")
    await expect(row.locator(".cg-mini-v")).not_to_have_class(re.compile("is-on"))
    await expect(desk.locator('[data-vendor="v1"] .cg-bar-num').first).to_have_text("7/15")

    # V on the phone → the dispatcher's row, counters and highlight, within a second
    started = time.monotonic()
    await tick.tap()
    await expect(row.locator(".cg-mini-v")).to_have_class(re.compile("is-on"), timeout=1000)
    assert time.monotonic() - started < 1.0
    await expect(row).to_have_class(re.compile("flash"))
    await expect(row.locator(".chip")).to_have_text("Verificado")
    await expect(desk.locator('[data-vendor="v1"] .cg-bar-num').first).to_have_text("8/15")
    await expect(tick).to_have_attribute("aria-pressed", "true")
    await expect(phone.locator("#count-v")).to_have_text("8")

    # D at the desk → the phone shows it (and closes the row for the vendor)
    started = time.monotonic()
    await row.locator("button.cg-d").click()
    item = phone.locator(f'li[data-id="{first}"]')
    await expect(item).to_have_attribute("data-d", "true", timeout=1000)
    assert time.monotonic() - started < 1.0
    await expect(tick).to_be_disabled()
    # a row without V cannot take D
    await expect(desk.locator(f'tr[data-key="{second}"] button.cg-d')).to_be_disabled()
    await screenshot(desk, "cargue-despacho")
    await phone.evaluate("window.scrollTo(0, 0)")
    await screenshot(phone, "cargue-vendedor")

    # no network: the tick stays on the phone, marked, and is not lost
    await phone_ctx.set_offline(True)
    pending = phone.locator(f'li[data-id="{second}"]')
    await pending.locator(".cg-tick").tap()
    await expect(phone.locator("#offline")).to_be_visible()
    await expect(phone.locator("#offline")).to_contain_text("Sin conexión")
    await expect(pending).to_have_attribute("data-pending", "")
    await expect(pending.locator(".cg-tick")).to_have_attribute("aria-pressed", "true")
    await pending.scroll_into_view_if_needed()
    await screenshot(phone, "cargue-sin-conexion")
    rec = await app.ok("GET", f"/api/records/cargue_item/{second}", DESPACHO)
    assert rec["state"] == "pendiente"
    # back online, it goes out by itself
    await phone_ctx.set_offline(False)
    await expect(desk.locator(f'tr[data-key="{second}"] .cg-mini-v')).to_have_class(
        re.compile("is-on")
    )
    await expect(pending).not_to_have_attribute("data-pending", "")
    await expect(phone.locator("#offline")).to_be_hidden()
    rec = await app.ok("GET", f"/api/records/cargue_item/{second}", DESPACHO)
    assert (rec["state"], rec["v_by"]) == ("verificado", "v1")


async def test_an_unsent_tick_survives_closing_the_page(app: AppServer, contexts: Contexts) -> None:
    phone_ctx, phone = await contexts.page(**PHONE)
    await sign_in(phone, app.url, "v1", "vendedor")
    item = [r["id"] for r in await v1_rows(app) if r["state"] == "pendiente"][0]
    # the server cannot be reached for ticks (a dead spot, a proxy down)
    await phone_ctx.route("**/api/cargue/items/**", lambda route: route.abort())
    await phone.locator(f'li[data-id="{item}"] .cg-tick').tap()
    await expect(phone.locator(f'li[data-id="{item}"]')).to_have_attribute("data-pending", "")
    await expect(phone.locator("#offline")).to_contain_text("1 marca por enviar")
    # the vendor closes the page; later he opens it again, and the network works
    await phone.goto("about:blank")
    await phone_ctx.unroute("**/api/cargue/items/**")
    rec = await app.ok("GET", f"/api/records/cargue_item/{item}", DESPACHO)
    assert rec["state"] == "pendiente"
    await phone.goto(f"{app.url}/cargue/vendedor")
    await phone.wait_for_function("window.__cargueReady === true")
    await expect(phone.locator(f'li[data-id="{item}"]')).not_to_have_attribute("data-pending", "")
    await expect(phone.locator(f'li[data-id="{item}"] .cg-tick')).to_have_attribute(
        "aria-pressed", "true"
    )
    rec = await app.ok("GET", f"/api/records/cargue_item/{item}", DESPACHO)
    assert (rec["state"], rec["v_by"]) == ("verificado", "v1")
