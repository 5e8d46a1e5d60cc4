"""A real relevo server with the records layer and the leads app, on a
SQLite file and a port the test picks, plus clients that speak to it the way
the pages do: HTTP with a user's token, and raw WebSocket frames."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from relevo.clock import Clock
from relevo.hub.auth import mint_token
from relevo.records import Records, RecordsOptions
from relevo.server.app import RelevoServer
from relevo.server.run import with_app_namespaces
from relevo.server.standalone import build_app_server
from relevo.settings import AuthSettings, ServerSettings, Settings
from tests.helpers import BROWSER_CONTEXT, SCREENSHOTS, STILL, missing_service, timeout

SECRET = "leads-test-secret-0123456789abcdef"
API_KEY = "leads-test-api-key"
FAST = RecordsOptions(
    relay_poll=0.2, relay_grace=0.5, node_heartbeat=0.5, node_timeout=2.0, leave_grace=1.0
)
USERS = {"g1": ("gtr",), "4": ("asesor",), "5": ("asesor",), "6": ("asesor",), "admin": ("admin",)}


def leads_settings(options: Mapping[str, Any], *, port: int = 0, demo: bool = False) -> Settings:
    """What ``relevo serve --apps leads`` runs with: the app's namespaces added."""
    settings = Settings(
        server=ServerSettings(host="127.0.0.1", port=port, log_level="warning"),
        auth=AuthSettings(secret=SECRET, api_key=API_KEY),
        apps=("leads",),
        app={"leads": dict(options)},
        demo=demo,
    )
    return with_app_namespaces(settings)


def token(user: str, *roles: str) -> str:
    return mint_token(SECRET, user, roles or USERS.get(user, ()), ttl=3600)


def auth(user: str, *roles: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(user, *roles)}"}


API = {"X-API-Key": API_KEY}


@dataclass
class LeadsServer:
    server: RelevoServer
    records: Records
    settings: Settings

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    async def request(
        self, method: str, path: str, user: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if user is not None:
            headers.update(auth(user))
        async with httpx.AsyncClient(base_url=self.url, timeout=timeout(10)) as client:
            return await client.request(method, path, headers=headers, **kwargs)

    async def ok(self, method: str, path: str, user: str | None = None, **kwargs: Any) -> Any:
        res = await self.request(method, path, user, **kwargs)
        assert res.status_code in (200, 201), f"{method} {path}: {res.status_code} {res.text}"
        return res.json()

    async def create(self, nombre: str, telefono: str, **extra: str) -> dict[str, Any]:
        data = {"nombre": nombre, "telefono": telefono, **extra}
        result: dict[str, Any] = await self.ok(
            "POST", "/api/leads/create", "g1", json={"data": data}
        )
        return result

    async def assign(self, lead_id: str, asesor: str, **body: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self.ok(
            "POST", f"/api/leads/{lead_id}/assign", "g1", json={"asesor_id": asesor, **body}
        )
        return result


async def seed_users(records: Records) -> None:
    from relevo.apps.leads.demo import DEMO_USERS
    from relevo.apps.leads.kinds import USER
    from relevo.records import SYSTEM

    async with records.transaction() as tx:
        for uid, nombre, rol in DEMO_USERS:
            await tx.create(USER, {"nombre": nombre, "rol": rol}, by=SYSTEM, id=uid)


async def start_leads_server(
    db: Path,
    options: Mapping[str, Any] | None = None,
    *,
    port: int = 0,
    demo: bool = False,
    clock: Clock | None = None,
) -> LeadsServer:
    """The server assembled as ``relevo serve`` assembles it (the app's kinds
    registered, its extension built, seeded in demo mode), with the records
    layer's background intervals shortened so leave hooks run quickly.
    ``clock``: a test's virtual clock, for hub, broker and records alike."""
    settings = leads_settings(dict(options or {}), port=port, demo=demo)
    if clock is not None:
        settings = dataclasses.replace(settings, liveness=STILL)
    server, records = build_app_server(
        settings, f"sqlite+aiosqlite:///{db}", records_options=FAST, clock=clock
    )
    await server.start()
    return LeadsServer(server, records, settings)


Factory = Callable[..., Awaitable[LeadsServer]]


@pytest.fixture
async def make_server(tmp_path: Path) -> AsyncIterator[Factory]:
    started: list[LeadsServer] = []

    async def make(
        options: Mapping[str, Any] | None = None, *, demo: bool = False, clock: Clock | None = None
    ) -> LeadsServer:
        """``demo``: the server seeds the demo data (users and 60 leads) and
        answers the demo login; otherwise only the users are created. The
        demo's simulator stays off unless the test turns it on."""
        options = {"simulate": False, **(options or {})}
        srv = await start_leads_server(
            tmp_path / f"leads{len(started)}.db", options, demo=demo, clock=clock
        )
        started.append(srv)
        if not demo:
            await seed_users(srv.records)
        return srv

    yield make
    for srv in started:
        if not srv.server.server.should_exit:
            await srv.server.stop()


@pytest.fixture
async def app(make_server: Factory) -> LeadsServer:
    return await make_server()


# -- a WebSocket client that keeps every frame ---------------------------------------------


@dataclass
class WsClient:
    """One connection, as a page holds it: every frame kept, in order, with
    its arrival time, and waits on conditions over them."""

    ws: Any
    frames: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _ids: int = 0
    _task: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, srv: LeadsServer, user: str) -> WsClient:
        ws = await websockets.connect(srv.ws_url)
        client = cls(ws)
        client._task = asyncio.get_running_loop().create_task(client._read())
        ok = await client.call({"op": "connect", "token": token(user)})
        assert "ok" in ok, ok
        return client

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in self.ws:
                self.frames.append((time.monotonic(), json.loads(raw)))
                self._changed.set()

    async def wait(
        self, predicate: Callable[[dict[str, Any]], bool], wait: float = 5
    ) -> tuple[float, dict[str, Any]]:
        """The first frame (arrival time, frame) matching ``predicate``."""
        deadline = time.monotonic() + timeout(wait)
        seen = 0
        while True:
            for at, frame in self.frames[seen:]:
                if predicate(frame):
                    return at, frame
            seen = len(self.frames)
            self._changed.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"no matching frame in {wait}s; got {[f for _, f in self.frames][-5:]}"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)

    async def call(self, frame: dict[str, Any]) -> dict[str, Any]:
        self._ids += 1
        fid = self._ids
        await self.ws.send(json.dumps({"id": fid, **frame}))
        _, reply = await self.wait(lambda f: f.get("id") == fid)
        return reply

    async def sub(self, channel: str, since: dict[str, Any] | None = None) -> dict[str, Any]:
        frame: dict[str, Any] = {"op": "sub", "ch": channel}
        if since is not None:
            frame["since"] = since
        return await self.call(frame)

    def publications(self) -> list[dict[str, Any]]:
        return [f for _, f in self.frames if "off" in f and "ch" in f]

    async def close(self) -> None:
        await self.ws.close()
        if self._task is not None:
            await self._task


