"""Issue 5's browser test: a live collection (`rv.live`) over the real records
layer stays correct across a server restart, including changes made while
the page was away."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Page

from tests.browser.conftest import API_KEY, ROOT, ServerProcess, free_port, token
from tests.helpers import timeout

pytestmark = pytest.mark.browser

AUTH = {"Authorization": f"apikey {API_KEY}"}


class RecordsProcess(ServerProcess):
    def __init__(self, config: Path, port: int, db: Path) -> None:
        super().__init__(config, port)
        self.db = db

    async def start(self) -> None:
        cmd = [sys.executable, "-m", "tests.browser.records_server"]
        cmd += [str(self.config), str(self.port), str(self.db)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = await asyncio.create_subprocess_exec(*cmd, cwd=ROOT, env=env)
        deadline = time.monotonic() + timeout(15)
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                if self.proc.returncode is not None:
                    raise RuntimeError(f"server exited with {self.proc.returncode}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{self.url}/readyz")).status_code == 200:
                        return
                await asyncio.sleep(0.05)
        raise TimeoutError("records server did not come up")

    async def api(self, method: str, path: str, body: Any = None) -> Any:
        async with httpx.AsyncClient(base_url=self.url) as client:
            resp = await client.request(method, path, json=body, headers=AUTH)
            assert resp.status_code < 300, resp.text
            return resp.json()


@pytest.fixture
async def records_process(
    server_process: ServerProcess, tmp_path: Path
) -> AsyncIterator[RecordsProcess]:
    config = server_process.config
    text = (
        config.read_text()
        + '\n[namespaces.tareas]\nsubscribe = ["anonymous"]\nhistory_size = 100\n'
    )
    config.write_text(text)
    proc = RecordsProcess(config, free_port(), tmp_path / "records.db")
    try:
        yield proc
    finally:
        await proc.kill()


OPEN = """(token) => {
    window.rv = relevo.connect({ token, minDelay: 50, maxDelay: 400 });
    window.states = [];
    rv.on("state", (s) => states.push(s));
    window.live = rv.live("tarea", { asesor_id: 4 }, { onChange: () => {} });
    window.view = () => [...live.rows.values()].map((r) => [r.titulo, r.state]).sort();
}"""


async def view(page: Page) -> list[list[str]]:
    rows: list[list[str]] = await page.evaluate("view()")
    return rows


async def wait_view(page: Page, want: list[list[str]]) -> None:
    deadline = time.monotonic() + timeout(10)
    while time.monotonic() < deadline:
        if await view(page) == want:
            return
        await asyncio.sleep(0.05)
    assert await view(page) == want


async def test_live_collection_survives_a_restart(
    records_process: RecordsProcess, page: Page
) -> None:
    srv = records_process
    await srv.start()
    created = [
        await srv.api("POST", "/api/records/tarea", {"data": {"titulo": t, "asesor_id": a}})
        for t, a in (("llamar", 4), ("visitar", 5), ("cotizar", 4))
    ]
    ids = {r["titulo"]: r["id"] for r in created}
    await page.goto(f"{srv.url}/__harness")
    await page.wait_for_function("window.harnessReady === true")
    await page.evaluate(OPEN, token("ana"))
    await wait_view(page, [["cotizar", "abierta"], ["llamar", "abierta"]])

    # Live: a record enters the filter, another changes state.
    await srv.api(
        "POST",
        f"/api/records/tarea/{ids['visitar']}/transitions/asignar",
        {"data": {"asesor_id": 4}},
    )
    await srv.api("POST", f"/api/records/tarea/{ids['llamar']}/transitions/cerrar", {"data": {}})
    await wait_view(page, [["cotizar", "abierta"], ["llamar", "hecha"], ["visitar", "abierta"]])

    # Restart: the history dies with the memory broker; the SQLite state stays.
    await srv.kill()
    await page.wait_for_function("states.includes('connecting') || states.includes('disconnected')")
    await srv.start()
    # Changes made before the page is back: one leaves the filter, one arrives.
    await srv.api(
        "POST",
        f"/api/records/tarea/{ids['cotizar']}/transitions/asignar",
        {"data": {"asesor_id": 5}},
    )
    await srv.api("POST", "/api/records/tarea", {"data": {"titulo": "enviar", "asesor_id": 4}})
    await page.wait_for_function("rv.state === 'connected'")
    await wait_view(page, [["enviar", "abierta"], ["llamar", "hecha"], ["visitar", "abierta"]])

    # And it is live again after the reload.
    await srv.api("POST", f"/api/records/tarea/{ids['visitar']}/transitions/cerrar", {"data": {}})
    await wait_view(page, [["enviar", "abierta"], ["llamar", "hecha"], ["visitar", "hecha"]])


async def test_newest_window_shows_the_latest_rows_and_keeps_older_ones_out(
    records_process: RecordsProcess, page: Page
) -> None:
    """A long list (a chat) with `newest: true, limit: 3`: the snapshot is the
    last three; a new row joins; an older row that changes stays out."""
    srv = records_process
    await srv.start()
    made = [
        await srv.api("POST", "/api/records/tarea", {"data": {"titulo": f"t{n}", "asesor_id": 4}})
        for n in range(5)
    ]
    await page.goto(f"{srv.url}/__harness")
    await page.wait_for_function("window.harnessReady === true")
    await page.evaluate(
        """(token) => {
            window.rv = relevo.connect({ token, minDelay: 50 });
            window.live = rv.live("tarea", { asesor_id: 4 }, { newest: true, limit: 3 });
            window.view = () => [...live.rows.values()].map((r) => [r.titulo, r.state]);
        }""",
        token("ana"),
    )
    await page.wait_for_function("live._sub && live._sub.state === 'live'")
    assert await view(page) == [["t2", "abierta"], ["t3", "abierta"], ["t4", "abierta"]]
    assert await page.evaluate("live.total") == 5  # also the two past the limit
    await srv.api("POST", f"/api/records/tarea/{made[0]['id']}/transitions/cerrar", {"data": {}})
    await srv.api("POST", "/api/records/tarea", {"data": {"titulo": "t5", "asesor_id": 4}})
    await srv.api("POST", f"/api/records/tarea/{made[3]['id']}/transitions/cerrar", {"data": {}})
    await wait_view(
        page, [["t2", "abierta"], ["t3", "hecha"], ["t4", "abierta"], ["t5", "abierta"]]
    )
    assert await page.evaluate("live.total") == 6  # t5 created; t0 and t3 only changed
