"""``relevo demo`` for the leads app: sample users and leads, and who the
development login (:mod:`relevo.apps.kit.demo`, demo mode only) lists. A
real deployment turns demo off and gives the pages its own users' tokens
(docs/apps/leads.md, "Tokens in a real deployment").
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import AsyncIterator
from typing import Any

from starlette.routing import BaseRoute

from relevo.records import SYSTEM, Actor, Records, Transaction
from relevo.settings import Settings

from ..kit.demo import DemoUser, demo_login_routes
from ..kit.http import acting_as
from .kinds import LEAD, RETURN_REASON, USER
from .options import LeadsOptions
from .service import LeadsService

__all__ = ["DEMO_USERS", "demo_routes", "person", "seed"]

DEMO_USERS: tuple[tuple[str, str, str], ...] = (
    ("g1", "Ana Pérez", "gtr"),
    ("4", "Lucía Gómez", "asesor"),
    ("5", "Carlos Ruiz", "asesor"),
    ("6", "Diego Paredes", "asesor"),
    ("7", "María Fernández", "asesor"),
    ("admin", "Rosa Valdivia", "admin"),
)
_ASESORES = [u for u, _, rol in DEMO_USERS if rol == "asesor"]

_FIRST = (
    "Rosa Jorge Patricia Miguel Carmen Luis Elena Víctor Sofía Raúl Gabriela Andrés "
    "Milagros César Verónica Hugo Pilar Óscar Diana Julio Lorena Fernando Mónica Iván"
).split()
_LAST = (
    "Quispe Salazar Núñez Torres Villanueva Mamani Flores Rojas Chávez Huamán Castillo "
    "Vargas Mendoza Ramos Espinoza Paredes Gutiérrez Cárdenas Aguilar Campos Medina Vega"
).split()
_CAMPANAS = ("Fibra 300 Mbps", "Portabilidad móvil", "Plan Empresas", "TV + Internet")
_FUENTES = ("Facebook", "Web", "Referido", "Llamada entrante", "Feria")
_COMPANIES = ("Inversiones Lima SAC", "Transportes Rímac EIRL", "Bodega San Martín")

# How the sample leads are spread over the states, per 60.
_PLAN = (
    ("nuevo", 18),
    ("derivado", 12),
    ("en_gestion", 6),
    ("terminado", 16),
    ("no_gestionado", 8),
)


def person(rnd: random.Random, i: int | None = None) -> dict[str, str]:
    """A made-up lead's contact data (a company now and then)."""
    i = rnd.randrange(1000) if i is None else i
    if i % 17 == 5:
        nombre = _COMPANIES[(i // 17) % len(_COMPANIES)]
        doc = f"20{rnd.randrange(10**8, 10**9)}"
    else:
        nombre = f"{rnd.choice(_FIRST)} {rnd.choice(_LAST)} {rnd.choice(_LAST)}"
        doc = f"{rnd.randrange(10**7, 10**8)}"
    return {
        "nombre": nombre,
        "telefono": f"9{rnd.randrange(10**7, 10**8)}",
        "documento": doc,
        "campana": rnd.choice(_CAMPANAS),
        "fuente": rnd.choice(_FUENTES),
    }


def _people(n: int, rnd: random.Random) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    phones: set[str] = set()
    for i in range(n):
        p = person(rnd, i)
        while p["telefono"] in phones:
            p["telefono"] = f"9{rnd.randrange(10**7, 10**8)}"
        phones.add(p["telefono"])
        out.append(p)
    return out


@contextlib.asynccontextmanager
async def _ago(records: Records, seconds: float) -> AsyncIterator[Transaction]:
    """A transaction that happened ``seconds`` ago: its history, its
    timestamps and the timers it arms count from then. The demo's activity
    is spread over the last minutes this way, so its leads' timeouts fall
    due one by one instead of all at once five minutes after start."""
    async with records.transaction() as tx:
        tx.now -= seconds
        yield tx


def _ages(states: list[str], timeout: float, rnd: random.Random) -> list[float]:
    """How long ago each sample lead last moved: derivado / en gestión spread
    evenly over 10-90 % of ``timeout`` (so they fall due one by one), the
    finished ones over the last few hours."""
    active = [i for i, st in enumerate(states) if st in ("derivado", "en_gestion")]
    ages = [rnd.uniform(timeout, 4 * 3600) for _ in states]
    for n, i in enumerate(active):
        ages[i] = timeout * (0.1 + 0.8 * (n + rnd.random()) / max(1, len(active)))
    return ages


async def seed(records: Records, service: LeadsService, count: int = 60) -> bool:
    """Create the demo users and ``count`` leads in every state, through the
    same transitions a screen uses (so their history reads true), their
    activity spread over the past (:func:`_ago`). Returns False (and does
    nothing) when the directory already has users."""
    if await records.find(USER, {}, limit=1):
        return False
    async with records.transaction() as tx:
        for uid, nombre, rol in DEMO_USERS:
            email = f"{nombre.split()[0].lower()}@example.pe"
            await tx.create(USER, {"nombre": nombre, "rol": rol, "email": email}, by=SYSTEM, id=uid)
    rnd = random.Random(6)
    gtr = acting_as(Actor("g1", frozenset({"gtr"})))
    states = [s for s, k in _PLAN for _ in range(round(k * count / 60))][:count]
    states += ["nuevo"] * (count - len(states))
    rnd.shuffle(states)
    opts = service.options
    ages = _ages(states, opts.timeout, rnd)
    for i, (state, person_, age) in enumerate(zip(states, _people(count, rnd), ages, strict=True)):
        if state == "nuevo":
            await service.create(gtr, person_)
            continue
        asesor = acting_as(Actor(_ASESORES[i % len(_ASESORES)], frozenset({"asesor"})))
        async with _ago(records, age) as tx:
            lead = await tx.create(LEAD, person_, by=gtr)
            await tx.transition(
                LEAD, lead.id, "assign", {"asesor_id": asesor.user}, by=gtr, reason="assigned"
            )
            if state == "no_gestionado":
                await tx.transition(LEAD, lead.id, "timeout", by=SYSTEM,
                                    reason=f"timer:{RETURN_REASON}")  # fmt: skip
            elif state != "derivado":
                await _work(tx, lead.id, asesor, state == "terminado", opts, rnd)
    return True


async def _work(
    tx: Transaction, lead_id: str, asesor: Actor, finish: bool, opts: LeadsOptions,
    rnd: random.Random,
) -> None:  # fmt: skip
    """The asesor's wizard: first step, then finished or closed en gestión."""
    lease = await tx.acquire_lease(LEAD, lead_id, by=asesor)
    token = lease.fencing_token
    await tx.transition(LEAD, lead_id, "open", {"wizard_tab": "seed"}, by=asesor)
    step = {"wizard_step": 1, "resultado_contacto": rnd.choice(list(opts.resultados))}
    await tx.transition(LEAD, lead_id, "step", step, by=asesor, fencing_token=token)
    if not finish:
        await tx.release_lease(LEAD, lead_id, by=asesor, fencing_token=token)
        return
    data: dict[str, Any] = {
        "tipificacion": rnd.choice(list(opts.tipificaciones)),
        "proxima_accion": rnd.choice(list(opts.proximas_acciones)),
        "notas": rnd.choice(
            (
                "Cliente pide llamar después de las 6 p. m.",
                "Interesado en el plan de 300 Mbps; envié la propuesta por WhatsApp.",
                "Ya tiene el servicio con otra empresa hasta diciembre.",
                "",
            )
        ),
    }
    await tx.transition(LEAD, lead_id, "complete", data, by=asesor, fencing_token=token)


def demo_routes(records: Records, settings: Settings) -> list[BaseRoute]:
    """``/api/leads/demo/users`` and ``/api/leads/demo/token``: the active
    users of the directory, GTRs first."""

    async def users() -> list[DemoUser]:
        order = {"gtr": 0, "asesor": 1, "admin": 2}
        rows = await records.find(USER, {}, limit=1000)
        listed = sorted(
            (u for u in rows if u.get("activo", True)),
            key=lambda u: (order.get(str(u.get("rol")), 9), u.id),
        )
        return [
            DemoUser(u.id, str(u.get("nombre")), (str(u.get("rol")),), info={"rol": u.get("rol")})
            for u in listed
        ]

    return demo_login_routes("leads", settings, users)
