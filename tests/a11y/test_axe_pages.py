"""Every page of relevo and its apps, and their main dialogs, pass axe-core
(WCAG 2.1 A and AA) with zero violations: the index, sign-in, the demo,
/admin, and each app's screens as the person who uses them sees them after
signing in, on a desk or a phone as they would use it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page

from relevo.accounts.http import SignIn
from tests.a11y.axe import report, violations
from tests.apps.browsing import DESK, PHONE, Contexts, contexts  # noqa: F401
from tests.web.fullserver import API_KEY, FullServer, start_full_server

pytestmark = pytest.mark.browser

PASSWORD = "una clave larga 2026"
PEOPLE: dict[str, tuple[str, dict[str, list[str]], str]] = {
    # username: (name, roles, tenant)
    "gabriela": ("Gabriela Ríos", {"leads": ["gtr"]}, ""),
    "marco": ("Marco Díaz", {"leads": ["asesor"]}, ""),
    "carla": ("Carla Vega", {"turnos": ["operador"]}, ""),
    "tomas": ("Tomás Admin", {"turnos": ["admin"]}, ""),
    "luisd": ("Luis Despacho", {"cargue": ["despachador"]}, ""),
    "vale": ("Valeria Vendedora", {"cargue": ["vendedor"]}, ""),
    "sofia": ("Sofía Agente", {"inbox": ["agente"]}, "condorito"),
    "jefa": ("La Jefa", {"*": ["admin"]}, ""),
}


@pytest.fixture
async def full(tmp_path: Path) -> AsyncIterator[FullServer]:
    srv = await start_full_server(tmp_path / "a11y.db", demo=True)
    sign_in: SignIn = srv.server.app.state.sign_in
    for username, (name, roles, tenant) in PEOPLE.items():
        await sign_in.accounts.create(
            username, PASSWORD, display_name=name, roles=roles, tenant=tenant
        )
    try:
        yield srv
    finally:
        await srv.stop()


class Audit:
    """Collects what axe finds on each screen, so one run names them all."""

    def __init__(self) -> None:
        self.found: list[str] = []

    async def check(self, page: Page, where: str, include: str | None = None) -> None:
        await page.wait_for_load_state("networkidle")
        found = await violations(page, include)
        if found:
            self.found.append(report(where, found))


async def open_as(
    contexts: Contexts,  # noqa: F811
    full: FullServer,
    username: str | None,
    url: str,
    viewport: dict[str, Any] = DESK,
) -> Page:
    _, page = await contexts.page(bypass_csp=True, **viewport)
    if username is not None:
        await page.goto(full.url + "/login")
        await page.locator("#login-user").fill(username)
        await page.locator("#login-pass").fill(PASSWORD)
        await page.locator("#login-pass").press("Enter")
        await page.wait_for_url(lambda u: "/login" not in u)
        await page.wait_for_load_state("networkidle")  # a landing page may redirect once more
    if page.url != full.url + url:
        await page.goto(full.url + url)
    return page


PUBLIC = ["/", "/login", "/static/demo.html", "/turnos/", "/turnos/kiosco", "/turnos/monitor"]
SIGNED_IN: list[tuple[str, str, dict[str, Any]]] = [
    ("gabriela", "/leads/gtr", DESK),
    ("marco", "/leads/asesor", PHONE),
    ("marco", "/leads/historial", PHONE),
    ("carla", "/turnos/operador", DESK),
    ("tomas", "/turnos/admin", DESK),
    ("tomas", "/turnos/configuracion", DESK),
    ("tomas", "/turnos/reportes", DESK),
    ("luisd", "/cargue/despacho", DESK),
    ("luisd", "/cargue/plantillas", DESK),
    ("vale", "/cargue/vendedor", PHONE),
    ("sofia", "/inbox/", DESK),
    ("sofia", "/inbox/", PHONE),
    ("jefa", "/admin/personas", DESK),
    ("jefa", "/admin/personas", PHONE),
]


async def test_every_page_passes_axe(
    full: FullServer,
    contexts: Contexts,  # noqa: F811
) -> None:
    audit = Audit()
    for url in PUBLIC:
        page = await open_as(contexts, full, None, url)
        await audit.check(page, url)
    # /admin with the API key typed in, as an operator of the server does.
    page = await open_as(contexts, full, None, "/admin")
    await audit.check(page, "/admin (locked)")
    await page.locator("input[type=password]").first.fill(API_KEY)
    await page.locator("input[type=password]").first.press("Enter")
    await page.wait_for_selector("#overview, .stat, table", state="attached")
    await audit.check(page, "/admin")
    for username, url, viewport in SIGNED_IN:
        page = await open_as(contexts, full, username, url, viewport)
        await audit.check(page, f"{url} ({username}, {viewport['viewport']['width']} px)")
    assert not audit.found, "\n" + "\n".join(audit.found)


async def test_the_main_dialogs_and_states_pass_axe(
    full: FullServer,
    contexts: Contexts,  # noqa: F811
) -> None:
    audit = Audit()
    # The GTR derives a lead: the assign dialog; the CSV import dialog.
    gtr = await open_as(contexts, full, "gabriela", "/leads/gtr")
    await gtr.locator('tr[data-id] [data-action="assign"]').first.click()
    await gtr.wait_for_selector(".assign-dialog[open]")
    await audit.check(gtr, "leads: assign dialog", "dialog[open]")
    await gtr.keyboard.press("Escape")
    await gtr.locator("#btn-import").click()
    await gtr.wait_for_selector(".import-dialog[open]")
    await audit.check(gtr, "leads: CSV import dialog", "dialog[open]")
    # The inbox with a conversation open, on a desk and on a phone.
    for viewport in (DESK, PHONE):
        inbox = await open_as(contexts, full, "sofia", "/inbox/", viewport)
        await inbox.locator("#convs .ib-conv").first.click()
        await inbox.wait_for_selector("#msgs")
        await audit.check(inbox, f"inbox: chat open ({viewport['viewport']['width']} px)")
    assert not audit.found, "\n" + "\n".join(audit.found)
