"""A real server with the turnero (records on SQLite, or PostgreSQL with
``-m postgres``), on 127.0.0.1 and a port of its own, plus HTTP and
WebSocket helpers. Every timeout scales with RELEVO_TEST_TIMEOUT_SCALE."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from relevo.apps.base import AppContext
from relevo.apps.turnos.config import apply_config
from relevo.apps.turnos.options import parse_options
from relevo.apps.turnos.service import Turnero
from relevo.clock import Clock
from relevo.hub.auth import mint_token
from relevo.records import Actor, Records, RecordsOptions
from relevo.server.app import RelevoServer
from relevo.server.standalone import build_app_server
from relevo.settings import AuthSettings, ServerSettings, Settings
from tests.helpers import BROWSER_CONTEXT, SCREENSHOTS, STILL, missing_service, timeout

# The records suite's database fixtures: a migrated PostgreSQL schema per run.
from tests.records.conftest import PG_URL, Db, pg_schema, truncate  # noqa: F401

SECRET = "turnos-test-secret-0123456789abcdef"
API_KEY = "turnos-test-api-key"
FAST = RecordsOptions(relay_poll=0.2, relay_grace=0.5, timer_max_sleep=0.5)

CONFIG: dict[str, list[dict[str, Any]]] = {
    "areas": [
        {"id": "atencion", "nombre": "Atención al público", "orden": 1},
        {"id": "caja", "nombre": "Caja", "orden": 2},
    ],
    "tramites": [
        {"id": "consultas", "nombre": "Consultas", "prefijo": "A", "area_id": "atencion"},
        {"id": "reclamos", "nombre": "Reclamos", "prefijo": "R", "area_id": "atencion"},
        {"id": "pagos", "nombre": "Pagos", "prefijo": "C", "area_id": "caja"},
    ],
    "mesas": [
        {"id": "1", "nombre": "Mesa 1", "area_id": "atencion",
         "tramites": ["consultas", "reclamos"], "orden": 1},
        {"id": "2", "nombre": "Mesa 2", "area_id": "atencion", "tramites": ["consultas"],
         "orden": 2},
        {"id": "caja1", "nombre": "Caja 1", "area_id": "caja", "tramites": ["pagos"], "orden": 3},
    ],
}  # fmt: skip


def token(user: str, *roles: str) -> str:
    return mint_token(SECRET, user, list(roles))


OPERADOR = token("op1", "operador")
ADMIN = token("jefa", "admin")


def settings_for(options: dict[str, Any] | None = None, *, demo: bool = False) -> Settings:
    return Settings(
        server=ServerSettings(host="127.0.0.1", port=0, log_level="warning"),
        auth=AuthSettings(secret=SECRET, api_key=API_KEY),
        apps=("turnos",),
        app={"turnos": dict(options or {})},
        demo=demo,
    )


@dataclass
class Turnos:
    server: RelevoServer
    records: Records
    ctx: AppContext
    http: httpx.AsyncClient = field(init=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def turnero(self) -> Turnero:
        """The app's operations, straight on the records (no HTTP)."""
        return Turnero(self.records, parse_options(self.ctx.options))

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.server.port}/ws"

    async def call(
        self, method: str, path: str, body: Any = None, *, auth: str | None = OPERADOR
    ) -> httpx.Response:
        headers = {}
        if auth == "api":
            headers["X-API-Key"] = API_KEY
        elif auth:
            headers["Authorization"] = f"Bearer {auth}"
        return await self.http.request(method, path, json=body, headers=headers)

    async def ok(self, method: str, path: str, body: Any = None, *, auth: str | None = OPERADOR,
                 status: int = 200) -> dict[str, Any]:  # fmt: skip
        res = await self.call(method, path, body, auth=auth)
        assert res.status_code == status, res.text
        out: dict[str, Any] = res.json()
        return out

    async def emitir(self, tramite: str = "consultas", **extra: Any) -> dict[str, Any]:
        body = {"tramite_id": tramite, **extra}
        return await self.ok("POST", "/api/turnos/turnos", body, auth="api", status=201)

    async def siguiente(self, mesa: str) -> dict[str, Any] | None:
        turno: dict[str, Any] | None = (
            await self.ok("POST", f"/api/turnos/mesas/{mesa}/siguiente")
        )["turno"]
        return turno

    async def accion(self, turno_id: str, accion: str, **body: Any) -> dict[str, Any]:
        out: dict[str, Any] = (
            await self.ok("POST", f"/api/turnos/turnos/{turno_id}/{accion}", body)
        )["turno"]
        return out


StartTurnos = Callable[..., Any]


@pytest.fixture
async def start_turnos(tmp_path: Path) -> AsyncIterator[StartTurnos]:
    """Start a server with the turnero and the test configuration."""
    started: list[Turnos] = []

    async def start(
        options: dict[str, Any] | None = None,
        *,
        db: Db | None = None,
        demo: bool = False,
        config: dict[str, Any] | None = None,
        clock: Clock | None = None,
    ) -> Turnos:
        url = db.url if db else f"sqlite+aiosqlite:///{tmp_path / f'turnos{len(started)}.db'}"
        settings = settings_for(options, demo=demo)
        if clock is not None:  # a virtual clock: hub, broker and records run on it
            settings = dataclasses.replace(settings, liveness=STILL)
        server, records = build_app_server(
            settings, url, schema=db.schema if db else None, records_options=FAST, clock=clock
        )
        await server.start()
        ctx = AppContext("turnos", settings, server.hub, records, settings.app["turnos"])
        t = Turnos(server, records, ctx)
        t.http = httpx.AsyncClient(base_url=t.url, timeout=timeout(10))
        started.append(t)
        await apply_config(records, CONFIG if config is None else config, by=Actor.trusted("test"))
        return t

    yield start
    for t in started:
        await t.http.aclose()
        await t.server.stop()


