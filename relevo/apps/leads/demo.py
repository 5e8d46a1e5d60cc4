"""``relevo demo`` for the leads app: sample users and leads, and who the
development login (:mod:`relevo.apps.kit.demo`, demo mode only) lists. A
real deployment turns demo off and gives the pages its own users' tokens
(docs/apps/leads.md, "Tokens in a real deployment").
"""

from __future__ import annotations

import random
from typing import Any

from starlette.routing import BaseRoute

from relevo.records import SYSTEM, Actor, Records
from relevo.settings import Settings

from ..kit.demo import DemoUser, demo_login_routes
from .kinds import LEAD, RETURN_REASON, USER
from .service import LeadsService

__all__ = ["DEMO_USERS", "demo_routes", "seed"]

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


def _people(n: int, rnd: random.Random) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    phones: set[str] = set()
    for i in range(n):
        if i % 17 == 5:
            nombre = _COMPANIES[(i // 17) % len(_COMPANIES)]
            doc = f"20{rnd.randrange(10**8, 10**9)}"
        else:
            nombre = f"{rnd.choice(_FIRST)} {rnd.choice(_LAST)} {rnd.choice(_LAST)}"
            doc = f"{rnd.randrange(10**7, 10**8)}"
        phone = f"9{rnd.randrange(10**7, 10**8)}"
        while phone in phones:
            phone = f"9{rnd.randrange(10**7, 10**8)}"
        phones.add(phone)
        out.append(
            {
                "nombre": nombre,
                "telefono": phone,
                "documento": doc,
                "campana": rnd.choice(_CAMPANAS),
                "fuente": rnd.choice(_FUENTES),
            }
        )
    return out


async def seed(records: Records, service: LeadsService, count: int = 60) -> bool:
    """Create the demo users and ``count`` leads in every state, through the
    same transitions a screen uses (so their history reads true). Returns
    False (and does nothing) when the directory already has users."""
    if await records.find(USER, {}, limit=1):
        return False
    async with records.transaction() as tx:
        for uid, nombre, rol in DEMO_USERS:
            email = f"{nombre.split()[0].lower()}@example.pe"
            await tx.create(USER, {"nombre": nombre, "rol": rol, "email": email}, by=SYSTEM, id=uid)
    rnd = random.Random(6)
    gtr = Actor("g1", frozenset({"gtr"}))
    states = [s for s, k in _PLAN for _ in range(round(k * count / 60))][:count]
    states += ["nuevo"] * (count - len(states))
    rnd.shuffle(states)
    opts = service.options
    for i, (state, person) in enumerate(zip(states, _people(count, rnd), strict=True)):
        lead = await service.create(gtr, person)
        if state == "nuevo":
            continue
        asesor_id = _ASESORES[i % len(_ASESORES)]
        asesor = Actor(asesor_id, frozenset({"asesor"}))
        await service.assign(gtr, lead.id, asesor_id)
        if state == "no_gestionado":
            async with records.transaction() as tx:
                await tx.transition(LEAD, lead.id, "timeout", by=SYSTEM,
                                    reason=f"timer:{RETURN_REASON}")  # fmt: skip
            continue
        if state == "derivado":
            continue
        _, lease = await service.open(asesor, lead.id, "seed")
        token = lease.fencing_token
        contacto = rnd.choice(list(opts.resultados))
        await service.step(
            asesor, lead.id, token, {"wizard_step": 1, "resultado_contacto": contacto}
        )
        if state == "en_gestion":
            await service.close(asesor, lead.id, token)
            continue
        tipo = rnd.choice(list(opts.tipificaciones))
        data: dict[str, Any] = {
            "tipificacion": tipo,
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
        await service.complete(asesor, lead.id, token, data)
    return True


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
