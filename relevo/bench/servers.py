"""Starts a server under test pinned to its core, waits until it accepts
connections, and always stops it (its whole process group) afterwards."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from relevo.bench.procinfo import descendants

__all__ = [
    "GENERATOR_CPU",
    "SERVER_CPU",
    "PortPool",
    "pinned",
    "RunningServer",
    "ServerFailed",
    "running_server",
]

SERVER_CPU = "1"  # taskset -c for the server under test
GENERATOR_CPU = "0"  # taskset -c for the load generator
_STOP_GRACE = 5.0  # seconds between SIGTERM and SIGKILL


def pinned(cpu: str, argv: Sequence[str], nice: int = 0) -> list[str]:
    """``argv`` pinned to ``cpu``; with ``nice`` < 0 (root only) also at a
    higher priority, so other work on a shared machine disturbs it less."""
    prefix = ["taskset", "-c", cpu]
    if nice != 0 and (nice > 0 or os.geteuid() == 0):
        prefix = ["nice", "-n", str(nice), *prefix]
    return [*prefix, *argv]


class ServerFailed(RuntimeError):
    """The server exited or never accepted connections."""


class PortPool:
    """Hands out ports from a fixed range below the ephemeral range, so a
    server never lands on a port the generator's own sockets are using; each
    run gets a port no earlier run of this process used."""

    def __init__(self, first: int = 18700, last: int = 18999) -> None:
        self._next, self._last = first, last

    def take(self) -> int:
        while self._next <= self._last:
            port = self._next
            self._next += 1
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                try:
                    probe.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
        raise ServerFailed("no free port left in the benchmark's range")


@dataclass
class RunningServer:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def pids(self) -> list[int]:
        """The server's process and its children (whose CPU all counts)."""
        return descendants(self.process.pid)

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def _accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    # the server was started in its own session: its group id is its pid
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(_STOP_GRACE)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(_STOP_GRACE)


@contextlib.contextmanager
def running_server(
    argv: Sequence[str],
    *,
    port: int,
    log: Path,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    nice: int = 0,
    ready_timeout: float = 60.0,
    cpus: str = SERVER_CPU,
) -> Iterator[RunningServer]:
    """Runs ``argv`` pinned to ``cpus`` (SERVER_CPU) until the block ends."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as sink:
        process = subprocess.Popen(
            pinned(cpus, argv, nice),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
    server = RunningServer(process, port, log)
    try:
        deadline = time.monotonic() + ready_timeout
        while not _accepts(port):
            if not server.alive():
                raise ServerFailed(f"exited with {process.returncode}:\n{server.log_tail()}")
            if time.monotonic() > deadline:
                raise ServerFailed(f"not listening after {ready_timeout:.0f} s")
            time.sleep(0.1)
        yield server
    finally:
        _stop(process)
