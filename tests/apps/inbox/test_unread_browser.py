"""Issue 15, defect 4: "Sin leer" is the number of unread messages of the
open conversations. It drops when another agent reads or resolves a
conversation, and a resolved conversation that still carries an unread count
(a database from before resolving read it) does not count."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from relevo.records import SYSTEM
from tests.apps.appserver import AppServer
from tests.apps.browsing import Contexts, contexts

from .conftest import ANA
from .test_inbox_browser import WIDE, sign_in

__all__ = ["contexts"]

pytestmark = pytest.mark.browser


async def open_unread(app: AppServer) -> int:
    snap = await app.ok(
        "GET", "/api/records/inbox_conversation", ANA, params={"tenant": "condorito"}
    )
    return sum(c["unread"] for c in snap["rows"] if c["state"] == "abierta")


async def test_sin_leer_counts_the_open_conversations_only(
    app: AppServer, contexts: Contexts
) -> None:
    _, page = await contexts.page(**WIDE)
    await sign_in(page, app.url, "luis@condorito")
    figure = page.locator('[data-stat="sin_leer"] .stat-value')
    await expect(figure).to_have_text(str(await open_unread(app)))
    snap = await app.ok(
        "GET", "/api/records/inbox_conversation", ANA, params={"tenant": "condorito"}
    )
    by_name = {c["contact_name"]: c for c in snap["rows"]}

    # another agent resolves a conversation with two unread messages
    bodega = by_name["Bodega San Martín"]
    assert bodega["unread"] == 2
    await app.ok("POST", f"/api/inbox/conversations/{bodega['id']}/resolve", ANA)
    await expect(figure).to_have_text(str(await open_unread(app)))
    # another agent reads one
    jorge = by_name["Jorge Salazar"]
    await app.ok("POST", f"/api/inbox/conversations/{jorge['id']}/read", ANA)
    expected = await open_unread(app)
    await expect(figure).to_have_text(str(expected))
    # a resolved conversation with a stale count (older data) is not counted
    patricia = by_name["Patricia Núñez"]
    assert patricia["state"] == "resuelta"
    await app.records.update("inbox_conversation", patricia["id"], {"unread": 3}, by=SYSTEM)
    stale = page.locator(f'.ib-conv[data-id="{patricia["id"]}"]')
    await expect(stale).to_have_attribute("data-unread", "3")
    await expect(figure).to_have_text(str(expected))
    assert str(expected) in await page.title() or expected == 0
