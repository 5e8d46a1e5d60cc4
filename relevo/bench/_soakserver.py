"""The soak's server: ``relevo serve`` in a subprocess on a free 127.0.0.1
port, with a configuration that lets a legitimate soak through, and the hub's
own counts read from its /metrics."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

import relevo
from relevo.bench._soaktrace import MODE_ENV, TRACE_ENV
from relevo.settings import LimitSettings

__all__ = ["SoakServer", "hub_gauges", "raise_open_files_limit", "server_config"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def raise_open_files_limit(needed: int) -> tuple[int, int]:
    """Soft limit up to the hard one, for this process and (inherited) the
    server; each holds one descriptor per connection. Returns (soft, hard)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < needed:
        raise SystemExit(
            f"relevo bench soak: {needed} open files needed, the hard limit is {hard} "
            "(raise it: ulimit -Hn, or LimitNOFILE for a service)"
        )
    return soft, hard


def server_config(connections: int, history_ttl: float, secret: str, api_key: str) -> str:
    """relevo.toml for the soak: one namespace, ``soak``, where any
    authenticated user may subscribe and publish; a connection cap well above
    the load. History is kept (as in production) but expires within warm-up,
    so a history filling up is not mistaken for a leak."""
    limits = [f"max_connections = {connections * 2 + 1000}"]
    # a per-address cap, where this version of relevo has one, would refuse a
    # load that comes from one address by design
    if "max_connections_per_ip" in {f.name for f in dataclasses.fields(LimitSettings)}:
        limits.append("max_connections_per_ip = 0")
    return "\n".join(
        [
            "[server]",
            'host = "127.0.0.1"',
            'log_level = "warning"',
            "[auth]",
            f'secret = "{secret}"',
            f'api_key = "{api_key}"',
            "[limits]",
            *limits,
            "[namespaces.soak]",
            'subscribe = ["authenticated"]',
            'publish = ["authenticated"]',
            "history_size = 10",
            f"history_ttl = {history_ttl}",
            "",
        ]
    )


class SoakServer:
    """``relevo serve`` in a subprocess, stopped whatever happens."""

    def __init__(self, workdir: Path, log: Path, trace: tuple[Path, str] | None) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {k: v for k, v in os.environ.items() if not k.startswith("RELEVO_")}
        # the server runs in a temporary folder: make it import this relevo,
        # not whichever one the interpreter has installed
        source = str(Path(relevo.__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join([source, *filter(None, [env.get("PYTHONPATH")])])
        module = "relevo.server.cli"
        if trace is not None:
            module = "relevo.bench._soaktrace"
            env[TRACE_ENV], env[MODE_ENV] = str(trace[0]), trace[1]
        argv = [sys.executable, "-m", module, "serve"]
        argv += ["--config", str(workdir / "relevo.toml"), "--port", str(self.port)]
        with log.open("wb") as out:
            self.proc = subprocess.Popen(argv, cwd=workdir, env=env, stdout=out, stderr=out)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, chars: int = 2000) -> str:
        return self.log.read_text(errors="replace")[-chars:]

    async def wait_ready(self, http: httpx.AsyncClient, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if not self.alive():
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(httpx.TransportError):
                if (await http.get(self.url + "/readyz")).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"server on port {self.port} did not get ready")
            await asyncio.sleep(0.1)

    def stop(self) -> None:
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


async def hub_gauges(http: httpx.AsyncClient, server: SoakServer, api_key: str) -> dict[str, int]:
    """The hub's own counts, from /metrics: a leak shows here before it shows in RSS."""
    out = {"ws": -1, "subs": -1, "channels": -1}
    try:
        reply = await http.get(server.url + "/metrics", headers={"X-API-Key": api_key})
    except httpx.HTTPError:
        return out
    names = {
        'relevo_connections{transport="ws"}': "ws",
        "relevo_subscriptions": "subs",
        "relevo_channels": "channels",
    }
    for line in reply.text.splitlines():
        name, _, value = line.rpartition(" ")
        if name in names:
            out[names[name]] = int(float(value))
    return out
