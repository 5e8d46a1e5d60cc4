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

from relevo.records import Kind, Record

__all__ = ["MONITOR_FIELDS", "ESTADOS", "turno_completo", "turno_monitor"]

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
