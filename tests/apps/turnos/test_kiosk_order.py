"""The kiosk's priority step (issue 15, defect 8): the optional name comes
before the buttons that issue the ticket at once, and "Volver" points back."""

from __future__ import annotations

from playwright.async_api import expect

from tests.apps.browsing import Contexts, contexts

from .conftest import Turnos

__all__ = ["contexts"]


async def test_the_name_comes_before_the_issuing_buttons(
    turnos: Turnos, contexts: Contexts
) -> None:
    _, page = await contexts.page(viewport={"width": 1080, "height": 1200})
    await page.goto(f"{turnos.url}/turnos/kiosco")
    await page.click("[data-tramite=consultas]")
    step = page.locator("#paso-prioridad")
    await expect(step).to_be_visible()
    # DOM order is tab order here (no tabindex): the name field first.
    order = await step.evaluate(
        """(s) => [...s.querySelectorAll("input, button")].map((el) =>
              el.id || (el.dataset.prioridad ? "issue" : el.textContent.trim()))"""
    )
    assert order.index("nombre") < order.index("issue"), order
    # The back button's chevron points left: its path starts right, ends left.
    path = await page.locator("#volver svg path").first.get_attribute("d")
    assert path == "m15 6-6 6 6 6", path
    # Typing a name then picking issues the ticket with it.
    await page.fill("#nombre", "Ana Test")
    await page.click("[data-prioridad=no]")
    await expect(page.locator("#ticket-numero")).to_have_text("A-001")
