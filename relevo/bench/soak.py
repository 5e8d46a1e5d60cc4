"""Soak (S-soak): does ``relevo serve`` hold still under connection churn?

A real ``relevo serve`` runs on a free 127.0.0.1 port. The load holds
``--connections`` WebSockets open (each authenticated, subscribed to a few of
``--channels`` channels) and churns them: every second ``--churn`` random
ones are dropped — half with a clean close handshake, half reset — and as many
new ones connect, authenticate and subscribe in their place; ``--publish``
publications a second go out from random clients. The server's RSS (VmRSS)
and open descriptors are sampled from /proc every few seconds. The first 20 %
of the duration is warm-up; the growth from its end to the end of the run must
stay under 5 % for each (issue 11). At the end every client is reset, and
the server's descriptors and hub gauges are read again: they should be back
where they were before the first client.

Run with ``relevo bench soak [--quick] [--duration S] [--connections N]``; the
JSON result goes to ``bench/results/<time>-soak/soak.json``. Where memory
grows, ``--trace-memory counts`` (or ``tracemalloc``) says what grew
(``_soaktrace.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import random
import resource
import secrets
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from relevo.bench._soakclient import ClientPlan, Pool, SoakClient, Tally
from relevo.bench._soakreport import TARGET_PCT, Sample, growth, probe, table
from relevo.bench._soakserver import (
    SoakServer,
    hub_gauges,
    raise_open_files_limit,
    server_config,
)
from relevo.bench._soaktrace import compare, take_probe
from relevo.bench.paths import find_paths
from relevo.hub.auth import mint_token

__all__ = ["main", "run_soak"]

WARMUP_SHARE = 0.2
_FD_MARGIN = 512  # descriptors beyond one per connection (logs, listeners, the broker)
_USERS = 200  # distinct users; several connections share one, as tabs do


def _log(message: str) -> None:
    print(f"relevo bench soak: {message}", file=sys.stderr, flush=True)


class _Load:
    """Holds ``connections`` clients open and churns them."""

    def __init__(self, args: argparse.Namespace, port: int, secret: str) -> None:
        self.args = args
        self.port = port
        self.rng = random.Random(args.seed)
        self.tally = Tally()
        self.pool = Pool(self.tally, self.rng)
        self.channels = [f"soak:{i}" for i in range(args.channels)]
        ttl = args.duration * 3 + 3600
        self.tokens = [mint_token(secret, f"u{i}", ttl=ttl) for i in range(_USERS)]
        self.slots = asyncio.Semaphore(args.setup_concurrency)
        self.settling = 0  # clients queued or setting up
        self.tasks: set[asyncio.Task[None]] = set()

    @property
    def open(self) -> int:
        return len(self.pool) + self.settling

    def spawn(self, count: int) -> None:
        for _ in range(count):
            self.settling += 1
            task = asyncio.get_running_loop().create_task(self._open())
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _open(self) -> None:
        try:
            async with self.slots:
                await self._connect()
        finally:
            self.settling -= 1

    async def _connect(self) -> None:
        plan = ClientPlan(
            host="127.0.0.1",
            port=self.port,
            token=self.rng.choice(self.tokens),
            channels=tuple(self.rng.sample(self.channels, self.args.subs_per_connection)),
        )
        loop = asyncio.get_running_loop()
        try:
            _, client = await asyncio.wait_for(
                loop.create_connection(lambda: SoakClient(plan, self.pool), "127.0.0.1", self.port),
                plan.setup_timeout,
            )
        except TimeoutError:
            self.tally.error("connect:timeout")
            return
        except OSError as exc:
            self.tally.error(f"connect:{exc.__class__.__name__}")
            return
        await client.settled

    async def ramp(self) -> float:
        started = time.monotonic()
        self.spawn(self.args.connections)
        while self.tasks:
            await asyncio.gather(*list(self.tasks))
        return time.monotonic() - started

    async def churn(self, duration: float, tick: float = 0.1) -> None:
        """Drop ``churn`` clients a second and keep the total at ``connections``."""
        started = time.monotonic()
        drops = pubs = 0.0
        step = 0
        while (now := time.monotonic()) < started + duration:
            step += 1
            await asyncio.sleep(max(0.0, started + step * tick - now))
            drops += self.args.churn * tick
            pubs += self.args.publish * tick
            for _ in range(int(drops)):
                client = self.pool.pick()
                if client is not None:
                    client.drop(clean=self.rng.random() < 0.5)
            drops -= int(drops)
            for _ in range(int(pubs)):
                client = self.pool.pick()
                if client is not None:
                    client.publish()
            pubs -= int(pubs)
            self.spawn(max(0, self.args.connections - self.open))

    async def finish(self) -> None:
        """Let the clients being set up settle, then reset every one."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*list(self.tasks)), 30)
        self.pool.abort_all()


