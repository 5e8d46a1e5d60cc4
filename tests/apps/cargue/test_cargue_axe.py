"""axe-core (WCAG 2.1 A/AA, tests/a11y) on the cargue screens this app adds
and in the states the day brings: the plantilla editor and its edit dialog,
the dispatcher's sheet with the quantities dialog and the closing
confirmation, the vendor's phone on a closed day. Zero violations. Skipped
where tests/a11y (axe-core from npm) is not there."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from tests.apps.appserver import AppServer
from tests.apps.browsing import DESK, PHONE, Contexts, contexts

from .test_cargue_browser import sign_in

axe = pytest.importorskip("tests.a11y.axe")

__all__ = ["contexts"]

pytestmark = pytest.mark.browser


async def clean(page: Page, where: str, include: str | None = None) -> None:
    found = await axe.violations(page, include)
    assert not found, "\n" + axe.report(where, found)


async def test_the_new_screens_and_dialogs_pass_axe(app: AppServer, contexts: Contexts) -> None:
    _, desk = await contexts.page(bypass_csp=True, **DESK)
    _, phone = await contexts.page(bypass_csp=True, **PHONE)
    await sign_in(desk, app.url, "despacho1", "despacho")
    await desk.locator('[data-vendor="v1"] .cg-online').wait_for()
    await clean(desk, "/cargue/despacho")
    await desk.locator("tr[data-state=despachado] .cg-qty-edit").first.click()
    await clean(desk, "quantities dialog", "dialog[open]")
    await desk.keyboard.press("Escape")
    await desk.locator('[data-vendor="v1"] .cg-close').click()
    await clean(desk, "closing confirmation", "dialog[open]")
    await desk.locator("dialog[open]").get_by_role("button", name="Cerrar cargue").click()
    await desk.locator('[data-vendor="v1"] .cg-closed').wait_for()
    await clean(desk, "/cargue/despacho, a closed day")

    await sign_in(phone, app.url, "v1", "vendedor")
    await phone.locator("#closed").wait_for()
    await clean(phone, "/cargue/vendedor, a closed day (390 px)")

    await desk.goto(f"{app.url}/cargue/plantillas")
    await desk.wait_for_function("window.__cargueReady === true")
    await desk.locator("#vendor").select_option("v2")
    await desk.locator("#table tbody tr[data-state=pendiente]").first.wait_for()
    await clean(desk, "/cargue/plantillas")
    await desk.locator("#table tbody tr[data-state=pendiente] .cg-edit").first.click()
    await clean(desk, "edit dialog", "dialog[open]")