@pytest.fixture
async def ws_clients() -> AsyncIterator[Callable[[LeadsServer, str], Awaitable[WsClient]]]:
    opened: list[WsClient] = []

    async def open_client(srv: LeadsServer, user: str) -> WsClient:
        c = await WsClient.open(srv, user)
        opened.append(c)
        return c

    yield open_client
    for c in opened:
        await c.close()


# -- Chromium, one context per user ------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HAVE_CHROMIUM = Path(CHROMIUM).exists()
ROOT = Path(__file__).resolve().parents[3]
IMG = SCREENSHOTS


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    if not HAVE_CHROMIUM:
        missing_service(f"{CHROMIUM} is not installed")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            await b.close()


@dataclass
class Screens:
    """Opens a screen as a user, each user in a browser context of their own;
    an uncaught error in any page fails the test."""

    browser: Any
    contexts: list[Any] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    async def context(self, width: int = 1360, height: int = 900, **kwargs: Any) -> Any:
        ctx = await self.browser.new_context(
            viewport={"width": width, "height": height},
            locale="es-ES",
            **{**BROWSER_CONTEXT, **kwargs},
        )
        ctx.set_default_timeout(timeout(10) * 1000)
        self.contexts.append(ctx)
        return ctx

    async def open(
        self, base: str, user: str, screen: str, *, context: Any = None, **kwargs: Any
    ) -> Any:
        ctx = context or await self.context(**kwargs)
        page = await ctx.new_page()
        page.on("pageerror", lambda exc: self.errors.append(f"{user}/{screen}: {exc}"))
        await page.goto(f"{base}/leads/{screen}#token={token(user)}")
        await page.wait_for_function("window.__leadsReady === true")
        return page

    async def shot(self, page: Any, name: str) -> None:
        """A screenshot for the docs, once dialogs and toasts have finished
        animating in (the live-row highlight and pulsing dots may stay)."""
        await page.evaluate(
            """() => Promise.all(document.getAnimations()
                 .filter((a) => a.effect && a.effect.getTiming().iterations !== Infinity)
                 .filter((a) => !a.effect.target?.classList?.contains("flash"))
                 .map((a) => a.finished.catch(() => null)))"""
        )
        await page.screenshot(path=str(IMG / name))

    async def close(self) -> None:
        for ctx in self.contexts:
            await ctx.close()


@pytest.fixture
async def screens(browser: Any) -> AsyncIterator[Screens]:
    s = Screens(browser)
    try:
        yield s
    finally:
        await s.close()
    assert not s.errors, f"uncaught errors in the pages: {s.errors}"
