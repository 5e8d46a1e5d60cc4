"""Signing in with a username and password (``/login``), as people do in
Chromium: each app's person lands on their role's screen and signs out with
Salir; a page whose session is signed out elsewhere loses its live
connection within a second and cannot connect again."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from relevo.accounts.http import SignIn
from tests.apps.browsing import (  # noqa: F401
    DESK,
    PHONE,
    Contexts,
    connect_with_held_token,
    contexts,
    sign_in_on,
    token_status,
)
from tests.helpers import timeout
from tests.web.fullserver import FullServer, start_full_server

pytestmark = pytest.mark.browser

PASSWORD = "una clave larga 2026"

PEOPLE: list[tuple[str, str, dict[str, list[str]], str, str, dict[str, Any]]] = [
    # username, name, roles, tenant, where they land, viewport
    ("gabriela", "Gabriela Ríos", {"leads": ["gtr"]}, "", "/leads/gtr", DESK),
    ("marco", "Marco Díaz", {"leads": ["asesor"]}, "", "/leads/asesor", PHONE),
    ("carla", "Carla Vega", {"turnos": ["operador"]}, "", "/turnos/operador", DESK),
    ("luisd", "Luis Despacho", {"cargue": ["despachador"]}, "", "/cargue/despacho", DESK),
    ("sofia", "Sofía Agente", {"inbox": ["agente"]}, "condorito", "/inbox/", DESK),
]


@pytest.fixture
async def full(tmp_path: Path) -> AsyncIterator[FullServer]:
    srv = await start_full_server(tmp_path / "signin.db", demo=True)
    sign_in: SignIn = srv.server.app.state.sign_in
    for username, name, roles, tenant, *_ in PEOPLE:
        await sign_in.accounts.create(
            username, PASSWORD, display_name=name, roles=roles, tenant=tenant
        )
    try:
        yield srv
    finally:
        await srv.stop()


async def test_each_role_signs_in_to_its_screen_and_out(
    full: FullServer,
    contexts: Contexts,  # noqa: F811
) -> None:
    for username, name, _, _, lands, viewport in PEOPLE:
        _, page = await contexts.page(**viewport)
        await sign_in_on(page, full.url + "/login", username, PASSWORD)
        await page.wait_for_url(f"**{lands}")
        if lands != "/turnos/operador":  # the operator's bar shows the mesa first
            await expect(page.locator("header.topbar")).to_contain_text(name)
        assert await token_status(page) == 200
        stored = await page.evaluate("JSON.stringify({...localStorage})")
        assert "refresh" not in stored  # nothing long-lived kept by the page
        salir = page.locator('header.topbar button[title="Cerrar sesión"]')
        if await salir.count():
            await salir.click()
            await page.wait_for_url(lambda url, lands=lands: not url.endswith(lands))
            assert await token_status(page) == 401


async def test_a_wrong_password_stays_on_the_page(
    full: FullServer,
    contexts: Contexts,  # noqa: F811
) -> None:
    _, page = await contexts.page(**DESK)
    await sign_in_on(page, full.url + "/login", "gabriela", "no es la clave")
    await expect(page.locator("#login-form [role=alert]")).to_have_text(
        "Usuario o contraseña incorrectos."
    )
    await sign_in_on(page, full.url + "/login", "nadie", "no es la clave")
    await expect(page.locator("#login-form [role=alert]")).to_have_text(
        "Usuario o contraseña incorrectos."
    )
    assert await token_status(page) == 401


async def test_next_goes_to_a_path_of_this_server_only(
    full: FullServer,
    contexts: Contexts,  # noqa: F811
) -> None:
    _, page = await contexts.page(**DESK)
    await sign_in_on(page, full.url + "/login?next=//evil.example/robo", "gabriela", PASSWORD)
    await page.wait_for_url("**/leads/gtr")
    assert page.url.startswith(full.url)


async def test_a_signed_out_page_loses_its_connection_and_cannot_connect_again(
    full: FullServer,
    contexts: Contexts,  # noqa: F811
) -> None:
    ctx, page = await contexts.page(**DESK)
    await sign_in_on(page, full.url + "/login", "gabriela", PASSWORD)
    await page.wait_for_url("**/leads/gtr")
    conn = page.locator("header.topbar .conn")
    await expect(conn).to_have_attribute("data-state", "connected")
    # Signed out from another tab of the same browser (same cookie).
    other = await ctx.new_page()
    await other.goto(full.url + "/leads/login")
    started = time.monotonic()
    status = await other.evaluate("fetch('/auth/logout', {method: 'POST'}).then((r) => r.status)")
    assert status == 200
    await expect(conn).not_to_have_attribute("data-state", "connected", timeout=timeout(1.0) * 1000)
    assert time.monotonic() - started < timeout(1.5)
    # The token the page still holds is refused on a fresh connection.
    reply = await connect_with_held_token(page, "leads")
    assert reply.get("err", {}).get("code") == "unauthorized", reply
    await expect(conn).not_to_have_attribute("data-state", "connected")
