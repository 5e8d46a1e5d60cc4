"""Records benchmark across worker processes: ``relevo bench records --workers N``.

N nodes share one port the way ``relevo serve --workers N`` does (each binds
it with ``SO_REUSEPORT``; the kernel spreads connections over them), on one
shared database and one Redis. The load is the one of the single-process
run (``records.py``): ``concurrency`` keep-alive HTTP clients, each flipping
its own record, and one WebSocket subscriber — which lands on one node, so
every transition committed on another reaches it through Redis. The figures:
transitions per second end to end (request → commit → outbox → relay →
Redis → the subscriber's screen), commit → delivery p50/p99, and the CPU the
nodes used.

The nodes are this module's ``--node`` processes rather than ``relevo serve``:
``relevo.toml`` has no way to declare the benchmark's own kinds, and the
apps' kinds have rules a flip/flop load would have to work around. What
sharing the port, the database and the broker costs is the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import signal
import socket
import sys
import time
from typing import Any

from relevo.bench.procinfo import pids_named
from relevo.bench.records import _Http, _kinds, _settings
from relevo.records.store import normalize_url

__all__ = ["run_records_workers"]

_TICKS = os.sysconf("SC_CLK_TCK")
_READY = "relevo-bench-node ready"
_SERVERS = ("postgres", "mariadbd", "mysqld", "redis-server")


def _reuseport_socket(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    return sock


def _cpu_by_pid(pids: list[int]) -> dict[int, tuple[str, float]]:
    """(command name, CPU seconds) of each process still there."""
    out = {}
    for pid in pids:
        with contextlib.suppress(OSError), open(f"/proc/{pid}/stat") as f:
            name, _, rest = f.read().rpartition(")")
            fields = rest.split()
            # utime + stime, and cutime + cstime: a server's exited children
            # (database backends that closed during the run) count too.
            ticks = sum(int(v) for v in fields[11:15])
            out[pid] = (name.partition("(")[2], ticks / _TICKS)
    return out


def _server_pids() -> list[int]:
    """The database server's and Redis's processes on this machine."""
    return [pid for name in _SERVERS for pid in pids_named(name)]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _cpu_seconds(pids: list[int]) -> float:
    return sum(seconds for _, seconds in _cpu_by_pid(pids).values())


async def _node(port: int, url: str, broker: str) -> None:
    """One worker: the benchmark's kinds on the shared port, database and Redis."""
    from relevo.records.extension import records_extension
    from relevo.records.service import Records
    from relevo.server.app import RelevoServer

    records = Records(url, _kinds(3600.0))
    server = RelevoServer(
        _settings(broker),
        extensions=[records_extension(records, migrate=False)],
        sock=_reuseport_socket(port),
    )
    records.attach(server.hub)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await server.start()
    print(_READY, flush=True)
    try:
        await stop.wait()
    finally:
        await server.stop()


async def _start_nodes(count: int, port: int, url: str, broker: str) -> list[Any]:
    nodes = []
    for _ in range(count):
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "relevo.bench.records", "--node", str(port), url, broker,
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        nodes.append(proc)
    for proc in nodes:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        if _READY not in line.decode():
            raise RuntimeError(f"a bench node did not start (exit {proc.returncode})")
    return nodes


async def _stop_nodes(nodes: list[Any]) -> None:
    for proc in nodes:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
    for proc in nodes:
        try:
            await asyncio.wait_for(proc.wait(), 30)
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def run_records_workers(
    *,
    url: str,
    broker: str,
    workers: int = 2,
    transitions: int = 20_000,
    concurrency: int = 64,
) -> dict[str, Any]:
    """Start ``workers`` nodes on ``url`` (migrated first) and ``broker``, and
    drive ``transitions`` flips through them."""
    from relevo.records.migrate import upgrade
    from relevo.records.store import Store

    url = normalize_url(url)
    store = Store(url)
    try:
        await upgrade(store)
    finally:
        await store.close()
    reserve = _reuseport_socket(0)  # bound, never listening: holds the port for the nodes
    port = reserve.getsockname()[1]
    nodes = await _start_nodes(workers, port, url, broker)
    try:
        ids = []
        for _ in range(concurrency):
            conn = await _Http.open(port)
            try:
                status, body = await conn.post("/api/records/bench_item", b"{}")
            finally:
                conn.close()
            if status != 201:
                raise RuntimeError(f"create failed: {status} {body[:200]!r}")
            ids.append(str(json.loads(body)["id"]))
        await asyncio.sleep(1.0)  # the creations' publications are out of the way
        pids = [proc.pid for proc in nodes]
        servers_before = _cpu_by_pid(_server_pids())
        cpu_before, started = _cpu_seconds(pids), time.monotonic()
        client_before = _children_cpu()
        per = max(1, transitions // concurrency)
        client = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "relevo.bench.records", "--client", str(port), str(per), *ids,
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, _ = await asyncio.wait_for(client.communicate(), 600)
        wall = time.monotonic() - started
        cpu = _cpu_seconds(pids) - cpu_before
        client_cpu = _children_cpu() - client_before
        # Backends the database started during the run count from zero.
        servers = {
            pid: (name, seconds - servers_before.get(pid, (name, 0.0))[1])
            for pid, (name, seconds) in _cpu_by_pid(_server_pids()).items()
        }
        if client.returncode != 0:
            raise RuntimeError(f"bench client failed ({client.returncode})")
    finally:
        await _stop_nodes(nodes)
        reserve.close()
    result: dict[str, Any] = {"database": url.split("+", 1)[0].split(":", 1)[0]}
    result["workers"] = workers
    result.update(json.loads(out))
    result["nodes_cpu_cores"] = round(cpu / wall, 2)
    # Where a transition's CPU goes: the nodes, the database server, Redis and
    # the load generator (the client process, read once it has exited).
    done = result["transitions"]
    db_cpu = sum(sec for name, sec in servers.values() if name != "redis-server")
    redis_cpu = sum(sec for name, sec in servers.values() if name == "redis-server")
    result["cpu_ms_per_transition"] = {
        name: round(1000 * seconds / done, 3)
        for name, seconds in (
            ("nodes", cpu), ("database", db_cpu), ("redis", redis_cpu), ("load", client_cpu)
        )
    }  # fmt: skip
    return result
