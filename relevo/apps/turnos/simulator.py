"""THE TURNOS SIMULATOR — demo mode only: a kiosk and operators nobody sees.

Every ``simulate_every`` seconds (jittered, :class:`~relevo.apps.kit.simulate.Ticker`)
it does one thing, through the same :class:`~relevo.apps.turnos.service.Turnero`
calls the screens make:

- an operator whose called turno has had time to walk up starts attending
  it (now and then, ``_NO_SHOW`` of the time, marks it "no se presentó");
- an operator whose turno has been attended long enough (1½–6 minutes, a
  fixed draw per turno) finishes it;
- a free mesa calls the next turno it serves;
- someone takes a ticket at the kiosk: likelier the shorter the queue, so
  the queue hovers around half of ``_MAX_WAITING`` and never passes it.

Each demo operator (:data:`~relevo.apps.turnos.demo.DEMO_OPERADORES`) works
their own mesa and holds it, so the admin sees their names. It never acts
for an operator who is signed in (their mesa is theirs then), nor on a mesa
someone else has open. Called turnos are attended within a minute or so,
long before the no-show timer: nothing times out en masse.

Time comes from the turnero's clock, so the demo's seed runs the same
simulator over the last hour on a clock of the past, and tests run it on
virtual time.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence

from relevo.protocol.errors import RelevoError
from relevo.records import Actor, Record

from ..kit.simulate import Online
from .kinds import ABIERTOS, ATENDIENDO, EN_ESPERA, LLAMADO, ROLE_OPERADOR
from .kinds import MESA_LEASE_S as _LEASE
from .service import Turnero

__all__ = ["MAX_WAITING", "TurnosSimulator"]

MAX_WAITING = 14
"""The simulated kiosk stops issuing at this many waiting."""
_MIN_WAITING = 2
"""Below this many waiting it always issues."""
_WALK_S = 20.0
"""Seconds a called person takes to reach the mesa."""
_NO_SHOW = 0.06
_SERVICE_S = (90.0, 360.0)
_RENEW_S = _LEASE / 2
_TRAMITES = {"consultas": 35, "pagos": 30, "reclamos": 20, "licencias": 15}
_NOMBRES = (
    "Rosa Quispe", "Miguel Salazar", "Carmen Flores", "Luis Mamani", "Elena Rojas",
    "Víctor Chávez", "Sofía Huamán", "Andrés Castillo", "Pilar Vargas", "César Medina",
)  # fmt: skip
_PRIORIDADES = ("adulto_mayor", "embarazada", "discapacidad")


def service_time(turno_id: str) -> float:
    """How long the turno takes at the mesa: a fixed draw per turno, so every
    step of the simulator (and every node) agrees on it."""
    return random.Random(f"servicio:{turno_id}").uniform(*_SERVICE_S)


class TurnosSimulator:
    def __init__(
        self,
        turnero: Turnero,
        online: Online,
        rnd: random.Random,
        operadores: Sequence[tuple[str, str, str, str]],
        *,
        hold_mesas: bool = True,
    ) -> None:
        self.t = turnero
        self.records = turnero.records
        self.online = online
        self.rnd = rnd
        self.operadores = {mesa: (uid, nombre) for uid, nombre, _, mesa in operadores}
        self.hold_mesas = hold_mesas
        """Keep each simulated operator's mesa open (off while the seed
        replays the past: those leases would be long gone)."""
        self.kiosco = Actor.trusted("kiosco")

    def _operador(self, mesa_id: str) -> Actor:
        uid, nombre = self.operadores[mesa_id]
        return Actor(uid, frozenset({ROLE_OPERADOR}), claims={"name": nombre}, privileged=True)

    async def act(self) -> bool:
        """One step; False when there was nothing to do (or it was refused)."""
        now = self.t.clock.now()
        hoy = self.t.hoy(now)
        away = self.online()
        mesas: dict[str, Record] = {}
        for m in await self.records.find("mesa", limit=1000):
            held = m.lease_held(now)
            uid = self.operadores.get(m.id, ("", ""))[0]
            if not uid or uid in away or not m.get("activa", True):
                continue  # not a demo operator's, or its operator is here in person
            if held is not None and held.holder != uid:
                continue  # someone else has it open
            mesas[m.id] = m
        if not mesas:
            return False
        if self.hold_mesas:
            await self._renew(mesas.values(), now)
        abiertos = await self.records.find("turno", {"state": sorted(ABIERTOS)}, limit=10_000)
        today = [r for r in abiertos if r.get("fecha") == hoy]
        waiting = [r for r in today if r.state == EN_ESPERA]
        at_desk = {str(r.get("mesa_id")): r for r in today if r.state in (LLAMADO, ATENDIENDO)}
        chores: list[tuple[str, str, Record | None]] = []
        for mesa_id, mesa in mesas.items():
            t = at_desk.get(mesa_id)
            if t is None:
                serves = set(mesa.get("tramites") or [])
                if any(r.get("tramite_id") in serves for r in waiting):
                    chores.append(("llamar", mesa_id, None))
            elif t.state == LLAMADO and now - (t.get("llamado_at") or 0) / 1000 >= _WALK_S:
                chores.append(("llegar", mesa_id, t))
            elif t.state == ATENDIENDO:
                since = (t.get("atendiendo_at") or 0) / 1000
                if now - since >= service_time(t.id):
                    chores.append(("finalizar", mesa_id, t))
        n = len(waiting)
        issue = n < _MIN_WAITING or self.rnd.random() < 0.5 * (1 - n / MAX_WAITING)
        try:
            if issue or not chores:
                return n < MAX_WAITING and await self._emitir()
            return await self._do(*self.rnd.choice(chores))
        except RelevoError:
            return False  # a person got there first (a locked mesa, a conflict): fine

    async def _renew(self, mesas: Iterable[Record], now: float) -> None:
        for mesa in mesas:
            held = mesa.lease_held(now)
            if held is None or held.expires_at - now < _RENEW_S:
                try:
                    await self.t.abrir_mesa(mesa.id, by=self._operador(mesa.id))
                except RelevoError:
                    pass  # taken by a person this instant: theirs

    async def _emitir(self) -> bool:
        config = await self.records.find("tramite", limit=1000)
        activos = [t.id for t in config if t.get("activo", True)]
        if not activos:
            return False
        weights = [_TRAMITES.get(t, 10) for t in activos]
        tramite = self.rnd.choices(activos, weights)[0]
        roll = self.rnd.random()
        motivo = self.rnd.choice(_PRIORIDADES) if roll < 0.1 else None
        nombre = self.rnd.choice(_NOMBRES) if roll > 0.6 else None
        await self.t.emitir(tramite, by=self.kiosco, prioridad_motivo=motivo, persona_nombre=nombre)
        return True

    async def _do(self, chore: str, mesa_id: str, turno: Record | None) -> bool:
        by = self._operador(mesa_id)
        if chore == "llamar":
            return await self.t.llamar_siguiente(mesa_id, by=by) is not None
        assert turno is not None
        if chore == "llegar":
            accion = "no_presento" if self.rnd.random() < _NO_SHOW else "atender"
            await self.t.accion(turno.id, accion, by=by, mesa_id=mesa_id)
        else:
            await self.t.accion(turno.id, "finalizar", by=by, mesa_id=mesa_id, motivo="atendido")
        return True
