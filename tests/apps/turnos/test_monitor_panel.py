"""Issue 15, defect 6: the monitor's big panel shows the latest call and
stays on it. Atender on the latest call must not send it back to an older
ticket still "llamado" (that one had its moment already, and no chime
played for the switch); a no-show must not leave the absent number up as
"Último llamado". Each new call chimes once (``body[data-chimes]``, the
hook ``chime()`` in common.js keeps)."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from .conftest import Screens, Turnos

pytestmark = pytest.mark.browser


async def test_the_big_panel_keeps_the_latest_call_and_drops_a_no_show(
    turnos: Turnos, screens: Screens
) -> None:
    for _ in range(3):
        await turnos.emitir("consultas")
    monitor = await screens.open("/turnos/monitor", width=1280, height=720)
    body = monitor.locator("body")
    now = monitor.locator("#now")

    older = await turnos.siguiente("1")  # A-001 → Mesa 1, left "llamado"
    assert older is not None
    await expect(monitor.locator("#now-numero")).to_have_text("A-001")
    await expect(body).to_have_attribute("data-chimes", "1")
    latest = await turnos.siguiente("2")  # A-002 → Mesa 2
    assert latest is not None
    await expect(monitor.locator("#now-numero")).to_have_text("A-002")
    await expect(body).to_have_attribute("data-chimes", "2")

    # Mesa 2 starts attending A-002: the panel stays on it, no chime
    await turnos.accion(latest["id"], "atender")
    await expect(now).to_have_attribute("data-state", "atendiendo")
    await expect(now).to_have_attribute("data-id", latest["id"])
    await expect(monitor.locator("#now-numero")).to_have_text("A-002")
    await expect(monitor.locator("#now-mesa")).to_have_text("Mesa 2")
    assert await body.get_attribute("data-chimes") == "2"

    # a new call at Mesa 2: up on the panel, with its chime
    await turnos.accion(latest["id"], "finalizar")
    third = await turnos.siguiente("2")
    assert third is not None
    assert third["numero_visible"] == "A-003"
    await expect(monitor.locator("#now-numero")).to_have_text("A-003")
    await expect(body).to_have_attribute("data-chimes", "3")

    # A-003 does not come: the panel drops it, the list says what happened
    await turnos.accion(third["id"], "no_presento")
    gone = monitor.locator("#list li", has_text="A-003")
    await expect(gone).to_have_attribute("data-state", "no_presento")
    await expect(gone).to_contain_text("No se presentó")
    await expect(monitor.locator("#now-numero")).not_to_have_text("A-003")
    assert await now.get_attribute("data-state") != "no_presento"
    assert await body.get_attribute("data-chimes") == "3"
