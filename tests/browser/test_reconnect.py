"""The issue's Chromium test: a page subscribed through relevo.js keeps up
across a cut socket (missed publications recovered from history) and across a
server restart (history lost: the page is told to reset, then goes live)."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import Page, expect

from relevo.protocol.errors import DisconnectCode
from tests.browser.conftest import CutProxy, LiveServer, OpenHarness, ServerProcess, token

pytestmark = pytest.mark.browser

RECONNECTING = [
    DisconnectCode.SHUTDOWN,
    DisconnectCode.SLOW_CONSUMER,
    DisconnectCode.RESUBSCRIBE,
    DisconnectCode.NO_PONG,
    DisconnectCode.RATE_LIMITED,
]
TERMINAL = [DisconnectCode.FORCED, DisconnectCode.UNAUTHORIZED, DisconnectCode.PROTOCOL]


async def feed_offsets(page: Page) -> list[int]:
    offsets: list[int] = await page.locator("#feed li.pub").evaluate_all(
        "items => items.map((li) => Number(li.dataset.off))"
    )
    return offsets


async def test_cut_socket_recovers_what_was_published_meanwhile(
    relevo_server: LiveServer, proxy: CutProxy, page: Page
) -> None:
    indicator = page.locator("#indicator")
    await page.goto(f"{proxy.url}/static/demo.html?room=corte")
    await expect(indicator).to_have_attribute("data-state", "connected")
    await relevo_server.publish("demo:corte", "mensaje", {"texto": "antes del corte"})
    await expect(page.locator("#feed li.pub").first).to_have_attribute("data-off", "1")

    proxy.cut(block=True)  # the network goes away; the server stays up
    await expect(indicator).to_have_attribute("data-state", "connecting")
    await expect(indicator).to_have_text("Reconectando…")
    for i in range(3):
        await relevo_server.publish("demo:corte", "mensaje", {"texto": f"durante el corte {i}"})
    # Still failing after a few attempts: red.
    await expect(indicator).to_have_attribute("data-state", "disconnected")
    await expect(indicator).to_have_text("Sin conexión")

    proxy.blocked = False
    await expect(indicator).to_have_attribute("data-state", "connected")
    await expect(page.locator("body")).to_have_attribute("data-recovered", "3")
    await relevo_server.publish("demo:corte", "mensaje", {"texto": "después"})
    await expect(page.locator("#feed li.pub")).to_have_count(5)
    assert await feed_offsets(page) == [5, 4, 3, 2, 1]
    await expect(page.locator("#feed li.pub").nth(1)).to_contain_text("durante el corte 2")
    assert await page.locator("body").get_attribute("data-resets") is None


async def test_server_restart_resets_the_page_then_it_goes_live(
    server_process: ServerProcess, page: Page
) -> None:
    await server_process.start()
    indicator = page.locator("#indicator")
    await page.goto(f"{server_process.url}/static/demo.html?room=reinicio")
    await expect(indicator).to_have_attribute("data-state", "connected")
    await server_process.publish("demo:reinicio", "mensaje", {"texto": "antes del reinicio"})
    await expect(page.locator("#feed li.pub").first).to_have_attribute("data-off", "1")

    await server_process.kill()
    await expect(indicator).to_have_attribute("data-state", "disconnected")
    await server_process.start()  # same port, fresh memory broker: history is gone
    await expect(indicator).to_have_attribute("data-state", "connected")
    await expect(page.locator("body")).to_have_attribute("data-resets", "1")
    await expect(page.locator("#feed .pub-reset")).to_have_count(1)
    await expect(page.locator("#notices")).to_contain_text("perdió su historial")

    await server_process.publish("demo:reinicio", "mensaje", {"texto": "después del reinicio"})
    await expect(page.locator("#feed li.pub").first).to_contain_text("después del reinicio")
    await expect(page.locator("#feed li.pub")).to_have_count(2)


async def test_reconnecting_disconnect_codes_recover_without_loss(
    relevo_server: LiveServer, harness: OpenHarness
) -> None:
    page = await harness(relevo_server.url)
    await page.evaluate(
        """() => {
            window.rv = relevo.connect({ minDelay: 50 });
            window.states = [];
            window.got = [];
            rv.on("state", (state, s) => states.push([state, s.reason]));
            rv.subscribe("demo:codes", (pub) => got.push(pub.off));
        }"""
    )
    await page.wait_for_function("rv.state === 'connected'")
    assert await page.evaluate("rv.status.transport") == "websocket"
    sent = 0
    for n, code in enumerate(RECONNECTING, start=1):
        (session,) = relevo_server.hub.sessions
        relevo_server.hub.disconnect(session, code)
        await relevo_server.publish("demo:codes", "tick", {"n": n})  # while it reconnects
        sent += 1
        # The first connect plus one reconnect per disconnect so far.
        await page.wait_for_function(
            "n => states.filter(([s]) => s === 'connected').length === n", arg=n + 1
        )
        await page.wait_for_function("n => got.length === n", arg=sent)
    states = await page.evaluate("states")
    reasons = [reason for state, reason in states if state == "connecting"]
    assert reasons == [str(code) for code in RECONNECTING]
    assert await page.evaluate("got") == list(range(1, sent + 1))


async def test_terminal_disconnect_codes_stop_reconnecting(
    relevo_server: LiveServer, harness: OpenHarness
) -> None:
    page = await harness(relevo_server.url)
    users = {str(code): token(str(code)) for code in TERMINAL}
    await page.evaluate(
        """(users) => {
            window.clients = {};
            for (const [code, tok] of Object.entries(users)) {
                const rv = relevo.connect({ token: tok, minDelay: 50 });
                rv.subscribe("demo:terminal", () => {});
                clients[code] = rv;
            }
        }""",
        users,
    )
    await page.wait_for_function("Object.values(clients).every((rv) => rv.state === 'connected')")
    for session in relevo_server.hub.sessions:
        relevo_server.hub.disconnect(session, DisconnectCode(session.identity.user))
    await page.wait_for_function(
        """() => Object.entries(clients).every(
            ([code, rv]) => rv.state === 'disconnected' && rv.status.reason === code)"""
    )
    await asyncio.sleep(0.5)  # a client that wrongly retried would be back by now (minDelay 50)
    assert not relevo_server.hub.sessions
    # An explicit reconnect() still works after a terminal disconnect.
    await page.evaluate("clients.forced.reconnect()")
    await page.wait_for_function("clients.forced.state === 'connected'")
