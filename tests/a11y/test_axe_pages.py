"""Every page of relevo and its apps, and every dialog and form they open,
pass axe-core (WCAG 2.1 A and AA) with zero violations: the index, sign-in,
the demo, /admin, and each app's screens as the person who uses them sees
them after signing in, on a desk or a phone as they would use it.

CI time: one server and one Chromium; people signed in by the login page's
own call (the login page has its own audit, its flow its own tests), so only
the screen audited is loaded; each screen's dialogs opened on the screen
just audited; and the journeys (independent tabs, each adding to the demo
data only what it needs) walked ``AT_ONCE`` at a time. The inbox's and
cargue's own dialogs are walked beside their app tests
(tests/apps/*/test_*axe*.py); tests/a11y/test_dialogs_listed.py checks that
together they open every dialog the pages can open.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Locator, Page, expect

from relevo.accounts.http import SignIn
from relevo.apps.inbox.kinds import CONVERSATION
from relevo.apps.inbox.options import parse_options
from relevo.apps.inbox.service import InboxService
from tests.a11y.axe import dialog_violations, report, violations
from tests.apps.browsing import DESK, PHONE, Contexts, contexts
from tests.helpers import timeout
from tests.web.fullserver import API_KEY, FullServer, start_full_server

__all__ = ["contexts"]

# the whole walk is one test (one server); on a loaded machine it takes a while
pytestmark = [pytest.mark.browser, pytest.mark.timeout(timeout(300))]

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
AT_ONCE = 3  # tabs walked at the same time

Journey = Callable[[], Awaitable[None]]


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

    async def axe_dialog(self, page: Page, name: str, opened_by: Locator | None = None) -> None:
        """The overlay named ``name`` (tests/a11y/dialogs.py): the one open, or
        the one a click on ``opened_by`` opens, closed with Escape after."""
        if opened_by is not None:
            await opened_by.click()
        found = await dialog_violations(page, name)
        if found:
            self.found.append(report(f"dialog {name}", found))
        if opened_by is not None:
            await page.keyboard.press("Escape")


async def open_as(
    contexts: Contexts,  # noqa: F811
    full: FullServer,
    username: str | None,
    url: str,
    viewport: dict[str, Any] = DESK,
) -> Page:
    """A new tab at ``url``, signed in as ``username`` by the call the login
    page makes, from the tab's own browser context (so it holds the cookie)."""
    ctx, page = await contexts.page(bypass_csp=True, **viewport)
    if username is not None:
        res = await ctx.request.post(
            full.url + "/auth/login",
            data={"username": username, "password": PASSWORD, "next": ""},
            headers={"Origin": full.url},
        )
        assert res.ok, f"{username} could not sign in: {res.status} {await res.text()}"
    # A page of the full demo loads all four apps' assets; several journeys
    # open pages at once, so a busy machine gets more than a condition's 10 s.
    await page.goto(full.url + url, timeout=timeout(30) * 1000)
    return page


async def walk(journeys: list[Journey]) -> None:
    """Run independent journeys (each in its own tabs), ``AT_ONCE`` at a time."""
    gate = asyncio.Semaphore(AT_ONCE)

    async def one(journey: Journey) -> None:
        async with gate:
            await journey()

    await asyncio.gather(*(one(j) for j in journeys))


PUBLIC = ["/", "/login", "/static/demo.html", "/turnos/", "/turnos/kiosco", "/turnos/monitor"]
# screens audited as they open, no dialog opened on them
PLAIN: list[tuple[str, str, dict[str, Any]]] = [
    ("marco", "/leads/historial", PHONE),
    ("tomas", "/turnos/admin", DESK),
    ("tomas", "/turnos/reportes", DESK),
    ("luisd", "/cargue/despacho", DESK),
    ("luisd", "/cargue/plantillas", DESK),
    ("vale", "/cargue/vendedor", PHONE),
    ("jefa", "/admin/personas", PHONE),
]

ISSUE_FOR_MY_MESA = """async () => {
  const mesa = new URLSearchParams(location.search).get("mesa");
  const config = await (await fetch("/api/turnos/config")).json();
  for (const tramite of config.mesas.find((m) => m.id === mesa).tramites) {
    const res = await fetch("/api/turnos/turnos", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ tramite_id: tramite }),
    });
    if (!res.ok) throw new Error(`kiosk: ${res.status} ${await res.text()}`);
  }
}"""


