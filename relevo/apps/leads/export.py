"""The GTR board as a CSV file, filtered as the board is: the same state,
asesor, campaña and text filters and the same order as ``static/gtr.js``
(``GET /api/leads/export?estado=&asesor=&campana=&q=&orden=``).

Cells a spreadsheet would run as a formula (starting with ``= + - @``, a tab
or a carriage return) get a leading ``'``; the file starts with a UTF-8 BOM
so Excel reads accents right; ``;``-free, RFC 4180 quoting.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from relevo.records import Record

from ..kit.csv_export import spreadsheet_csv
from ..kit.errors import bad_request
from .kinds import STATES

__all__ = ["COLUMNS", "BoardFilter", "board_csv"]

COLUMNS = ("id", "nombre", "telefono", "documento", "campana", "fuente", "estado",
           "asesor", "asesor_anterior", "tipificacion", "notas", "derivado", "ultima_actividad",
           "volver_a_llamar", "completado", "creado")  # fmt: skip
ORDERS = ("recent", "due", "activity")
MAX_Q = 200


def fold(text: str) -> str:
    """Lower case without accents: how the board's search compares."""
    nfd = unicodedata.normalize("NFD", text)
    return "".join(c for c in nfd if not unicodedata.combining(c)).lower()


def _when(ms: Any) -> str:
    if not isinstance(ms, int | float) or isinstance(ms, bool):
        return ""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True, slots=True)
class BoardFilter:
    estado: str = ""
    asesor: str = ""
    campana: str = ""
    q: str = ""
    orden: str = "recent"

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> BoardFilter:
        estado = params.get("estado", "")
        if estado and estado not in STATES:
            raise bad_request(f"estado must be one of {list(STATES)}", field="estado")
        orden = params.get("orden", "") or "recent"
        if orden not in ORDERS:
            raise bad_request(f"orden must be one of {list(ORDERS)}", field="orden")
        values = {k: params.get(k, "") for k in ("asesor", "campana", "q")}
        for name, value in values.items():
            if len(value) > MAX_Q:
                raise bad_request(f"{name} is at most {MAX_Q} characters", field=name)
        return cls(estado, values["asesor"], values["campana"], fold(values["q"].strip()), orden)

    def matches(self, r: Record) -> bool:
        asesor = r.get("asesor_id")
        if self.estado and r.state != self.estado:
            return False
        if self.asesor and (bool(asesor) if self.asesor == "-" else str(asesor) != self.asesor):
            return False
        if self.campana and r.get("campana") != self.campana:
            return False
        if self.q:
            parts = (r.get("nombre"), r.get("telefono"), r.get("documento"), f"#{r.id}",
                     r.get("campana"))  # fmt: skip
            return self.q in fold(" ".join(str(p) for p in parts if p))
        return True

    def ordered(self, rows: Iterable[Record], timeout: float) -> list[Record]:
        def num(r: Record) -> int:
            return int(r.id) if r.id.isdigit() else 0

        out = sorted((r for r in rows if self.matches(r)), key=num, reverse=True)
        if self.orden == "due":

            def due(r: Record) -> float:
                if r.state not in ("derivado", "en_gestion"):
                    return float("inf")
                since = r.get("last_activity") or r.get("derivado_at") or 0
                return float(since) + timeout * 1000

            out.sort(key=due)
        elif self.orden == "activity":
            out.sort(key=lambda r: r.get("last_activity") or r.created_at * 1000, reverse=True)
        return out


def board_csv(rows: Iterable[Record], names: Mapping[str, str], labels: Mapping[str, str]) -> str:
    """The rows as CSV text (a header, then one lead per line)."""
    return spreadsheet_csv(COLUMNS, (_line(r, names, labels) for r in rows))


def _line(r: Record, names: Mapping[str, str], labels: Mapping[str, str]) -> tuple[Any, ...]:
    asesor, before = r.get("asesor_id"), r.get("previous_asesor_id")
    tip = r.get("tipificacion")
    return (
        r.id, r.get("nombre"), r.get("telefono"), r.get("documento"), r.get("campana"),
        r.get("fuente"), r.state, names.get(str(asesor), asesor) if asesor else "",
        names.get(str(before), before) if before else "", labels.get(str(tip), tip),
        r.get("notas"), _when(r.get("derivado_at")), _when(r.get("last_activity")),
        _when(r.get("callback_at")), _when(r.get("fecha_wizard_completado")),
        _when(r.created_at * 1000),
    )  # fmt: skip
