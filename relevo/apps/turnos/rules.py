"""The turnero's small rules, shared by its operations: the actions on a
turno and why one is refused, who may act at a mesa someone else holds,
which turno a mesa has at its desk."""

from __future__ import annotations

from relevo.records import Actor, Record

from ..kit.errors import locked
from .views import operador_de

__all__ = ["ACCIONES", "MAX_MOTIVO_PAUSA", "NO_PERMITIDO", "at_desk", "backend", "no_es_de_otro"]

ACCIONES = ("rellamar", "atender", "finalizar", "no_presento")
MAX_MOTIVO_PAUSA = 60
"""Characters of a break's reason ("Almuerzo", "Capacitación")."""
NO_PERMITIDO = {
    "rellamar": "Solo se puede rellamar un turno llamado: {n} está {e}.",
    "atender": "Solo se puede atender un turno llamado: {n} está {e}.",
    "finalizar": "El turno {n} no está en atención ({e}): no se puede finalizar.",
    "no_presento": "Solo un turno llamado puede marcarse como no presentado: {n} está {e}.",
}


def backend(by: Actor) -> bool:
    """The backend (API key, ``SYSTEM``) acts for any mesa and takes none."""
    return by.is_system


def no_es_de_otro(mesa: Record, by: Actor, now: float) -> None:
    """Refuse ``by`` a mesa another operator has open."""
    held = mesa.lease_held(now)
    if held is not None and held.holder != by.user and not backend(by):
        nombre = operador_de(mesa, held.holder)
        raise locked(
            f"mesa {mesa.id} is open by {held.holder}",
            f"La {mesa['nombre']} está abierta por {nombre}.",
            holder=held.holder,
        )


def at_desk(turnos: list[Record], mesa_id: str, fecha: str) -> Record | None:
    """The turno a mesa has called or is attending today (the latest call)."""
    mine = [t for t in turnos if t.get("mesa_id") == mesa_id and t.get("fecha") == fecha]
    return max(mine, key=lambda t: t.get("llamado_at") or 0) if mine else None
