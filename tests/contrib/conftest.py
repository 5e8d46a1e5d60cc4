"""Real parts for the Django tests: a relevo server on its own thread and
loop (Django's ORM is synchronous and refuses to run inside the tests' event
loop), and a PostgreSQL database made for this run and dropped after it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from relevo.server.app import RelevoServer
from relevo.settings import Settings
from tests.conftest import make_settings
from tests.helpers import missing_service, timeout

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "test"}

#: The namespaces the Django tests publish on (besides tests.conftest's).
NAMESPACES: dict[str, Any] = {
    "dj": {"subscribe": ["authenticated"]},
    "cargue": {"subscribe": [{"role": "despachador", "channel": "cargue:{tenant}"}]},
}


class RelevoThread:
    """A relevo server serving on a thread of its own, with its own loop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.loop = asyncio.new_event_loop()
        self.server = RelevoServer(settings)
        self.thread = threading.Thread(target=self._run, name="relevo-server", daemon=True)
        self.failed: BaseException | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self.server.serve())
        except BaseException as exc:  # reported by start()
            self.failed = exc
        finally:
            self.loop.close()

    def start(self) -> RelevoThread:
        self.thread.start()
        started = threading.Event()
        deadline = timeout(30)
        while not started.wait(0.02):
            if self.server.server.started:
                started.set()
            elif self.failed or not self.thread.is_alive():
                raise RuntimeError(f"relevo did not start: {self.failed!r}")
            deadline -= 0.02
            if deadline < 0:
                raise TimeoutError("relevo did not start")
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(setattr, self.server.server, "should_exit", True)
        self.thread.join(timeout(30))


def start_relevo(**over: Any) -> RelevoThread:
    settings = make_settings(**{"namespaces": NAMESPACES, **over})
    return RelevoThread(settings).start()


def free_port() -> int:
    """A port nothing listens on now, for a server the test starts itself
    (runserver takes no socket; the window in between is tiny)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(**PG, autocommit=True, connect_timeout=5) as conn:  # type: ignore[arg-type]
        conn.execute(sql)


@contextlib.contextmanager
def new_database() -> Iterator[str]:
    """A PostgreSQL database of its own, ``relevo_dj_<random>``, dropped after."""
    try:
        import django  # noqa: F401
        import psycopg  # noqa: F401
    except ImportError as exc:
        missing_service(f"{exc.name} is not installed (pip install -e '.[dev]')")
    try:
        _admin("SELECT 1")
    except Exception as exc:
        missing_service(f"PostgreSQL not reachable: {exc}")
    name = f"relevo_dj_{secrets.token_hex(4)}"
    _admin(f"CREATE DATABASE {name}")
    try:
        yield name
    finally:
        _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    with new_database() as name:
        yield name


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment of a Django subprocess: this tree's relevo first."""
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, **extra}