async def _sampler(
    load: _Load,
    server: SoakServer,
    http: httpx.AsyncClient,
    api_key: str,
    out: list[Sample],
    started: float,
) -> None:
    """A sample every ``sample_interval`` seconds, a progress line every tenth of the run."""
    every = max(1, round(load.args.duration / load.args.sample_interval / 10))
    step = 0
    while server.alive():
        await _sample(load, server, http, api_key, out, started)
        if out and step % every == 0:
            s = out[-1]
            _log(
                f"t={s.t:.0f}s ready={len(load.pool)} setting-up={load.settling} "
                f"rss={s.rss_kib:,} KiB fds={s.fds} hub ws={s.ws}"
            )
        step += 1
        await asyncio.sleep(max(0.0, started + step * load.args.sample_interval - time.monotonic()))


class _Tracer:
    """With ``--trace-memory``: a snapshot at the end of warm-up, one at the
    end, and what grew between them."""

    def __init__(self, args: argparse.Namespace, pid: int, warmup_end: float) -> None:
        self.pid = pid
        self.out: Path | None = args.trace_dir
        self.first: asyncio.Task[dict[str, Any]] | None = None
        if self.out is not None:
            self.first = asyncio.get_running_loop().create_task(self._at(warmup_end))

    async def _at(self, when: float) -> dict[str, Any]:
        await asyncio.sleep(max(0.0, when - time.monotonic()))
        assert self.out is not None
        _log("memory probe 1 (end of warm-up)")
        return await take_probe(self.pid, self.out, 1)

    async def finish(self) -> dict[str, Any] | None:
        if self.out is None or self.first is None:
            return None
        first = await self.first
        _log("memory probe 2 (end)")
        second = await take_probe(self.pid, self.out, 2)
        grown = await asyncio.to_thread(compare, self.out, first, second)
        _log(f"what grew after warm-up: {json.dumps(grown)[:2000]}")
        return grown


async def _after_close(http: httpx.AsyncClient, server: SoakServer, api_key: str) -> dict[str, int]:
    """The server once every client is gone: the hub's gauges back at zero,
    and its descriptors back where they were before the first client."""
    deadline = time.monotonic() + 30
    gauges = await hub_gauges(http, server, api_key)
    while (gauges["ws"] != 0 or gauges["subs"] != 0) and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        gauges = await hub_gauges(http, server, api_key)
    await asyncio.sleep(1.0)  # sockets the server closes last
    reading = probe(server.pid)
    return {
        "rss_kib": reading.rss_kib if reading else -1,
        "fds": reading.fds if reading else -1,
        **await hub_gauges(http, server, api_key),
    }


