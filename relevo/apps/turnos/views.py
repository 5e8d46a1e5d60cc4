"""How a turno is shown to each audience.

- :func:`turno_completo` — operators and admins through the app API: every
  field, the person's name included.
- :func:`turno_monitor` — the public monitor: an allow-list of fields, so a
  field added to the kind later is not shown on a wall screen by accident.

Publications need no view of their own: the records layer publishes
``Kind.public`` (no ``persona_nombre``, no ``prioridad_motivo``).
"""

from __future__ import annotations

from typing import Any

from relevo.records import Actor, Kind, Record

__all__ = [
    "ESTADOS",
    "MAX_NOMBRE",
    "MONITOR_FIELDS",
    "nombre_de",
    "operador_de",
    "turno_completo",
    "turno_monitor",
]

MONITOR_FIELDS = (
    "numero_visible",
    "tramite_id",
    "tramite_nombre",
    "area_id",
    "area_nombre",
    "mesa_id",
    "mesa_nombre",
    "llamado_at",
    "llamadas",
)

ESTADOS = {
    "en_espera": "en espera",
    "llamado": "llamado",
    "atendiendo": "en atención",
    "finalizado": "finalizado",
    "no_presento": "marcado como no presentado",
}
"""State names as an operator reads them in a sentence."""

MAX_NOMBRE = 80
"""Characters of a person's name kept (a ticket's, an operator's)."""


def turno_completo(kind: Kind, rec: Record) -> dict[str, Any]:
    out = kind.public(rec)
    out["persona_nombre"] = rec.get("persona_nombre")
    out["prioridad_motivo"] = rec.get("prioridad_motivo")
    return out


def turno_monitor(rec: Record) -> dict[str, Any]:
    out: dict[str, Any] = {name: rec.get(name) for name in MONITOR_FIELDS}
    out["id"] = rec.id
    out["version"] = rec.version
    out["state"] = rec.state
    return out


def nombre_de(by: Actor) -> str:
    """An operator's name for staff screens: the token's ``name`` claim, else
    the login id."""
    nombre = by.claims.get("name")
    if isinstance(nombre, str) and nombre.strip():
        return nombre.strip()[:MAX_NOMBRE]
    return by.user


def operador_de(mesa: Record, holder: str) -> str:
    """The name of ``holder`` (who has ``mesa`` open), as the mesa remembers it."""
    if mesa.get("operador_id") == holder and mesa.get("operador_nombre"):
        return str(mesa["operador_nombre"])
    return holder
