"""The four screens in Chromium, one browser context per screen: must hold 1
(kiosk → operator and admin within 1 s), 2 (call → monitor within 1 s, recall
re-highlights, no name in any frame the monitor receives) and 4 (no-show on
every screen). The kiosk's ticket screen goes to docs/img; the other
pictures come from test_screenshots.py."""

from __future__ import annotations

import time

import pytest
from playwright.async_api import expect

from tests.helpers import timeout

from .conftest import ADMIN, IMG, OPERADOR, Screens, StartTurnos, Turnos, settled, token

pytestmark = pytest.mark.browser


def _within(deadline: float) -> float:
    """Playwright's timeout (ms) for what is left of a deadline."""
    return max(50.0, (deadline - time.monotonic()) * 1000)


async def test_a_kiosk_ticket_reaches_the_operator_and_the_admin_within_a_second(
    turnos: Turnos, screens: Screens
) -> None:
    operador = await screens.open(f"/turnos/operador?mesa=1#token={OPERADOR}")
    admin = await screens.open(f"/turnos/admin#token={ADMIN}")
    kiosco = await screens.open("/turnos/kiosco", width=1080, height=1200)
    await expect(admin.locator("#v-en-espera")).to_have_text("0")
    await expect(operador.locator("#cola")).to_contain_text("Nadie en espera")

    await kiosco.click("[data-tramite=consultas]")
    await kiosco.fill("#nombre", "Ana Test")
    started = time.monotonic()
    await kiosco.click("[data-prioridad=no]")
    deadline = started + timeout(1.0)
    await expect(kiosco.locator("#ticket-numero")).to_have_text("A-001", timeout=_within(deadline))
    row = operador.locator("#cola tbody tr", has_text="A-001")
    await expect(row).to_be_visible(timeout=_within(deadline))
    await expect(admin.locator("#v-en-espera")).to_have_text("1", timeout=_within(deadline))
    assert time.monotonic() - started < timeout(1.0)
    await expect(kiosco.locator("#ticket-adelante")).to_have_text("Usted es el próximo.")
    await expect(operador.locator("#cola-count")).to_have_text("1")
    await expect(row).to_contain_text("Consultas")
    tramite = admin.locator("#tramites tbody tr", has_text="Consultas")
    await expect(tramite.locator("td").nth(1)).to_have_text("1")

    # a second person, with priority, goes before
    await kiosco.click("#listo")
    await kiosco.click("[data-tramite=consultas]")
    await kiosco.click("[data-prioridad=embarazada]")
    await expect(kiosco.locator("#ticket-numero")).to_have_text("A-002")
    first = operador.locator("#cola tbody tr:not(.empty-row)").first
    await expect(first).to_contain_text("A-002")
    await expect(first).to_contain_text("Prioritario")
    await settled(kiosco)
    await kiosco.screenshot(path=str(IMG / "turnos-kiosco-ticket.png"))


