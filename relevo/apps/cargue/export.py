"""The day's sheet as CSV (dispatcher, admin, backend): one line per product
row, with who ticked V and D and when, the quantities, and the closing of
each vendor's day. Cells are formula-safe (:func:`..kit.csvfile.csv_cell`):
a product named ``=HYPERLINK(...)`` stays text in a spreadsheet."""

from __future__ import annotations

import datetime as dt
from typing import Any

from relevo.records import Record

from .kinds import CIERRE, ITEM, USER
from .service import CargueService

__all__ = ["COLUMNS", "sheet_rows"]

COLUMNS = (
    "fecha", "vendedor_id", "vendedor", "orden", "codigo", "producto", "unidad",
    "cantidad", "cargada", "devuelta", "motivo", "estado",
    "v_por", "v_hora", "d_por", "d_hora", "cierre",
)  # fmt: skip
MAX_EXPORT = 20_000


async def sheet_rows(
    service: CargueService, fecha: str, vendedor_id: str | None
) -> list[list[Any]]:
    """The rows of ``fecha`` (one vendor's, or everyone's), in sheet order."""
    records = service.records
    where: dict[str, Any] = {"fecha": fecha}
    if vendedor_id:
        where["vendedor_id"] = vendedor_id
    items = await records.find(ITEM, where, limit=MAX_EXPORT)
    names = {u.id: str(u.get("nombre")) for u in await records.find(USER, {}, limit=10_000)}
    closing = await records.find(CIERRE, where, limit=10_000)
    cierres = {str(c.get("vendedor_id")): c for c in closing}
    zone = service.options.zone()

    def hora(ms: Any) -> str:
        if not ms:
            return ""
        return dt.datetime.fromtimestamp(int(ms) / 1000, zone).strftime("%H:%M")

    def cierre(vid: str) -> str:
        c: Record | None = cierres.get(vid)
        if c is None or c.state != "cerrado":
            return "abierto"
        return f"cerrado {hora(c.get('cerrado_at'))} por {c.get('cerrado_nombre') or ''}".strip()

    items.sort(key=lambda r: (str(r.get("vendedor_id")), int(r.get("orden") or 0), r.id))
    out = []
    for r in items:
        vid = str(r.get("vendedor_id"))
        out.append([
            fecha, vid, names.get(vid, vid), r.get("orden"), r.get("codigo"), r.get("producto"),
            r.get("unidad"), r.get("cantidad"), r.get("cargada"), r.get("devuelta") or 0,
            r.get("motivo"), r.state,
            r.get("v_nombre") or r.get("v_by"), hora(r.get("v_at")),
            r.get("d_nombre") or r.get("d_by"), hora(r.get("d_at")),
            cierre(vid),
        ])  # fmt: skip
    return out