async def _measure(
    args: argparse.Namespace, server: SoakServer, http: httpx.AsyncClient, secret: str, api_key: str
) -> dict[str, Any]:
    await server.wait_ready(http, timeout=180.0 if args.trace_dir else 60.0)
    idle = probe(server.pid)
    load = _Load(args, server.port, secret)
    _log(f"server pid {server.pid} on port {server.port}; opening {args.connections:,} clients")
    ramp_s = await load.ramp()
    _log(f"{len(load.pool):,} clients ready in {ramp_s:.1f} s; churning for {args.duration:g} s")
    samples: list[Sample] = []
    started = time.monotonic()
    sampler = asyncio.get_running_loop().create_task(
        _sampler(load, server, http, api_key, samples, started)
    )
    tracer = _Tracer(args, server.pid, started + args.duration * WARMUP_SHARE)
    try:
        await load.churn(args.duration)
    finally:
        sampler.cancel()
        await asyncio.gather(sampler, return_exceptions=True)
    await _sample(load, server, http, api_key, samples, started)  # the very end
    cpu_before = probe(server.pid)
    trace = await tracer.finish()
    await load.finish()
    after = await _after_close(http, server, api_key)
    return {
        "trace_memory": trace,
        "ramp_s": round(ramp_s, 2),
        "idle": {"rss_kib": idle.rss_kib if idle else -1, "fds": idle.fds if idle else -1},
        "after_close": after,
        "cpu_s": round(cpu_before.cpu_s - (idle.cpu_s if idle else 0.0), 2) if cpu_before else None,
        "samples": samples,
        "tally": load.tally,
    }


async def _sample(
    load: _Load,
    server: SoakServer,
    http: httpx.AsyncClient,
    api_key: str,
    out: list[Sample],
    started: float,
) -> None:
    reading = probe(server.pid)
    if reading is None:
        return
    gauges = await hub_gauges(http, server, api_key)
    t = round(time.monotonic() - started, 2)
    out.append(
        Sample(
            t=t,
            rss_kib=reading.rss_kib,
            rss_anon_kib=reading.rss_anon_kib,
            fds=reading.fds,
            open=load.open,
            **gauges,
        )
    )


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    secret, api_key = secrets.token_hex(24), secrets.token_hex(16)
    gen_before = _own_cpu()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="relevo-soak-") as tmp:
        workdir = Path(tmp)
        # history expires within warm-up: a history filling up is not a leak
        history_ttl = max(2.0, args.duration * WARMUP_SHARE / 2)
        config = server_config(args.connections, history_ttl, secret, api_key)
        (workdir / "relevo.toml").write_text(config)
        trace = (args.trace_dir, args.trace_memory) if args.trace_dir else None
        server = SoakServer(workdir, args.run_dir / "server.log", trace)
        try:
            async with httpx.AsyncClient(timeout=10.0) as http:
                measured = await _measure(args, server, http, secret, api_key)
            alive = server.alive()
        finally:
            server.stop()
    return _result(args, measured, alive, load_before, _own_cpu() - gen_before)


