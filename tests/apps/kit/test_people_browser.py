"""/admin/personas in Chromium, as an admin and the people they manage use it:
the admin creates a person, who signs in on their own phone with the
temporary password, must choose a new one and lands on their screen; a reset
ends their session and asks for a new password again; deactivating them
drops their open page at once and it cannot connect again. An inbox
supervisor sees and creates only their own tenant's people."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from relevo.accounts.http import DEMO_PASSWORD, SignIn
from tests.apps.browsing import (  # noqa: F401
    DESK,
    PHONE,
    Contexts,
    connect_with_held_token,
    contexts,
    screenshot,
    sign_in_on,
    token_status,
)
from tests.web.fullserver import FullServer, start_full_server

pytestmark = pytest.mark.browser

PASSWORD = "una clave larga 2026"


@pytest.fixture
async def full(tmp_path: Path) -> AsyncIterator[FullServer]:
    srv = await start_full_server(tmp_path / "people.db", demo=False)
    sign_in: SignIn = srv.server.app.state.sign_in
    # the first admin, as `relevo users add jefa --roles admin` makes her
    await sign_in.accounts.create("jefa", PASSWORD, display_name="La Jefa", roles=["admin"])
    await sign_in.accounts.create(
        "sofia", PASSWORD, display_name="Sofía Supervisora", roles={"inbox": ["supervisor"]},
        tenant="andes",
    )  # fmt: skip
    await sign_in.accounts.create(
        "carla", PASSWORD, display_name="Carla Acme", roles={"inbox": ["agente"]}, tenant="acme"
    )
    try:
        yield srv
    finally:
        await srv.stop()


async def change_password(page: Page, new: str) -> None:
    await expect(page.locator("#change-form")).to_be_visible()
    await page.locator("#change-new").fill(new)
    await page.locator("#change-again").fill(new)
    await page.locator("#change-again").press("Enter")


async def confirm(page: Page, label: str) -> None:
    await page.locator("dialog[open] .dialog-footer button", has_text=label).click()


async def take_temporary(page: Page) -> str:
    code = page.locator("dialog[open] #temp-password")
    await expect(code).to_be_visible()
    text = await code.text_content()
    assert text
    await confirm(page, "Hecho")
    return text.strip()


async def test_admin_creates_resets_and_deactivates_a_person(
    full: FullServer,
    contexts: Contexts,  # noqa: F811
) -> None:
    _, admin = await contexts.page(**DESK)
    await admin.goto(full.url + "/admin/personas")
    await admin.wait_for_url("**/login?next=%2Fadmin%2Fpersonas")
    await sign_in_on(admin, admin.url, "jefa", PASSWORD)
    await admin.wait_for_url("**/admin/personas")
    await admin.wait_for_function("window.__peopleReady === true")
    await expect(admin.locator("header.topbar")).to_contain_text("La Jefa")
    rows = admin.locator("tr[data-username]")
    await expect(rows).to_have_count(3)

    # create
    await admin.locator("#new-person-btn").click()
    await admin.locator("#np-username").fill("Marta")
    await admin.locator("#np-name").fill("Marta Asesora")
    await admin.locator('input[data-role="leads:asesor"]').check()
    await admin.locator("#np-submit").click()
    temp = await take_temporary(admin)
    marta_row = admin.locator('tr[data-username="marta"]')
    await expect(marta_row).to_contain_text("Contraseña temporal")
    await expect(marta_row).to_contain_text("Nunca")
    await screenshot(admin, "people-admin")
    # edit: her name and a second role
    await marta_row.locator('[data-action="edit"]').click()
    await expect(admin.locator("#np-username")).to_have_value("marta")
    await expect(admin.locator('input[data-role="leads:asesor"]')).to_be_checked()
    await admin.locator("#np-name").fill("Marta Asesora Ríos")
    await admin.locator('input[data-role="leads:gtr"]').check()
    await admin.locator("#np-name").press("Enter")
    await expect(marta_row).to_contain_text("Marta Asesora Ríos")
    await expect(marta_row).to_contain_text("GTR · Leads")

    # she signs in on her phone: a new password first, then her screen
    _, marta = await contexts.page(**PHONE)
    await sign_in_on(marta, full.url + "/login", "marta", temp)
    await change_password(marta, "mi clave nueva 2026")
    await marta.wait_for_url("**/leads/asesor")
    conn = marta.locator("header.topbar .conn")
    await expect(conn).to_have_attribute("data-state", "connected")

    # reset: her session ends, the next sign-in asks for a new password again
    # the admin's tab, back in view, shows her new state and sign-in
    await admin.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    await expect(marta_row).to_contain_text("Activa")
    await expect(marta_row).not_to_contain_text("Nunca")
    await marta_row.locator('[data-action="reset"]').click()
    await confirm(admin, "Restablecer")
    temp2 = await take_temporary(admin)
    assert temp2 != temp
    await expect(conn).not_to_have_attribute("data-state", "connected")
    assert await token_status(marta) == 401
    await sign_in_on(marta, full.url + "/leads/login", "marta", temp2)
    await expect(marta.locator("#change-form")).to_be_visible()
    # left before changing it: the login page asks for it again, current one included
    await marta.goto(full.url + "/login")
    await expect(marta.locator("#change-current")).to_be_visible()
    await marta.locator("#change-current").fill(temp2)
    await change_password(marta, "otra clave nueva 2026")
    await marta.wait_for_url("**/leads/asesor")
    await expect(conn).to_have_attribute("data-state", "connected")

    # deactivate: her open page drops at once and cannot connect again
    await marta_row.locator('[data-action="deactivate"]').click()
    await confirm(admin, "Desactivar")
    await expect(marta_row).to_contain_text("Desactivada")
    await expect(conn).not_to_have_attribute("data-state", "connected")
    assert await token_status(marta) == 401
    reply = await connect_with_held_token(marta, "leads")
    assert reply.get("err", {}).get("code") == "unauthorized", reply
    await expect(conn).not_to_have_attribute("data-state", "connected")
    # the activity list names what happened
    audit = admin.locator("section.card", has_text="Actividad reciente")
    await admin.reload()
    await admin.wait_for_function("window.__peopleReady === true")
    await expect(audit).to_contain_text("Desactivada")
    await expect(audit).to_contain_text("Contraseña cambiada")
    # the admin cannot deactivate herself
    await expect(
        admin.locator('tr[data-username="jefa"] [data-action="deactivate"]')
    ).to_be_disabled()


async def test_a_supervisor_manages_only_their_tenant(
    full: FullServer,
    contexts: Contexts,  # noqa: F811
) -> None:
    _, sup = await contexts.page(**PHONE)
    await sign_in_on(sup, full.url + "/login?next=/admin/personas", "sofia", PASSWORD)
    await sup.wait_for_url("**/admin/personas")
    await sup.wait_for_function("window.__peopleReady === true")
    rows = sup.locator("tr[data-username]")
    await expect(rows).to_have_count(1)  # herself; not Carla (acme), not the admin
    await sup.locator("#new-person-btn").click()
    await expect(sup.locator("#np-tenant")).to_have_value("andes")
    await expect(sup.locator("#np-tenant")).to_have_attribute("readonly", "")
    assert await sup.locator("input[data-role]").count() == 2  # inbox agente, supervisor
    await sup.locator("#np-username").fill("pablo")
    await sup.locator("#np-name").fill("Pablo Agente")
    await sup.locator('input[data-role="inbox:agente"]').check()
    await screenshot(sup, "people-new-person-phone")
    await sup.locator("#np-submit").click()
    await take_temporary(sup)
    await expect(rows).to_have_count(2)
    await screenshot(sup, "people-supervisor-phone")
    # her own password, from the page: the current one, then back here
    await sup.locator("#my-password").click()
    await sup.locator("#change-current").fill(PASSWORD)
    await change_password(sup, "mi clave propia 2026")
    await sup.wait_for_url("**/admin/personas")
    await sup.wait_for_function("window.__peopleReady === true")
    await expect(rows).to_have_count(2)


async def test_someone_who_manages_nobody_is_told_so(
    full: FullServer,
    contexts: Contexts,  # noqa: F811
) -> None:
    _, page = await contexts.page(**DESK)
    await sign_in_on(page, full.url + "/login?next=/admin/personas", "carla", PASSWORD)
    await expect(page.locator("#content")).to_contain_text("Sin permiso")
    await expect(page.locator("#content")).to_contain_text(
        "No tienes permiso para gestionar personas."
    )
    assert await page.locator("tr[data-username]").count() == 0


async def test_relevo_demo_shows_its_admin_the_people_screen(
    tmp_path: Path,
    contexts: Contexts,  # noqa: F811
) -> None:
    srv = await start_full_server(tmp_path / "demo.db", demo=True)
    try:
        _, page = await contexts.page(**DESK)
        await page.goto(srv.url + "/")
        await page.locator('a.tile[href="/admin/personas"]').click()
        await page.wait_for_url("**/login?next=%2Fadmin%2Fpersonas")
        await expect(page.locator("#demo-admin")).to_contain_text("relevo-demo")
        await sign_in_on(page, page.url, "admin", DEMO_PASSWORD)
        await page.wait_for_url("**/admin/personas")
        await page.wait_for_function("window.__peopleReady === true")
        await expect(page.locator('tr[data-username="admin"]')).to_contain_text("Administrador")
    finally:
        await srv.stop()
