"""The GTR dashboard and the asesor panel in Chromium, one browser context
per user, against a real server: every change shows on every screen that
shows it, within a second, without a reload. Screenshots go to docs/img/."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from tests.helpers import timeout

from .conftest import LeadsServer, Screens

pytestmark = pytest.mark.browser

CHIP = """([id, text]) => {
  const chip = document.querySelector(`tr[data-id="${id}"] .chip`);
  return !!chip && chip.textContent === text;
}"""
GONE = '(id) => !document.querySelector(`tr[data-id="${id}"]`)'
SHOWN = '(id) => !!document.querySelector(`tr[data-id="${id}"]`)'


async def within(page: Any, script: str, arg: Any, seconds: float = 5.0) -> float:
    """Wait until ``script(arg)`` holds, at most ``seconds`` (scaled); how long it took.
    It arrives live, without a reload; how fast is measured by ``relevo bench
    leads`` (docs/benchmarks.md), not asserted on a machine of unknown load."""
    started = time.monotonic()
    await page.wait_for_function(script, arg=arg, timeout=timeout(seconds) * 1000)
    return time.monotonic() - started


async def test_assign_open_complete_live_on_both_screens(
    make_server: Any, screens: Screens
) -> None:
    srv: LeadsServer = await make_server(demo=True)  # seeded: users and 60 leads
    login = await screens.open(srv.url, "g1", "login")
    await screens.shot(login, "leads-login.png")
    gtr = await screens.open(srv.url, "g1", "gtr")
    asesor = await screens.open(srv.url, "4", "asesor")

    # A lead created elsewhere (a backend, an import) shows up on the GTR by itself.
    lead = await srv.create(
        "Rosa Quispe Mamani",
        "987654321",
        campana="Fibra 300 Mbps",
        fuente="Facebook",
        documento="45871236",
    )
    lid = lead["id"]
    await within(gtr, CHIP, [lid, "Nuevo"])
    # The asesor is online: the GTR sees it (presence), live.
    await gtr.wait_for_selector('#asesores [data-asesor="4"][data-status="disponible"]')
    await screens.shot(gtr, "leads-gtr.png")

    # 1. GTR derives it to Lucía through the dialog: the asesor's panel shows it,
    #    the GTR's chip says Derivado, both within a second, no reload.
    await gtr.click(f'tr[data-id="{lid}"] [data-action="assign"]')
    await gtr.wait_for_selector('.assign-dialog [data-asesor="4"] .chip:has-text("En línea")')
    await gtr.click('.assign-dialog [data-asesor="4"]')
    await screens.shot(gtr, "leads-assign.png")
    await gtr.click(".assign-dialog button[type=submit]")
    await within(asesor, SHOWN, lid)
    await within(gtr, CHIP, [lid, "Derivado"])
    await asesor.wait_for_function(CHIP, arg=[lid, "Derivado"])
    await screens.shot(asesor, "leads-asesor.png")

    # 2. The asesor opens the wizard: "En gestión" on the GTR within a second
    #    (the bug of seed 000), and the lock shows.
    await asesor.click(f'tr[data-id="{lid}"] [data-action="gestionar"]')
    await within(gtr, CHIP, [lid, "En gestión"])
    await gtr.wait_for_selector(f'tr[data-id="{lid}"] .lock-dot')
    await gtr.wait_for_selector('#asesores [data-asesor="4"][data-status="ocupado"]')
    await asesor.wait_for_selector(".wizard-dialog")
    await asesor.click('.wizard-dialog .choice:has-text("Contactado")')
    await asesor.click('.wizard-dialog [data-action="next"]')
    await asesor.click('.wizard-dialog .choice:has-text("Interesado")')
    await asesor.fill("#wz-notas", "Quiere el plan de 300 Mbps; llamar mañana a las 10.")
    await screens.shot(asesor, "leads-wizard.png")
    await asesor.click('.wizard-dialog [data-action="next"]')
    await asesor.click('.wizard-dialog .choice:has-text("Enviar propuesta")')

    # Complete: Terminado on the GTR, gone from the asesor's panel.
    await asesor.click('.wizard-dialog [data-action="complete"]')
    await within(gtr, CHIP, [lid, "Terminado"])
    await within(asesor, GONE, lid)
    await asesor.wait_for_selector('.toast:has-text("gestión completada")')
    await gtr.wait_for_selector('#asesores [data-asesor="4"][data-status="disponible"]')

    # The history drawer: every change, who, when, why.
    await gtr.click(f'tr[data-id="{lid}"] td.cell-primary')
    await gtr.wait_for_selector('.timeline [data-event="CLIENT_COMPLETED"]')
    events = await gtr.eval_on_selector_all(
        ".timeline .tl-item", "els => els.map(e => e.dataset.event)"
    )
    assert events == [
        "CLIENT_COMPLETED",
        "CLIENT_UPDATED",
        "CLIENT_UPDATED",
        "CLIENT_IN_GESTION",
        "CLIENT_LOCKED",
        "CLIENT_REASSIGNED",
        "lead.created",
    ]
    await screens.shot(gtr, "leads-history.png")


async def test_timeout_returns_the_lead_and_activity_pushes_it(
    make_server: Any, screens: Screens
) -> None:
    srv: LeadsServer = await make_server({"timeout": 3})
    gtr = await screens.open(srv.url, "g1", "gtr")
    asesor = await screens.open(srv.url, "4", "asesor")
    idle = await srv.create("Jorge Salazar", "945112908")
    busy = await srv.create("Carmen Villanueva", "999231870")
    rec = await srv.assign(idle["id"], "4")
    await srv.assign(busy["id"], "4")
    await within(asesor, SHOWN, busy["id"])

    # The asesor works on one lead: the wizard's heartbeats (every second
    # with a 3 s timeout) keep it en_gestion well past the timeout.
    await asesor.click(f'tr[data-id="{busy["id"]}"] [data-action="gestionar"]')
    await within(gtr, CHIP, [busy["id"], "En gestión"])

    # 3. The other, untouched: Sin gestionar on the GTR and gone from the
    #    asesor's panel within a second of its deadline, with a notice.
    deadline = rec["last_activity"] / 1000 + 3
    await gtr.wait_for_function(CHIP, arg=[idle["id"], "Sin gestionar"], timeout=timeout(6) * 1000)
    assert time.time() - deadline < timeout(1)
    await asesor.wait_for_function(GONE, arg=idle["id"], timeout=timeout(1) * 1000)
    assert time.time() - deadline < timeout(1)
    await gtr.wait_for_selector('.toast:has-text("volvió sin gestionar")')
    # the notice appears behind the open wizard: it is for the other lead
    await asesor.wait_for_selector('.toast:has-text("volvió al GTR")')
    await screens.shot(gtr, "leads-timeout.png")

    await asyncio.sleep(2.5)  # > 5 s since the wizard opened: nothing may happen to it
    assert await gtr.evaluate(CHIP, [busy["id"], "En gestión"])
    # Closing the wizard is the last activity: 3 s later the lead returns.
    closed = time.time()
    await asesor.click('.wizard-dialog [data-action="close"]')
    await gtr.wait_for_function(CHIP, arg=[busy["id"], "Sin gestionar"], timeout=timeout(6) * 1000)
    assert 3 - 0.2 < time.time() - closed < 3 + timeout(1)
    await within(asesor, GONE, busy["id"])


async def test_two_tabs_of_one_asesor_race_for_the_wizard(
    make_server: Any, screens: Screens
) -> None:
    srv: LeadsServer = await make_server()
    lead = await srv.create("Sofía Castillo", "959793160")
    await srv.assign(lead["id"], "4")
    ctx = await screens.context()
    tabs = [await screens.open(srv.url, "4", "asesor", context=ctx) for _ in range(2)]
    gtr = await screens.open(srv.url, "g1", "gtr")
    button = f'tr[data-id="{lead["id"]}"] [data-action="gestionar"]'
    await asyncio.gather(*(t.click(button) for t in tabs))
    await gtr.wait_for_function(CHIP, arg=[lead["id"], "En gestión"])

    async def outcome(page: Any) -> str:
        await page.wait_for_selector(".wizard-dialog, .toast")
        return "wizard" if await page.query_selector(".wizard-dialog") else "refused"

    results = await asyncio.gather(*(outcome(t) for t in tabs))
    assert sorted(results) == ["refused", "wizard"], results
    loser = tabs[results.index("refused")]
    await loser.wait_for_selector('.toast:has-text("Ya tienes este lead abierto en otra pestaña")')
    await loser.wait_for_selector(f'tr[data-id="{lead["id"]}"] .lock-note:has-text("otra pestaña")')
    # The history shows one lock, not two.
    hist = await srv.ok("GET", f"/api/records/lead/{lead['id']}/history", "g1")
    assert [e["event"] for e in hist["entries"]].count("CLIENT_LOCKED") == 1


async def test_asesor_page_receives_no_frame_about_other_asesors_leads(
    make_server: Any, screens: Screens
) -> None:
    # Long enough that the lead asesor 5 opens right after its assign cannot
    # time out first on a busy machine; short enough to see the others do.
    srv: LeadsServer = await make_server({"timeout": 4.0})
    ctx = await screens.context()
    page = await ctx.new_page()
    frames: list[dict[str, Any]] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(json.loads(f))))
    page.on("pageerror", lambda exc: screens.errors.append(str(exc)))
    from .conftest import token

    await page.goto(f"{srv.url}/leads/asesor#token={token('4')}")
    await page.wait_for_function("window.__leadsReady === true")
    gtr = await screens.open(srv.url, "g1", "gtr")

    others = [await srv.create(f"Cliente de Carlos {i}", f"91000000{i}") for i in range(3)]
    await srv.assign(others[0]["id"], "5")
    opened = await srv.ok("POST", f"/api/leads/{others[0]['id']}/open", "5", json={"tab": "x"})
    for lead in others[1:]:
        await srv.assign(lead["id"], "5")
    await srv.ok(
        "POST",
        f"/api/leads/{others[0]['id']}/complete",
        "5",
        json={"fencing_token": opened["lease"]["fencing_token"], "data": {"tipificacion": "venta"}},
    )
    mine = await srv.create("Lead de Lucía", "910000009")
    await srv.assign(mine["id"], "4")
    await within(page, SHOWN, mine["id"])
    await srv.assign(mine["id"], "5")  # taken away: the page hears it leave, then nothing
    await within(page, GONE, mine["id"])
    await page.wait_for_selector('.toast:has-text("reasignado")')
    await gtr.wait_for_function(
        CHIP, arg=[others[1]["id"], "Sin gestionar"], timeout=timeout(15) * 1000
    )

    pubs = [f for f in frames if "off" in f]
    assert pubs, "the page received no publication at all"
    for f in frames:
        if "ch" in f:
            assert f["ch"] in ("asesor:4", "presencia:4"), f
        ok = f.get("ok")
        if isinstance(ok, dict) and "missed" in ok:
            pubs.extend(ok["missed"])
    for f in pubs:
        rec = f["data"]["record"]
        assert f["data"]["id"] == mine["id"], f
        assert "4" in (rec["asesor_id"], rec["previous_asesor_id"]), f
    assert not await page.query_selector("tr[data-id]")


async def test_csv_import_with_broken_rows(
    make_server: Any, screens: Screens, tmp_path: Any
) -> None:
    srv: LeadsServer = await make_server()
    gtr = await screens.open(srv.url, "g1", "gtr")
    csv = tmp_path / "leads.csv"
    csv.write_text(
        "nombre;telefono;documento;campaña;fuente\n"
        "Rosa Quispe;987 654 321;45871236;Fibra 300 Mbps;Facebook\n"
        ";999111222;;Fibra 300 Mbps;Web\n"
        "Jorge Salazar;12;;Fibra 300 Mbps;Web\n"
        "Luis Rojas;987-654-321;;Fibra 300 Mbps;Web\n"
        "Elena Vega;(01) 445-2210;10203040;Portabilidad móvil;Referido\n",
        encoding="utf-8",
    )
    await gtr.keyboard.press("i")
    await gtr.set_input_files("#csv-file", str(csv))
    await gtr.wait_for_selector('.import-dialog [data-summary]:has-text("2 filas válidas de 5")')
    lines = await gtr.eval_on_selector_all(
        ".import-errors tr[data-line]", "els => els.map(e => e.dataset.line)"
    )
    assert lines == ["3", "4", "5"]
    await gtr.wait_for_selector('.import-errors td:has-text("igual que la línea 2")')
    await screens.shot(gtr, "leads-import.png")
    assert (await srv.ok("GET", "/api/records/lead", "g1"))["rows"] == []  # a check writes nothing
    await gtr.click('.import-dialog button:has-text("Importar 2 leads")')
    await gtr.wait_for_selector('.import-dialog [data-imported="2"]')
    await gtr.keyboard.press("Escape")
    rows = (await srv.ok("GET", "/api/records/lead", "g1"))["rows"]
    assert sorted(r["nombre"] for r in rows) == ["Elena Vega", "Rosa Quispe"]
    for r in rows:
        await within(gtr, CHIP, [r["id"], "Nuevo"])


async def test_phone_layout(make_server: Any, screens: Screens) -> None:
    srv: LeadsServer = await make_server()
    for i in range(3):
        lead = await srv.create(f"Cliente {i + 1}", f"98765432{i}", campana="Fibra 300 Mbps")
        await srv.assign(lead["id"], "4")
    phone = await screens.open(
        srv.url, "4", "asesor", width=390, height=844, is_mobile=True, has_touch=True
    )
    await phone.wait_for_selector("tr[data-id]")
    width = await phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    await screens.shot(phone, "leads-asesor-phone.png")
    await phone.click('tr[data-id] [data-action="gestionar"]')
    await phone.wait_for_selector(".wizard-dialog")
    await screens.shot(phone, "leads-wizard-phone.png")


async def test_the_gtr_board_opens_on_the_newest_leads(make_server: Any, screens: Screens) -> None:
    """More leads than ``max_leads``: the board shows the newest, not the oldest."""
    srv: LeadsServer = await make_server({"max_leads": 3})
    made = [(await srv.create(f"Cliente {n}", f"98765432{n}"))["id"] for n in range(5)]
    gtr = await screens.open(srv.url, "g1", "gtr")
    for lid in made[2:]:
        await gtr.wait_for_selector(f'tr[data-id="{lid}"]')
    for lid in made[:2]:
        assert await gtr.locator(f'tr[data-id="{lid}"]').count() == 0
    newer = (await srv.create("Cliente nuevo", "987654329"))["id"]
    await gtr.wait_for_selector(f'tr[data-id="{newer}"]')
