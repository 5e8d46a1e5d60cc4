"""axe-core (WCAG 2.1 A/AA, tests/a11y) on the cargue screens this app adds
and in the states the day brings: the plantilla editor and its dialogs (edit,
remove, copy another day), the dispatcher's sheet with the quantities dialog
and the closing confirmation, the admin's reopening, the vendor's phone on a
closed day. Zero violations. Skipped where tests/a11y (axe-core from npm) is
not there. Each dialog is named (tests/a11y/dialogs.py): ``axe_dialog``."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from tests.apps.appserver import AppServer
from tests.apps.browsing import DESK, PHONE, Contexts, contexts

from .conftest import DESPACHO
from .test_cargue_browser import sign_in

axe = pytest.importorskip("tests.a11y.axe")

__all__ = ["contexts"]

pytestmark = pytest.mark.browser

KUMIS = {"producto": "Kumis 1 L", "cantidad": 6}


async def clean(page: Page, where: str, include: str | None = None) -> None:
    found = await axe.violations(page, include)
    assert not found, "\n" + axe.report(where, found)


async def axe_dialog(page: Page, name: str) -> None:
    found = await axe.dialog_violations(page, name)
    assert not found, "\n" + axe.report(f"dialog {name}", found)


async def test_the_new_screens_and_dialogs_pass_axe(app: AppServer, contexts: Contexts) -> None:
    _, desk = await contexts.page(bypass_csp=True, **DESK)
    _, phone = await contexts.page(bypass_csp=True, **PHONE)
    await sign_in(desk, app.url, "despacho1", "despacho")
    await desk.locator('[data-vendor="v1"] .cg-online').wait_for()
    await clean(desk, "/cargue/despacho")
    await desk.locator("tr[data-state=despachado] .cg-qty-edit").first.click()
    await axe_dialog(desk, "cargue-quantities")
    await desk.keyboard.press("Escape")
    await desk.locator('[data-vendor="v1"] .cg-close').click()
    await axe_dialog(desk, "cargue-close")
    await desk.locator("dialog[open]").get_by_role("button", name="Cerrar cargue").click()
    await desk.locator('[data-vendor="v1"] .cg-closed').wait_for()
    await clean(desk, "/cargue/despacho, a closed day")
    _, boss = await contexts.page(bypass_csp=True, **DESK)
    await sign_in(boss, app.url, "admin", "despacho")
    await boss.locator('[data-vendor="v1"] .cg-reopen').click()
    await axe_dialog(boss, "cargue-reopen")
    await boss.keyboard.press("Escape")

    await sign_in(phone, app.url, "v1", "vendedor")
    await phone.locator("#closed").wait_for()
    await clean(phone, "/cargue/vendedor, a closed day (390 px)")

    await desk.goto(f"{app.url}/cargue/plantillas")
    await desk.wait_for_function("window.__cargueReady === true")
    await desk.locator("#vendor").select_option("v2")
    await desk.locator("#table tbody tr[data-state=pendiente]").first.wait_for()
    await clean(desk, "/cargue/plantillas")
    await desk.locator("#table tbody tr[data-state=pendiente] .cg-edit").first.click()
    await axe_dialog(desk, "cargue-edit")
    await desk.keyboard.press("Escape")
    await desk.locator("#table tbody tr[data-state=pendiente] .cg-remove").first.click()
    await axe_dialog(desk, "cargue-remove")
    await desk.keyboard.press("Escape")
    another_day = {"vendedor_id": "v2", "fecha": "2030-01-07", "rows": [KUMIS]}
    await app.ok("POST", "/api/cargue/plantillas", DESPACHO, json=another_day)
    await desk.locator("#copy-from").fill("2030-01-07")
    await desk.locator("#copy").click()
    await axe_dialog(desk, "cargue-copy")
