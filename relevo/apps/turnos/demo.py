"""Sample data for ``relevo demo``: two areas, four trámites, six mesas and
a few people already waiting, so every screen has something to show."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from relevo.apps.base import AppContext
from relevo.clock import VirtualClock
from relevo.records import Actor

from ..kit.demo import DemoUser
from .config import apply_config
from .kinds import ROLE_ADMIN, ROLE_OPERADOR
from .options import parse_options
from .service import Turnero
from .simulator import TurnosSimulator

__all__ = ["DEMO_CONFIG", "DEMO_OPERADORES", "DEMO_USERS", "seed_demo"]

DEMO_OPERADORES: tuple[tuple[str, str, str, str], ...] = (
    # login id, name, how the login page says the role, the mesa they work at
    ("carla", "Carla Ruiz", "Operadora", "1"),
    ("jorge", "Jorge Salazar", "Operador", "2"),
    ("milagros", "Milagros Quispe", "Operadora", "3"),
    ("raul", "Raúl Torres", "Operador", "4"),
    ("patricia", "Patricia Núñez", "Cajera", "caja1"),
    ("hugo", "Hugo Vargas", "Cajero", "caja2"),
)
"""One operator per mesa of :data:`DEMO_CONFIG`."""

DEMO_CONFIG: dict[str, list[dict[str, Any]]] = {
    "areas": [
        {"id": "atencion", "nombre": "Atención al público", "orden": 1},
        {"id": "caja", "nombre": "Caja", "orden": 2},
    ],
    "tramites": [
        {
            "id": "consultas",
            "nombre": "Consultas generales",
            "prefijo": "A",
            "area_id": "atencion",
            "orden": 1,
        },
        {"id": "reclamos", "nombre": "Reclamos", "prefijo": "R", "area_id": "atencion", "orden": 2},
        {
            "id": "licencias",
            "nombre": "Licencias y permisos",
            "prefijo": "L",
            "area_id": "atencion",
            "orden": 3,
        },
        {"id": "pagos", "nombre": "Pagos", "prefijo": "C", "area_id": "caja", "orden": 4},
    ],
    "mesas": [
        {"id": mid, "nombre": nombre, "area_id": area, "tramites": tramites, "orden": i}
        for i, (mid, nombre, area, tramites) in enumerate(
            [
                ("1", "Mesa 1", "atencion", ["consultas", "reclamos"]),
                ("2", "Mesa 2", "atencion", ["consultas"]),
                ("3", "Mesa 3", "atencion", ["reclamos", "licencias"]),
                ("4", "Mesa 4", "atencion", ["consultas", "licencias"]),
                ("caja1", "Caja 1", "caja", ["pagos"]),
                ("caja2", "Caja 2", "caja", ["pagos"]),
            ],
            start=1,
        )
    ],
}

_MESAS = {m["id"]: m["nombre"] for m in DEMO_CONFIG["mesas"]}

DEMO_USERS: tuple[DemoUser, ...] = (
    *(
        DemoUser(uid, nombre, (ROLE_OPERADOR,), info={"rol": rol, "mesa": mesa,
                                                       "mesa_nombre": _MESAS[mesa]})
        for uid, nombre, rol, mesa in DEMO_OPERADORES
    ),
    DemoUser("supervisor", "Laura Méndez", (ROLE_ADMIN,), info={"rol": "Supervisora"}),
)  # fmt: skip
"""Who the demo login lists: the operators (each with their mesa), then the admin."""

SEED_MINUTES = 45.0
"""How much of the morning the seed replays (less just after midnight)."""


async def seed_demo(ctx: AppContext) -> None:
    """Idempotent: writes the sample configuration only when there is none,
    and sample tickets only when today has none. The tickets are the last
    ``SEED_MINUTES`` of a working morning, replayed by the simulator on a
    clock of the past: finished and absent turnos, people at the mesas and a
    queue, each with its own times, so the no-show timers of the turnos left
    called fall due one by one (and the live simulator attends them first).
    Run it after the records service has started (its tables must exist)."""
    records = ctx.records
    if not await records.find("area", limit=1):
        await apply_config(records, DEMO_CONFIG, by=Actor.trusted("demo"))
    options = parse_options(ctx.options)
    if await records.find("turno", {"fecha": Turnero(records, options).hoy()}, limit=1):
        return
    now = records.clock.now()
    midnight = dt.datetime.fromtimestamp(now, options.zone()).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    span = min(SEED_MINUTES * 60, 0.9 * (now - midnight.timestamp()))
    # The seed's clock starts SEED_MINUTES ago and moves only when the replay moves it.
    past = VirtualClock(now - span)
    rnd = random.Random(15)
    sim = TurnosSimulator(
        Turnero(records, options, clock=past), set, rnd, DEMO_OPERADORES, hold_mesas=False
    )
    while True:
        past.advance(rnd.uniform(4.0, 10.0))
        if past.now() >= now:
            break
        await sim.act()
