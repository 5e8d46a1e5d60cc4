"""The servers the benchmark can drive: relevo, the raw C limit server and
the peer apps in ``bench/peers/``, each with the dialect the load generator
speaks to it and the command that starts it on a given port."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from relevo.bench.paths import BenchPaths

__all__ = ["PEERS", "Launch", "LaunchContext", "Peer", "select_peers"]


@dataclass(frozen=True)
class LaunchContext:
    """What a launch needs to know about this run."""

    paths: BenchPaths
    rawserver: Path  # the built raw limit server
    relevo_config: Path
    run_dir: Path  # working directory for servers that write files


@dataclass(frozen=True)
class Launch:
    argv: list[str]
    cwd: Path
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Peer:
    name: str
    title: str  # how the results table names it
    dialect: str  # loadgen --dialect: relevo | socketio | json
    ws_path: str
    needs_install: bool  # installed into bench/.deps by install-peers.sh
    launch: Callable[[LaunchContext, int], Launch]
    # other processes whose CPU is part of this server's work (e.g. Redis)
    helper_comm: str | None = None
    cpus: str | None = None  # taskset -c for the server; None: the usual server core
    in_all: bool = True  # part of ``--peers all`` (the scale-out variants are asked for by name)


_SIO_PATH = "/socket.io/?EIO=4&transport=websocket"


def _relevo(ctx: LaunchContext, port: int) -> Launch:
    argv = [sys.executable, "-m", "relevo.server.cli", "serve", "--config"]
    argv += [str(ctx.relevo_config), "--port", str(port), "--log-level", "warning"]
    return Launch(argv, ctx.run_dir)


#: The broker of the scale-out variants: the machine's Redis, a database and a
#: key prefix of the benchmark's own.
BENCH_REDIS = "redis://127.0.0.1:6379/13?prefix=relevo-bench"


def _relevo_on_redis(workers: int) -> Callable[[LaunchContext, int], Launch]:
    """relevo with its broker on Redis and ``workers`` processes sharing the
    port (``relevo serve --workers``): what scaling out across cores costs."""

    def launch(ctx: LaunchContext, port: int) -> Launch:
        config = ctx.run_dir / "relevo-bench-redis.toml"
        text = ctx.relevo_config.read_text(encoding="utf-8")
        config.write_text(f'{text}\n[broker]\nurl = "{BENCH_REDIS}"\n', encoding="utf-8")
        argv = [sys.executable, "-m", "relevo.server.cli", "serve", "--config", str(config)]
        argv += ["--port", str(port), "--log-level", "warning", "--workers", str(workers)]
        return Launch(argv, ctx.run_dir)

    return launch


def _raw(ctx: LaunchContext, port: int) -> Launch:
    return Launch([str(ctx.rawserver), str(port), "127.0.0.1"], ctx.run_dir)


def _node(script: str) -> Callable[[LaunchContext, int], Launch]:
    def launch(ctx: LaunchContext, port: int) -> Launch:
        node = shutil.which("node") or "node"
        env = {"NODE_PATH": str(ctx.paths.deps / "node" / "node_modules")}
        return Launch([node, str(ctx.paths.peers / script), str(port)], ctx.paths.peers, env)

    return launch


def _venv(ctx: LaunchContext, program: str) -> str:
    return str(ctx.paths.deps / "venv" / "bin" / program)


def _asgi(ctx: LaunchContext, port: int) -> Launch:
    # relevo's own venv has starlette and uvicorn: nothing to install.
    return Launch([sys.executable, "asgi_app.py", str(port)], ctx.paths.peers)


def _websockets(ctx: LaunchContext, port: int) -> Launch:
    return Launch([_venv(ctx, "python"), "websockets_app.py", str(port)], ctx.paths.peers)


def _python_socketio(ctx: LaunchContext, port: int) -> Launch:
    argv = [_venv(ctx, "uvicorn"), "pysocketio_app:app", "--host", "127.0.0.1"]
    argv += ["--port", str(port), "--log-level", "warning", "--backlog", "4096"]
    return Launch(argv, ctx.paths.peers)


def _channels(layer: str) -> Callable[[LaunchContext, int], Launch]:
    def launch(ctx: LaunchContext, port: int) -> Launch:
        endpoint = f"tcp:port={port}:interface=127.0.0.1:backlog=4096"
        argv = [_venv(ctx, "daphne"), "-e", endpoint, "channels_app:application"]
        return Launch(argv, ctx.paths.peers, {"BENCH_CHANNEL_LAYER": layer})

    return launch


PEERS: dict[str, Peer] = {
    p.name: p
    for p in (
        Peer("raw", "raw limit (C, epoll)", "json", "/", False, _raw),
        Peer("relevo", "relevo", "relevo", "/ws", False, _relevo),
        Peer(
            "relevo-redis",
            "relevo, 1 worker on Redis",
            "relevo",
            "/ws",
            False,
            _relevo_on_redis(1),
            helper_comm="redis-server",
            in_all=False,
        ),
        Peer(
            "relevo-2w",
            "relevo, 2 workers on Redis (both cores, beside the generator)",
            "relevo",
            "/ws",
            False,
            _relevo_on_redis(2),
            helper_comm="redis-server",
            cpus="0,1",
            in_all=False,
        ),
        Peer("asgi", "ASGI send() per subscriber", "json", "/", False, _asgi),
        Peer("node-ws", "Node ws", "json", "/", True, _node("node-ws.js")),
        Peer("socketio", "Socket.IO 4 (Node)", "socketio", _SIO_PATH, True, _node("socketio.js")),
        Peer("websockets", "websockets broadcast()", "json", "/", True, _websockets),
        Peer(
            "python-socketio",
            "python-socketio (uvicorn)",
            "socketio",
            _SIO_PATH,
            True,
            _python_socketio,
        ),
        Peer(
            "channels", "Channels 4 + daphne (in-memory)", "json", "/ws/", True, _channels("memory")
        ),
        Peer(
            "channels-redis",
            "Channels 4 + daphne (channels_redis)",
            "json",
            "/ws/",
            True,
            _channels("redis"),
            helper_comm="redis-server",
        ),
    )
}


def select_peers(spec: str) -> list[Peer]:
    """``all`` or a comma-separated list of names, in the registry's order."""
    if spec.strip() == "all":
        return [p for p in PEERS.values() if p.in_all]
    names = [n.strip() for n in spec.split(",") if n.strip()]
    unknown = [n for n in names if n not in PEERS]
    if unknown:
        known = ", ".join(PEERS)
        raise ValueError(f"unknown peer(s) {', '.join(unknown)}; known: {known}")
    return [p for p in PEERS.values() if p.name in names]
