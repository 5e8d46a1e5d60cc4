"""The SSE transport: chosen explicitly, or as the fallback where a proxy
blocks WebSocket; same subscription API, same recovery."""

from __future__ import annotations

import pytest

from tests.browser.conftest import CutProxy, LiveServer, OpenHarness, token

pytestmark = pytest.mark.browser

SUBSCRIBE = """(opts) => {
    window.rv = relevo.connect(opts);
    window.got = [];
    window.recovered = [];
    window.errors = [];
    window.states = [];
    rv.on("state", (state) => states.push(state));
    rv.subscribe("demo:sse", (pub) => got.push(pub.off), {
        onRecovered: (r) => recovered.push(r.missed),
        onError: (err) => errors.push(err.code),
    });
}"""


async def test_sse_receives_and_resumes_after_a_cut(
    relevo_server: LiveServer, proxy: CutProxy, harness: OpenHarness
) -> None:
    page = await harness(proxy.url)
    await page.evaluate(SUBSCRIBE, {"transports": ["sse"], "minDelay": 50})
    await page.wait_for_function("rv.state === 'connected'")
    assert await page.evaluate("rv.status.transport") == "sse"
    for i in range(2):
        await relevo_server.publish("demo:sse", "tick", {"i": i})
    await page.wait_for_function("got.length === 2")

    proxy.cut(block=True)
    await page.wait_for_function("rv.state !== 'connected'")
    for i in range(3):
        await relevo_server.publish("demo:sse", "tick", {"i": i})
    proxy.blocked = False
    await page.wait_for_function("rv.state === 'connected'")
    await relevo_server.publish("demo:sse", "tick", {"i": "after"})
    await page.wait_for_function("got.length === 6")
    assert await page.evaluate("got") == [1, 2, 3, 4, 5, 6]
    assert await page.evaluate("recovered") == [3]
    assert await page.evaluate("rv.status.transport") == "sse"


async def test_falls_back_to_sse_where_websocket_is_blocked(
    relevo_server: LiveServer, proxy: CutProxy, harness: OpenHarness
) -> None:
    page = await harness(proxy.url)
    proxy.block_websocket = True
    await page.evaluate(SUBSCRIBE, {"minDelay": 50})
    await page.wait_for_function("rv.state === 'connected'")
    assert await page.evaluate("rv.status.transport") == "sse"
    await relevo_server.publish("demo:sse", "tick", {})
    await page.wait_for_function("got.length === 1")
    # Subscribing later reopens the stream with both channels; nothing is lost.
    await page.evaluate(
        "window.more = []; rv.subscribe('small:extra', (pub) => more.push(pub.off))"
    )
    await page.wait_for_function("rv._channels.get('small:extra').state === 'live'")
    await relevo_server.publish("small:extra", "tick", {})
    await relevo_server.publish("demo:sse", "tick", {})
    await page.wait_for_function("more.length === 1 && got.length === 2")
    assert await page.evaluate("got") == [1, 2]
    assert await page.evaluate("states") == ["connected"]


async def test_sse_fails_only_the_refused_channel(
    relevo_server: LiveServer, harness: OpenHarness
) -> None:
    page = await harness(relevo_server.url)
    await page.evaluate(SUBSCRIBE, {"transports": ["sse"]})
    await page.evaluate(
        """() => {
            window.refused = rv.subscribe("gtr", () => {}, {
                onError: (err) => errors.push(err.code),
            });
        }"""
    )
    await page.wait_for_function("errors.length === 1 && rv.state === 'connected'")
    assert await page.evaluate("errors") == ["forbidden"]
    assert await page.evaluate("refused.state") == "failed"
    await relevo_server.publish("demo:sse", "tick", {})
    await page.wait_for_function("got.length === 1")


async def test_commands_over_sse_run_through_http(
    relevo_server: LiveServer, harness: OpenHarness
) -> None:
    page = await harness(relevo_server.url)
    await page.evaluate(SUBSCRIBE, {"transports": ["sse"], "token": token("ana")})
    await page.wait_for_function("rv.state === 'connected'")
    # An SSE client cannot send frames: publish goes through POST /api/command
    # as the token's user, and arrives on the stream like any publication.
    result = await page.evaluate("rv.publish('demo:sse', 'x', {}).then((ok) => ok.offset)")
    assert result == 1
    await page.wait_for_function("got.length === 1")
    pres = await page.evaluate(
        "rv.presence('demo:sse').then((ok) => Object.keys(ok.clients).length)"
    )
    assert pres == 1
    # Permissions are the same as over the WebSocket.
    code = await page.evaluate("rv.publish('gtr', 'x', {}).then(() => 'ok', (err) => err.code)")
    assert code == "forbidden"
