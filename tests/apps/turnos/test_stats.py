"""The admin's figures on virtual time: waits to the first call (average,
p90), per trámite and per mesa, read incrementally through a long day."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from relevo.apps.turnos import kinds
from relevo.apps.turnos._sql import WaitCache
from relevo.apps.turnos.config import apply_config
from relevo.apps.turnos.options import parse_options
from relevo.apps.turnos.service import Turnero
from relevo.apps.turnos.stats import compute_stats, percentile
from relevo.broker.memory import MemoryBroker
from relevo.clock import VirtualClock
from relevo.hub.hub import Hub
from relevo.records import Actor, Records

from .conftest import CONFIG, settings_for

KIOSK = Actor.trusted("kiosco")
OP = Actor.trusted("op1")


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 0.9) is None
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([float(i) for i in range(1, 11)], 0.9) == 9.0
    assert percentile([float(i) for i in range(1, 101)], 0.9) == 90.0


@pytest.fixture
async def day(tmp_path: Path) -> AsyncIterator[tuple[Turnero, VirtualClock]]:
    clock = VirtualClock(start=1_767_268_800.0)  # 2026-01-01 12:00 UTC
    settings = settings_for({"timezone": "UTC"})
    hub = Hub(settings, MemoryBroker())
    await hub.start()
    records = Records(f"sqlite+aiosqlite:///{tmp_path / 'day.db'}", kinds({}), clock=clock)
    records.attach(hub)
    await records.start(migrate=True)
    await apply_config(records, CONFIG, by=Actor.trusted("test"))
    try:
        yield Turnero(records, parse_options({"timezone": "UTC"})), clock
    finally:
        await records.close()
        await hub.close()


async def test_waits_counts_and_desks(day: tuple[Turnero, VirtualClock]) -> None:
    t, clock = day
    opts = t.options
    cache = WaitCache()
    for tramite in ("consultas", "consultas", "reclamos", "pagos"):
        await t.emitir(tramite, by=KIOSK)
        clock.advance(10)  # issued at 0, 10, 20, 30 s
    clock.advance(30)  # now: 70 s
    a1 = await t.llamar_siguiente("2", by=OP)  # waited 70 s
    a2 = await t.llamar_siguiente("1", by=OP)  # A-002 (10 s) came before R-001 (20 s)
    assert a1 is not None
    assert a2 is not None
    assert (a1["numero_visible"], a2["numero_visible"]) == ("A-001", "A-002")
    stats = await compute_stats(t.records, opts, cache)
    assert stats["fecha"] == "2026-01-01"
    assert stats["totales"] == {"emitidos": 4, "en_espera": 2, "llamado": 2, "atendiendo": 0,
                                "finalizado": 0, "no_presento": 0}  # fmt: skip
    assert stats["espera"] == {"promedio_s": 65.0, "p90_s": 70.0, "muestras": 2}
    assert stats["espera_mas_antigua_at"] == int((1_767_268_800.0 + 20) * 1000)
    mesas = {m["id"]: m for m in stats["mesas"]}
    assert mesas["2"]["actual"] == {"id": a1.id, "numero_visible": "A-001", "state": "llamado"}

    await t.accion(a1.id, "atender", by=OP)
    await t.accion(a1.id, "finalizar", by=OP)
    await t.accion(a2.id, "no_presento", by=OP)
    clock.advance(100)  # 170 s
    caja = await t.llamar_siguiente("caja1", by=OP)  # C-001 waited 140 s
    assert caja is not None
    stats = await compute_stats(t.records, opts, cache)
    assert stats["espera"] == {"promedio_s": 90.0, "p90_s": 140.0, "muestras": 3}
    tramites = {x["id"]: x for x in stats["tramites"]}
    assert tramites["consultas"]["promedio_s"] == 65.0
    assert tramites["consultas"]["finalizados"] == 1
    assert tramites["consultas"]["no_presento"] == 1
    assert tramites["pagos"]["p90_s"] == 140.0
    mesas = {m["id"]: m for m in stats["mesas"]}
    assert (mesas["2"]["atendidos"], mesas["1"]["no_presento"]) == (1, 1)
    assert mesas["2"]["actual"] is None
    assert mesas["caja1"]["actual"]["numero_visible"] == "C-001"
    # a fresh cache reads the whole day and agrees with the incremental one
    assert await compute_stats(t.records, opts, WaitCache()) == stats
    # the next day starts from zero
    clock.advance(86_400)
    tomorrow = await compute_stats(t.records, opts, cache)
    assert tomorrow["totales"]["emitidos"] == 0
    assert tomorrow["espera"]["muestras"] == 0