async def test_a_call_shows_on_the_monitor_within_a_second_and_a_recall_rehighlights_it(
    turnos: Turnos, screens: Screens
) -> None:
    for tramite in ("reclamos", "pagos", "consultas", "pagos"):
        await turnos.emitir(tramite)
    for mesa in ("1", "caja1", "caja1"):
        called = await turnos.siguiente(mesa)
        assert called is not None
        if mesa == "caja1":
            await turnos.accion(called["id"], "atender")
            await turnos.accion(called["id"], "finalizar")
        else:
            await turnos.accion(called["id"], "atender")
    monitor = await screens.open("/turnos/monitor", width=1280, height=720, name="monitor")
    operador = await screens.open(f"/turnos/operador?mesa=2#token={OPERADOR}")
    await expect(monitor.locator("#list li")).to_have_count(2)
    await turnos.emitir(
        "consultas", persona_nombre="María Privada", prioridad_motivo="discapacidad"
    )
    await expect(operador.locator("#cola tbody tr", has_text="A-002")).to_be_visible()

    started = time.monotonic()
    await operador.keyboard.press("n")
    deadline = started + timeout(1.0)
    now = monitor.locator("#now")
    await expect(monitor.locator("#now-numero")).to_have_text("A-002", timeout=_within(deadline))
    await expect(monitor.locator("#now-mesa")).to_have_text("Mesa 2", timeout=_within(deadline))
    assert time.monotonic() - started < timeout(1.0)
    await expect(now).to_contain_text("A-002 → Mesa 2")
    await expect(now).to_have_attribute("data-calls", "1")
    await expect(now).to_have_class("wall-now is-calling")
    await expect(monitor.locator("body")).to_have_attribute("data-chimes", "1")
    # the operator sees who it is; the monitor never does
    await expect(operador.locator("#actual-numero")).to_have_text("A-002")
    await expect(operador.locator("#actual-body")).to_contain_text("María Privada")
    await expect(monitor.locator("#list li")).to_have_count(3)
    await expect(monitor.locator("#list li").first).to_contain_text("C-002")

    await settled(monitor)
    await monitor.evaluate("document.getElementById('now').classList.remove('is-calling')")
    started = time.monotonic()
    await operador.keyboard.press("r")
    deadline = started + timeout(1.0)
    await expect(now).to_have_attribute("data-calls", "2", timeout=_within(deadline))
    await expect(now).to_have_class("wall-now is-calling", timeout=_within(deadline))
    await expect(monitor.locator("body")).to_have_attribute("data-chimes", "2")
    await expect(monitor.locator("#now-numero")).to_have_text("A-002")
    await expect(operador.locator("#actual-body")).to_contain_text("Llamado 2 veces")

    frames = screens.frames["monitor"]
    assert any("turno_llamado" in f for f in frames)
    for secret in ("persona_nombre", "prioridad_motivo", "María", "discapacidad"):
        assert not [f for f in frames if secret in f], secret
    assert "María" not in await monitor.content()


async def test_a_no_show_reaches_every_screen(start_turnos: StartTurnos, browser: object) -> None:
    turnos = await start_turnos({"no_show_minutes": 0.03})  # 1.8 s
    screens = Screens(browser, turnos.url)
    try:
        for _ in range(3):
            await turnos.emitir("consultas")
        await turnos.emitir("reclamos")
        first = await turnos.siguiente("2")
        assert first is not None
        await turnos.accion(first["id"], "atender")
        await turnos.accion(first["id"], "finalizar")

        operador = await screens.open(f"/turnos/operador?mesa=1#token={OPERADOR}")
        monitor = await screens.open("/turnos/monitor")
        admin = await screens.open(f"/turnos/admin#token={ADMIN}", height=900)
        await expect(admin.locator("#v-no-presento")).to_have_text("0")

        await operador.click("#btn-siguiente")
        await expect(monitor.locator("#now-numero")).to_have_text("A-002")
        await expect(operador.locator("#actual")).to_have_attribute("data-state", "llamado")
        await expect(operador.locator("#actual-body [data-countdown]")).to_be_visible()

        # nobody comes: 1.8 s later the timer closes it, on every screen
        await expect(operador.locator("#actual")).to_have_attribute("data-state", "", timeout=6000)
        await expect(operador.locator(".toast")).to_contain_text("A-002 no se presentó")
        await expect(operador.locator("#btn-siguiente")).to_be_enabled()
        # the absent number leaves the big panel (issue 15, defect 6); the list keeps it
        absent = monitor.locator("#list li", has_text="A-002")
        await expect(absent).to_have_attribute("data-state", "no_presento")
        await expect(monitor.locator("#now-numero")).to_have_text("A-001")
        await expect(monitor.locator("#now-label")).to_have_text("Último llamado")
        await expect(admin.locator("#v-no-presento")).to_have_text("1")
        mesa = admin.locator("#mesas tbody tr", has_text="Mesa 1")
        await expect(mesa.locator('td[data-label="No se presentaron"]')).to_have_text("1")
        await expect(admin.locator("#v-atendidos")).to_have_text("1")

        await operador.click("#btn-siguiente")  # the mesa goes on with the next one
        await expect(operador.locator("#actual-numero")).to_have_text("A-003")
        await expect(admin.locator("#mesas tbody tr", has_text="Mesa 1")).to_contain_text("A-003")
    finally:
        await screens.close()
    assert not screens.errors, screens.errors


