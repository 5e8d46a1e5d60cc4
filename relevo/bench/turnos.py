"""The turnero's benchmark: a busy day, time-compressed (issue 7's target).

``run_turnos_bench`` starts the turnero in its own process (records on a
fresh SQLite file, so the load generator does not share its event loop) and
drives it from this one:

- a kiosk issuing ``tickets_per_hour`` tickets (Poisson arrivals) through the API;
- ``mesas`` operators, each with its own panel connection subscribed to the
  area: call next → the person walks up → attend → serve → finish, with
  exponential times; every action is an HTTP request;
- ``monitors`` public monitors subscribed to ``turnos:monitor``.

Simulated time runs ``speedup`` times faster than the wall clock (20: a
10-minute stretch of the day in 30 s), so the server sees ``speedup`` times
the real request rate — a harder test than the real day. The run is bounded
by ``duration`` seconds of wall time.

It reports, for every operator action, the delay until each monitor received
the change (p50 / p99 / max over action × monitor), the same for a kiosk
ticket reaching the operator panels, and any delivery that never arrived.
Target: p99 operator action → monitor update under 100 ms.

Run it: ``relevo bench turnos [--duration 30] [--speedup 20] [--preload 18000]``
(or ``python -m relevo.bench.turnos``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from relevo.bench._turnos_io import Http, Listener, free_port, server_process
from relevo.bench.loop import run_fast
from relevo.hub.auth import mint_token

__all__ = ["run_turnos_bench"]

_SECRET = "turnos-bench-secret-0123456789abcdef"
_API_KEY = "turnos-bench-key"
_TRAMITES = ("A", "B", "C", "D")
TARGET_P99_MS = 100.0


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def _config(mesas: int) -> dict[str, Any]:
    return {
        "areas": [{"id": "atencion", "nombre": "Atención"}],
        "tramites": [
            {"id": p.lower(), "nombre": f"Trámite {p}", "prefijo": p, "area_id": "atencion"}
            for p in _TRAMITES
        ],
        "mesas": [
            {
                "id": str(i),
                "nombre": f"Mesa {i}",
                "area_id": "atencion",
                "tramites": [_TRAMITES[i % 4].lower(), _TRAMITES[(i + 1) % 4].lower()],
            }
            for i in range(1, mesas + 1)
        ],
    }


async def _preload(db: str, mesas: int, count: int) -> None:
    """``count`` tickets already finished today, as at the end of a long day
    (the statistics and the queries then work on a full table)."""
    from relevo.apps.turnos import kinds
    from relevo.apps.turnos.config import apply_config
    from relevo.apps.turnos.options import parse_options
    from relevo.broker.memory import MemoryBroker
    from relevo.hub.hub import Hub
    from relevo.records import Actor, Records
    from relevo.records import schema as s
    from relevo.settings import Settings

    hub = Hub(Settings(), MemoryBroker())
    await hub.start()
    records = Records(db, kinds({}))
    records.attach(hub)
    await records.start(migrate=True)
    try:
        actor = Actor.trusted("bench")
        await apply_config(records, _config(mesas), by=actor)
        k = records.kind("turno")
        now = records.clock.now()
        fecha = parse_options({}).day(now)
        rng = random.Random(count)
        for start in range(0, count, 1000):
            async with records.transaction() as tx:
                for _ in range(start, min(count, start + 1000)):
                    prefix = rng.choice(_TRAMITES)
                    n = await tx.next_sequence(f"turnos:{fecha}:{prefix.lower()}")
                    called = int((now - rng.uniform(600, 30_000)) * 1000)
                    values = {
                        "numero_visible": f"{prefix}-{n:03d}", "numero": n, "fecha": fecha,
                        "tramite_id": prefix.lower(), "area_id": "atencion",
                        "mesa_id": str(rng.randint(1, mesas)), "llamado_at": called,
                        "primer_llamado_at": called, "llamadas": 1, "motivo": "atendido",
                    }  # fmt: skip
                    rid = await tx.new_id("turno")
                    await tx.write(k, None, k.clean(values, partial=False), "finalizado", actor,
                                   event="turno_finalizado", new_id=rid)  # fmt: skip
        async with records.store.write() as conn:  # history, not news: nothing to publish
            await conn.execute(s.outbox.delete())
    finally:
        await records.close()
        await hub.close()


async def run_turnos_bench(
    *,
    mesas: int = 20,
    tickets_per_hour: float = 2000.0,
    monitors: int = 30,
    speedup: float = 20.0,
    duration: float = 30.0,
    walk_seconds: float = 15.0,
    service_seconds: float = 30.0,
    preload: int = 0,
    warmup: float = 3.0,
    seed: int = 1,
) -> dict[str, Any]:
    """Simulate ``duration * speedup`` seconds of a busy day; see the module
    doc. ``preload``: tickets already finished today before the run starts;
    ``warmup``: seconds at the start left out of the figures."""
    rng = random.Random(seed)
    port = free_port()
    api_key = f"X-API-Key: {_API_KEY}"
    operator = f"Authorization: Bearer {mint_token(_SECRET, 'bench-op', ['operador'])}"
    actions: list[tuple[str, int, float]] = []  # (turno id, version, sent at)
    tickets: list[tuple[str, int, float]] = []
    answered: list[float] = []  # ms from an operator's request to its answer
    stop = asyncio.Event()
    with tempfile.TemporaryDirectory(prefix="relevo-turnos-bench-") as tmp:
        db = f"sqlite+aiosqlite:///{Path(tmp) / 'turnos.db'}"
        if preload:
            await _preload(db, mesas, preload)
        async with server_process(port, db, _SECRET, _API_KEY):
            admin = Http(port, api_key)
            status, body = await admin.post("/api/turnos/config", _config(mesas))
            if status != 200:
                raise RuntimeError(f"configuration refused: {body}")
            screens = [Listener() for _ in range(monitors)]
            panels = [Listener() for _ in range(mesas)]
            for s in screens:
                await s.start(port, "turnos:monitor", None)
            op_token = operator.removeprefix("Authorization: Bearer ")
            for p in panels:
                await p.start(port, "turnos:area:atencion", op_token)

            async def kiosk() -> None:
                rate = tickets_per_hour / 3600 * speedup
                conn = Http(port, api_key)
                try:
                    while not stop.is_set():
                        tramite = rng.choice(_TRAMITES).lower()
                        sent = time.perf_counter()
                        body = {"tramite_id": tramite}
                        status, body = await conn.post("/api/turnos/turnos", body)
                        if status == 201:
                            t = body["turno"]
                            tickets.append((str(t["id"]), int(t["version"]), sent))
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(stop.wait(), rng.expovariate(rate))
                finally:
                    conn.close()

            async def pause(sim_seconds: float) -> None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), sim_seconds / speedup)

            async def desk(mesa: int) -> None:
                conn = Http(port, operator)

                async def act(path: str) -> dict[str, Any] | None:
                    sent = time.perf_counter()
                    status, body = await conn.post(path, {})
                    answered.append((time.perf_counter() - sent) * 1000)
                    if status != 200:
                        raise RuntimeError(f"{path}: {status} {body}")
                    turno: dict[str, Any] | None = body["turno"]
                    if turno is not None:
                        actions.append((str(turno["id"]), int(turno["version"]), sent))
                    return turno

                try:
                    await pause(rng.uniform(0, 5))
                    while not stop.is_set():
                        turno = await act(f"/api/turnos/mesas/{mesa}/siguiente")
                        if turno is None:
                            await pause(5)
                            continue
                        await pause(rng.expovariate(1 / walk_seconds))
                        await act(f"/api/turnos/turnos/{turno['id']}/atender")
                        await pause(rng.expovariate(1 / service_seconds))
                        await act(f"/api/turnos/turnos/{turno['id']}/finalizar")
                finally:
                    conn.close()

            # The load generator's own garbage collector would pause the
            # readers and show up as server latency: off while measuring.
            gc.collect()
            gc.disable()
            try:
                started = time.perf_counter()
                tasks = [asyncio.ensure_future(kiosk())]
                tasks += [asyncio.ensure_future(desk(m)) for m in range(1, mesas + 1)]
                await asyncio.sleep(duration)
                stop.set()
                await asyncio.gather(*tasks)
                elapsed = time.perf_counter() - started
                await asyncio.sleep(1.0)  # let the last publications arrive
            finally:
                gc.enable()
            for lis in (*screens, *panels):
                await lis.close()
            admin.close()

    # The first seconds warm the server up (statement caches, first timers).
    measured = [a for a in actions if a[2] >= started + warmup]
    to_monitor, missing = _latencies(measured, screens)
    to_panel, missing_panel = _latencies([t for t in tickets if t[2] >= started + warmup], panels)
    p99 = _pct(to_monitor, 0.99)
    return {
        "mesas": mesas,
        "monitors": monitors,
        "operator_panels": mesas,
        "tickets_per_hour": tickets_per_hour,
        "speedup": speedup,
        "simulated_minutes": round(elapsed * speedup / 60, 1),
        "wall_seconds": round(elapsed, 1),
        "preloaded_tickets": preload,
        "tickets": len(tickets),
        "operator_actions": len(actions),
        "measured_actions": len(measured),
        "actions_per_s": round(len(actions) / elapsed, 1),
        "monitor_deliveries": len(to_monitor),
        "missing_deliveries": missing + missing_panel,
        "action_to_monitor_p50_ms": _pct(to_monitor, 0.50),
        "action_to_monitor_p99_ms": p99,
        "action_to_monitor_max_ms": round(max(to_monitor), 2) if to_monitor else None,
        "operator_request_p50_ms": _pct(answered, 0.50),
        "operator_request_p99_ms": _pct(answered, 0.99),
        "kiosk_to_operator_p50_ms": _pct(to_panel, 0.50),
        "kiosk_to_operator_p99_ms": _pct(to_panel, 0.99),
        "target_p99_ms": TARGET_P99_MS,
        "meets_target": p99 is not None and p99 < TARGET_P99_MS and not missing,
    }


def _latencies(
    sent: list[tuple[str, int, float]], listeners: list[Listener]
) -> tuple[list[float], int]:
    out: list[float] = []
    missing = 0
    for rid, version, at in sent:
        for lis in listeners:
            arrived = lis.arrivals.get((rid, version))
            if arrived is None:
                missing += 1
            else:
                out.append((arrived - at) * 1000)
    return out, missing


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m relevo.bench.turnos")
    p.add_argument("--mesas", type=int, default=20)
    p.add_argument("--monitors", type=int, default=30)
    p.add_argument("--tickets-per-hour", dest="tickets_per_hour", type=float, default=2000.0)
    p.add_argument("--speedup", type=float, default=20.0)
    p.add_argument("--duration", type=float, default=30.0, help="wall-clock seconds")
    p.add_argument("--preload", type=int, default=0, help="tickets already finished today")
    args = p.parse_args(argv)
    kwargs = vars(args)
    result = run_fast(run_turnos_bench(**kwargs))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
