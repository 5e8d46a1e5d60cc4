"""The turnero without a mouse: the kiosk's steps and the operator's
call → attend → finish, with Tab and Enter only. After every step and every
action the focus is on the control that comes next, never dropped on
<body> (where the next Tab starts again from the top of the page)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from .conftest import OPERADOR, Screens, Turnos

pytestmark = pytest.mark.browser

FOCUSED = "() => { const a = document.activeElement; return a && a !== document.body ? (a.id || a.dataset.tramite || a.dataset.prioridad || a.tagName) : 'BODY'; }"  # noqa: E501


async def focused(page: Any) -> str:
    name: str = await page.evaluate(FOCUSED)
    return name


async def tab_to(page: Any, selector: str, most: int = 40) -> int:
    """Press Tab until ``selector`` has the focus; how many presses it took."""
    for presses in range(1, most + 1):
        await page.keyboard.press("Tab")
        if await page.evaluate("(s) => document.activeElement?.matches(s)", selector):
            return presses
    raise AssertionError(f"{selector} not reached in {most} Tabs (focus on {await focused(page)})")


async def test_the_kiosk_by_keyboard_keeps_the_focus_on_each_step(
    turnos: Turnos, screens: Screens
) -> None:
    kiosco = await screens.open("/turnos/kiosco", width=1080, height=1200)
    await tab_to(kiosco, "[data-tramite=consultas]")
    await kiosco.keyboard.press("Enter")
    await expect(kiosco.locator("#paso-prioridad")).to_be_visible()
    # the step takes the focus: the next Tab is the name, then the choices
    assert await focused(kiosco) != "BODY"
    await tab_to(kiosco, "#nombre", most=3)
    await kiosco.keyboard.type("Ana Teclado")
    await tab_to(kiosco, "[data-prioridad=no]", most=3)
    await kiosco.keyboard.press("Enter")
    await expect(kiosco.locator("#ticket-numero")).to_have_text("A-001")
    assert await focused(kiosco) == "listo"
    await kiosco.keyboard.press("Enter")
    await expect(kiosco.locator("#paso-tramite")).to_be_visible()
    assert await focused(kiosco) != "BODY"
    await tab_to(kiosco, "[data-tramite]", most=3)


async def test_the_operator_calls_attends_and_finishes_by_keyboard(
    turnos: Turnos, screens: Screens
) -> None:
    await turnos.emitir("consultas")
    await turnos.emitir("consultas")
    page = await screens.open(f"/turnos/operador?mesa=1#token={OPERADOR}")
    await expect(page.locator("#cola-count")).to_have_text("2")
    # The first Tab is "Saltar al contenido", past the bar to the panel.
    await page.keyboard.press("Tab")
    await expect(page.locator(".skip-link")).to_be_focused()
    await page.keyboard.press("Enter")
    first = await tab_to(page, "#btn-siguiente")
    assert first <= 6, f"{first} Tabs from the content to the first action"
    await page.keyboard.press("Enter")
    await expect(page.locator("#actual-numero")).to_have_text("A-001")
    await expect(page.locator("#btn-atender")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("#actual")).to_have_attribute("data-state", "atendiendo")
    await expect(page.locator("#btn-finalizar")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("#actual")).to_have_attribute("data-state", "")
    await expect(page.locator("#btn-siguiente")).to_be_focused()
    await page.keyboard.press("Enter")  # and on to the next one
    await expect(page.locator("#actual-numero")).to_have_text("A-002")
    await expect(page.locator("#btn-atender")).to_be_focused()
