"""The leads app's target (issue 6): a GTR dashboard over 5,000 leads and a
stream of 50 assignments/s; every change reaches the GTR's channel and the
asesor's panel, p99 action-to-screen under 250 ms.

``run_leads_bench`` starts a real server (records on a fresh SQLite file, or
``url``; the leads app; the memory broker) in this process, creates the
leads and asesores, opens one WebSocket per screen — the GTR dashboard on
``gtr`` and every asesor's panel on ``asesor:{id}``, each subscribed the way
the pages do — and then, open loop at ``rate`` per second, has the GTR
assign a different lead each time (``POST /api/leads/{id}/assign``, the
dashboard's action). Action-to-screen is the time from sending the request
to that lead's ``CLIENT_REASSIGNED`` frame arriving on each socket, measured
with the ``websockets`` library. Bounded: ``duration`` seconds of load, then
at most ``drain`` seconds for the last frames (missing ones are counted).

    python -m relevo.bench.leads            # full size
    python -m relevo.bench.leads --quick    # a few seconds
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from relevo.apps.base import AppContext
from relevo.apps.leads import extension, kinds, namespaces
from relevo.apps.leads.kinds import LEAD, USER
from relevo.bench.loop import run_fast
from relevo.broker.memory import MemoryBroker
from relevo.hub.auth import mint_token
from relevo.hub.hub import Hub
from relevo.records import SYSTEM, Records
from relevo.records.extension import records_extension
from relevo.server.app import RelevoServer
from relevo.settings import AuthSettings, ServerSettings, Settings

__all__ = ["TARGET_P99_MS", "run_leads_bench"]

TARGET_P99_MS = 250.0
_SECRET = "leads-bench-secret-0123456789abcdef"
_API_KEY = "leads-bench-key"
_EVENT = "CLIENT_REASSIGNED"


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


class _Screen:
    """One WebSocket, as a page holds it: arrival times of each lead's
    CLIENT_REASSIGNED frame."""

    arrival = asyncio.Event()
    """Set on every awaited frame, on any screen (the drain waits on it)."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.arrived: dict[str, float] = {}
        self.frames = 0
        self.task: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, port: int, token: str, channel: str) -> _Screen:
        import websockets

        ws = await websockets.connect(f"ws://127.0.0.1:{port}/ws", max_size=None)
        await ws.send(json.dumps({"id": 1, "op": "connect", "token": token}))
        await ws.send(json.dumps({"id": 2, "op": "sub", "ch": channel}))
        while True:  # the sub reply: the screen is live from here on
            frame = json.loads(await ws.recv())
            if frame.get("id") == 2:
                if "ok" not in frame:
                    raise RuntimeError(f"subscribe {channel}: {frame}")
                break
        screen = cls(ws)
        screen.task = asyncio.get_running_loop().create_task(screen._read())
        return screen

    async def _read(self) -> None:
        import websockets

        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in self.ws:
                now = time.perf_counter()
                self.frames += 1
                frame = json.loads(raw)
                if frame.get("ev") == _EVENT:
                    self.arrived.setdefault(frame["data"]["id"], now)
                    _Screen.arrival.set()

    async def close(self) -> None:
        await self.ws.close()
        if self.task is not None:
            await self.task


async def _setup(records: Records, n_leads: int, n_asesores: int) -> tuple[list[str], list[str]]:
    asesores = [f"a{i}" for i in range(1, n_asesores + 1)]
    async with records.transaction() as tx:
        await tx.create(USER, {"nombre": "GTR", "rol": "gtr"}, by=SYSTEM, id="gtr")
        for a in asesores:
            await tx.create(USER, {"nombre": f"Asesor {a}", "rol": "asesor"}, by=SYSTEM, id=a)
    ids: list[str] = []
    for start in range(0, n_leads, 1000):
        async with records.transaction() as tx:
            for i in range(start, min(n_leads, start + 1000)):
                data = {"nombre": f"Cliente {i}", "telefono": f"9{i:08d}", "campana": "Bench"}
                ids.append((await tx.create(LEAD, data, by=SYSTEM)).id)
    await records.wait_published()
    return ids, asesores


