"""THE LEADS SIMULATOR — demo mode only: a GTR and asesores nobody sees.

Every ``simulate_every`` seconds (jittered, :class:`~relevo.apps.kit.simulate.Ticker`)
it does one thing a person at the call centre would do, through the same
:class:`~relevo.apps.leads.service.LeadsService` calls the pages make:

- an asesor finishes a lead en gestión (open, tipificación, complete) — or,
  with "Volver a llamar", schedules a callback a few minutes ahead, so the
  demo shows leads agendado and coming back;
- an asesor opens a derivado lead and leaves it en gestión;
- the GTR derives a nuevo (or a returned, no_gestionado) lead to an asesor;
- a new lead arrives (at most ``_MAX_NUEVOS`` waiting, so nothing piles up).

It keeps about ``_TARGET_ACTIVE`` leads derivado / en gestión, and the ones it
leaves alone still time out now and then, as they would in real life. It
never acts for an asesor who is signed in (their own screen stays theirs).
"""

from __future__ import annotations

import random
import secrets

from relevo.protocol.errors import RelevoError
from relevo.records import Actor, Record, Records

from ..kit.simulate import Online
from .demo import person
from .editing import schedule_callback
from .kinds import LEAD, USER
from .service import LeadsService

__all__ = ["LeadsSimulator"]

_TARGET_ACTIVE = 14
_CALLBACK_IN = (120, 480)
"""Seconds ahead a simulated "Volver a llamar" is scheduled."""
_MAX_NUEVOS = 12
_NOTAS = (
    "Llamé y quedó en revisar la propuesta.",
    "Pidió que le escriban por WhatsApp.",
    "Ya contrató; se cierra.",
    "",
)


class LeadsSimulator:
    def __init__(self, service: LeadsService, online: Online, rnd: random.Random) -> None:
        self.service = service
        self.records: Records = service.records
        self.online = online
        self.rnd = rnd
        self.gtr = Actor("g1", frozenset({"gtr"}))

    async def act(self) -> bool:
        """One step; False when there was nothing to do (or it was refused)."""
        asesores = await self._asesores()
        if not asesores:
            return False
        leads = await self.records.find(
            LEAD, {"state": ["nuevo", "derivado", "en_gestion", "no_gestionado"]}, limit=2000
        )
        by_state: dict[str, list[Record]] = {}
        for rec in leads:
            # derivado / en gestión: only the leads of asesores nobody plays now
            if rec.state in ("nuevo", "no_gestionado") or str(rec.get("asesor_id")) in asesores:
                by_state.setdefault(str(rec.state), []).append(rec)
        active = len(by_state.get("derivado", [])) + len(by_state.get("en_gestion", []))
        roll = self.rnd.random()
        try:
            if by_state.get("en_gestion") and (roll < 0.3 or active > _TARGET_ACTIVE):
                return await self._complete(self.rnd.choice(by_state["en_gestion"]))
            if by_state.get("derivado") and roll < 0.55:
                return await self._work(self.rnd.choice(by_state["derivado"]))
            pool = by_state.get("nuevo", []) + by_state.get("no_gestionado", [])
            if pool and active < _TARGET_ACTIVE and roll < 0.9:
                lead = self.rnd.choice(pool)
                await self.service.assign(self.gtr, lead.id, self.rnd.choice(sorted(asesores)))
                return True
            if len(by_state.get("nuevo", [])) < _MAX_NUEVOS:
                await self.service.create(self.gtr, person(self.rnd))
                return True
        except RelevoError:
            return False  # a real user got there first (locked, conflict): fine
        return False

    async def _asesores(self) -> set[str]:
        users = await self.records.find(USER, {"rol": "asesor"}, limit=1000)
        away = self.online()
        return {u.id for u in users if u.get("activo", True) and u.id not in away}

    def _asesor(self, lead: Record) -> Actor:
        return Actor(str(lead.get("asesor_id")), frozenset({"asesor"}))

    async def _work(self, lead: Record) -> bool:
        asesor = self._asesor(lead)
        _, lease = await self.service.open(asesor, lead.id, f"sim-{secrets.token_hex(3)}")
        contacto = self.rnd.choice(list(self.service.options.resultados))
        step = {"wizard_step": 1, "resultado_contacto": contacto}
        await self.service.step(asesor, lead.id, lease.fencing_token, step)
        await self.service.close(asesor, lead.id, lease.fencing_token)
        return True

    async def _complete(self, lead: Record) -> bool:
        asesor = self._asesor(lead)
        opts = self.service.options
        _, lease = await self.service.open(asesor, lead.id, f"sim-{secrets.token_hex(3)}")
        data = {
            "wizard_step": 3,
            "tipificacion": self.rnd.choice(list(opts.tipificaciones)),
            "proxima_accion": self.rnd.choice(list(opts.proximas_acciones)),
            "notas": self.rnd.choice(_NOTAS),
        }
        if data["tipificacion"] == "volver_a_llamar":
            now = self.records.clock.now()
            at = int((now + self.rnd.randint(*_CALLBACK_IN)) * 1000)
            data["callback_at"] = at
            await schedule_callback(self.service, asesor, lead.id, lease.fencing_token, data)
            return True
        await self.service.complete(asesor, lead.id, lease.fencing_token, data)
        return True
