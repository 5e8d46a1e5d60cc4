"""Fixtures for the Chromium tests of relevo.js and the demo page.

A real relevo server (in-process on port 0, or a subprocess when a test must
kill and restart it), a TCP proxy in front of it whose connections a test can
cut, and Debian's Chromium driven by Playwright (never a downloaded browser).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route as HttpRoute

from relevo.hub.auth import mint_token
from relevo.hub.hub import Hub
from relevo.server.app import RelevoServer
from relevo.server.config import settings_from_mapping
from relevo.web import Extension
from tests.helpers import BROWSER_CONTEXT, missing_service, timeout

CHROMIUM = "/usr/bin/chromium"
HAVE_CHROMIUM = Path(CHROMIUM).exists()
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SECRET = "browser-test-secret-0123456789abcdef"
API_KEY = "browser-test-api-key"
ROOT = Path(__file__).resolve().parents[2]
WAIT_MS = timeout(10) * 1000  # how long any browser-side condition may take to come true

expect.set_options(timeout=WAIT_MS)

CONFIG: dict[str, Any] = {
    "server": {"host": "127.0.0.1", "port": 0, "log_level": "warning"},
    "auth": {"secret": SECRET, "api_key": API_KEY, "leeway": 0},
    "namespaces": {
        "demo": {
            "subscribe": ["anonymous"],
            "publish": ["authenticated"],
            "presence": ["authenticated"],
            "join_leave": True,
            "history_size": 100,
            "history_ttl": 600,
        },
        "small": {"subscribe": ["anonymous"], "history_size": 3, "history_ttl": 600},
        "rec": {"subscribe": ["anonymous"], "history_size": 3, "history_ttl": 600},
        "gtr": {"subscribe": ["role:gtr"]},
    },
}

# A bare page on the server's origin that exposes relevo.js as window.relevo;
# its script is a file of its own, as the server's CSP allows no inline script.
HARNESS = """<!doctype html><html lang="es"><head><meta charset="utf-8"><title>harness</title>
<script type="module" src="/__harness.js"></script>
</head><body><span id="ind"></span></body></html>"""
HARNESS_JS = """import * as relevo from "/relevo.js";
window.relevo = relevo;
window.harnessReady = true;
"""


def token(user: str, ttl: float = 3600, roles: tuple[str, ...] = ()) -> str:
    return mint_token(SECRET, user, roles, "", ttl)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def api_publish(base: str, channel: str, event: str, data: Any) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        res = await client.post(
            f"{base}/api/publish",
            json={"channel": channel, "event": event, "data": data},
            headers={"Authorization": f"apikey {API_KEY}"},
        )
        res.raise_for_status()
        body: dict[str, Any] = res.json()
        return body


async def harness_page(request: Request) -> Response:
    # Served by the server itself: a page fulfilled by Playwright would count as
    # a public origin, and Chromium's local-network checks would block its
    # WebSocket to 127.0.0.1.
    return Response(HARNESS, media_type="text/html")


async def harness_script(request: Request) -> Response:
    return Response(HARNESS_JS, media_type="text/javascript")


# -- a records stand-in ---------------------------------------------------------------


@dataclass
class RecordsStub:
    """The live-query contract of the records layer, in memory: ``GET
    /api/records/{kind}?field=value`` → rows plus the channel position taken
    with them; every change is published on the channel as a delta."""

    hub: Hub | None = None
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    channel: str = "rec:lead"
    kind: str = "lead"

    def extension(self) -> Extension:
        routes = [
            HttpRoute("/api/records/{kind}", self.list),
            HttpRoute("/__harness", harness_page),
            HttpRoute("/__harness.js", harness_script),
        ]
        return Extension("browser-tests", routes=routes)

    async def list(self, request: Request) -> Response:
        assert self.hub is not None
        kind = request.path_params["kind"]
        if kind != self.kind:
            return Response(b'{"code":"not_found","message":"no such kind"}', 404)
        filters = {k: v.split(",") for k, v in request.query_params.items()}
        rows = [
            r for r in self.rows.values() if all(str(r.get(k)) in v for k, v in filters.items())
        ]
        # No await between reading the rows and the position: they are consistent.
        pos = await self.hub.broker.position(
            self.channel, self.hub.permissions.history_options(self.channel)
        )
        body = {
            "kind": kind,
            "channel": self.channel,
            "epoch": pos.epoch,
            "offset": pos.offset,
            "rows": rows,
        }
        return Response(msgspec.json.encode(body), media_type="application/json")

    async def upsert(self, rid: str, **fields: Any) -> dict[str, Any]:
        assert self.hub is not None
        old = self.rows.get(rid, {"id": rid, "version": 0})
        record = {**old, **fields, "id": rid, "version": old["version"] + 1}
        self.rows[rid] = record
        await self.send({"op": "upsert", "id": rid, "version": record["version"], "record": record})
        return record

    async def delete(self, rid: str) -> None:
        record = self.rows.pop(rid)
        await self.send({"op": "delete", "id": rid, "version": record["version"] + 1})

    async def send(self, delta: dict[str, Any]) -> None:
        assert self.hub is not None
        data = json.dumps({"kind": self.kind, **delta}).encode()
        await self.hub.publish(self.channel, f"{self.kind}.{delta['op']}", data)


# -- a relevo server in this process ----------------------------------------------------


@dataclass
class LiveServer:
    server: RelevoServer
    records: RecordsStub

    @property
    def hub(self) -> Hub:
        return self.server.hub

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    async def publish(self, channel: str, event: str, data: Any) -> dict[str, Any]:
        return await api_publish(self.url, channel, event, data)


@pytest.fixture
async def relevo_server() -> AsyncIterator[LiveServer]:
    records = RecordsStub()
    server = RelevoServer(settings_from_mapping(CONFIG), extensions=[records.extension()])
    records.hub = server.hub
    await server.start()
    try:
        yield LiveServer(server, records)
    finally:
        await server.stop()


# -- a relevo server in a subprocess (to kill and restart) -------------------------------


class ServerProcess:
    def __init__(self, config: Path, port: int) -> None:
        self.config = config
        self.port = port
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        cmd = [sys.executable, "-m", "relevo.server.cli", "serve"]
        cmd += ["--config", str(self.config), "--port", str(self.port)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = await asyncio.create_subprocess_exec(*cmd, cwd=self.config.parent, env=env)
        deadline = time.monotonic() + timeout(15)
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                if self.proc.returncode is not None:
                    raise RuntimeError(f"relevo serve exited with {self.proc.returncode}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{self.url}/healthz")).status_code == 200:
                        return
                await asyncio.sleep(0.05)
        raise TimeoutError("relevo serve did not come up")

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await asyncio.wait_for(self.proc.wait(), timeout(10))
        self.proc = None

    async def publish(self, channel: str, event: str, data: Any) -> dict[str, Any]:
        return await api_publish(self.url, channel, event, data)


def _toml(value: Any) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)


@pytest.fixture
async def server_process(tmp_path: Path) -> AsyncIterator[ServerProcess]:
    lines = []
    for section in ("server", "auth"):
        lines.append(f"[{section}]")
        lines += [f"{k} = {_toml(v)}" for k, v in CONFIG[section].items() if k != "port"]
    for name, table in CONFIG["namespaces"].items():
        lines.append(f"[namespaces.{name}]")
        lines += [f"{k} = {_toml(v)}" for k, v in table.items()]
    config = tmp_path / "relevo.toml"
    config.write_text("\n".join(lines) + "\n")
    proc = ServerProcess(config, free_port())
    try:
        yield proc
    finally:
        await proc.kill()


# -- a TCP proxy whose connections can be cut ---------------------------------------------


class CutProxy:
    """Forwards 127.0.0.1:<port> to the server. ``cut()`` drops every open
    connection (as a network failure would); while ``blocked``, new connections
    are dropped at once; ``block_websocket`` refuses WebSocket upgrades only
    (a proxy that lets plain HTTP through)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.blocked = False
        self.block_websocket = False
        self.links: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self.tasks: set[asyncio.Task[None]] = set()
        self.server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = int(self.server.sockets[0].getsockname()[1])

    def cut(self, block: bool = True) -> None:
        self.blocked = block
        for down, up in list(self.links):
            down.transport.abort()
            up.transport.abort()
        self.links.clear()

    async def close(self) -> None:
        self.cut()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        for task in list(self.tasks):
            task.cancel()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.blocked:
            writer.transport.abort()
            return
        try:
            head = await reader.read(65536)
            if self.block_websocket and b"upgrade: websocket" in head.lower():
                writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                writer.close()
                return
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        link = (writer, up_writer)
        self.links.add(link)
        up_writer.write(head)
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.get_running_loop().create_task(self._pipe(src, dst, link))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _pipe(
        self,
        src: asyncio.StreamReader,
        dst: asyncio.StreamWriter,
        link: tuple[asyncio.StreamWriter, asyncio.StreamWriter],
    ) -> None:
        try:
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self.links.discard(link)
            for w in link:
                w.transport.abort()


@pytest.fixture
async def proxy(relevo_server: LiveServer) -> AsyncIterator[CutProxy]:
    p = CutProxy(relevo_server.server.port)
    await p.start()
    try:
        yield p
    finally:
        await p.close()


# -- Chromium -----------------------------------------------------------------------------


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not HAVE_CHROMIUM:
        missing_service(f"{CHROMIUM} is not installed (apt-get install chromium)")
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            await b.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    """A fresh context and page; an uncaught exception in the page fails the test."""
    context = await browser.new_context(
        viewport={"width": 1280, "height": 860}, locale="es-ES", **BROWSER_CONTEXT
    )
    context.set_default_timeout(WAIT_MS)
    pg = await context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield pg
    finally:
        await context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


OpenHarness = Callable[[str], Awaitable[Page]]


@pytest.fixture
def harness(page: Page) -> OpenHarness:
    """Open the bare harness page (served by the in-process server, directly or
    through the proxy at ``base``), with window.relevo."""

    async def open_harness(base: str) -> Page:
        await page.goto(f"{base}/__harness")
        await page.wait_for_function("window.harnessReady === true")
        return page

    return open_harness
