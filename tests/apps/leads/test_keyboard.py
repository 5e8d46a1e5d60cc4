"""The GTR's main flow without a mouse: select a lead with j, open the
derive dialog with a, find the asesor by typing, pick with the arrow keys,
derive with Enter — and the focus is back on the board, not on <body>."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import LeadsServer, Screens
from .test_screens import CHIP, within

pytestmark = pytest.mark.browser

FOCUS = "() => document.activeElement && document.activeElement !== document.body"


async def test_the_gtr_derives_a_lead_by_keyboard(make_server: Any, screens: Screens) -> None:
    srv: LeadsServer = await make_server()
    lead = await srv.create("Rosa Quispe", "987654321")
    gtr = await screens.open(srv.url, "g1", "gtr")
    await within(gtr, CHIP, [lead["id"], "Nuevo"])
    await gtr.keyboard.press("j")
    await gtr.wait_for_selector(f'tr[data-id="{lead["id"]}"][aria-selected="true"]')
    await gtr.keyboard.press("a")
    await gtr.wait_for_selector(".assign-dialog[open]")
    assert await gtr.evaluate("document.activeElement.type") == "search"
    await gtr.keyboard.type("Luc")  # Lucía
    await gtr.keyboard.press("Tab")  # into the radio group
    await gtr.keyboard.press("Space")
    assert await gtr.evaluate("document.activeElement.value") == "4"
    await gtr.keyboard.press("Enter")  # submits the form
    await within(gtr, CHIP, [lead["id"], "Derivado"])
    await gtr.wait_for_selector(".assign-dialog", state="detached")
    assert await gtr.evaluate(FOCUS), "the focus fell to <body> after the dialog"