async def test_a_second_operator_at_an_open_mesa_is_told_who_has_it(
    turnos: Turnos, screens: Screens
) -> None:
    """One operator per mesa: op2 opening Mesa 1 while op1 has it sees a
    Spanish banner and cannot call; once op1 changes mesa, op2 takes it."""
    op2 = token("op2", "operador")
    primera = await screens.open(f"/turnos/operador?mesa=1#token={OPERADOR}")
    await expect(primera.locator("#cola")).to_contain_text("Nadie en espera")
    await expect(primera.locator("#ocupada")).to_be_hidden()
    await turnos.emitir()
    segunda = await screens.open(f"/turnos/operador?mesa=1#token={op2}")
    banner = segunda.locator("#ocupada")
    await expect(banner).to_be_visible()
    await expect(banner).to_contain_text("La Mesa 1 está abierta por op1.")
    await segunda.click("#btn-siguiente")
    await expect(segunda.locator(".toast")).to_contain_text("La Mesa 1 está abierta por op1.")

    await primera.click("#cambiar")  # op1 leaves the mesa
    await expect(primera.locator("#mesas")).to_be_visible()
    await segunda.click("#ocupada-reintentar")
    await expect(banner).to_be_hidden()
    await segunda.click("#btn-siguiente")
    await expect(segunda.locator("#actual-body")).to_contain_text("A-001")


async def test_tokens_travel_in_the_fragment_and_never_in_a_url(
    turnos: Turnos, screens: Screens
) -> None:
    """A staff or kiosk token is handed over as ``#token=``: browsers never
    send a fragment, so it is in no request line (access logs), no Referer
    and, once taken, not in the address bar or the tab's history. An old
    ``?token=`` link is not honoured (the query already went to the server):
    it is redirected away before the page loads anything that would carry it
    on in a Referer."""
    kiosk = token("k1", "kiosco")
    operador = await screens.open(f"/turnos/operador?mesa=1#token={OPERADOR}")
    admin = await screens.open(f"/turnos/admin#token={ADMIN}")
    kiosco = await screens.open(f"/turnos/kiosco#token={kiosk}", width=1080, height=1200)
    await kiosco.click("[data-tramite=consultas]")
    await kiosco.click("[data-prioridad=no]")
    await expect(kiosco.locator("#ticket-numero")).to_have_text("A-001")
    await expect(operador.locator("#cola tbody tr", has_text="A-001")).to_be_visible()
    await operador.click("#btn-siguiente")
    await expect(operador.locator("#actual-numero")).to_have_text("A-001")
    await expect(admin.locator("#v-en-espera")).to_have_text("0")
    for page in (operador, admin, kiosco):
        assert "token" not in page.url, page.url  # replaced, not pushed: gone from history
    assert operador.url.endswith("/turnos/operador?mesa=1")

    old = await screens.open(f"/turnos/operador?mesa=1&token={OPERADOR}", ready=False)
    await expect(old.locator("#login form")).to_be_visible()
    assert "token" not in old.url

    assert len(screens.requests) > 10
    old_link = [url for url, _ in screens.requests if f"token={OPERADOR}" in url]
    assert len(old_link) == 1
    for url, referer in screens.requests:
        if url in old_link:
            continue
        for secret in (OPERADOR, ADMIN, kiosk):
            assert secret not in url, url
            assert secret not in referer, (url, referer)
