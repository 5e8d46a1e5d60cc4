"""Reports for a range of days: tickets, average wait and service time per
area, per mesa, per operator and per day, and the same as CSV.

- **wait**: ticket → first call (what the person waited in the room);
- **service**: "Atender" → "Finalizar" at the mesa that finished it;
- **operator**: who called the turno last (``operador_id`` / ``_nombre``,
  kept on the turno, private); turnos called before that was kept count
  under no operator.

One read of the range's turnos (the indexed ``fecha`` column), only the
state, the JSON data and the creation time, folded as they come. A range is
at most :data:`MAX_DAYS` days.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec
import sqlalchemy as sa

from relevo.records import Records
from relevo.records import schema as s

from ..kit.csv_export import spreadsheet_csv
from ..kit.errors import bad_request
from .config import read_config
from .kinds import FINALIZADO, NO_PRESENTO

__all__ = ["MAX_DAYS", "parse_range", "report", "report_csv"]

MAX_DAYS = 366
_decode = msgspec.json.Decoder()


def parse_range(desde: str | None, hasta: str | None, hoy: str) -> tuple[str, str]:
    """``?desde=&hasta=`` (``YYYY-MM-DD``; both default to today)."""
    try:
        a = dt.date.fromisoformat(desde or hoy)
        b = dt.date.fromisoformat(hasta or hoy)
    except ValueError:
        raise bad_request(
            "desde and hasta are dates (YYYY-MM-DD)", "Las fechas deben ser AAAA-MM-DD."
        ) from None
    if b < a:
        raise bad_request("hasta is before desde", "La fecha final es anterior a la inicial.")
    if (b - a).days + 1 > MAX_DAYS:
        raise bad_request(
            f"a report covers at most {MAX_DAYS} days",
            f"Un reporte abarca como máximo {MAX_DAYS} días.",
        )
    return a.isoformat(), b.isoformat()


@dataclass
class _Acc:
    emitidos: int = 0
    finalizados: int = 0
    no_presento: int = 0
    esperas: list[float] = field(default_factory=list)
    atenciones: list[float] = field(default_factory=list)

    def row(self, *, tickets: bool = True, **head: Any) -> dict[str, Any]:
        """``tickets``: the group issues tickets (an area, a day), so it has
        a count of them and their waits; a mesa or an operator has neither."""
        out = {**head, "atendidos": self.finalizados, "no_presento": self.no_presento,
               "atencion_promedio_s": _avg(self.atenciones)}  # fmt: skip
        if tickets:
            out.update(emitidos=self.emitidos, finalizados=self.finalizados,
                       espera_promedio_s=_avg(self.esperas))  # fmt: skip
        return out


def _avg(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


async def report(records: Records, desde: str, hasta: str) -> dict[str, Any]:
    k = records.kind("turno")
    r = s.records.c
    fecha = s.records.c[k.slots["fecha"]]
    stmt = sa.select(r.state, r.data, r.created_at, fecha).where(
        r.kind == k.name, fecha >= desde, fecha <= hasta
    )
    areas: dict[str, _Acc] = defaultdict(_Acc)
    mesas: dict[str, _Acc] = defaultdict(_Acc)
    operadores: dict[str, _Acc] = defaultdict(_Acc)
    dias: dict[str, _Acc] = defaultdict(_Acc)
    names: dict[tuple[str, str], str] = {}
    async with records.store.read() as conn:
        result = await conn.execute(stmt)
        for state, raw, created, day in result:
            d = _decode.decode(raw) if isinstance(raw, str | bytes) else dict(raw)
            area, mesa, op = str(d.get("area_id")), d.get("mesa_id"), d.get("operador_id")
            names.setdefault(("area", area), str(d.get("area_nombre") or area))
            groups = [areas[area], dias[str(day)]]
            if mesa:
                groups.append(mesas[str(mesa)])
                names.setdefault(("mesa", str(mesa)), str(d.get("mesa_nombre") or mesa))
            if op:
                groups.append(operadores[str(op)])
                names[("op", str(op))] = str(d.get("operador_nombre") or op)
            first, start, end = d.get("primer_llamado_at"), d.get("atendiendo_at"), None
            if state == FINALIZADO:
                end = d.get("finalizado_at")
            for g in groups:
                if g is areas[area] or g is dias[str(day)]:
                    g.emitidos += 1
                    if first is not None:
                        g.esperas.append(max(0.0, int(first) / 1000 - float(created)))
                g.finalizados += state == FINALIZADO
                g.no_presento += state == NO_PRESENTO
                if start is not None and end is not None:
                    g.atenciones.append(max(0.0, (int(end) - int(start)) / 1000))
    config = await read_config(records)
    for a in config["areas"]:
        names[("area", a["id"])] = a["nombre"]
        areas.setdefault(a["id"], _Acc())
    mesa_area = {m["id"]: m["area_id"] for m in config["mesas"]}
    for m in config["mesas"]:
        names[("mesa", m["id"])] = m["nombre"]
        mesas.setdefault(m["id"], _Acc())
    return {
        "desde": desde,
        "hasta": hasta,
        "areas": [
            acc.row(id=i, nombre=names[("area", i)]) for i, acc in _ordered(areas, config["areas"])
        ],
        "mesas": [
            acc.row(tickets=False, id=i, nombre=names[("mesa", i)], area_id=mesa_area.get(i))
            for i, acc in _ordered(mesas, config["mesas"])
        ],
        "operadores": sorted(
            (
                acc.row(tickets=False, id=i, nombre=names[("op", i)])
                for i, acc in operadores.items()
            ),
            key=lambda row: str(row["nombre"]).lower(),
        ),
        "dias": [acc.row(fecha=day) for day, acc in sorted(dias.items())],
    }


def _ordered(accs: dict[str, _Acc], config: list[dict[str, Any]]) -> list[tuple[str, _Acc]]:
    known = [c["id"] for c in config]
    rest = sorted(set(accs) - set(known))
    return [(i, accs[i]) for i in [*known, *rest]]


CSV_COLUMNS = ("grupo", "id", "nombre", "emitidos", "atendidos", "no_presento",
               "espera_promedio_s", "atencion_promedio_s")  # fmt: skip
_GROUPS = (("area", "areas"), ("mesa", "mesas"), ("operador", "operadores"), ("dia", "dias"))


def report_csv(rep: dict[str, Any]) -> str:
    return spreadsheet_csv(CSV_COLUMNS, _report_lines(rep))


def _report_lines(rep: dict[str, Any]) -> Iterable[Iterable[Any]]:
    for grupo, key in _GROUPS:
        for row in rep[key]:
            rid = row.get("id", row.get("fecha"))
            nombre = row.get("nombre", row.get("fecha"))
            yield (
                grupo, rid, nombre,
                row.get("emitidos"), row["atendidos"], row["no_presento"],
                row.get("espera_promedio_s"), row["atencion_promedio_s"],
            )  # fmt: skip
