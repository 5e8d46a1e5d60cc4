"""The estimated wait the kiosk prints and the monitor shows, per area.

For each area: the average **service time** of its last :data:`SAMPLES`
turnos finished today (from "Atender" to "Finalizar"), and the number of its
mesas **in service** (active and not on a break). A new ticket with ``n``
people ahead waits about ``n × service / mesas``; the monitor shows that for
everyone waiting in the area. No finished turno yet today, or no mesa in
service: no estimate (``None``), rather than a made-up one.

It is an estimate: a mesa serving several trámites, a no-show or a long
case moves it. ``docs/apps/turnos.md`` says so to the reader.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from relevo.records import Records

from .kinds import FINALIZADO

__all__ = ["SAMPLES", "estimacion", "estimar"]

SAMPLES = 20
"""Finished turnos per area the average is taken over (the latest ones)."""
_READ = 200
"""Today's latest finished turnos read, all areas together."""


async def estimacion(records: Records, fecha: str) -> dict[str, dict[str, Any]]:
    """``{area: {"servicio_s": float | None, "mesas": int, "muestras": int}}``."""
    async with records.transaction() as tx:
        done = await tx.find(
            "turno", {"fecha": fecha, "state": FINALIZADO},
            order_by=["-primer_llamado_at"], limit=_READ,
        )  # fmt: skip
        mesas = await tx.find("mesa", limit=100_000)
        areas = await tx.find("area", limit=100_000)
    times: dict[str, list[float]] = defaultdict(list)
    for t in done:
        start, end = t.get("atendiendo_at"), t.get("finalizado_at")
        area = str(t["area_id"])
        if start is None or end is None or len(times[area]) >= SAMPLES:
            continue
        times[area].append(max(0.0, (int(end) - int(start)) / 1000))
    open_: dict[str, int] = defaultdict(int)
    for m in mesas:
        if m.get("activa", True) and not m.get("pausa") and m.get("tramites"):
            open_[str(m["area_id"])] += 1
    out: dict[str, dict[str, Any]] = {}
    for a in areas:
        sample = times.get(a.id, [])
        out[a.id] = {
            "servicio_s": round(sum(sample) / len(sample), 1) if sample else None,
            "mesas": open_.get(a.id, 0),
            "muestras": len(sample),
        }
    return out


def estimar(area: dict[str, Any] | None, adelante: int) -> int | None:
    """Seconds ``adelante`` people take at the area's pace; None without one."""
    if not area or area.get("servicio_s") is None or not area.get("mesas"):
        return None
    return round(adelante * float(area["servicio_s"]) / int(area["mesas"]))
