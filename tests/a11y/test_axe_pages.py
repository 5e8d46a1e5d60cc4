"""Every page of relevo and its apps, and every dialog they open, pass
axe-core (WCAG 2.1 A and AA) with zero violations: the index, sign-in, the
demo, /admin, and each app's screens as the person who uses them sees them
after signing in, on a desk or a phone as they would use it.

CI time: one server and one Chromium for the module, people signed in by
the login page's own call (no login page loaded per screen), and the screens
walked a few at a time (independent tabs; the journeys only add to the demo
data, each what it needs). The inbox's and cargue's own dialogs are walked
beside their app tests (tests/apps/*/test_*axe*.py);
tests/a11y/test_dialogs_listed.py checks that together they open every one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, async_playwright, expect

from relevo.accounts.http import SignIn
from relevo.apps.inbox.kinds import CONVERSATION
from relevo.apps.inbox.options import parse_options
from relevo.apps.inbox.service import InboxService
from tests.a11y.axe import dialog_violations, report, violations
from tests.apps.browsing import CHROMIUM, CHROMIUM_ARGS, DESK, HAVE_CHROMIUM, PHONE, Contexts
from tests.helpers import missing_service, timeout
from tests.web.fullserver import API_KEY, FullServer, start_full_server

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

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


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def full(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FullServer]:
    srv = await start_full_server(tmp_path_factory.mktemp("a11y") / "a11y.db", demo=True)
    sign_in: SignIn = srv.server.app.state.sign_in
    for username, (name, roles, tenant) in PEOPLE.items():
        await sign_in.accounts.create(
            username, PASSWORD, display_name=name, roles=roles, tenant=tenant
        )
    try:
        yield srv
    finally:
        await srv.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    if not HAVE_CHROMIUM:
        missing_service(f"{CHROMIUM} is not installed (apt-get install chromium)")
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(chromium.close(), timeout(20))


@pytest_asyncio.fixture(loop_scope="module")
async def contexts(browser: Browser) -> AsyncIterator[Contexts]:
    made = Contexts(browser)
    try:
        yield made
    finally:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(made.close(), timeout(20))
    assert not made.errors, f"uncaught errors in the pages: {made.errors}"


class Audit:
    """Collects what axe finds on each screen, so one run names them all."""

    def __init__(self) -> None:
        self.found: list[str] = []

    async def check(self, page: Page, where: str, include: str | None = None) -> None:
        await page.wait_for_load_state("networkidle")
        found = await violations(page, include)
        if found:
            self.found.append(report(where, found))

    async def axe_dialog(self, page: Page, name: str) -> None:
        """The open overlay named ``name`` (tests/a11y/dialogs.py)."""
        found = await dialog_violations(page, name)
        if found:
            self.found.append(report(f"dialog {name}", found))

    def assert_clean(self) -> None:
        assert not self.found, "\n" + "\n".join(self.found)


async def open_as(
    contexts: Contexts,
    full: FullServer,
    username: str | None,
    url: str,
    viewport: dict[str, Any] = DESK,
) -> Page:
    """A new tab at ``url``, signed in as ``username``: the sign-in call the
    login page makes, from the tab's own browser context (its cookie), so
    only the page audited is loaded (the login page has its own audit, and
    its flow its own tests: tests/apps/kit)."""
    ctx, page = await contexts.page(bypass_csp=True, **viewport)
    if username is not None:
        res = await ctx.request.post(
            full.url + "/auth/login",
            data={"username": username, "password": PASSWORD, "next": ""},
            headers={"Origin": full.url},
        )
        assert res.ok, f"{username} could not sign in: {res.status} {await res.text()}"
    await page.goto(full.url + url)
    return page


AT_ONCE = 3  # tabs walked at the same time


async def walk(journeys: list[Callable[[], Awaitable[None]]]) -> None:
    """Run independent journeys (each in its own tabs), ``AT_ONCE`` at a time."""
    gate = asyncio.Semaphore(AT_ONCE)

    async def one(journey: Callable[[], Awaitable[None]]) -> None:
        async with gate:
            import time

            t0 = time.monotonic()
            await journey()
            print(f"PROF {getattr(journey, '__name__', journey)} {time.monotonic() - t0:.1f}")

    await asyncio.gather(*(one(j) for j in journeys))


PUBLIC = [
    "/",
    "/login",
    "/static/demo.html",
    "/turnos/",
    "/turnos/kiosco",
    "/turnos/monitor",
    "/static/ui/kitchen.html",
]
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


async def test_every_page_passes_axe(full: FullServer, contexts: Contexts) -> None:
    audit = Audit()

    def public(url: str) -> Callable[[], Awaitable[None]]:
        async def journey() -> None:
            page = await open_as(contexts, full, None, url)
            await audit.check(page, url)

        return journey

    def signed_in(
        username: str, url: str, viewport: dict[str, Any]
    ) -> Callable[[], Awaitable[None]]:
        async def journey() -> None:
            page = await open_as(contexts, full, username, url, viewport)
            await audit.check(page, f"{url} ({username}, {viewport['viewport']['width']} px)")

        return journey

    async def admin() -> None:
        # /admin with the API key typed in, as an operator of the server does.
        page = await open_as(contexts, full, None, "/admin")
        await audit.check(page, "/admin (locked)")
        await page.locator("input[type=password]").first.fill(API_KEY)
        await page.locator("input[type=password]").first.press("Enter")
        await page.wait_for_selector("#overview, .stat, table", state="attached")
        await audit.check(page, "/admin")

    await walk([admin, *(public(u) for u in PUBLIC), *(signed_in(*row) for row in SIGNED_IN)])
    audit.assert_clean()


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


async def test_every_dialog_and_form_passes_axe(full: FullServer, contexts: Contexts) -> None:
    audit = Audit()
    # A lead for Marco's wizard, left out of the GTR's bulk derivation.
    wizard_lead = (await full.records.find("lead", {"state": "nuevo"}, limit=1))[0].id
    await full.records.transition("lead", wizard_lead, "assign", {"asesor_id": "marco"}, by="g1")
    # A chat longer than its pane (it scrolls), for Sofía to open.
    inbox_service = InboxService(full.records, parse_options({}))
    conv = (await full.records.find(CONVERSATION, {"tenant": "condorito"}, limit=1))[0]
    for i in range(15):
        await inbox_service.incoming("condorito", conv.get("contact_phone"), f"Mensaje {i + 1}")
    long_chat = conv.id

    async def gtr() -> None:
        page = await open_as(contexts, full, "gabriela", "/leads/gtr")
        await page.locator("tr[data-id]").first.wait_for()
        # Derive one lead; import a CSV; create one.
        await page.locator('tr[data-id] [data-action="assign"]').first.click()
        await audit.axe_dialog(page, "leads-assign")
        await page.keyboard.press("Escape")
        await page.locator("#btn-import").click()
        await audit.axe_dialog(page, "leads-import")
        await page.keyboard.press("Escape")
        await page.locator("#btn-new").click()
        await audit.axe_dialog(page, "leads-new")
        await page.keyboard.press("Escape")
        # The keyboard shortcuts overlay.
        await page.locator("body").press("?")
        await audit.axe_dialog(page, "ui-shortcuts")

    async def gtr_lead() -> None:
        page = await open_as(contexts, full, "gabriela", "/leads/gtr")
        # A lead's history, and editing it from there.
        await page.locator("tr[data-id] td.cell-primary").first.click()
        await audit.axe_dialog(page, "leads-history")
        await page.locator('.drawer [data-action="edit"]').click()
        await audit.axe_dialog(page, "leads-edit")
        await page.keyboard.press("Escape")
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
        # Turning desk notifications on asks first; the gestión wizard.
        page = await open_as(contexts, full, "marco", "/leads/asesor", PHONE)
        await page.locator(".attention-toggle").click()
        await audit.axe_dialog(page, "ui-attention")
        await page.keyboard.press("Escape")
        await page.locator(f'tr[data-id="{wizard_lead}"] [data-action="gestionar"]').click()
        await audit.axe_dialog(page, "leads-wizard")

    def inbox(viewport: dict[str, Any]) -> Callable[[], Awaitable[None]]:
        async def journey() -> None:
            page = await open_as(contexts, full, "sofia", "/inbox/", viewport)
            await page.locator(f'#convs .ib-conv[data-id="{long_chat}"]').click()
            await page.wait_for_selector("#msgs")
            await audit.check(page, f"inbox: chat open ({viewport['viewport']['width']} px)")

        return journey

    async def configuracion() -> None:
        # Each table's form, new and editing a row (forms on the page, not dialogs).
        page = await open_as(contexts, full, "tomas", "/turnos/configuracion")
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
        # A pause; a ticket at the desk transferred.
        page = await open_as(contexts, full, "carla", "/turnos/operador")
        await page.locator(".mesa-picker [data-mesa]").last.click()  # she picks her mesa
        await page.locator("#btn-pausa").click()
        await audit.axe_dialog(page, "turnos-pause")
        await page.keyboard.press("Escape")
        # the one the demo left at the desk, or the next one called (the
        # kiosk issues one for each of her mesa's trámites first)
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
        # A new person (and their temporary password), a reset, a deactivation.
        page = await open_as(contexts, full, "jefa", "/admin/personas")
        await page.locator("#new-person-btn").click()
        await audit.axe_dialog(page, "people-person")
        await page.locator("#np-username").fill("nuevo")
        await page.locator("#np-name").fill("Nuevo Asesor")
        await page.locator('input[data-role="leads:asesor"]').check()
        await page.locator("#np-submit").click()
        await audit.axe_dialog(page, "people-temporary")
        await page.locator('dialog[open] button:has-text("Hecho")').click()
        row = page.locator('tr[data-username="nuevo"]')
        await row.locator('[data-action="reset"]').click()
        await audit.axe_dialog(page, "people-reset")
        await page.keyboard.press("Escape")
        await row.locator('[data-action="deactivate"]').click()
        await audit.axe_dialog(page, "people-active")

    async def admin() -> None:
        # A channel's presence, and disconnecting a connection.
        await open_as(contexts, full, None, "/turnos/monitor")  # someone on a channel
        page = await open_as(contexts, full, None, "/admin")
        await page.locator("input[type=password]").first.fill(API_KEY)
        await page.locator("input[type=password]").first.press("Enter")
        await page.locator("#chan-table tbody tr[data-key]").first.click()
        await audit.axe_dialog(page, "admin-channel")
        await page.keyboard.press("Escape")
        await page.locator("#conn-table button", has_text="Desconectar").first.click()
        await audit.axe_dialog(page, "admin-disconnect")

    async def kitchen() -> None:
        # The UI kit's own page shows each overlay.
        page = await open_as(contexts, full, None, "/static/ui/kitchen.html")
        await page.locator("#k-drawer").click()
        await audit.axe_dialog(page, "kitchen-drawer")
        await page.keyboard.press("Escape")
        await page.locator("#k-dialog").click()
        await audit.axe_dialog(page, "kitchen-dialog")
        await page.keyboard.press("Escape")
        await page.locator("#k-confirm").click()
        await audit.axe_dialog(page, "kitchen-confirm")
        await page.keyboard.press("Escape")
        await page.locator("#k-new").click()
        await audit.axe_dialog(page, "kitchen-prompt")

    await walk(
        [
            gtr,
            gtr_lead,
            asesor,
            configuracion,
            people,
            operador,
            inbox(DESK),
            inbox(PHONE),
            admin,
            kitchen,
        ]
    )
    audit.assert_clean()
