"""The admin's statistics, and what pushes them live (``stats_actualizadas``).

:func:`compute_stats` derives everything from today's turnos, so the figures
are always the database's truth. :class:`StatsPublisher` recomputes them
after a change — at most every ``stats_interval`` seconds, however many
changes come in — and publishes ``{"stats", "timestamp"}`` on
``turnos:stats`` when they differ from the last ones it sent.

Changes made through the app tell it at once. A turno the no-show *timer*
closes changes inside the records layer, with no app code running; so when
a turno is called the publisher also schedules a look just after its no-show
deadline. A recomputation that finds nothing new publishes nothing, and the
admin page's 60-second poll repairs anything missed in between (say, an edit
through the generic records API).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import math
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from relevo.clock import Clock, SystemClock
from relevo.records import Record, Records

from ._sql import WaitCache, day_counts
from .config import read_config
from .kinds import ATENDIENDO, CH_STATS, EN_CURSO, EN_ESPERA, FINALIZADO, LLAMADO, NO_PRESENTO
from .options import TurnosOptions
from .views import operador_de

__all__ = ["LiveStats", "StatsPublisher", "compute_stats", "percentile"]

log = logging.getLogger("relevo.apps.turnos")
_json = msgspec.json.Encoder()


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..1); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def _summary(waits: list[float]) -> dict[str, Any]:
    avg = sum(waits) / len(waits) if waits else None
    p90 = percentile(waits, 0.9)
    return {
        "promedio_s": None if avg is None else round(avg, 1),
        "p90_s": None if p90 is None else round(p90, 1),
        "muestras": len(waits),
    }


async def compute_stats(
    records: Records, options: TurnosOptions, waits_cache: WaitCache | None = None
) -> dict[str, Any]:
    """Today's figures. Counts run in SQL over the indexed columns and waits
    come from ``waits_cache`` (new first calls only), so a day of 20,000
    tickets costs milliseconds, not a JSON decode of every record; only the
    turnos waiting or at a desk are read whole."""
    fecha = options.day(records.clock.now())
    counts = await day_counts(records, fecha)
    called = await (waits_cache or WaitCache()).update(records, fecha)
    config = await read_config(records)
    now = records.clock.now()
    operadores = {
        m.id: (held.holder, operador_de(m, held.holder))
        for m in await records.find("mesa", limit=100_000)
        if (held := m.lease_held(now)) is not None
    }
    at_desks = [
        r for r in await records.find("turno", {"state": sorted(EN_CURSO)}) if r["fecha"] == fecha
    ]
    waiting = [
        r.created_at
        for r in await records.find("turno", {"state": EN_ESPERA}, limit=1_000_000)
        if r["fecha"] == fecha
    ]
    totals: Counter[str] = Counter()
    by_tramite: dict[str, Counter[str]] = defaultdict(Counter)
    by_mesa: dict[str, Counter[str]] = defaultdict(Counter)
    for state, tramite, mesa, n in counts:
        totals[state] += n
        by_tramite[tramite][state] += n
        if mesa is not None:
            by_mesa[mesa][state] += n
    waits: dict[str, list[float]] = defaultdict(list)
    for tramite, wait in called:
        waits[tramite].append(wait)
    current: dict[str, Record] = {}
    for rec in sorted(at_desks, key=lambda r: r.get("llamado_at") or 0):
        current[str(rec.get("mesa_id"))] = rec  # the latest call wins
    tramites = []
    for tr in config["tramites"]:
        c = by_tramite[tr["id"]]
        tramites.append(
            {
                "id": tr["id"],
                "nombre": tr["nombre"],
                "prefijo": tr["prefijo"],
                "area_id": tr["area_id"],
                "emitidos": sum(c.values()),
                "en_espera": c[EN_ESPERA],
                "finalizados": c[FINALIZADO],
                "no_presento": c[NO_PRESENTO],
                **_summary(waits[tr["id"]]),
            }
        )
    mesas = []
    for m in config["mesas"]:
        c = by_mesa[m["id"]]
        actual = current.get(m["id"])
        mesas.append(
            {
                "id": m["id"],
                "nombre": m["nombre"],
                "area_id": m["area_id"],
                "activa": m.get("activa", True),
                "pausa": bool(m.get("pausa")),
                "pausa_desde": m.get("pausa_desde"),
                "pausa_motivo": m.get("pausa_motivo"),
                # who has the mesa open, if anyone: their name, and their login id
                "operador": operadores.get(m["id"], (None, None))[1],
                "operador_id": operadores.get(m["id"], (None, None))[0],
                "atendidos": c[FINALIZADO],
                "no_presento": c[NO_PRESENTO],
                "actual": None
                if actual is None
                else {
                    "id": actual.id,
                    "numero_visible": actual["numero_visible"],
                    "state": actual.state,
                },
            }
        )
    return {
        "fecha": fecha,
        "totales": {
            "emitidos": sum(totals.values()),
            "en_espera": totals[EN_ESPERA],
            "llamado": totals[LLAMADO],
            "atendiendo": totals[ATENDIENDO],
            "finalizado": totals[FINALIZADO],
            "no_presento": totals[NO_PRESENTO],
        },
        "espera": _summary([w for _, w in called]),
        "espera_mas_antigua_at": int(min(waiting) * 1000) if waiting else None,
        "tramites": tramites,
        "mesas": mesas,
    }


class StatsPublisher:
    """Recompute-and-publish, coalesced: ``poke()`` asks for a look now,
    ``poke(delay)`` for one later; looks are at least ``min_interval`` apart,
    and more when a look takes long (at most a fifth of the time computing)."""

    def __init__(
        self,
        compute: Callable[[], Awaitable[dict[str, Any]]],
        publish: Callable[[dict[str, Any]], Awaitable[None]],
        *,
        min_interval: float = 0.3,
        clock: Clock | None = None,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.compute = compute
        self.publish = publish
        self.min_interval = min_interval
        self.published = 0
        self._due: list[float] = []
        self._wake = asyncio.Event()
        self._last_run = -math.inf
        self._last: dict[str, Any] | None = None
        self._task: asyncio.Task[None] | None = None

    def poke(self, delay: float = 0.0) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # not running (a script writing records before the server starts)
        now = self.clock.monotonic()
        heapq.heappush(self._due, now + delay)
        if len(self._due) > 10_000:  # far more looks than useful: keep the earliest
            self._due = heapq.nsmallest(1000, self._due)
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="turnos-stats")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            now = self.clock.monotonic()
            if not self._due:
                await self._wake.wait()
                continue
            at = max(self._due[0], self._last_run + self.min_interval)
            if at > now:
                await self.clock.sleep(at - now, self._wake)
                continue
            while self._due and self._due[0] <= now:
                heapq.heappop(self._due)
            self._last_run = now
            try:
                stats = await self.compute()
                # A long day makes a computation dearer: keep it a small share of the loop.
                self._last_run += max(0.0, 4 * (self.clock.monotonic() - now) - self.min_interval)
                if stats != self._last:
                    await self.publish(stats)
                    self._last = stats
                    self.published += 1
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("turnos: could not publish the statistics")


class LiveStats:
    """The admin's figures, live while the server runs: looked at again after
    each change the app makes (``changed``, the Turnero's hook) and just after
    each called turno's no-show deadline."""

    SETTLE = (1.0, 3.0)
    """Seconds after a no-show deadline to look again (the records timer
    fires within about a second of it)."""

    def __init__(self, records: Records, options: TurnosOptions) -> None:
        self.records = records
        self.options = options
        waits = WaitCache()
        self.publisher = StatsPublisher(
            lambda: compute_stats(records, options, waits),
            self._publish,
            min_interval=options.stats_interval,
            clock=records.clock,
        )

    async def _publish(self, stats: dict[str, Any]) -> None:
        hub = self.records.hub
        if hub is None:
            raise RuntimeError("records.attach(hub) must run before the turnos app starts")
        body = {"stats": stats, "timestamp": int(self.records.clock.now() * 1000)}
        await hub.publish(CH_STATS, "stats_actualizadas", _json.encode(body), "turnos")

    def changed(self, rec: Record) -> None:
        self.publisher.poke()
        if rec.state == LLAMADO and rec.get("llamado_at") is not None:
            self._expect_no_show(rec)

    def _expect_no_show(self, rec: Record) -> None:
        deadline = rec["llamado_at"] / 1000 + self.options.no_show_seconds
        delay = deadline - self.records.clock.now()
        for settle in self.SETTLE:
            self.publisher.poke(max(0.0, delay + settle))

    async def start(self) -> None:
        self.publisher.start()
        self.publisher.poke()
        hoy = self.options.day(self.records.clock.now())
        for rec in await self.records.find("turno", {"fecha": hoy, "state": LLAMADO}):
            self._expect_no_show(rec)

    async def stop(self) -> None:
        await self.publisher.close()