@pytest.fixture
async def turnos(start_turnos: StartTurnos) -> Turnos:
    t: Turnos = await start_turnos()
    return t


class Listener:
    """A WebSocket client recording every frame of the channels it joined."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []
        self.raw: list[str] = []
        self._task = asyncio.get_running_loop().create_task(self._read())
        self._new = asyncio.Event()

    @classmethod
    async def open(cls, url: str, channels: list[str], tok: str | None = None) -> Listener:
        ws = await websockets.connect(url)
        if tok:
            await ws.send(json.dumps({"id": 0, "op": "connect", "token": tok}))
            reply = json.loads(await asyncio.wait_for(ws.recv(), timeout(5)))
            assert "ok" in reply, reply
        for i, ch in enumerate(channels, 1):
            await ws.send(json.dumps({"id": i, "op": "sub", "ch": ch}))
            reply = json.loads(await asyncio.wait_for(ws.recv(), timeout(5)))
            assert "ok" in reply, reply
        return cls(ws)

    async def _read(self) -> None:
        async for raw in self.ws:
            self.raw.append(str(raw))
            self.frames.append(json.loads(raw))
            self._new.set()

    def events(self, ch: str | None = None) -> list[dict[str, Any]]:
        return [f for f in self.frames if "ev" in f and (ch is None or f["ch"] == ch)]

    async def wait_for(
        self, pred: Callable[[dict[str, Any]], bool], wait: float = 5.0
    ) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout(wait)
        seen = 0
        while True:
            for f in self.frames[seen:]:
                if "ev" in f and pred(f):
                    return f
            seen = len(self.frames)
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(f"no matching frame in {wait} s; got {self.events()}")
            self._new.clear()
            try:
                await asyncio.wait_for(self._new.wait(), left)
            except TimeoutError:
                pass

    async def close(self) -> None:
        await self.ws.close()
        self._task.cancel()
        try:
            await self._task
        except (asyncio.CancelledError, websockets.ConnectionClosed):
            pass


@pytest.fixture
async def listen() -> AsyncIterator[Callable[..., Any]]:
    opened: list[Listener] = []

    async def open_(url: str, channels: list[str], tok: str | None = None) -> Listener:
        lis = await Listener.open(url, channels, tok)
        opened.append(lis)
        return lis

    yield open_
    for lis in opened:
        await lis.close()


async def eventually(pred: Callable[[], Any], wait: float = 5.0) -> None:
    """Until ``pred()`` (sync or async) is true; for effects of background work."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout(wait)
    while True:
        result = pred()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


# -- Chromium: one browser context per screen ----------------------------------------------

ROOT = Path(__file__).resolve().parents[3]
IMG = SCREENSHOTS
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


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    if not HAVE_CHROMIUM:
        missing_service(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            await b.close()


@dataclass
class Screens:
    """Opens each screen in its own browser context (as separate devices
    would); an uncaught error in any page fails the test."""

    browser: Any
    base: str
    contexts: list[Any] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    frames: dict[str, list[str]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    """Every request the pages made: its URL and its Referer header."""

    async def open(
        self, path: str, *, width: int = 1280, height: int = 800, name: str = "", ready: bool = True
    ) -> Any:
        ctx = await self.browser.new_context(
            viewport={"width": width, "height": height}, locale="es-ES", **BROWSER_CONTEXT
        )
        ctx.set_default_timeout(timeout(10) * 1000)
        self.contexts.append(ctx)
        page = await ctx.new_page()
        page.on("pageerror", lambda exc: self.errors.append(f"{path}: {exc}"))
        received = self.frames.setdefault(name or path, [])

        def on_socket(ws: Any) -> None:
            ws.on("framereceived", lambda payload: received.append(str(payload)))

        page.on("websocket", on_socket)
        page.on("request", lambda req: self.requests.append(
            (req.url, req.headers.get("referer", ""))
        ))  # fmt: skip
        await page.goto(self.base + path)
        if ready:
            await page.wait_for_selector("body[data-ready=true]")
        return page

    async def close(self) -> None:
        for ctx in self.contexts:
            await ctx.close()


@pytest.fixture
async def screens(browser: Any, turnos: Turnos) -> AsyncIterator[Screens]:
    s = Screens(browser, turnos.url)
    yield s
    await s.close()
    assert not s.errors, f"uncaught errors in the pages: {s.errors}"


async def settled(page: Any) -> None:
    """Until every CSS animation on the page has finished (for screenshots)."""
    await page.wait_for_function(
        "document.getAnimations().every((a) => a.playState !== 'running'"
        " || a.effect?.getTiming().iterations === Infinity)"
    )
