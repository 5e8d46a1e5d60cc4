"""Areas, trámites and mesas: read them, and change them in one transaction.

``POST /api/turnos/config`` (and :func:`seed_demo`) send the tables to
create or change, each row with its ``id``::

    {"areas":    [{"id": "atencion", "nombre": "Atención al público"}],
     "tramites": [{"id": "consultas", "nombre": "Consultas", "prefijo": "A",
                   "area_id": "atencion"}],
     "mesas":    [{"id": "1", "nombre": "Mesa 1", "area_id": "atencion",
                   "tramites": ["consultas"]}]}

Rows not mentioned stay as they are; ``"activo": false`` (trámites) and
``"activa": false`` (mesas) take one out of service. Everything is checked
before anything is written: a prefix used twice, a mesa serving a trámite
of another area, a reference to nothing — the whole request is refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from relevo.records import Actor, Kind, Record, Records, Transaction

from ..kit.errors import bad_request, locked
from .views import operador_de

__all__ = ["apply_config", "read_config"]

_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_PREFIX = re.compile(r"^[A-Z]{1,3}$")
_TABLES = {"areas": "area", "tramites": "tramite", "mesas": "mesa"}
_FIELDS = {
    "area": {"nombre": str, "orden": int},
    "tramite": {"nombre": str, "prefijo": str, "area_id": str, "orden": int, "activo": bool},
    "mesa": {"nombre": str, "area_id": str, "tramites": list, "orden": int, "activa": bool},
}


def _sorted(kind: Kind, recs: list[Record]) -> list[dict[str, Any]]:
    # Public fields only: anyone reads the configuration, and a mesa keeps
    # the name of the operator who has it open (private, for staff screens).
    rows = [{"id": r.id, **kind.public_fields(r.data)} for r in recs]
    return sorted(rows, key=lambda r: (r.get("orden") or 0, str(r.get("nombre")), r["id"]))


async def read_config(records: Records) -> dict[str, list[dict[str, Any]]]:
    return {
        table: _sorted(records.kind(kind), await records.find(kind, limit=100_000))
        for table, kind in _TABLES.items()
    }


def _clean_rows(kind: str, rows: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(rows, list):
        raise bad_request(f"{kind} rows must be a list", f"Se esperaba una lista de {kind}s.")
    out: dict[str, dict[str, Any]] = {}
    types = _FIELDS[kind]
    for row in rows:
        if not isinstance(row, dict):
            raise bad_request(f"each {kind} must be an object", f"Cada {kind} debe ser un objeto.")
        rid = row.get("id")
        if not isinstance(rid, str) or not _ID.match(rid):
            raise bad_request(
                f"{kind} id {rid!r} must be 1-64 letters, digits, . _ -",
                f"El id {rid!r} de {kind} no es válido (letras, números, . _ -).",
            )
        fields = {k: v for k, v in row.items() if k != "id"}
        for name, value in fields.items():
            tp = types.get(name)
            if tp is None:
                raise bad_request(
                    f"{kind} has no field {name}", f"El campo {name} no existe en {kind}."
                )
            if not isinstance(value, tp) or (tp is int and isinstance(value, bool)):
                raise bad_request(
                    f"{kind} {rid}: {name} must be {tp.__name__}",
                    f"{kind} {rid}: el campo {name} no tiene el tipo correcto.",
                )
        if isinstance(fields.get("nombre"), str):
            fields["nombre"] = fields["nombre"].strip()
            if not fields["nombre"] or len(fields["nombre"]) > 80:
                raise bad_request(
                    f"{kind} {rid}: nombre is 1-80 characters",
                    f"{kind} {rid}: el nombre debe tener entre 1 y 80 caracteres.",
                )
        out[rid] = fields
    return out


async def apply_config(records: Records, data: Mapping[str, Any], *, by: Actor) -> None:
    unknown = set(data) - set(_TABLES)
    if unknown:
        raise bad_request(
            f"unknown tables {sorted(unknown)} (use areas, tramites, mesas)",
            "Solo se pueden configurar areas, tramites y mesas.",
        )
    incoming = {kind: _clean_rows(kind, data.get(table, [])) for table, kind in _TABLES.items()}
    async with records.transaction() as tx:
        found = {kind: await tx.find(kind, limit=100_000) for kind in _TABLES.values()}
        current = {kind: {r.id: dict(r.data) for r in recs} for kind, recs in found.items()}
        merged = {kind: dict(rows) for kind, rows in current.items()}
        for kind, rows in incoming.items():
            for rid, fields in rows.items():
                merged[kind][rid] = {**current[kind].get(rid, {}), **fields}
        _check(merged, incoming)
        _check_mesas_free({r.id: r for r in found["mesa"]}, incoming["mesa"], by, tx.now)
        for kind, rows in incoming.items():
            for rid, fields in rows.items():
                await _upsert(tx, kind, rid, fields, exists=rid in current[kind], by=by)


def _check(merged: dict[str, dict[str, dict[str, Any]]], incoming: dict[str, Any]) -> None:
    areas, tramites, mesas = merged["area"], merged["tramite"], merged["mesa"]
    for kind in ("area", "tramite", "mesa"):
        for rid in incoming[kind]:
            if not merged[kind][rid].get("nombre"):
                raise bad_request(
                    f"new {kind} {rid} needs a nombre", f"Falta el nombre de {kind} {rid}."
                )
    prefixes: dict[str, str] = {}
    for rid, t in tramites.items():
        prefix = t.get("prefijo")
        if not isinstance(prefix, str) or not _PREFIX.match(prefix):
            raise bad_request(
                f"tramite {rid}: prefijo must be 1-3 capital letters (A, B, CA)",
                f"Trámite {rid}: el prefijo debe ser de 1 a 3 letras mayúsculas.",
            )
        if prefix in prefixes and t.get("activo", True):
            raise bad_request(
                f"tramites {prefixes[prefix]} and {rid} share the prefix {prefix}",
                f"Los trámites {prefixes[prefix]} y {rid} usan la misma letra {prefix}.",
            )
        if t.get("activo", True):
            prefixes[prefix] = rid
        if t.get("area_id") not in areas:
            raise bad_request(
                f"tramite {rid}: area {t.get('area_id')!r} does not exist",
                f"Trámite {rid}: el área {t.get('area_id')!r} no existe.",
            )
    for rid, m in mesas.items():
        if m.get("area_id") not in areas:
            raise bad_request(
                f"mesa {rid}: area {m.get('area_id')!r} does not exist",
                f"Mesa {rid}: el área {m.get('area_id')!r} no existe.",
            )
        served = m.get("tramites") or []
        if not all(isinstance(t, str) for t in served):
            raise bad_request(
                f"mesa {rid}: tramites is a list of ids",
                f"Mesa {rid}: los trámites se indican por id.",
            )
        for tid in served:
            if tid not in tramites:
                raise bad_request(
                    f"mesa {rid}: tramite {tid!r} does not exist",
                    f"Mesa {rid}: el trámite {tid!r} no existe.",
                )
            if tramites[tid].get("area_id") != m.get("area_id"):
                raise bad_request(
                    f"mesa {rid}: tramite {tid} belongs to another area",
                    f"Mesa {rid}: el trámite {tid} es de otra área.",
                )


def _check_mesas_free(
    mesas: Mapping[str, Record], changes: Mapping[str, dict[str, Any]], by: Actor, now: float
) -> None:
    """A mesa an operator has open changes only once they close it: its
    trámites, area or service would change under their feet (and the records
    layer lets only the lease holder write it)."""
    for rid, fields in changes.items():
        mesa = mesas.get(rid)
        if mesa is None or all(mesa.data.get(f) == v for f, v in fields.items()):
            continue
        held = mesa.lease_held(now)
        if held is not None and held.holder != by.user and not by.is_system:
            raise locked(
                f"mesa {rid} is open by {held.holder}; it can be configured once closed",
                f"La {mesa['nombre']} está abierta por {operador_de(mesa, held.holder)}: "
                "pida que la cierre antes de cambiar su configuración.",
                holder=held.holder,
            )


async def _upsert(
    tx: Transaction, kind: str, rid: str, fields: dict[str, Any], *, exists: bool, by: Actor
) -> None:
    if exists:
        if fields:
            await tx.update(kind, rid, fields, by=by)
    else:
        await tx.create(kind, fields, by=by, id=rid)
