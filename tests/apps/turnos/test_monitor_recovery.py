"""Must hold 5: the public monitor survives a dropped network and a server
restart, and after each shows the right current calls — including the calls
made while it was away. The server is a subprocess on a SQLite file (so it
can be killed and started again); a TCP proxy between Chromium and the server
cuts and blocks the monitor's network."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from tests.browser.conftest import CutProxy, free_port
from tests.helpers import timeout

from .conftest import API_KEY, CONFIG, SECRET, Screens

pytestmark = pytest.mark.browser


class TurnosProcess:
    """``python -m relevo.server.standalone --app turnos`` on a SQLite file."""

    def __init__(self, db: Path, port: int) -> None:
        self.db = db
        self.port = port
        self.proc: asyncio.subprocess.Process | None = None
        self.http = httpx.AsyncClient(
            base_url=self.url, headers={"X-API-Key": API_KEY}, timeout=timeout(10)
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        cmd = [sys.executable, "-m", "relevo.server.standalone", "--app", "turnos", "--db",
               f"sqlite+aiosqlite:///{self.db}", "--port", str(self.port), "--secret", SECRET,
               "--api-key", API_KEY]  # fmt: skip
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = await asyncio.create_subprocess_exec(*cmd, env=env)
        deadline = time.monotonic() + timeout(15)
        while time.monotonic() < deadline:
            if self.proc.returncode is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if (await self.http.get("/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.05)
        raise TimeoutError("the server did not come up")

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await asyncio.wait_for(self.proc.wait(), timeout(10))

    async def post(self, path: str, body: Any = None) -> dict[str, Any]:
        res = await self.http.post(path, content=json.dumps(body or {}))
        assert res.status_code in (200, 201), res.text
        out: dict[str, Any] = res.json()
        return out

    async def call_next(self, mesa: str) -> str:
        turno = (await self.post(f"/api/turnos/mesas/{mesa}/siguiente"))["turno"]
        assert turno is not None
        return str(turno["numero_visible"])


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[TurnosProcess]:
    proc = TurnosProcess(tmp_path / "turnos.db", free_port())
    await proc.start()
    try:
        yield proc
    finally:
        await proc.kill()
        await proc.http.aclose()


async def test_the_monitor_survives_a_dropped_network_and_a_restart(
    server: TurnosProcess, browser: Any
) -> None:
    await server.post("/api/turnos/config", CONFIG)
    for tramite in ("consultas", "reclamos", "consultas", "pagos", "consultas", "pagos"):
        await server.post("/api/turnos/turnos", {"tramite_id": tramite})
    first = await server.call_next("1")

    proxy = CutProxy(server.port)
    await proxy.start()
    screens = Screens(browser, proxy.url)
    try:
        monitor = await screens.open("/turnos/monitor", name="monitor")
        await monitor.evaluate("window.sameDocument = true")
        conn = monitor.locator("#conn")
        await expect(conn).to_have_attribute("data-state", "connected")
        await expect(monitor.locator("#now-numero")).to_have_text(first)

        # 1. The network drops; two calls are made while the monitor is away.
        proxy.cut(block=True)
        await expect(conn).not_to_have_attribute("data-state", "connected")
        away = [await server.call_next("2"), await server.call_next("caja1")]
        await asyncio.sleep(0.3)
        assert await monitor.locator("#now-numero").text_content() == first
        proxy.blocked = False
        await expect(conn).to_have_attribute("data-state", "connected", timeout=15000)
        await expect(monitor.locator("#now-numero")).to_have_text(away[1])
        await expect(monitor.locator("#now-mesa")).to_have_text("Caja 1")
        shown = monitor.locator("#list li .wall-num")
        await expect(shown).to_have_text([away[0], first])
        body = monitor.locator("body")
        await expect(body).to_have_attribute("data-loads", "1")  # replayed from history
        await expect(body).to_have_attribute("data-chimes", "2")  # one per call missed

        # 2. The server is killed and started again: its in-memory history is
        # gone, so the monitor reloads from the database. Meanwhile mesa 1
        # finishes its turno and calls the next one.
        proxy.cut(block=True)
        await server.kill()
        await server.start()
        turnos = await server.http.get("/api/turnos/mesas/1/actual")
        current = turnos.json()["turno"]
        for accion in ("atender", "finalizar"):
            await server.post(f"/api/turnos/turnos/{current['id']}/{accion}")
        after_restart = await server.call_next("1")
        proxy.blocked = False
        await expect(conn).to_have_attribute("data-state", "connected", timeout=15000)
        await expect(monitor.locator("#now-numero")).to_have_text(after_restart)
        await expect(monitor.locator("#now-mesa")).to_have_text("Mesa 1")
        await expect(shown).to_have_text([away[1], away[0], first])
        await expect(monitor.locator("#list li[data-state=finalizado]")).to_have_count(1)
        await expect(body).to_have_attribute("data-loads", "2")  # reloaded from the database
        await expect(body).to_have_attribute("data-chimes", "3")  # the newest call still chimes
        assert await monitor.evaluate("window.sameDocument") is True  # no page reload

        frames = "".join(screens.frames["monitor"])
        assert "turno_llamado" in frames
        assert "persona_nombre" not in frames
    finally:
        await screens.close()
        await proxy.close()
    assert not screens.errors, screens.errors
