"""Issue 15, defect 7: the turnos demo has one operator per mesa. The login
page lists them by name (with their mesa), two browsers sign in as two
people, each lands on their own mesa, the busy-mesa banner and the admin's
Operador column name the person (not the login id), and "Salir" signs the
operator out and frees the mesa."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from relevo.apps.turnos import seed_demo

from .conftest import Screens, StartTurnos

pytestmark = pytest.mark.browser


async def sign_in(screens: Screens, user: str, then: str = "") -> Any:
    """A browser of its own: a staff page sends it to the login, it picks ``user``."""
    page = await screens.open(then or "/turnos/operador", ready=False)
    await page.wait_for_url("**/turnos/login?next=*")
    await page.click(f"[data-user={user}]")
    await page.wait_for_selector("body[data-ready=true]")
    return page


async def test_each_operator_signs_in_as_themselves_and_is_named_everywhere(
    start_turnos: StartTurnos, browser: Any
) -> None:
    turnos = await start_turnos({"simulate": False}, demo=True, config={})
    await seed_demo(turnos.ctx)
    screens = Screens(browser, turnos.url)
    try:
        carla = await sign_in(screens, "carla")
        await expect(carla.locator("#mesa-nombre")).to_have_text("Mesa 1")
        await expect(carla.locator("header.topbar")).to_contain_text("Carla Ruiz")
        await expect(carla.locator("#ocupada")).to_be_hidden()

        jorge = await sign_in(screens, "jorge")
        await expect(jorge.locator("#mesa-nombre")).to_have_text("Mesa 2")
        await expect(jorge.locator("header.topbar")).to_contain_text("Jorge Salazar")

        login = await screens.open("/turnos/login", ready=False)
        users = login.locator(".user-pick")
        await expect(users).to_have_count(7)  # six operators, one supervisor
        await expect(login.locator("[data-user=milagros]")).to_contain_text("Mesa 3")

        # Jorge tries Carla's mesa: the banner names her, not her login id
        await jorge.goto(turnos.url + "/turnos/operador?mesa=1")
        banner = jorge.locator("#ocupada")
        await expect(banner).to_be_visible()
        await expect(banner).to_contain_text("La Mesa 1 está abierta por Carla Ruiz.")

        admin = await sign_in(screens, "supervisor", "/turnos/admin")
        row = admin.locator("#mesas tbody tr", has_text="Mesa 1")
        await expect(row.locator('td[data-label="Operador"]')).to_have_text("Carla Ruiz")

        # Carla signs out: back to the login, Mesa 1 free for Jorge
        await carla.click("header.topbar button[title='Cerrar sesión']")
        await carla.wait_for_url("**/turnos/login")
        await expect(row.locator('td[data-label="Operador"]')).to_have_text("—")
        await jorge.click("#ocupada-reintentar")
        await expect(banner).to_be_hidden()
        await expect(row.locator('td[data-label="Operador"]')).to_have_text("Jorge Salazar")
        assert await carla.evaluate("sessionStorage.length") == 0
    finally:
        await screens.close()
    assert not screens.errors, screens.errors
