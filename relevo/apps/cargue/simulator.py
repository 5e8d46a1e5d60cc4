"""THE CARGUE SIMULATOR — demo mode only: vendors and a dispatcher nobody sees.

Every ``simulate_every`` seconds (jittered, :class:`~relevo.apps.kit.simulate.Ticker`)
it does one thing the loading dock would do, through the same service calls
the pages make:

- a vendor ticks V on his next product (now and then he unticks and ticks
  again, as people do);
- the dispatcher ticks D on a verified product, sometimes noting that fewer
  left than planned (a reason with it);
- a vendor whose products all left gets his day closed;
- once every day is closed, the admin reopens the one closed longest ago
  for a second trip with a few more products (at most ``_MAX_ROWS`` a day),
  so the board keeps moving for as long as the demo runs.

It never acts for a vendor or the dispatcher who is signed in (their own
screen stays theirs), and loads the day's plantillas itself after midnight.
"""

from __future__ import annotations

import random

from relevo.protocol.errors import RelevoError
from relevo.records import Actor, Record, Records

from ..kit.simulate import Online
from .demo import PRODUCTOS, seed
from .kinds import (
    CERRADO,
    CIERRE,
    DESPACHADO,
    ITEM,
    PENDIENTE,
    ROLE_ADMIN,
    ROLE_DESPACHADOR,
    ROLE_VENDEDOR,
    VERIFICADO,
)
from .plantilla import Plantillas
from .service import CargueService

__all__ = ["CargueSimulator"]

_MAX_ROWS = 40
"""Products a vendor's day grows to with second trips; then it rests."""
_MOTIVOS = ("Faltante en bodega", "Producto averiado", "Cambio de pedido")


class CargueSimulator:
    def __init__(self, service: CargueService, online: Online, rnd: random.Random) -> None:
        self.service = service
        self.records: Records = service.records
        self.online = online
        self.rnd = rnd
        self.despacho = Actor("despacho1", frozenset({ROLE_DESPACHADOR}))
        self.admin = Actor("admin", frozenset({ROLE_ADMIN}))

    async def act(self) -> bool:
        """One step; False when there was nothing to do (or it was refused)."""
        fecha, _ = self.service.today()
        items = await self.records.find(ITEM, {"fecha": fecha}, limit=10_000)
        if not items:
            return await seed(self.records, self.service)
        away = self.online()
        closed = {
            str(c.get("vendedor_id")): c
            for c in await self.records.find(CIERRE, {"fecha": fecha}, limit=1000)
            if c.state == CERRADO
        }
        rows: dict[str, list[Record]] = {}
        for it in items:
            rows.setdefault(str(it.get("vendedor_id")), []).append(it)
        open_days = {v: r for v, r in rows.items() if v not in closed}
        vendors = [v for v in open_days if v not in away]
        pending = [
            min((r for r in open_days[v] if r.state == PENDIENTE), key=_orden)
            for v in vendors
            if any(r.state == PENDIENTE for r in open_days[v])
        ]
        try:
            if self.despacho.user not in away:
                verified = [r for rs in open_days.values() for r in rs if r.state == VERIFICADO]
                if verified and (not pending or self.rnd.random() < 0.45):
                    return await self._dispatch(self.rnd.choice(verified))
                done = [v for v, rs in open_days.items() if all(r.state == DESPACHADO for r in rs)]
                if done:
                    await self.service.close(self.despacho, done[0], fecha)
                    return True
            if pending:
                return await self._tick(self.rnd.choice(pending))
            if not open_days and self.admin.user not in away:
                return await self._second_trip(closed, rows, fecha)
        except RelevoError:
            return False  # a real user got there first (a conflict, a closed day): fine
        return False

    async def _tick(self, row: Record) -> bool:
        seller = Actor(str(row.get("vendedor_id")), frozenset({ROLE_VENDEDOR}))
        if self.rnd.random() < 0.05:  # a slip of the thumb, corrected
            await self.service.set_check(seller, row.id, "v", True)
            await self.service.set_check(seller, row.id, "v", False)
        await self.service.set_check(seller, row.id, "v", True)
        return True

    async def _dispatch(self, row: Record) -> bool:
        cantidad = int(row.get("cantidad") or 0)
        if cantidad > 2 and row.get("cargada") is None and self.rnd.random() < 0.12:
            short = cantidad - self.rnd.randint(1, 2)
            motivo = self.rnd.choice(_MOTIVOS)
            await Plantillas(self.service).edit(
                self.despacho, row.id, {"cargada": short, "motivo": motivo}
            )
        await self.service.set_check(self.despacho, row.id, "d", True)
        return True

    async def _second_trip(
        self, closed: dict[str, Record], rows: dict[str, list[Record]], fecha: str
    ) -> bool:
        """Reopen the day closed longest ago, with a few more products."""
        room = [v for v in closed if len(rows.get(v, ())) + 3 <= _MAX_ROWS]
        if not room:
            return False
        vid = min(room, key=lambda v: int(closed[v].get("cerrado_at") or 0))
        await self.service.reopen(self.admin, vid, fecha, "Segundo viaje del día")
        have = {str(r.get("codigo")) for r in rows.get(vid, ())}
        fresh = [p for p in PRODUCTOS if p[0] not in have] or list(PRODUCTOS)
        picks = self.rnd.sample(fresh, min(3, len(fresh)))
        extra = [
            {"codigo": c, "producto": n, "unidad": u, "cantidad": self.rnd.choice((6, 10, 12))}
            for c, n, u in picks
        ]
        await Plantillas(self.service).load(self.admin, vid, extra, fecha)
        return True


def _orden(row: Record) -> tuple[int, str]:
    return int(row.get("orden") or 0), row.id
