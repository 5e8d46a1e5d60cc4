"""Sample data for ``relevo demo``: a dispatcher, three vendors and today's
plantilla of each (about fifteen products), some rows already ticked, so
both screens have something to show. The plantillas were loaded and the
ticks made over the last ``SEED_MINUTES`` (a clock of the past), so the
sheet reads "V Carlos Ruiz · 7:12", "· 7:15", … rather than one instant."""

from __future__ import annotations

import datetime as dt
import random

from relevo.clock import VirtualClock
from relevo.records import SYSTEM, Actor, Records

from .kinds import ITEM, ROLE_ADMIN, ROLE_DESPACHADOR, ROLE_VENDEDOR, USER
from .plantilla import Plantillas
from .service import CargueService

__all__ = ["DEMO_USERS", "PRODUCTOS", "SEED_MINUTES", "seed"]

SEED_MINUTES = 40.0
"""How much of the early morning the seed replays (less just after midnight)."""

DEMO_USERS: tuple[tuple[str, str, str, str], ...] = (
    ("despacho1", "Marta Ríos", ROLE_DESPACHADOR, ""),
    ("v1", "Carlos Ruiz", ROLE_VENDEDOR, "Ruta 1 · Centro"),
    ("v2", "Lucía Gómez", ROLE_VENDEDOR, "Ruta 2 · Norte"),
    ("v3", "Jorge Paredes", ROLE_VENDEDOR, "Ruta 3 · Sur"),
    ("admin", "Rosa Valdivia", ROLE_ADMIN, ""),
)

PRODUCTOS: tuple[tuple[str, str, str], ...] = (
    ("AR-500", "Arepa tipo oblea 500 g", "paq"),
    ("AR-330", "Arepa mediana 330 g", "paq"),
    ("AR-QS", "Arepa con queso x5", "paq"),
    ("AR-BOY", "Arepa boyacense x4", "paq"),
    ("AR-CHO", "Arepa de chócolo x5", "paq"),
    ("PA-TAJ", "Pan tajado 450 g", "und"),
    ("PA-INT", "Pan integral 500 g", "und"),
    ("PA-HAM", "Pan hamburguesa x6", "paq"),
    ("AL-BUN", "Almojábanas x6", "paq"),
    ("PQ-600", "Pandequeso x6", "paq"),
    ("TO-MAZ", "Tortilla de maíz x10", "paq"),
    ("TO-TRI", "Tortilla de trigo x8", "paq"),
    ("QU-CAM", "Queso campesino 500 g", "und"),
    ("QU-DOB", "Queso doble crema 400 g", "und"),
    ("KU-PAN", "Kumis 1 L", "und"),
    ("YO-FRE", "Yogur de fresa 1 L", "und"),
    ("MA-250", "Mantequilla 250 g", "und"),
    ("BU-RRA", "Buñuelos x10", "paq"),
)

_TICKED = {"v1": (7, 3), "v2": (3, 0), "v3": (0, 0)}
"""Rows already ticked per vendor: (V, of which also D)."""


async def seed(records: Records, service: CargueService) -> bool:
    """Users (when the directory is empty) and today's plantillas (when today
    has none). Returns False when there was nothing to do."""
    did = False
    if not await records.find(USER, {}, limit=1):
        async with records.transaction() as tx:
            for uid, nombre, rol, ruta in DEMO_USERS:
                data = {"nombre": nombre, "rol": rol, "ruta": ruta or None}
                await tx.create(USER, data, by=SYSTEM, id=uid)
        did = True
    fecha, _ = service.today()
    if await records.find(ITEM, {"fecha": fecha}, limit=1):
        return did
    rnd = random.Random(3)
    now = records.clock.now()
    midnight = dt.datetime.fromtimestamp(now, service.options.zone()).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    span = min(SEED_MINUTES * 60, 0.9 * (now - midnight.timestamp()))
    past = VirtualClock(now - span)
    then = CargueService(records, service.options, clock=past)
    staff = Actor("despacho1", frozenset({ROLE_DESPACHADOR}))
    ticks: list[tuple[Actor, str, str]] = []
    for vendor in await service.vendedores():
        picks = sorted(rnd.sample(range(len(PRODUCTOS)), 15))
        rows = [
            {
                "codigo": PRODUCTOS[i][0],
                "producto": PRODUCTOS[i][1],
                "unidad": PRODUCTOS[i][2],
                "cantidad": rnd.choice((6, 8, 10, 12, 12, 15, 20, 24, 30, 36, 48)),
            }
            for i in picks
        ]
        items = await Plantillas(then).load(SYSTEM, vendor.id, rows, fecha)
        n_v, n_d = _TICKED.get(vendor.id, (0, 0))
        seller = Actor(vendor.id, frozenset({ROLE_VENDEDOR}))
        ticks += [(seller, item.id, "v") for item in items[:n_v]]
        ticks += [(staff, item.id, "d") for item in items[:n_d]]
    # V before its D; otherwise the vendors' ticks interleave, minutes apart
    order = sorted(range(len(ticks)), key=lambda i: (ticks[i][2] == "d", rnd.random()))
    step = span / (len(ticks) + 1) if ticks else 0.0
    for i in order:
        past.advance(max(0.0, min(step * rnd.uniform(0.6, 1.4), now - 1 - past.now())))
        who, item_id, check = ticks[i]
        await then.set_check(who, item_id, check, True)
    return True
