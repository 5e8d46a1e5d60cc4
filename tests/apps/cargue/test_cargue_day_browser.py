"""Chromium, the dispatcher's day as people live it: the vendor (a 390-px
phone) ticks V and the dispatcher's sheet names him; the dispatcher's D is
named on the phone; a short load with its reason shows on both screens; the
dispatcher sees who is online; closing the day locks the phone at once, and
only the admin (a third browser) reopens it. The plantilla editor adds,
edits, removes and copies products, live on the vendor's phone. The sheet
prints without the screen's chrome and exports a formula-safe CSV. Writes
docs/img/cargue-*.png."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.apps.appserver import AppServer, token
from tests.apps.browsing import DESK, PHONE, Contexts, contexts, screenshot

from .conftest import DESPACHO
from .test_cargue_browser import sign_in

__all__ = ["contexts"]

pytestmark = pytest.mark.browser


COPY = [{"producto": "Kumis 1 L", "cantidad": 6}, {"producto": "Pan tajado", "cantidad": 9}]


async def rows_of(app: AppServer, vendor: str, **params: str) -> list[dict[str, Any]]:
    snap = await app.ok(
        "GET", "/api/records/cargue_item", DESPACHO, params={"vendedor_id": vendor, **params}
    )
    return sorted(snap["rows"], key=lambda r: r["orden"])


async def dialog_button(page: Page, name: str) -> None:
    await page.locator("dialog[open]").get_by_role("button", name=name, exact=True).click()


async def test_who_quantities_online_and_closing_live(app: AppServer, contexts: Contexts) -> None:
    _, phone = await contexts.page(**PHONE)
    _, desk = await contexts.page(**DESK)
    _, boss = await contexts.page(**DESK)
    await sign_in(desk, app.url, "despacho1", "despacho")
    await expect(desk.locator('[data-vendor="v1"] .cg-online')).to_have_attribute(
        "data-online", "false"
    )
    await sign_in(phone, app.url, "v1", "vendedor")
    # online: the vendor's phone is open; v3's is not
    await expect(desk.locator('[data-vendor="v1"] .cg-online')).to_have_attribute(
        "data-online", "true"
    )
    await expect(desk.locator('[data-vendor="v1"] .cg-online')).to_have_text("En línea")
    await expect(desk.locator('[data-vendor="v3"] .cg-online')).to_have_text("Desconectado")

    first = next(r for r in await rows_of(app, "v1") if r["state"] == "pendiente")
    row = desk.locator(f'tr[data-key="{first["id"]}"]')
    item = phone.locator(f'li[data-id="{first["id"]}"]')
    # who ticked V, then D, by name, on the other screen
    await item.locator(".cg-tick").tap()
    await expect(row.locator(".cg-who").first).to_contain_text("Carlos Ruiz")
    await row.locator("button.cg-d").click()
    await expect(row.locator(".cg-who").nth(1)).to_contain_text("Marta Ríos")
    await expect(item.locator(".cg-closed-note")).to_contain_text("Marta Ríos")

    # a short load: the reason is required (said in the dialog), then live on both screens
    await row.locator(".cg-qty-edit").click()
    dialog = desk.locator("dialog[open]")
    await dialog.locator("#cg-cargada").fill(str(first["cantidad"] - 2))
    await dialog.get_by_role("button", name="Guardar").click()
    await expect(dialog.locator(".alert-danger")).to_contain_text("Indica el motivo")
    await dialog.locator("#cg-motivo").fill("Faltante en bodega")
    await screenshot(desk, "cargue-cantidades")
    await dialog.get_by_role("button", name="Guardar").click()
    await expect(dialog).to_be_hidden()
    await expect(row.locator(".cg-diff")).to_have_text(f"Cargado {first['cantidad'] - 2}")
    await expect(row.locator(".cg-motivo")).to_have_text("Faltante en bodega")
    await expect(item.locator(".cg-diff")).to_have_text(f"Cargado {first['cantidad'] - 2}")

    # closing: asked first, then locked everywhere at once
    assert await desk.locator('[data-vendor="v1"] .cg-reopen').count() == 0
    await desk.locator('[data-vendor="v1"] .cg-close').click()
    await expect(desk.locator("dialog[open]")).to_contain_text("Solo un administrador")
    await dialog_button(desk, "Cerrar cargue")
    await expect(desk.locator('[data-vendor="v1"] .cg-closed')).to_contain_text(
        "Cerrado por Marta Ríos"
    )
    await expect(phone.locator("#closed")).to_be_visible()
    await expect(phone.locator("#closed")).to_contain_text("Cerrado por Marta Ríos")
    pending = phone.locator('li[data-state="pendiente"] .cg-tick').first
    await expect(pending).to_be_disabled()
    await expect(phone.locator("#next")).to_be_disabled()
    await expect(phone.locator("#left")).to_have_text("Cargue cerrado")
    await expect(row.locator(".cg-qty-edit")).to_be_disabled()
    second = next(r for r in await rows_of(app, "v1") if r["state"] == "verificado")
    await expect(desk.locator(f'tr[data-key="{second["id"]}"] button.cg-d')).to_be_disabled()
    await desk.locator('[data-vendor="v1"]').first.scroll_into_view_if_needed()
    await desk.evaluate("window.scrollTo(0, 0)")
    await screenshot(desk, "cargue-despacho-cierre")
    await phone.evaluate("window.scrollTo(0, 0)")
    await screenshot(phone, "cargue-vendedor-cerrado")
    # the server holds the line too (a tick sent anyway)
    body = await app.fails(
        409, "conflict", "POST", f"/api/cargue/items/{first['id']}/check",
        token("v1", ("vendedor",)), json={"check": "v", "value": False},
    )  # fmt: skip
    assert body["state"] == "cerrado"

    # only the admin reopens, saying why; the phone can tick again
    await sign_in(boss, app.url, "admin", "despacho")
    await boss.locator('[data-vendor="v1"] .cg-reopen').click()
    await boss.locator("dialog[open] input").fill("Faltó registrar una devolución")
    await dialog_button(boss, "Reabrir")
    await expect(phone.locator("#closed")).to_be_hidden()
    await expect(pending).to_be_enabled()
    await expect(desk.locator('[data-vendor="v1"] .cg-close')).to_be_visible()
    await expect(desk.locator(".toast").last).to_contain_text("Faltó registrar una devolución")


async def test_plantilla_editor_live_on_the_phone(app: AppServer, contexts: Contexts) -> None:
    _, phone = await contexts.page(**PHONE)
    _, desk = await contexts.page(**DESK)
    await sign_in(phone, app.url, "v3", "vendedor")
    # the vendor has no editor: its page sends him back to his own
    await phone.goto(f"{app.url}/cargue/plantillas")
    await phone.wait_for_url(re.compile(r"/cargue/vendedor$"))
    await phone.wait_for_function("window.__cargueReady === true")
    assert await phone.locator("#add").count() == 0
    await sign_in(desk, app.url, "despacho1", "despacho")
    await desk.get_by_role("link", name="Plantillas").click()
    await desk.wait_for_url("**/cargue/plantillas")
    await desk.wait_for_function("window.__cargueReady === true")
    await desk.locator("#vendor").select_option("v3")
    await expect(desk.locator("#subtitle")).to_contain_text("Jorge Paredes")
    await expect(desk.locator("#table tbody tr[data-key]")).to_have_count(15)

    # add: the catalog fills the code and unit of a known product
    await desk.locator("#add-producto").fill("Arepa rellena x4")
    await desk.locator("#add-codigo").fill("AR-REL")
    await desk.locator("#add-cantidad").fill("10")
    await desk.locator("#add-btn").click()
    await expect(desk.locator("#table tbody tr[data-key]")).to_have_count(16)
    added = phone.locator("li.cg-item", has_text="Arepa rellena x4")
    await expect(added.locator(".cg-qty b")).to_have_text("10")

    # edit it: the phone follows
    new_row = desk.locator("#table tbody tr", has_text="Arepa rellena x4")
    await new_row.locator(".cg-edit").click()
    await desk.locator("dialog[open] #cg-e-cantidad").fill("14")
    await screenshot(desk, "cargue-plantilla-editar")
    await dialog_button(desk, "Guardar")
    await expect(added.locator(".cg-qty b")).to_have_text("14")

    # a row the vendor ticked is locked in the editor
    first = (await rows_of(app, "v3"))[0]
    await phone.locator(f'li[data-id="{first["id"]}"] .cg-tick').tap()
    locked = desk.locator(f'tr[data-key="{first["id"]}"]')
    await expect(locked.locator(".cg-edit")).to_be_disabled()
    await expect(locked.locator(".cg-remove")).to_be_disabled()
    await desk.evaluate("window.scrollTo(0, 0)")
    await screenshot(desk, "cargue-plantillas")

    # remove: asked first, gone on the phone
    await new_row.locator(".cg-remove").click()
    await dialog_button(desk, "Quitar")
    await expect(added).to_have_count(0)
    await expect(desk.locator("#table tbody tr[data-key]")).to_have_count(15)

    # copy another day's plantilla onto an empty day
    await app.ok(
        "POST", "/api/cargue/plantillas", DESPACHO,
        json={"vendedor_id": "v3", "fecha": "2030-01-07", "rows": COPY},
    )  # fmt: skip
    await desk.locator("#fecha").fill("2030-01-08")
    await expect(desk.locator("#table tbody tr[data-key]")).to_have_count(0)
    await desk.locator("#copy-from").fill("2030-01-07")
    await desk.locator("#copy").click()
    await dialog_button(desk, "Copiar")
    await expect(desk.locator("#table tbody tr[data-key]")).to_have_count(2)
    copied = await rows_of(app, "v3", fecha="2030-01-08")
    assert [(r["producto"], r["cantidad"]) for r in copied] == [("Kumis 1 L", 6), ("Pan tajado", 9)]


async def test_the_sheet_prints_and_exports(app: AppServer, contexts: Contexts) -> None:
    await app.ok(
        "POST", "/api/cargue/items", DESPACHO,
        json={"vendedor_id": "v2", "producto": "=HYPERLINK('http://x')", "cantidad": 1},
    )  # fmt: skip
    _, desk = await contexts.page(**DESK, accept_downloads=True)
    await sign_in(desk, app.url, "despacho1", "despacho")
    await expect(desk.locator("#table tbody tr[data-key]")).to_have_count(46)
    async with desk.expect_download() as info:
        await desk.locator("#export").click()
    download = await info.value
    assert download.suggested_filename.startswith("cargue-")
    path = await download.path()
    text = path.read_bytes().decode("utf-8-sig")
    lines = list(csv.DictReader(io.StringIO(text)))
    assert len(lines) == 46
    assert any(r["producto"].startswith("'=HYPERLINK") for r in lines)
    assert {r["vendedor"] for r in lines} == {"Carlos Ruiz", "Lucía Gómez", "Jorge Paredes"}

    # print: no top bar, toolbar or buttons; a title and signature lines instead
    await desk.emulate_media(media="print")
    await expect(desk.locator("header.topbar")).to_be_hidden()
    await expect(desk.locator("#export")).to_be_hidden()
    await expect(desk.locator(".cg-signatures")).to_be_visible()
    await expect(desk.locator(".cg-print-head")).to_contain_text("Hoja de cargue")
    await screenshot(desk, "cargue-impresion", full_page=True)
    await desk.emulate_media(media="screen")
    await expect(desk.locator(".cg-signatures")).to_be_hidden()


async def test_the_keyboard_keeps_its_place_after_a_d_tick(
    app: AppServer, contexts: Contexts
) -> None:
    _, desk = await contexts.page(**DESK)
    await sign_in(desk, app.url, "despacho1", "despacho")
    verified = [r for r in await rows_of(app, "v1") if r["state"] == "verificado"]
    row = desk.locator(f'tr[data-key="{verified[0]["id"]}"]')
    await row.locator("button.cg-d").focus()
    await desk.keyboard.press("Enter")
    await expect(row.locator("button.cg-d")).to_have_attribute("aria-pressed", "true")
    await expect(row.locator("button.cg-d")).to_be_focused()
    # and again: untick with the keyboard, the focus stays on the row's D
    await desk.keyboard.press("Space")
    await expect(row.locator("button.cg-d")).to_have_attribute("aria-pressed", "false")
    await expect(row.locator("button.cg-d")).to_be_focused()
