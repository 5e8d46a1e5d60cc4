"""Issue 15, "Missing" → Turnos, in Chromium: the supervisor's configuration
and report screens, the operator's pause and transfer, the estimated wait on
the kiosk ticket and the monitor, and attention outside the tab (sound,
desktop notification with the permission granted by the test, the count in
the title)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.async_api import expect

from .conftest import ADMIN, IMG, OPERADOR, Screens, Turnos, token

pytestmark = pytest.mark.browser
OP2 = token("op2", "operador")


async def test_the_supervisor_configures_areas_tramites_and_mesas_on_screen(
    turnos: Turnos, screens: Screens
) -> None:
    page = await screens.open(f"/turnos/configuracion#token={ADMIN}", height=1400)
    kiosco = await screens.open("/turnos/kiosco", width=1080, height=1200)

    # a new area, then a trámite in it: the kiosk offers it at once
    area = page.locator("form[data-form=areas]")
    await area.locator("[name=nombre]").fill("Licencias")
    await area.locator("button[type=submit]").click()
    await expect(page.locator("#sec-areas tbody")).to_contain_text("Licencias")
    tramite = page.locator("form[data-form=tramites]")
    await tramite.locator("[name=nombre]").fill("Licencia de conducir")
    await tramite.locator("[name=prefijo]").fill("L")
    await tramite.locator("[name=area_id]").select_option("licencias")
    await tramite.locator("button[type=submit]").click()
    await expect(page.locator("#sec-tramites tbody")).to_contain_text("Licencia de conducir")
    await expect(kiosco.locator("[data-tramite=licencia-de-conducir]")).to_be_visible()

    # a new mesa serving it
    mesa = page.locator("form[data-form=mesas]")
    await mesa.locator("[name=id]").fill("lic1")
    await mesa.locator("[name=nombre]").fill("Ventanilla L")
    await mesa.locator("[name=area_id]").select_option("licencias")
    await mesa.locator("input[name=tramites][value=licencia-de-conducir]").check()
    await mesa.locator("button[type=submit]").click()
    await expect(page.locator("#sec-mesas tbody")).to_contain_text("Ventanilla L")
    config = await turnos.ok("GET", "/api/turnos/config", auth=None)
    lic1 = next(m for m in config["mesas"] if m["id"] == "lic1")
    assert lic1["tramites"] == ["licencia-de-conducir"]

    # a prefix used twice: the form says why, nothing is written
    await tramite.locator("[name=nombre]").fill("Otra")
    await tramite.locator("[name=prefijo]").fill("A")
    await tramite.locator("button[type=submit]").click()
    await expect(tramite.locator(".error")).to_contain_text("usan la misma letra A")

    # editing a mesa an operator has open: the supervisor is told who has it
    await turnos.ok("POST", "/api/turnos/mesas/1/abrir")
    await page.click("#sec-mesas [data-editar='1']")
    mesa = page.locator("form[data-form=mesas]")
    await mesa.locator("[name=nombre]").fill("Mesa Uno")
    await mesa.locator("button[type=submit]").click()
    await expect(mesa.locator(".error")).to_have_text(
        "La Mesa 1 está abierta por op1: pida que la cierre antes de cambiar su configuración."
    )
    await page.screenshot(path=str(IMG / "turnos-configuracion.png"), full_page=True)


async def test_an_operator_pauses_and_the_admin_and_monitor_see_it(
    turnos: Turnos, screens: Screens
) -> None:
    await turnos.emitir("consultas")
    operador = await screens.open(f"/turnos/operador?mesa=1#token={OPERADOR}")
    admin = await screens.open(f"/turnos/admin#token={ADMIN}")
    monitor = await screens.open("/turnos/monitor", width=1280, height=720)

    await operador.keyboard.press("p")
    await operador.select_option("#pausa-motivo", "Almuerzo")
    await operador.click("dialog >> text=Iniciar pausa")
    await expect(operador.locator("#pausa")).to_be_visible()
    await expect(operador.locator("#pausa-texto")).to_contain_text("Mesa en pausa · Almuerzo")
    await expect(operador.locator("#btn-siguiente")).to_be_disabled()
    await expect(operador.locator("#btn-reanudar")).to_be_focused()
    row = admin.locator("#mesas tbody tr", has_text="Mesa 1")
    await expect(row).to_contain_text("En pausa · Almuerzo")
    await expect(monitor.locator("#pausas")).to_have_text("En pausa: Mesa 1")
    await operador.screenshot(path=str(IMG / "turnos-operador-pausa.png"))

    await operador.click("#btn-reanudar")
    await expect(operador.locator("#pausa")).to_be_hidden()
    await expect(operador.locator("#btn-siguiente")).to_be_enabled()
    await expect(monitor.locator("#pausas")).to_be_hidden()
    await expect(row).not_to_contain_text("En pausa")
    await operador.keyboard.press("n")
    await expect(operador.locator("#actual-numero")).to_have_text("A-001")


async def test_a_transferred_ticket_reaches_the_other_mesa_with_its_number(
    turnos: Turnos, screens: Screens
) -> None:
    await turnos.emitir("consultas", prioridad_motivo="adulto_mayor")
    await turnos.emitir("consultas")
    uno = await screens.open(f"/turnos/operador?mesa=1#token={OPERADOR}")
    dos = await screens.open(f"/turnos/operador?mesa=2#token={OP2}")
    await uno.click("#btn-siguiente")
    await expect(uno.locator("#actual-numero")).to_have_text("A-001")
    await expect(dos.locator("#cola tbody tr[data-key]")).to_have_count(1)  # only A-002

    await uno.keyboard.press("t")
    await uno.select_option("#transferir-destino", "mesa:2")
    await uno.click("dialog .btn-primary")
    await expect(uno.locator("#actual")).to_have_attribute("data-state", "")
    queued = dos.locator("#cola tbody tr", has_text="A-001")
    await expect(queued).to_contain_text("Transferido aquí")
    await expect(queued).to_contain_text("Prioritario")
    await expect(uno.locator("#cola tbody tr[data-key]", has_text="A-001")).to_have_count(0)
    await dos.click("#btn-siguiente")
    await expect(dos.locator("#actual-numero")).to_have_text("A-001")


async def test_the_kiosk_ticket_and_the_monitor_show_an_estimated_wait(
    turnos: Turnos, screens: Screens
) -> None:
    t = await turnos.siguiente("1") if (await turnos.emitir("consultas")) else None
    assert t is not None
    await turnos.accion(t["id"], "atender")
    await turnos.accion(t["id"], "finalizar")
    await turnos.emitir("consultas")
    monitor = await screens.open("/turnos/monitor?area=atencion", width=1280, height=720)
    await expect(monitor.locator("#estimada")).to_contain_text("Espera estimada:")
    kiosco = await screens.open("/turnos/kiosco", width=1080, height=1200)
    await kiosco.click("[data-tramite=consultas]")
    await kiosco.click("[data-prioridad=no]")
    await expect(kiosco.locator("#ticket-adelante")).to_contain_text("1 persona")
    await expect(kiosco.locator("#ticket-estimada")).to_contain_text("Espera estimada:")


async def test_reports_show_a_chart_and_export_csv(
    turnos: Turnos, screens: Screens, tmp_path: Path
) -> None:
    await turnos.ok(
        "POST", "/api/turnos/config",
        {"areas": [{"id": "atencion", "nombre": "=Atención"}]}, auth=ADMIN,
    )  # fmt: skip
    for _ in range(2):
        t = await turnos.siguiente("1") if (await turnos.emitir("consultas")) else None
        assert t is not None
        await turnos.accion(t["id"], "atender")
        await turnos.accion(t["id"], "finalizar")
    await turnos.emitir("pagos")
    page = await screens.open(f"/turnos/reportes#token={ADMIN}", height=1200)
    areas = page.locator("#areas tbody tr", has_text="=Atención")
    await expect(areas.locator('td[data-label="Turnos"]')).to_have_text("2")
    await expect(page.locator("#operadores tbody tr", has_text="op1")).to_contain_text("2")
    await expect(page.locator("#grafico svg rect[data-area=atencion]")).to_have_count(2)
    await expect(page.locator("#grafico svg title")).to_contain_text("=Atención")

    async with page.expect_download() as info:
        await page.click("#csv")
    download = await info.value
    assert download.suggested_filename.endswith(".csv")
    path = tmp_path / "r.csv"
    await download.save_as(path)
    rows = list(csv.reader(io.StringIO(path.read_text("utf-8-sig"))))
    assert ["area", "atencion", "'=Atención"] == rows[1][:3]
    await page.screenshot(path=str(IMG / "turnos-reportes.png"), full_page=True)

    # a range the server refuses: its reason on the page
    await page.fill("#desde", "2020-01-01")
    await page.click("#ver")
    await expect(page.locator("#error")).to_contain_text("como máximo 366 días")


async def test_a_new_ticket_in_the_queue_notifies_an_operator_away_from_the_tab(
    turnos: Turnos, screens: Screens
) -> None:
    page = await screens.open(f"/turnos/operador?mesa=1#token={OPERADOR}")
    await page.context.grant_permissions(["notifications"], origin=turnos.url)
    # the tab is in the background (as when the operator works in another one)
    await page.evaluate(
        "Object.defineProperty(document, 'visibilityState', {get: () => 'hidden'});"
        "document.hasFocus = () => false;"
    )
    await turnos.emitir("consultas")  # avisos off by default: the title counts, nothing else
    await expect(page).to_have_title("(1) Turnos · Mesa 1")
    assert await page.locator("body").get_attribute("data-notifications") is None
    assert await page.locator("body").get_attribute("data-chimes") is None

    await page.click("#avisos")
    await page.click('dialog button:has-text("Activar avisos")')  # after the prompt says what
    await expect(page.locator("#avisos")).to_have_attribute("aria-pressed", "true")
    await turnos.emitir("consultas")
    await expect(page).to_have_title("(2) Turnos · Mesa 1")
    await expect(page.locator("body")).to_have_attribute("data-notifications", "1")
    await expect(page.locator("body")).to_have_attribute("data-chimes", "1")
    await turnos.emitir("pagos")  # not this mesa's queue: no notice
    await turnos.emitir("consultas")
    await expect(page).to_have_title("(3) Turnos · Mesa 1")
    await expect(page.locator("body")).to_have_attribute("data-notifications", "2")
    # kept for this user after a reload
    await page.reload()
    await page.wait_for_selector("body[data-ready=true]")
    await expect(page.locator("#avisos")).to_have_attribute("aria-pressed", "true")
