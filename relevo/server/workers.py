"""``relevo serve --workers N``: N full nodes on one port, and their supervisor.

Each worker is a separate process running a complete node (hub, HTTP API,
WebSocket, SSE) on its own ``SO_REUSEPORT`` socket bound to the same port, so
the kernel spreads new connections over the workers and a worker that dies
takes only its own connections with it. Those clients reconnect — to a sibling
— and recover from the shared broker's history, which is why N > 1 requires
Redis: with the memory broker each worker would be a separate island.

The supervisor restarts a worker that exits (with backoff when it keeps
failing) and stops them all on SIGTERM / SIGINT.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType

from relevo.protocol.errors import RelevoError
from relevo.protocol.types import Publication
from relevo.server.config import ConfigError
from relevo.settings import Settings

__all__ = ["run_workers"]

log = logging.getLogger("relevo.workers")

STARTUP_FAILED = 3  # a worker's exit code when it could not start serving
_STOP_GRACE = 10.0  # seconds workers get to close connections before SIGKILL
_MIN_BACKOFF, _MAX_BACKOFF = 0.5, 30.0
_HEALTHY_AFTER = 10.0  # a worker that ran this long restarts without backoff


def run_workers(settings: Settings) -> None:
    """Check the setup, then supervise ``settings.server.workers`` nodes until stopped."""
    count = settings.server.workers
    if settings.broker.url.startswith("memory://"):
        raise ConfigError(
            f"server.workers: {count} workers need a shared broker; with memory:// each "
            "worker would keep its own channels, history and presence. Set broker.url "
            "(--broker redis://127.0.0.1:6379/0) or run one worker."
        )
    if settings.server.port == 0:
        raise ConfigError("server.port: workers share one port, so it cannot be 0")
    _check_port(settings.server.host, settings.server.port)
    check_broker(settings)
    from relevo.broker.redis import split_url

    host, port = settings.server.host, settings.server.port
    print(
        f"relevo: serving on http://{host}:{port} with {count} workers "
        f"(broker {split_url(settings.broker.url)[2]})",  # without the password
        file=sys.stderr,
    )
    code = _Supervisor(settings, count).run()
    if code:
        raise SystemExit(code)


def _listen_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _check_port(host: str, port: int) -> None:
    """Fail once, clearly, if the port is taken — not N times in the workers."""
    try:
        _listen_socket(host, port).close()
    except OSError as exc:
        raise ConfigError(f"server.port: cannot listen on {host}:{port}: {exc}") from None


class _NoHandler:
    def on_publication(self, pub: Publication) -> None:
        return None

    def on_push(self, channel: str, event: str, data: bytes) -> None:
        return None

    def on_gap(self, channel: str) -> None:
        return None


def check_broker(settings: Settings) -> None:
    """Reach the broker once before starting workers: an unreachable Redis is
    one clear error, not N workers failing in a restart loop."""
    from relevo.server.app import create_broker

    async def check() -> None:
        broker = create_broker(settings)
        await broker.start(_NoHandler())
        await broker.close()

    try:
        asyncio.run(check())
    except RelevoError as exc:
        raise SystemExit(f"relevo: {exc.message}") from None


# -- the worker process ----------------------------------------------------------------


def _worker_main(settings: Settings, index: int, parent: int) -> None:
    # Terminal signals (Ctrl-C) go to the supervisor only; it stops workers
    # with one SIGTERM, which uvicorn turns into a graceful shutdown.
    os.setpgrp()
    logging.basicConfig(
        level=settings.server.log_level.upper(),
        format=f"%(asctime)s %(levelname)s [worker {index}] %(name)s: %(message)s",
    )
    threading.Thread(target=_orphan_watch, args=(parent,), daemon=True).start()
    from relevo.server.run import build_server, freeze_startup_objects, raise_open_file_limit

    raise_open_file_limit()
    single = dataclasses.replace(settings, server=dataclasses.replace(settings.server, workers=1))
    sock = _listen_socket(settings.server.host, settings.server.port)
    server = build_server(single, sock=sock)
    freeze_startup_objects()
    try:
        import uvloop

        uvloop.run(server.serve())
    except ImportError:
        asyncio.run(server.serve())
    if not server.server.started:
        sys.exit(STARTUP_FAILED)


def _orphan_watch(parent: int) -> None:
    """A worker whose supervisor was killed stops itself instead of serving on
    unsupervised."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os.kill(os.getpid(), signal.SIGTERM)


# -- the supervisor ----------------------------------------------------------------------


@dataclasses.dataclass
class _Slot:
    index: int
    process: BaseProcess | None = None
    started: float = 0.0
    backoff: float = _MIN_BACKOFF
    restart_at: float | None = None


class _Supervisor:
    def __init__(self, settings: Settings, count: int) -> None:
        self.settings = settings
        self.slots = [_Slot(i) for i in range(count)]
        self.context = multiprocessing.get_context("spawn")
        self.stopping = False
        self.wake_r, self.wake_w = socket.socketpair()

    def run(self) -> int:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        self.wake_w.setblocking(False)
        previous_wakeup = signal.set_wakeup_fd(self.wake_w.fileno())
        try:
            for slot in self.slots:
                self._start(slot)
            while not self.stopping:
                self._step()
        finally:
            signal.set_wakeup_fd(previous_wakeup)
            self._stop_all()
            self.wake_r.close()
            self.wake_w.close()
        return 0

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if not self.stopping:
            log.info("received %s; stopping workers", signal.Signals(signum).name)
        self.stopping = True

    def _start(self, slot: _Slot) -> None:
        process = self.context.Process(
            target=_worker_main,
            args=(self.settings, slot.index, os.getpid()),
            name=f"relevo-worker-{slot.index}",
            daemon=False,
        )
        process.start()
        slot.process, slot.started, slot.restart_at = process, time.monotonic(), None
        log.info("worker %d started (pid %s)", slot.index, process.pid)

    def _step(self) -> None:
        now = time.monotonic()
        due = [s.restart_at for s in self.slots if s.restart_at is not None]
        timeout = max(0.0, min(due) - now) if due else None
        sentinels: list[int | socket.socket] = [
            s.process.sentinel for s in self.slots if s.process is not None
        ]
        ready = wait([*sentinels, self.wake_r], timeout)
        if self.wake_r in ready:
            self.wake_r.recv(4096)  # drain the signal bytes
        if self.stopping:
            return
        now = time.monotonic()
        for slot in self.slots:
            process = slot.process
            if process is not None and not process.is_alive():
                process.join()
                lived = now - slot.started
                slot.backoff = (
                    _MIN_BACKOFF if lived > _HEALTHY_AFTER else min(slot.backoff * 2, _MAX_BACKOFF)
                )
                log.error(
                    "worker %d (pid %s) exited with %s after %.1f s; restarting in %.1f s",
                    slot.index,
                    process.pid,
                    process.exitcode,
                    lived,
                    slot.backoff,
                )
                slot.process, slot.restart_at = None, now + slot.backoff
            elif slot.process is None and slot.restart_at is not None and slot.restart_at <= now:
                self._start(slot)

    def _stop_all(self) -> None:
        running = [s.process for s in self.slots if s.process is not None]
        for process in running:
            if process.pid is not None and process.is_alive():
                os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + _STOP_GRACE
        for process in running:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                log.warning("worker pid %s did not stop in time; killing it", process.pid)
                process.kill()
                process.join()