async def test_every_page_dialog_and_form_passes_axe(
    full: FullServer,
    contexts: Contexts,  # noqa: F811
) -> None:
    audit = Audit()

    def screen(username: str | None, url: str, viewport: dict[str, Any] = DESK) -> Journey:
        async def journey() -> None:
            page = await open_as(contexts, full, username, url, viewport)
            who = f" ({username}, {viewport['viewport']['width']} px)" if username else ""
            await audit.check(page, url + who)

        return journey

    # A lead for Marco's wizard, left out of the GTR's bulk derivation.
    wizard_lead = (await full.records.find("lead", {"state": "nuevo"}, limit=1))[0].id
    await full.records.transition("lead", wizard_lead, "assign", {"asesor_id": "marco"}, by="g1")
    # A chat longer than its pane (it scrolls), for Sofía to open.
    inbox_service = InboxService(full.records, parse_options({}))
    conv = (await full.records.find(CONVERSATION, {"tenant": "condorito"}, limit=1))[0]
    for i in range(15):
        await inbox_service.incoming("condorito", conv.get("contact_phone"), f"Mensaje {i + 1}")

    async def gtr() -> None:
        page = await open_as(contexts, full, "gabriela", "/leads/gtr")
        await audit.check(page, "/leads/gtr (gabriela)")
        # Derive one lead; import a CSV; create one; the keyboard shortcuts.
        await audit.axe_dialog(
            page, "leads-assign", opened_by=page.locator('tr[data-id] [data-action="assign"]').first
        )
        await audit.axe_dialog(page, "leads-import", opened_by=page.locator("#btn-import"))
        await audit.axe_dialog(page, "leads-new", opened_by=page.locator("#btn-new"))
        await expect(page.locator("dialog[open]")).to_have_count(0)
        await page.locator("body").press("?")
        await audit.axe_dialog(page, "ui-shortcuts")

    async def gtr_lead() -> None:
        page = await open_as(contexts, full, "gabriela", "/leads/gtr")
        # A lead's history, and editing it from there.
        await page.locator("tr[data-id] td.cell-primary").first.click()
        await audit.axe_dialog(page, "leads-history")
        await audit.axe_dialog(
            page, "leads-edit", opened_by=page.locator('.drawer [data-action="edit"]')
        )
        await page.keyboard.press("Escape")
        await expect(page.locator("dialog[open]")).to_have_count(0)
        # Bulk: two picked, derived to one asesor: the confirmation, then the outcome.
        others = page.locator(f'tr[data-id]:not([data-id="{wizard_lead}"]) .bulk-pick')
        for box in (await others.all())[:2]:
            await box.check()
        await page.locator("#bulk-asesor").select_option(index=1)
        await page.locator('[data-action="bulk-assign"]').click()
        await audit.axe_dialog(page, "leads-bulk-confirm")
        await page.locator('dialog[open] button:has-text("Derivar")').click()
        await audit.axe_dialog(page, "leads-bulk")

    async def asesor() -> None:
        page = await open_as(contexts, full, "marco", "/leads/asesor", PHONE)
        await audit.check(page, "/leads/asesor (marco, 390 px)")
        # Turning desk notifications on asks first; the gestión wizard.
        await audit.axe_dialog(page, "ui-attention", opened_by=page.locator(".attention-toggle"))
        await page.locator(f'tr[data-id="{wizard_lead}"] [data-action="gestionar"]').click()
        await audit.axe_dialog(page, "leads-wizard")

    def inbox(viewport: dict[str, Any]) -> Journey:
        async def journey() -> None:
            px = viewport["viewport"]["width"]
            page = await open_as(contexts, full, "sofia", "/inbox/", viewport)
            await audit.check(page, f"/inbox/ (sofia, {px} px)")
            await page.locator(f'#convs .ib-conv[data-id="{conv.id}"]').click()
            await page.wait_for_selector("#msgs")
            await audit.check(page, f"/inbox/ with a long chat open ({px} px)")

        return journey

    async def configuracion() -> None:
        page = await open_as(contexts, full, "tomas", "/turnos/configuracion")
        await audit.check(page, "/turnos/configuracion (tomas)")
        # Each table's form, new and editing a row (forms on the page, not dialogs).
        for table in ("areas", "tramites", "mesas"):
            section = f"#sec-{table}"
            await page.locator(f"{section} [data-editar]").first.wait_for()
            await page.locator(f'[data-nuevo="{table}"]').click()
            await page.locator(f'form[data-form="{table}"]').wait_for()
            await audit.check(page, f"/turnos/configuracion: new ({table})", section)
            await page.locator(f"{section} [data-editar]").first.click()
            editing = page.locator(f'form[data-form="{table}"] input[readonly]')
            await expect(editing).to_have_count(1)
            await audit.check(page, f"/turnos/configuracion: editing ({table})", section)

    async def operador() -> None:
        page = await open_as(contexts, full, "carla", "/turnos/operador")
        await audit.check(page, "/turnos/operador (carla): which mesa")
        await page.locator(".mesa-picker [data-mesa]").last.click()  # she picks her mesa
        await page.locator("#btn-pausa").wait_for()
        await audit.check(page, "/turnos/operador (carla): her mesa")
        await audit.axe_dialog(page, "turnos-pause", opened_by=page.locator("#btn-pausa"))
        # A ticket at the desk, transferred: the one the demo left there, or the
        # next one called (the kiosk issues one for each of her mesa's trámites).
        await page.evaluate(ISSUE_FOR_MY_MESA)
        await page.wait_for_function(
            "() => !document.getElementById('btn-siguiente').disabled"
            " || !document.getElementById('btn-transferir').disabled"
        )
        if await page.locator("#btn-transferir").is_disabled():
            await page.locator("#btn-siguiente").click()
        await expect(page.locator("#btn-transferir")).to_be_enabled()
        await page.locator("#btn-transferir").click()
        await audit.axe_dialog(page, "turnos-transfer")

    async def people() -> None:
        page = await open_as(contexts, full, "jefa", "/admin/personas")
        await audit.check(page, "/admin/personas (jefa)")
        # A new person (and their temporary password), a reset, a deactivation.
        await page.locator("#new-person-btn").click()
        await audit.axe_dialog(page, "people-person")
        await page.locator("#np-username").fill("nuevo")
        await page.locator("#np-name").fill("Nuevo Asesor")
        await page.locator('input[data-role="leads:asesor"]').check()
        await page.locator("#np-submit").click()
        await audit.axe_dialog(page, "people-temporary")
        await page.locator('dialog[open] button:has-text("Hecho")').click()
        row = page.locator('tr[data-username="nuevo"]')
        await audit.axe_dialog(page, "people-reset", opened_by=row.locator('[data-action="reset"]'))
        await row.locator('[data-action="deactivate"]').click()
        await audit.axe_dialog(page, "people-active")

    async def admin() -> None:
        # /admin with the API key typed in, as an operator of the server does.
        page = await open_as(contexts, full, None, "/admin")
        await audit.check(page, "/admin (locked)")
        await page.locator("input[type=password]").first.fill(API_KEY)
        await page.locator("input[type=password]").first.press("Enter")
        await page.wait_for_selector("#overview, .stat, table", state="attached")
        await audit.check(page, "/admin")
        # A channel's presence (the monitor's, at least), and disconnecting a connection.
        await open_as(contexts, full, None, "/turnos/monitor")
        await audit.axe_dialog(
            page, "admin-channel", opened_by=page.locator("#chan-table tbody tr[data-key]").first
        )
        await page.locator("#conn-table button", has_text="Desconectar").first.click()
        await audit.axe_dialog(page, "admin-disconnect")

    async def kitchen() -> None:
        # The UI kit's own page shows each overlay.
        page = await open_as(contexts, full, None, "/static/ui/kitchen.html")
        await audit.check(page, "/static/ui/kitchen.html")
        await audit.axe_dialog(page, "kitchen-drawer", opened_by=page.locator("#k-drawer"))
        await audit.axe_dialog(page, "kitchen-dialog", opened_by=page.locator("#k-dialog"))
        await audit.axe_dialog(page, "kitchen-confirm", opened_by=page.locator("#k-confirm"))
        await page.locator("#k-new").click()
        await audit.axe_dialog(page, "kitchen-prompt")

    # the longest first, so the last few do not run alone
    await walk(
        [
            gtr_lead,
            gtr,
            operador,
            configuracion,
            people,
            admin,
            asesor,
            inbox(DESK),
            inbox(PHONE),
            kitchen,
            *(screen(None, url) for url in PUBLIC),
            *(screen(*row) for row in PLAIN),
        ]
    )
    assert not audit.found, "\n" + "\n".join(audit.found)
