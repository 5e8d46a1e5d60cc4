"""What the public monitor starts from, read once a second at most.

The last ``monitor_last`` calls of today and how many wait in each area,
the mesas on a break and each area's pace, plus the position of
``turnos:monitor`` read *before* them: the monitor subscribes ``since`` that
position and misses nothing. Every monitor asks at once after a restart, so
the answer is shared for a second.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from relevo.hub.hub import Hub
from relevo.records import Records

from .estimate import estimacion
from .kinds import CH_MONITOR, EN_ESPERA, LLAMADO, LLAMADOS
from .options import TurnosOptions
from .views import turno_monitor

__all__ = ["MonitorView"]

SHARED_FOR = 1.0
"""Seconds one snapshot answers every monitor that asks."""


class MonitorView:
    def __init__(self, records: Records, options: TurnosOptions) -> None:
        self.records = records
        self.options = options
        self._cache: tuple[float, str, dict[str, Any]] | None = None

    def forget(self) -> None:
        """A change the snapshot shows beyond the channel (a mesa's break)."""
        self._cache = None

    async def snapshot(self, hub: Hub, hoy: str) -> dict[str, Any]:
        clock = self.records.clock
        cached = self._cache
        if cached is not None and cached[1] == hoy and clock.monotonic() - cached[0] < SHARED_FOR:
            return cached[2]
        options = hub.permissions.history_options(CH_MONITOR)
        position = await hub.broker.position(CH_MONITOR, options)
        n = self.options.monitor_last
        # A transaction only because it can order by an indexed field. The
        # latest first calls, plus whatever is being called now (a recall of
        # an older turno puts it back on top).
        async with self.records.transaction() as tx:
            recent = await tx.find(
                "turno", {"fecha": hoy, "state": sorted(LLAMADOS)},
                order_by=["-primer_llamado_at"], limit=n,
            )  # fmt: skip
            calling = await tx.find("turno", {"state": LLAMADO})
        waiting = await self.records.find("turno", {"state": EN_ESPERA}, limit=1_000_000)
        today = [r for r in calling if r["fecha"] == hoy]
        merged = {r.id: r for r in [*recent, *today]}.values()
        called = sorted(merged, key=lambda r: r.get("llamado_at") or 0, reverse=True)[:n]
        mesas = await self.records.find("mesa", limit=100_000)
        body = {
            "channel": CH_MONITOR,
            "epoch": position.epoch,
            "offset": position.offset,
            "fecha": hoy,
            "en_espera": dict(Counter(str(r["area_id"]) for r in waiting if r["fecha"] == hoy)),
            "llamados": [turno_monitor(r) for r in called],
            # mesas on a break (ids; names are in /config) and each area's pace
            "pausas": sorted(m.id for m in mesas if m.get("pausa") and m.get("activa", True)),
            "estimacion": await estimacion(self.records, hoy),
        }
        self._cache = (clock.monotonic(), hoy, body)
        return body
