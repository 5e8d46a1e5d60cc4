"""Records benchmark: end-to-end transitions and timer lateness (issue 5 targets).

``run_records_bench`` starts a real server on a fresh SQLite file (or ``url``)
and measures:

- **transitions/s end to end**: HTTP request → committed → delivered to a
  WebSocket subscriber, with ``concurrency`` clients each flipping its own
  record (so none conflict);
- **commit-to-delivery p50/p99**: a publication's arrival at the subscriber
  minus the record's ``updated_at`` (stamped inside the transaction, just
  before the commit, so the figure slightly overstates);
- **timer lateness p50/p99/max** with ``timers`` armed timers: fire time (the
  history row) minus deadline.

The load generator speaks raw HTTP/1.1 keep-alive on asyncio streams: a
general-purpose client in the same process would be the bottleneck.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from relevo.bench.loop import run_fast
from relevo.records import schema as s
from relevo.records.kinds import Field, Kind, Timer, Transition
from relevo.records.service import Records, RecordsOptions
from relevo.settings import (
    AuthSettings,
    BrokerSettings,
    NamespaceSettings,
    Rule,
    ServerSettings,
    Settings,
)

__all__ = ["run_records_bench"]

_API_KEY = "bench-key"


def _kinds(timer_after: float) -> list[Kind]:
    item = Kind(
        "bench_item",
        fields={"n": Field(int, default=0)},
        states={"a", "b"},
        initial="a",
        transitions=[
            Transition("flip", source={"a"}, target="b", event="FLIPPED"),
            Transition("flop", source={"b"}, target="a", event="FLOPPED"),
        ],
        channels=["bench"],
        live={"": "bench"},
    )
    kinds = [item]
    for name, after in (("bench_timer", timer_after), ("bench_idle", 3600.0)):
        kinds.append(
            Kind(
                name,
                fields={"n": Field(int, default=0)},
                states={"armed", "fired"},
                initial="armed",
                transitions=[Transition("fire", source={"armed"}, target="fired")],
                timers=[Timer(after=after, in_states={"armed"}, transition="fire")],
                channels=["bench_timers"],
            )
        )
    return kinds


def _settings(broker: str = "memory://") -> Settings:
    return Settings(
        server=ServerSettings(port=0, log_level="warning"),
        auth=AuthSettings(secret="bench-secret-0123456789abcdef0123", api_key=_API_KEY),
        broker=BrokerSettings(url=broker),
        namespaces=(
            NamespaceSettings("bench", subscribe=(Rule(anonymous=True),), history_size=1000),
            NamespaceSettings("bench_timers", subscribe=(Rule(anonymous=True),)),
        ),
    )


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class _Http:
    """One keep-alive HTTP/1.1 connection, one request at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> _Http:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def post(self, path: str, body: bytes = b"{}") -> tuple[int, bytes]:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: bench\r\nX-API-Key: {_API_KEY}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return int(status_line.split()[1]), await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


async def _client(port: int, per: int, ids: list[str]) -> dict[str, Any]:
    """The load: a WebSocket subscriber and one keep-alive HTTP client per
    record, in a process of its own so it does not share the server's core."""
    import websockets

    total = per * len(ids)
    latencies: list[float] = []
    done = asyncio.Event()
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws") as ws:
        await ws.send(json.dumps({"id": 1, "op": "sub", "ch": "bench"}))
        await ws.recv()

        async def listen() -> None:
            async for raw in ws:
                now_ms = time.time() * 1000
                frame = json.loads(raw)
                if frame.get("ev") in ("FLIPPED", "FLOPPED"):
                    latencies.append(now_ms - frame["data"]["record"]["updated_at"])
                    if len(latencies) >= total:
                        done.set()

        listener = asyncio.get_running_loop().create_task(listen())

        async def worker(id: str) -> None:
            conn = await _Http.open(port)
            try:
                for i in range(per):
                    name = "flip" if i % 2 == 0 else "flop"
                    status, body = await conn.post(
                        f"/api/records/bench_item/{id}/transitions/{name}"
                    )
                    if status != 200:
                        raise RuntimeError(f"transition failed: {status} {body[:200]!r}")
            finally:
                conn.close()

        started = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in ids))
        committed = time.perf_counter() - started
        await asyncio.wait_for(done.wait(), 60)
        elapsed = time.perf_counter() - started
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener
    return {
        "transitions": total,
        "concurrency": len(ids),
        "transitions_per_s": round(total / elapsed, 1),
        "commits_per_s": round(total / committed, 1),
        "commit_to_delivery_p50_ms": round(_pct(latencies, 0.50), 2),
        "commit_to_delivery_p99_ms": round(_pct(latencies, 0.99), 2),
    }