async def run_leads_bench(
    *,
    leads: int = 5000,
    rate: float = 50.0,
    duration: float = 20.0,
    asesores: int = 50,
    connections: int = 8,
    drain: float = 10.0,
    url: str | None = None,
) -> dict[str, Any]:
    """Measure action-to-screen on the GTR's and the asesores' channels;
    returns the figures (milliseconds) and whether p99 met the target."""
    actions = min(leads, max(1, int(rate * duration)))
    opts = {"timeout": 3600.0}  # no lead may time out during the run
    settings = Settings(
        server=ServerSettings(host="127.0.0.1", port=0, log_level="warning"),
        auth=AuthSettings(secret=_SECRET, api_key=_API_KEY),
        namespaces=namespaces(opts),
        apps=("leads",),
        app={"leads": opts},
    )
    with tempfile.TemporaryDirectory(prefix="relevo-leads-bench-") as tmp:
        hub = Hub(settings, MemoryBroker())
        records = Records(url or f"sqlite+aiosqlite:///{Path(tmp) / 'leads.db'}", kinds(opts))
        records.attach(hub)
        ctx = AppContext("leads", settings, hub, records, opts)
        server = RelevoServer(
            settings, hub=hub, extensions=[records_extension(records, migrate=True), extension(ctx)]
        )
        await server.start()
        screens: list[_Screen] = []
        _Screen.arrival = asyncio.Event()  # bound to this run's loop
        try:
            started = time.perf_counter()
            ids, team = await _setup(records, leads, asesores)
            setup_s = time.perf_counter() - started
            gtr_token = mint_token(_SECRET, "gtr", ["gtr"], ttl=3600)
            headers = {"Authorization": f"Bearer {gtr_token}"}
            base = f"http://127.0.0.1:{server.port}"
            limits = httpx.Limits(
                max_connections=connections, max_keepalive_connections=connections
            )
            async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits) as http:
                t = time.perf_counter()
                snap = await http.get("/api/records/lead", params={"limit": "10000"})
                snapshot_ms = (time.perf_counter() - t) * 1000
                snap.raise_for_status()
                rows = len(snap.json()["rows"])
                gtr = await _Screen.open(server.port, gtr_token, "gtr")
                screens.append(gtr)
                panels: dict[str, _Screen] = {}
                for a in team:
                    token = mint_token(_SECRET, a, ["asesor"], ttl=3600)
                    panels[a] = await _Screen.open(server.port, token, f"asesor:{a}")
                    screens.append(panels[a])

                sent: dict[str, float] = {}
                target: dict[str, str] = {}
                http_ms: list[float] = []
                errors: list[str] = []

                async def assign(lead_id: str, asesor: str) -> None:
                    t0 = time.perf_counter()
                    sent[lead_id] = t0
                    target[lead_id] = asesor
                    res = await http.post(
                        f"/api/leads/{lead_id}/assign", json={"asesor_id": asesor}
                    )
                    http_ms.append((time.perf_counter() - t0) * 1000)
                    if res.status_code != 200:
                        errors.append(f"{res.status_code} {res.text[:200]}")

                tasks: list[asyncio.Task[None]] = []
                load_start = time.perf_counter()
                for i in range(actions):
                    due = load_start + i / rate
                    delay = due - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    lead_id = ids[i]
                    tasks.append(asyncio.create_task(assign(lead_id, team[i % len(team)])))
                await asyncio.gather(*tasks)
                load_s = time.perf_counter() - load_start
                deadline = time.perf_counter() + drain

                def complete() -> bool:
                    return len(gtr.arrived) >= actions and all(
                        lead in panels[a].arrived for lead, a in target.items()
                    )

                while not complete() and time.perf_counter() < deadline:
                    _Screen.arrival.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(
                            _Screen.arrival.wait(), deadline - time.perf_counter()
                        )
        finally:
            for s in screens:
                with contextlib.suppress(Exception):
                    await s.close()
            await server.stop()

    gtr_ms = [(gtr.arrived[k] - v) * 1000 for k, v in sent.items() if k in gtr.arrived]
    asesor_ms = [
        (panels[target[k]].arrived[k] - v) * 1000
        for k, v in sent.items()
        if k in panels[target[k]].arrived
    ]
    p99 = [p for p in (_pct(gtr_ms, 0.99), _pct(asesor_ms, 0.99)) if p is not None]
    missing = (actions - len(gtr_ms)) + (actions - len(asesor_ms))
    return {
        "leads": leads,
        "snapshot_rows": rows,
        "snapshot_ms": round(snapshot_ms, 1),
        "asesores": asesores,
        "actions": actions,
        "rate_target": rate,
        "rate_achieved": round(actions / load_s, 1),
        "setup_s": round(setup_s, 1),
        "http_p50_ms": _pct(http_ms, 0.5),
        "http_p99_ms": _pct(http_ms, 0.99),
        "gtr_p50_ms": _pct(gtr_ms, 0.5),
        "gtr_p99_ms": _pct(gtr_ms, 0.99),
        "gtr_max_ms": round(max(gtr_ms), 2) if gtr_ms else None,
        "asesor_p50_ms": _pct(asesor_ms, 0.5),
        "asesor_p99_ms": _pct(asesor_ms, 0.99),
        "asesor_max_ms": round(max(asesor_ms), 2) if asesor_ms else None,
        "missing_frames": missing,
        "errors": errors[:5],
        "target_p99_ms": TARGET_P99_MS,
        "ok": not errors and missing == 0 and bool(p99) and max(p99) < TARGET_P99_MS,
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m relevo.bench.leads")
    p.add_argument("--leads", type=int, default=5000)
    p.add_argument("--rate", type=float, default=50.0)
    p.add_argument("--duration", type=float, default=20.0)
    p.add_argument("--asesores", type=int, default=50)
    p.add_argument("--url", help="SQLAlchemy URL of the records store (default: a temp SQLite)")
    p.add_argument("--quick", action="store_true", help="500 leads, 3 s, 10 asesores")
    args = p.parse_args(argv)
    kwargs: dict[str, Any] = {
        "leads": args.leads,
        "rate": args.rate,
        "duration": args.duration,
        "asesores": args.asesores,
        "url": args.url,
    }
    if args.quick:
        kwargs.update(leads=500, duration=3.0, asesores=10)
    result = run_fast(run_leads_bench(**kwargs))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