def _result(
    args: argparse.Namespace,
    measured: dict[str, Any],
    alive: bool,
    load_before: float,
    gen_cpu: float,
) -> dict[str, Any]:
    samples: list[Sample] = measured["samples"]
    tally: Tally = measured["tally"]
    warmup = args.duration * WARMUP_SHARE
    window = max(3 * args.sample_interval, 0.05 * args.duration)
    rss = growth(samples, "rss_kib", warmup, args.duration, window)
    rss_anon = growth(samples, "rss_anon_kib", warmup, args.duration, window)
    fds = growth(samples, "fds", warmup, args.duration, window)
    counts = {k: v for k, v in dataclasses.asdict(tally).items() if k != "errors"}
    counts["errors"] = sum(tally.errors.values())
    return {
        "scenario": "soak",
        "quick": args.quick,
        "started": args.started.isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load_average_1m": {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)},
        "open_files_limit": {"soft_before": args.nofile[0], "hard": args.nofile[1]},
        "config": {
            "duration_s": args.duration,
            "warmup_s": warmup,
            "window_s": window,
            "connections": args.connections,
            "churn_per_s": args.churn,
            "publish_per_s": args.publish,
            "channels": args.channels,
            "subs_per_connection": args.subs_per_connection,
            "sample_interval_s": args.sample_interval,
            "target_pct": TARGET_PCT,
        },
        "ramp_s": measured["ramp_s"],
        "counts": counts,
        "errors": dict(tally.errors),
        "rss": rss,
        "rss_anon": rss_anon,
        "fds": fds,
        "server": {
            "alive": alive,
            "cpu_s": measured["cpu_s"],
            "idle": measured["idle"],
            "after_close": measured["after_close"],
        },
        "generator_cpu_s": round(gen_cpu, 2),
        "passed": bool(alive and rss["ok"] and fds["ok"]),
        "trace_memory": measured["trace_memory"],
        "samples": [dataclasses.asdict(s) for s in samples],
    }


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="relevo bench soak",
        description="Connections churn for a while against relevo serve; its RSS and open "
        "descriptors must stay within 5 %% of their level after warm-up (docs/benchmarks.md).",
    )
    p.add_argument("--quick", action="store_true", help="60 s and 1,000 connections")
    p.add_argument("--duration", type=float, help="seconds of churn (default 600; quick 60)")
    p.add_argument("--connections", type=int, help="clients held open (default 5000; quick 1000)")
    p.add_argument("--churn", type=float, default=50.0, help="clients replaced per second")
    p.add_argument("--publish", type=float, default=20.0, help="client publishes per second")
    p.add_argument("--channels", type=int, default=1000, help="channels the clients spread over")
    p.add_argument("--subs-per-connection", type=int, default=3, help="channels per client")
    p.add_argument("--setup-concurrency", type=int, default=64, help="clients set up at once")
    p.add_argument("--sample-interval", type=float, help="seconds between samples (5; quick 2)")
    p.add_argument("--seed", type=int, default=11, help="random seed of the load")
    p.add_argument("--json", help="also write the result to this file")
    p.add_argument(
        "--trace-memory",
        choices=["counts", "tracemalloc"],
        help="probe the server's memory at the end of warm-up and at the end and list what "
        "grew: live objects by type, allocated blocks, glibc heap (counts), plus tracebacks "
        "(tracemalloc: slows the server several times; use a lighter load)",
    )
    return p


def _resolve(args: argparse.Namespace) -> None:
    if args.duration is None:
        args.duration = 60.0 if args.quick else 600.0
    if args.connections is None:
        args.connections = 1000 if args.quick else 5000
    if args.sample_interval is None:
        args.sample_interval = 2.0 if args.quick else 5.0
    if args.duration <= 0 or args.connections <= 0 or args.sample_interval <= 0:
        raise SystemExit("relevo bench soak: --duration, --connections and intervals must be > 0")
    if not 0 < args.subs_per_connection <= args.channels:
        raise SystemExit("relevo bench soak: --subs-per-connection must be in 1..--channels")


def run_soak(args: argparse.Namespace) -> dict[str, Any]:
    """Run the soak with parsed ``args`` (see ``relevo bench soak --help``)."""
    return asyncio.run(_run(args))


def main(argv: list[str] | None = None) -> int:
    """``relevo bench soak [args]``: 0 when RSS and fds stay within the
    target, 1 when not, 2 when the soak could not run."""
    args = _parser().parse_args(argv)
    _resolve(args)
    args.nofile = raise_open_files_limit(args.connections + _FD_MARGIN)
    args.started = datetime.now(UTC)
    stamp = args.started.strftime("%Y%m%d-%H%M%S")
    args.run_dir = find_paths().results / f"{stamp}-soak{'-quick' if args.quick else ''}"
    args.run_dir.mkdir(parents=True, exist_ok=True)
    args.trace_dir = args.run_dir / "trace" if args.trace_memory else None
    if args.trace_dir is not None:
        args.trace_dir.mkdir()
    try:
        result = run_soak(args)
    except RuntimeError as exc:
        _log(f"could not run: {exc}")
        return 2
    text = json.dumps(result, indent=1)
    (args.run_dir / "soak.json").write_text(text)
    if args.json:
        Path(args.json).write_text(text)
    print(table(result))
    _log(f"result in {args.run_dir / 'soak.json'}; server log {args.run_dir / 'server.log'}")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