async def _transitions(
    settings: Settings, url: str, transitions: int, concurrency: int
) -> dict[str, Any]:
    from relevo.records.extension import records_extension
    from relevo.server.app import RelevoServer

    records = Records(url, _kinds(3600.0))
    server = RelevoServer(settings, extensions=[records_extension(records, migrate=True)])
    records.attach(server.hub)
    await server.start()
    try:
        ids = [(await records.create("bench_item", {}, by="system")).id for _ in range(concurrency)]
        await records.wait_published()
        per = max(1, transitions // concurrency)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "relevo.bench.records", "--client",
            str(server.port), str(per), *ids, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, _ = await asyncio.wait_for(proc.communicate(), 300)
        if proc.returncode != 0:
            raise RuntimeError(f"bench client failed ({proc.returncode})")
        result: dict[str, Any] = json.loads(out)
        return result
    finally:
        await server.stop()


async def _timers(
    settings: Settings, url: str, armed: int, probes: int, window: float
) -> dict[str, Any]:
    """``armed`` timers an hour out, then ``probes`` timers due over ``window``
    seconds (one every ``window / probes``): the lateness of the probes, with
    the scheduler's table holding ``armed + probes`` timers."""
    from relevo.broker.memory import MemoryBroker
    from relevo.hub.hub import Hub

    after = 2.0
    hub = Hub(settings, MemoryBroker())
    await hub.start()
    records = Records(url, _kinds(after), options=RecordsOptions())
    records.attach(hub)
    await records.start(migrate=True)
    try:
        for start in range(0, armed, 1000):
            async with records.transaction() as tx:
                for i in range(start, min(armed, start + 1000)):
                    await tx.create("bench_idle", {"n": i}, by="system")
        started = time.monotonic()
        for i in range(probes):
            delay = started + i * window / probes - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await records.create("bench_timer", {"n": i}, by="system")
        r = s.records.c

        async def fired() -> int:
            async with records.store.read() as conn:
                q = sa.select(sa.func.count()).where(r.kind == "bench_timer", r.state == "fired")
                return int((await conn.execute(q.select_from(s.records))).scalar_one())

        deadline = time.monotonic() + after + 60
        while await fired() < probes:
            if time.monotonic() > deadline:
                raise RuntimeError("timers did not all fire")
            await asyncio.sleep(0.2)
        h = s.history.c
        stmt = (
            sa.select(h.created_at, r.created_at)
            .select_from(s.history.join(s.records, (r.kind == h.kind) & (r.id == h.record_id)))
            .where(h.kind == "bench_timer", h.transition == "fire")
        )
        async with records.store.read() as conn:
            rows = (await conn.execute(stmt)).all()
        lateness = [fired_at - (created + after) for fired_at, created in rows]
    finally:
        await records.close()
        await hub.close()
    return {
        "timers_armed": armed + probes,
        "timer_probes": probes,
        "timer_lateness_p50_ms": round(statistics.median(lateness) * 1000, 1),
        "timer_lateness_p99_ms": round(_pct(lateness, 0.99) * 1000, 1),
        "timer_lateness_max_ms": round(max(lateness) * 1000, 1),
    }


async def run_records_bench(
    *,
    transitions: int = 5000,
    concurrency: int = 32,
    timers: int = 10_000,
    timer_probes: int = 1000,
    timer_window: float = 10.0,
    url: str | None = None,
) -> dict[str, Any]:
    """Run both measurements; ``url`` defaults to a fresh SQLite file per part.
    ``timers=0`` skips the timer part."""
    settings = _settings()
    with tempfile.TemporaryDirectory(prefix="relevo-bench-") as tmp:
        db1 = url or f"sqlite+aiosqlite:///{Path(tmp) / 'transitions.db'}"
        db2 = url or f"sqlite+aiosqlite:///{Path(tmp) / 'timers.db'}"
        result: dict[str, Any] = {"database": db1.split("+", 1)[0].split(":", 1)[0]}
        result.update(await _transitions(settings, db1, transitions, concurrency))
        if timers:
            result.update(await _timers(settings, db2, timers, timer_probes, timer_window))
    return result


def main(argv: list[str] | None = None) -> None:
    """``relevo bench records [options]`` (``python -m relevo.bench.records``), on uvloop."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--client"]:  # the load process (internal)
        port, per, *ids = args[1:]
        print(json.dumps(run_fast(_client(int(port), int(per), ids))))
        return
    if args[:1] == ["--node"]:  # one worker of a --workers run (internal)
        from relevo.bench.records_workers import _node

        port, url, broker = args[1:4]
        run_fast(_node(int(port), url, broker))
        return
    opts = _parser().parse_args(args)
    if opts.workers is None:
        result = run_fast(
            run_records_bench(
                transitions=opts.transitions or 5000,
                concurrency=opts.concurrency or 32,
                timers=opts.timers,
                url=opts.database,
            )
        )
    else:
        from relevo.bench.records_workers import run_records_workers

        if not opts.database or opts.database.startswith("sqlite"):
            raise SystemExit("relevo bench records: --workers needs --database (PostgreSQL, MySQL)")
        result = run_fast(
            run_records_workers(
                url=opts.database,
                broker=opts.redis,
                workers=opts.workers,
                transitions=opts.transitions or 20_000,
                concurrency=opts.concurrency or 64,
            )
        )
    print(json.dumps(result, indent=2))


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="relevo bench records",
        description="Records path end to end (HTTP transition -> commit -> screen) and timer "
        "lateness; with --workers, N nodes sharing one port, one database and Redis.",
    )
    p.add_argument("--database", help="SQLAlchemy URL (default: a fresh SQLite file)")
    p.add_argument("--workers", type=int, help="nodes sharing the port (needs --database, Redis)")
    p.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="broker for --workers")
    p.add_argument("--transitions", type=int, help="default 5,000 (20,000 with --workers)")
    p.add_argument("--concurrency", type=int, help="HTTP clients (default 32; 64 with --workers)")
    p.add_argument("--timers", type=int, default=10_000, help="armed timers (0: skip that part)")
    return p


if __name__ == "__main__":
    main()
