"""The UI kit, the index page and the admin page, in Debian's Chromium.

A real relevo server runs in this process with the admin routes mounted; real
WebSocket clients (the ``websockets`` library) connect to it, and the admin
page must show them. Screenshots go to ``tests.helpers.SCREENSHOTS``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from playwright.async_api import Page, expect

from relevo.hub.auth import mint_token
from relevo.server.admin import admin_routes
from relevo.server.app import RelevoServer
from relevo.server.config import settings_from_mapping
from relevo.web import Extension
from tests.helpers import SCREENSHOTS, timeout

pytestmark = pytest.mark.browser

SECRET = "ui-kit-test-secret-0123456789abcdef"
API_KEY = "ui-kit-test-api-key"
ROOT = Path(__file__).resolve().parents[2]
IMG = SCREENSHOTS

CONFIG: dict[str, Any] = {
    "server": {"host": "127.0.0.1", "port": 0, "log_level": "warning"},
    "auth": {"secret": SECRET, "api_key": API_KEY},
    "namespaces": {
        "gtr": {"subscribe": ["role:gtr"], "presence": ["role:gtr"], "join_leave": True},
        "asesor": {"subscribe": [{"role": "asesor", "channel": "asesor:{user}"}]},
        "turnos": {"subscribe": ["anonymous"]},
    },
}
LINKS = [("Leads", "/leads/"), ("Turnos", "/turnos/"), ("Demo en vivo", "/static/demo.html")]


def token(user: str, *roles: str) -> str:
    return mint_token(SECRET, user, roles)


@dataclass
class AdminServer:
    server: RelevoServer

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.server.port}/ws"


@pytest.fixture
async def admin_server() -> AsyncIterator[AdminServer]:
    server = RelevoServer(
        settings_from_mapping(CONFIG),
        extensions=[
            Extension("admin", routes=admin_routes()),
            Extension("apps", links=LINKS),
        ],
    )
    await server.start()
    try:
        yield AdminServer(server)
    finally:
        await server.stop()


class Client:
    """A WebSocket client of relevo that answers pings and keeps the frames it gets."""

    def __init__(self, ws: websockets.ClientConnection) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []
        self.ids = 0
        self.task = asyncio.get_running_loop().create_task(self._read())
        self.replies: dict[int, asyncio.Future[dict[str, Any]]] = {}

    @classmethod
    async def open(cls, url: str, user: str = "", roles: tuple[str, ...] = ()) -> Client:
        client = cls(await websockets.connect(url))
        if user:
            reply = await client.call({"op": "connect", "token": token(user, *roles)})
            assert "ok" in reply, reply
        return client

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                frame = json.loads(raw)
                self.frames.append(frame)
                fut = self.replies.pop(frame.get("id", -1), None)
                if fut is not None and not fut.done():
                    fut.set_result(frame)
        except websockets.ConnectionClosed:
            pass

    async def call(self, frame: dict[str, Any]) -> dict[str, Any]:
        self.ids += 1
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.replies[self.ids] = fut
        await self.ws.send(json.dumps({"id": self.ids, **frame}))
        return await asyncio.wait_for(fut, timeout(5))

    async def subscribe(self, channel: str) -> dict[str, Any]:
        return await self.call({"op": "sub", "ch": channel})

    async def close(self) -> None:
        await self.ws.close()
        self.task.cancel()


async def sign_in(page: Page, base: str, credential: str) -> None:
    await page.goto(f"{base}/static/admin.html")
    await page.get_by_label("Clave de API o token").fill(credential)
    await page.get_by_role("button", name="Entrar").click()


async def full_screenshot(page: Page, path: Path, width: int = 1440) -> None:
    """The whole page at ``width``, with fixed elements (toasts) where a user sees them."""
    height = await page.evaluate("document.documentElement.scrollHeight")
    await page.set_viewport_size({"width": width, "height": max(720, int(height))})
    await page.wait_for_timeout(150)
    path.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(path), animations="allow")


# -- index page -------------------------------------------------------------------------


async def test_index_lists_the_apps_and_the_tools(admin_server: AdminServer, page: Page) -> None:
    await page.goto(f"{admin_server.url}/static/index.html")
    apps = page.locator("#apps")
    await expect(apps.locator("a.card")).to_have_count(2)  # the demo link is a tool, not an app
    await expect(apps.get_by_role("link", name="Leads")).to_have_attribute("href", "/leads/")
    await expect(apps.get_by_role("link", name="Turnos")).to_have_attribute("href", "/turnos/")
    tools = page.locator("#tools")
    await expect(tools.get_by_role("link", name="Administración")).to_have_attribute(
        "href", "/static/admin.html"
    )
    await expect(tools.get_by_role("link", name="API HTTP")).to_have_attribute(
        "href", "/api/openapi.json"
    )
    await expect(tools.get_by_role("link", name="Demo en vivo")).to_have_attribute("href", "#apps")
    await expect(page.locator("#version")).to_have_text("v0.1.0")


async def test_index_without_apps_says_how_to_add_them(page: Page) -> None:
    server = RelevoServer(settings_from_mapping(CONFIG))
    await server.start()
    try:
        await page.goto(f"http://127.0.0.1:{server.port}/static/index.html")
        await expect(
            page.get_by_text("Este servidor no tiene aplicaciones montadas")
        ).to_be_visible()
    finally:
        await server.stop()


# -- admin page ---------------------------------------------------------------------------


async def test_admin_shows_a_connected_client_and_its_channel(
    admin_server: AdminServer, page: Page
) -> None:
    ana = await Client.open(admin_server.ws_url, "ana", ("gtr",))
    assert "ok" in await ana.subscribe("gtr")
    carlos = await Client.open(admin_server.ws_url, "carlos", ("asesor",))
    assert "ok" in await carlos.subscribe("asesor:carlos")
    assert "err" in await carlos.subscribe("gtr")  # forbidden: shows under recent errors
    anon = await Client.open(admin_server.ws_url)
    assert "ok" in await anon.subscribe("turnos:monitor")
    stop = asyncio.Event()

    async def traffic() -> None:
        n = 0
        while not stop.is_set():
            for _ in range(1 + n % 4):
                await admin_server.server.hub.publish("gtr", "CLIENT_IN_GESTION", b'{"id":1}')
            n += 1
            await asyncio.sleep(0.25)

    task = asyncio.get_running_loop().create_task(traffic())
    try:
        await page.set_viewport_size({"width": 1440, "height": 900})
        await sign_in(page, admin_server.url, API_KEY)
        conns = page.locator("#conn-table")
        row = conns.locator("tbody tr[data-key]", has_text="ana")
        await expect(row).to_contain_text("gtr")
        await expect(row).to_contain_text("WS")
        await expect(conns.locator("tbody tr[data-key]")).to_have_count(3)
        chan = page.locator("#chan-table tr[data-key='gtr']")
        await expect(chan).to_contain_text("1")
        await expect(page.locator("#conn")).to_have_attribute("data-state", "connected")
        await expect(page.locator("#recent-table")).to_contain_text("forbidden")
        # rates come from two successive samples, 2 s apart
        await expect(page.locator("#st-pub")).not_to_have_text("—/s", timeout=timeout(8) * 1000)

        # a client that connects while the page is open appears without a reload
        lucia = await Client.open(admin_server.ws_url, "lucia", ("gtr",))
        await lucia.subscribe("gtr")
        await expect(conns.locator("tbody tr[data-key]", has_text="lucia")).to_be_visible()
        await expect(chan).to_contain_text("2")

        # presence of a channel, in the side drawer
        await chan.click()
        drawer = page.locator("dialog.drawer")
        await expect(drawer).to_contain_text("2 en todos los nodos")
        # listed as present (all nodes) and as a local subscriber
        await expect(drawer.locator(".list-item", has_text="lucia")).to_have_count(2)
        await page.keyboard.press("Escape")
        await expect(drawer).to_have_count(0)

        await page.evaluate("document.activeElement.blur()")
        await page.mouse.move(0, 0)
        await page.wait_for_timeout(2500)  # a few more samples for the sparklines
        await full_screenshot(page, IMG / "admin.png")
    finally:
        stop.set()
        await task
        for c in (ana, carlos, anon):
            await c.close()


async def test_admin_disconnects_a_client(admin_server: AdminServer, page: Page) -> None:
    pepe = await Client.open(admin_server.ws_url, "pepe", ("gtr",))
    await pepe.subscribe("gtr")
    await sign_in(page, admin_server.url, API_KEY)
    row = page.locator("#conn-table tbody tr[data-key]", has_text="pepe")
    await row.get_by_role("button", name="Desconectar").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_contain_text("¿Desconectar esta conexión?")
    await dialog.get_by_role("button", name="Desconectar").click()
    await expect(page.locator(".toast")).to_contain_text("cerrada")
    await asyncio.wait_for(pepe.task, timeout(5))
    assert any(f.get("op") == "disconnect" and f.get("code") == "forced" for f in pepe.frames)
    await expect(page.locator("#conn-table tbody tr[data-key]", has_text="pepe")).to_have_count(0)


async def test_admin_wrong_key_gets_a_clear_spanish_error(
    admin_server: AdminServer, page: Page
) -> None:
    await sign_in(page, admin_server.url, "not-the-key")
    error = page.locator("#login-error")
    await expect(error).to_be_visible()
    await expect(error).to_contain_text("Clave de API o token no válido")
    await expect(page.locator("#dashboard")).to_be_hidden()
    await expect(page.get_by_label("Clave de API o token")).to_have_attribute(
        "aria-invalid", "true"
    )
    assert await page.evaluate("sessionStorage.length") == 0


async def test_admin_token_needs_the_admin_role(admin_server: AdminServer, page: Page) -> None:
    await sign_in(page, admin_server.url, token("ana", "gtr"))
    await expect(page.locator("#login-error")).to_contain_text("El token no tiene el rol admin")

    await sign_in(page, admin_server.url, token("root", "admin"))
    await expect(page.locator("#dashboard")).to_be_visible()
    await expect(page.locator("#who")).to_contain_text("root")
    # kept for the tab: a reload goes straight to the dashboard
    await page.reload()
    await expect(page.locator("#dashboard")).to_be_visible()
    await expect(page.locator("#login-view")).to_be_hidden()
    await page.get_by_role("button", name="Salir").click()
    await expect(page.locator("#login-view")).to_be_visible()
    assert await page.evaluate("sessionStorage.length") == 0


async def test_admin_polling_pauses_while_hidden(admin_server: AdminServer, page: Page) -> None:
    calls: list[str] = []
    page.on("request", lambda r: calls.append(r.url) if "/api/admin/overview" in r.url else None)
    await sign_in(page, admin_server.url, API_KEY)
    await expect(page.locator("#dashboard")).to_be_visible()
    await page.wait_for_timeout(2300)
    assert len(calls) >= 2
    await page.evaluate(
        """() => {
            Object.defineProperty(document, "hidden", {value: true, configurable: true});
            document.dispatchEvent(new Event("visibilitychange"));
        }"""
    )
    await page.wait_for_timeout(300)
    before = len(calls)
    await page.wait_for_timeout(4500)
    assert len(calls) == before, "polled while the tab was hidden"
    await page.evaluate(
        """() => {
            Object.defineProperty(document, "hidden", {value: false, configurable: true});
            document.dispatchEvent(new Event("visibilitychange"));
        }"""
    )
    for _ in range(50):
        if len(calls) > before:
            break
        await page.wait_for_timeout(100)
    assert len(calls) > before, "did not poll again once visible"


async def test_admin_api_errors_are_code_and_message(admin_server: AdminServer) -> None:
    async with httpx.AsyncClient(base_url=admin_server.url) as http:
        res = await http.get("/api/admin/overview")
        assert res.status_code == 401
        assert res.json()["code"] == "unauthorized"
        res = await http.get(
            "/api/admin/overview", headers={"Authorization": f"Bearer {token('x', 'gtr')}"}
        )
        assert res.status_code == 403
        assert res.json()["code"] == "forbidden"
        res = await http.get("/api/admin/overview", headers={"X-API-Key": API_KEY})
        assert res.status_code == 200
        body = res.json()
        assert {"node", "now", "counters", "connections", "channels", "recent_errors"} <= set(body)
        res = await http.post(
            "/api/admin/disconnect", json={"client": "nope"}, headers={"X-API-Key": API_KEY}
        )
        assert res.status_code == 404
        assert res.json()["code"] == "not_found"
        res = await http.get("/api/admin/presence/asesor:1", headers={"X-API-Key": API_KEY})
        assert res.json() == {"channel": "asesor:1", "tracked": False, "clients": []}


# -- the kit itself ----------------------------------------------------------------------------


async def test_kitchen_sink_page(admin_server: AdminServer, page: Page) -> None:
    await page.set_viewport_size({"width": 1440, "height": 900})
    await page.goto(f"{admin_server.url}/static/ui/kitchen.html?demo")
    await page.wait_for_function("window.__kitchenReady === true")
    # the ?demo change: one row flashes, a toast tells it, screen readers hear it
    await expect(page.locator("#k-table tr.flash")).to_have_count(1)
    await expect(page.locator(".toast")).to_contain_text("pasó a En gestión")
    await expect(page.locator("#ui-live")).to_have_text("Lead 1041 pasó a En gestión")
    chips = page.locator("#k-table .chip")
    await expect(chips.filter(has_text="En gestión")).to_have_count(3)
    await full_screenshot(page, IMG / "ui-kit.png")

    # "?" lists the shortcuts; typing in the search box does not trigger them
    await page.set_viewport_size({"width": 1280, "height": 860})
    await page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Atajos de teclado")
    await expect(help_dialog).to_contain_text("Nuevo lead")
    await page.keyboard.press("Escape")
    await expect(help_dialog).to_have_count(0)
    await page.keyboard.press("/")
    await expect(page.locator("#k-search")).to_be_focused()
    await page.keyboard.type("n?")
    await expect(page.get_by_role("dialog")).to_have_count(0)
    await expect(page.locator("#k-table tbody tr[data-key]:visible")).to_have_count(0)
    await expect(page.locator("#k-table")).to_contain_text("Sin resultados")


async def test_live_table_updates_rows_by_key(admin_server: AdminServer, page: Page) -> None:
    await page.goto(f"{admin_server.url}/static/ui/kitchen.html")
    result = await page.evaluate(
        """async () => {
            const ui = await import("/static/ui/ui.js");
            const box = document.createElement("div");
            document.body.append(box);
            const t = ui.table(box, {
                columns: [{key: "name", label: "Nombre"}, {key: "n", label: "N", className: "num"}],
                sort: (a, b) => a.n - b.n,
            });
            t.set([{id: 1, name: "a", n: 1}, {id: 2, name: "b", n: 2}, {id: 3, name: "c", n: 3}]);
            const [r1, r2, r3] = [t.row(1), t.row(2), t.row(3)];
            const cell = r1.children[0];
            t.upsert({id: 2, name: "B", n: 2});
            const sameRows = t.row(1) === r1 && t.row(2) === r2 && t.row(3) === r3;
            const untouched = r1.children[0] === cell;
            const flashed = r2.classList.contains("flash") && !r1.classList.contains("flash");
            t.upsert({id: 1, name: "a", n: 9});          // moves to the end
            const keys = () =>
                [...box.querySelectorAll("tbody tr[data-key]")].map((tr) => tr.dataset.key);
            const order = keys();
            t.remove(3);
            // a relevo.js live collection drives the same table
            const onChange = ui.syncTable(t, {announce: (c) => `Fila ${c.id}: ${c.type}`});
            const rows = new Map([[1, {id: 1, name: "a", n: 1}], [4, {id: 4, name: "d", n: 4}]]);
            onChange(rows, {type: "snapshot"});
            const afterSnapshot = keys();
            onChange(rows, {type: "update", id: 4, row: {id: 4, name: "D", n: 4}});
            const updated = t.row(4).children[0].textContent;
            onChange(rows, {type: "remove", id: 1, row: rows.get(1)});
            await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 20)));
            const said = document.getElementById("ui-live").textContent;
            t.set([]);
            const empty = box.querySelector(".empty-title")?.textContent;
            const size = t.size;
            return {sameRows, untouched, flashed, order, afterSnapshot, updated, said, empty, size};
        }"""
    )
    assert result == {
        "sameRows": True,
        "untouched": True,
        "flashed": True,
        "order": ["2", "3", "1"],
        "afterSnapshot": ["1", "4"],
        "updated": "D",
        "said": "Fila 1: remove",
        "empty": "Sin datos",
        "size": 0,
    }


async def test_spanish_time_formatting(admin_server: AdminServer, page: Page) -> None:
    await page.goto(f"{admin_server.url}/static/ui/kitchen.html")
    out = await page.evaluate(
        """async () => {
            const ui = await import("/static/ui/ui.js");
            const now = Date.UTC(2025, 10, 4, 15, 0, 0);
            return [
                ui.timeAgo(now - 3000, {now}),
                ui.timeAgo(now - 45000, {now}),
                ui.timeAgo(now - 3 * 60000, {now}),
                ui.timeAgo(now - 2 * 3600000, {now}),
                ui.timeAgo(now - 86400000, {now}),
                ui.timeAgo(now + 4 * 60000, {now}),
                ui.countdown(now + 299500, {now}),
                ui.countdown(now - 12000, {now}),
                ui.duration(3723),
                ui.fmtRate(12.345),
                ui.fmtNumber(12345),
                ui.plural(1, "fallido", "fallidos"),
                ui.plural(2, "fallido", "fallidos"),
                ui.plural(0, "contacto", "contactos"),
                ui.plural(1234, "contacto", "contactos"),
                ui.plural(1, "mensaje", "mensajes", {number: false}),
            ];
        }"""
    )
    assert out == [
        "ahora",
        "hace 45 s",
        "hace 3 min",
        "hace 2 h",
        "ayer",
        "dentro de 4 min",
        "5:00",
        "-0:12",
        "1:02:03",
        "12,3/s",
        "12.345",
        "1 fallido",
        "2 fallidos",
        "0 contactos",
        "1234 contactos",
        "mensaje",
    ]


async def test_phone_layout_has_no_horizontal_scroll(admin_server: AdminServer, page: Page) -> None:
    await page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/static/ui/kitchen.html", "/static/index.html"):
        await page.goto(admin_server.url + path)
        await page.wait_for_load_state("networkidle")
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} scrolls sideways on a phone ({width}px)"
    # the action bar is pinned to the bottom, thumb-reachable
    await page.goto(admin_server.url + "/static/ui/kitchen.html")
    box = await page.locator(".actionbar").bounding_box()
    assert box is not None
    assert box["y"] + box["height"] == pytest.approx(844, abs=1)
