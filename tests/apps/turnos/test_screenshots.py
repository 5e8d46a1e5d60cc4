"""The pictures of docs/apps/turnos.md: the demo's configuration after a busy
morning (simulated on the records clock, so the figures are minutes, not
seconds), then a few people waiting and three mesas at work, in real time."""

from __future__ import annotations

import datetime as dt
import heapq
import random
import time

import pytest
from playwright.async_api import expect

from relevo.apps.turnos.demo import DEMO_CONFIG
from relevo.clock import VirtualClock
from relevo.records import Actor

from .conftest import ADMIN, IMG, OPERADOR, Screens, StartTurnos, Turnos, settled, token

pytestmark = pytest.mark.browser

KIOSK = Actor.trusted("kiosco")
NAMES = ["Ana Gómez", "Luis Fernández", "Marta Ruiz", "Jorge Díaz", "Sofía Herrera",
         "Pedro Castillo", "Lucía Romero", "Diego Morales", None, None, None]  # fmt: skip


async def _busy_morning(turnos: Turnos, rng: random.Random) -> None:
    """Four hours (at most since midnight) of tickets and desks, in virtual time."""
    real = turnos.records.clock
    midnight = dt.datetime.combine(dt.date.today(), dt.time.min).timestamp()
    span = min(4 * 3600.0, time.time() - midnight - 600)
    if span < 1800:
        return  # just after midnight: no morning to show
    clock = VirtualClock(start=time.time() - span - 300)
    turnos.records.clock = clock
    t = turnos.turnero()
    desks = [(m["id"], m["nombre"]) for m in DEMO_CONFIG["mesas"]]
    events: list[tuple[float, int, str, str, str]] = []  # (at, seq, what, mesa, turno)
    seq = 0

    def at(when: float, what: str, mesa: str = "", turno: str = "") -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(events, (when, seq, what, mesa, turno))

    start = clock.now()
    arrival = start
    while arrival < start + span - 900:
        arrival += rng.expovariate(1 / 70)
        at(arrival, "ticket")
    for mesa, _ in desks:
        at(start + rng.uniform(60, 600), "free", mesa)
    try:
        while events:
            when, _, what, mesa, turno = heapq.heappop(events)
            if when > start + span:
                break
            clock.advance(max(0.0, when - clock.now()))
            if what == "ticket":
                tramite = rng.choice(["consultas", "consultas", "reclamos", "licencias", "pagos"])
                motivo = "adulto_mayor" if rng.random() < 0.12 else None
                await t.emitir(tramite, by=KIOSK, persona_nombre=rng.choice(NAMES),
                               prioridad_motivo=motivo)  # fmt: skip
            elif what == "free":
                called = await t.llamar_siguiente(mesa, by=Actor.trusted("op"))
                if called is None:
                    at(when + 90, "free", mesa)
                elif rng.random() < 0.08:
                    at(when + 300, "no_presento", mesa, called.id)
                else:
                    at(when + rng.uniform(30, 90), "atender", mesa, called.id)
            elif what == "atender":
                await t.accion(turno, "atender", by=Actor.trusted("op"))
                at(when + rng.expovariate(1 / 300) + 60, "finalizar", mesa, turno)
            else:
                await t.accion(turno, what, by=Actor.trusted("op"))
                at(when + rng.uniform(10, 40), "free", mesa)
        for at_desk in await turnos.records.find("turno", {"state": ["llamado", "atendiendo"]}):
            if at_desk.state == "llamado":
                await t.accion(at_desk.id, "atender", by=Actor.trusted("op"))
            await t.accion(at_desk.id, "finalizar", by=Actor.trusted("op"))
        # whoever still waits in the simulated morning left before being called
        for _ in await turnos.records.find("turno", {"state": "en_espera"}):
            called = await t.llamar_siguiente("4", by=Actor.trusted("op"))
            if called is None:
                called = await t.llamar_siguiente("3", by=Actor.trusted("op"))
            if called is None:
                called = await t.llamar_siguiente("caja1", by=Actor.trusted("op"))
            assert called is not None
            await t.accion(called.id, "no_presento", by=Actor.trusted("op"))
    finally:
        turnos.records.clock = real


async def test_screenshots_of_a_busy_morning(start_turnos: StartTurnos, browser: object) -> None:
    turnos = await start_turnos(config=DEMO_CONFIG)
    rng = random.Random(4)
    await _busy_morning(turnos, rng)
    for tramite, nombre, motivo in [
        ("consultas", "Ana Gómez", None), ("reclamos", None, None),
        ("consultas", "Luis Fernández", "embarazada"), ("pagos", "Jorge Díaz", None),
        ("licencias", None, None), ("consultas", "Marta Ruiz", None),
        ("reclamos", "Sofía Herrera", None), ("consultas", None, None), ("pagos", None, None),
    ]:  # fmt: skip
        await turnos.emitir(tramite, persona_nombre=nombre, prioridad_motivo=motivo)
    for mesa, operador in (("caja1", "pablo"), ("3", "rosa"), ("2", "diego")):
        quien = token(operador, "operador")  # one operator per mesa
        called = await turnos.ok("POST", f"/api/turnos/mesas/{mesa}/siguiente", auth=quien)
        assert called["turno"] is not None
        if mesa != "2":
            path = f"/api/turnos/turnos/{called['turno']['id']}/atender"
            await turnos.ok("POST", path, {}, auth=quien)
    screens = Screens(browser, turnos.url)  # type: ignore[arg-type]
    try:
        operador = await screens.open(f"/turnos/operador?mesa=1#token={OPERADOR}")
        monitor = await screens.open("/turnos/monitor", width=1280, height=720)
        admin = await screens.open(f"/turnos/admin#token={ADMIN}", height=900)
        kiosco = await screens.open("/turnos/kiosco", width=1080, height=1000)

        await operador.keyboard.press("n")
        await expect(operador.locator("#actual")).to_have_attribute("data-state", "llamado")
        await expect(monitor.locator("#now-mesa")).to_have_text("Mesa 1")
        await expect(admin.locator("#mesas tbody tr", has_text="Mesa 1")).to_contain_text("Llamado")
        for page, name in ((monitor, "monitor"), (operador, "operador"), (admin, "admin"),
                           (kiosco, "kiosco")):  # fmt: skip
            await settled(page)
            await page.screenshot(path=str(IMG / f"turnos-{name}.png"))
    finally:
        await screens.close()
    assert not screens.errors, screens.errors
