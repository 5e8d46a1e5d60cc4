"""relevo.js logic, run in Chromium against a real server: backoff bounds,
duplicate drop, shared subscriptions, errors, tokens, poll(), indicator()."""

from __future__ import annotations

import asyncio

import jwt
import pytest
from playwright.async_api import Route

from relevo.protocol.errors import DisconnectCode
from tests.browser.conftest import LiveServer, OpenHarness, token

pytestmark = pytest.mark.browser


async def test_backoff_stays_within_its_bounds(
    relevo_server: LiveServer, harness: OpenHarness
) -> None:
    page = await harness(relevo_server.url)
    bounds = await page.evaluate(
        """() => {
            const out = [];
            for (let attempt = 1; attempt <= 12; attempt++) {
                let lo = Infinity, hi = 0;
                for (let i = 0; i < 2000; i++) {
                    const d = relevo.backoffDelay(attempt, 250, 10000);
                    lo = Math.min(lo, d); hi = Math.max(hi, d);
                }
                out.push([attempt, lo, hi,
                          relevo.backoffDelay(attempt, 250, 10000, () => 0),
                          relevo.backoffDelay(attempt, 250, 10000, () => 1)]);
            }
            return out;
        }"""
    )
    for attempt, lo, hi, floor, ceiling in bounds:
        cap = min(10000, 250 * 2**attempt)
        assert floor == 250
        assert ceiling == cap
        assert 250 <= lo <= hi <= cap
        if attempt >= 3:
            assert hi - lo > cap / 2, "the delays are spread (jitter), not constant"


async def test_duplicates_are_dropped_by_offset(
    relevo_server: LiveServer, harness: OpenHarness
) -> None:
    page = await harness(relevo_server.url)
    await page.evaluate(
        """() => {
            // Every frame arrives twice, as an at-least-once path could deliver it.
            class Twice extends WebSocket {
                set onmessage(fn) { super.onmessage = fn && ((e) => { fn(e); fn(e); }); }
            }
            window.WebSocket = Twice;
            window.rv = relevo.connect();
            window.got = [];
            rv.subscribe("demo:dup", (pub) => got.push(pub.off));
        }"""
    )
    await page.wait_for_function("rv.state === 'connected'")
    for i in range(5):
        await relevo_server.publish("demo:dup", "tick", {"i": i})
    await page.wait_for_function("got.length >= 5")
    await relevo_server.publish("demo:dup", "last", {})
    await page.wait_for_function("got.includes(6)")
    assert await page.evaluate("got") == [1, 2, 3, 4, 5, 6]


async def test_subscriptions_to_one_channel_share_one_server_subscription(
    relevo_server: LiveServer, harness: OpenHarness
) -> None:
    page = await harness(relevo_server.url)
    await page.evaluate(
        """() => {
            window.rv = relevo.connect();
            window.a = []; window.b = [];
            window.subA = rv.subscribe("demo:shared", (pub) => a.push(pub.off));
            window.subB = rv.subscribe("demo:shared", (pub) => b.push(pub.off));
        }"""
    )
    await page.wait_for_function("subA.state === 'live' && subB.state === 'live'")
    assert relevo_server.hub.subscriber_count("demo:shared") == 1
    await relevo_server.publish("demo:shared", "tick", {})
    await page.wait_for_function("a.length === 1 && b.length === 1")
    await page.evaluate("subA.unsubscribe()")
    await relevo_server.publish("demo:shared", "tick", {})
    await page.wait_for_function("b.length === 2")
    assert await page.evaluate("a") == [1]
    assert relevo_server.hub.subscriber_count("demo:shared") == 1
    # Commands run in order: once a later request is answered, the unsub was done.
    await page.evaluate("subB.unsubscribe(); rv.history('demo:shared', { limit: 0 })")
    assert relevo_server.hub.subscriber_count("demo:shared") == 0


async def test_errors_reach_the_caller_with_their_codes(
    relevo_server: LiveServer, harness: OpenHarness
) -> None:
    page = await harness(relevo_server.url)
    result = await page.evaluate(
        """async () => {
            const anon = relevo.connect();
            const codes = {};
            const onError = (e) => (codes.onError = e.code);
            const refused = anon.subscribe("gtr", () => {}, { onError });
            codes.ready = await refused.ready.then(() => "ok", (e) => e.code);
            codes.publish = await anon.publish("demo:x", "ev", {}).then(() => "ok", (e) => e.code);
            codes.presence = await anon.presence("demo:x").then(() => "ok", (e) => e.code);
            anon.close();
            codes.closed = await anon.publish("demo:x", "ev", {}).then(() => "ok", (e) => e.code);
            return codes;
        }"""
    )
    assert result == {
        "onError": "forbidden",
        "ready": "forbidden",
        "publish": "forbidden",
        "presence": "forbidden",
        "closed": "disconnected",
    }


async def test_publish_history_and_presence_with_a_token(
    relevo_server: LiveServer, harness: OpenHarness
) -> None:
    page = await harness(relevo_server.url)
    result = await page.evaluate(
        """async (tok) => {
            const rv = relevo.connect({ token: tok });
            const sub = rv.subscribe("demo:api", () => {});
            await sub.ready;
            const first = await rv.publish("demo:api", "mensaje", { texto: "uno" });
            await rv.publish("demo:api", "mensaje", { texto: "dos" });
            const since = { epoch: first.epoch, offset: 1 };
            const history = await rv.history("demo:api", { since });
            const presence = await rv.presence("demo:api");
            return { first, history, users: Object.values(presence.clients).map((c) => c.user),
                     user: rv.info.user };
        }""",
        token("ana"),
    )
    assert result["first"]["offset"] == 1
    assert [p["data"]["texto"] for p in result["history"]["publications"]] == ["dos"]
    assert result["users"] == ["ana"]
    assert result["user"] == "ana"


async def test_token_is_refreshed_in_band_without_touching_subscriptions(
    relevo_server: LiveServer, harness: OpenHarness
) -> None:
    page = await harness(relevo_server.url)
    minted: list[str] = []

    async def fresh_token(route: Route) -> None:
        # The client refreshes at 3/4 of a token's life: 8 s leaves 2 s for
        # the fetch (routed through this process) and the refresh op on a
        # busy machine; with 3 s it had 0.75 s and once reconnected instead.
        minted.append(token("ana", ttl=8))
        await route.fulfill(body=minted[-1], content_type="text/plain")

    await page.route(f"{relevo_server.url}/__token", fresh_token)
    await page.evaluate(
        """() => {
            window.rv = relevo.connect({ getToken: () => fetch("/__token").then((r) => r.text()) });
            window.states = []; window.got = [];
            rv.on("state", (state) => states.push(state));
            rv.subscribe("demo:tok", (pub) => got.push(pub.off));
        }"""
    )
    await page.wait_for_function("rv.state === 'connected'")
    client = await page.evaluate("rv.info.client")
    first_exp = jwt.decode(minted[0], options={"verify_signature": False})["exp"]
    await page.wait_for_function("exp => Date.now() / 1000 > exp + 0.5", arg=first_exp)
    assert len(minted) >= 2
    await relevo_server.publish("demo:tok", "tick", {})
    await page.wait_for_function("got.length === 1")
    assert await page.evaluate("states") == ["connected"]
    (session,) = relevo_server.hub.sessions
    assert session.client == client


async def test_a_refresh_that_no_longer_allows_a_channel_fails_its_subscription(
    relevo_server: LiveServer, harness: OpenHarness
) -> None:
    """The server drops what a refreshed token no longer allows with an
    ``unsub`` push; the subscription learns it (onError forbidden, failed)
    instead of believing it is still live."""
    page = await harness(relevo_server.url)
    minted: list[str] = []

    async def next_token(route: Route) -> None:
        roles = ("gtr",) if not minted else ()  # the second token lost the role
        minted.append(token("ana", ttl=3, roles=roles))
        await route.fulfill(body=minted[-1], content_type="text/plain")

    await page.route(f"{relevo_server.url}/__token", next_token)
    await page.evaluate(
        """() => {
            window.rv = relevo.connect({ getToken: () => fetch("/__token").then((r) => r.text()) });
            window.errors = [];
            window.sub = rv.subscribe("gtr", () => {}, { onError: (e) => errors.push(e.code) });
        }"""
    )
    await page.wait_for_function("window.sub.state === 'live'")
    await page.wait_for_function("errors.length === 1", timeout=10_000)
    assert await page.evaluate("errors") == ["forbidden"]
    assert await page.evaluate("sub.state") == "failed"
    assert await page.evaluate("rv.state") == "connected"


async def test_expired_token_without_get_token_is_final(
    relevo_server: LiveServer, harness: OpenHarness
) -> None:
    page = await harness(relevo_server.url)
    await page.evaluate(
        """(tok) => {
            window.rv = relevo.connect({ token: tok });
            rv.subscribe("demo:exp", () => {});
        }""",
        token("ana", ttl=2),
    )
    await page.wait_for_function("rv.state === 'connected'")
    await page.wait_for_function("rv.state === 'disconnected'", timeout=5000)
    assert await page.evaluate("rv.status.reason") == "token_expired"


async def test_token_expired_disconnect_gets_a_fresh_token_and_reconnects(
    relevo_server: LiveServer, harness: OpenHarness
) -> None:
    page = await harness(relevo_server.url)
    calls: list[int] = []

    async def fresh_token(route: Route) -> None:
        calls.append(1)
        await route.fulfill(body=token("ana"), content_type="text/plain")

    await page.route(f"{relevo_server.url}/__token", fresh_token)
    await page.evaluate(
        """() => {
            const getToken = () => fetch("/__token").then((r) => r.text());
            window.rv = relevo.connect({ minDelay: 50, getToken });
            window.got = [];
            rv.subscribe("demo:tok2", (pub) => got.push(pub.off));
        }"""
    )
    await page.wait_for_function("rv.state === 'connected'")
    assert len(calls) == 1
    (session,) = relevo_server.hub.sessions
    relevo_server.hub.disconnect(session, DisconnectCode.TOKEN_EXPIRED)
    await relevo_server.publish("demo:tok2", "tick", {})
    await page.wait_for_function("rv.state === 'connected' && got.length === 1")
    assert len(calls) == 2


async def test_poll_pauses_while_hidden_and_runs_when_visible(
    relevo_server: LiveServer, harness: OpenHarness
) -> None:
    page = await harness(relevo_server.url)
    await page.evaluate(
        """() => {
            window.hidden = false;
            const get = () => window.hidden;
            Object.defineProperty(document, "hidden", { configurable: true, get });
            window.setVisible = (visible) => {
                window.hidden = !visible;
                document.dispatchEvent(new Event("visibilitychange"));
            };
            window.calls = 0;
            window.poller = relevo.poll(() => { calls += 1; }, 100);
        }"""
    )
    await page.wait_for_function("calls >= 3")
    calls_when_hidden = await page.evaluate("setVisible(false); calls")
    await asyncio.sleep(0.4)  # four intervals go by with the tab hidden
    assert await page.evaluate("calls") == calls_when_hidden
    assert await page.evaluate("setVisible(true); calls") == calls_when_hidden + 1
    await page.wait_for_function("n => calls >= n + 3", arg=calls_when_hidden)
    count = await page.evaluate("poller.stop(); calls")
    await asyncio.sleep(0.3)
    assert await page.evaluate("calls") == count


async def test_indicator_follows_the_connection(
    relevo_server: LiveServer, harness: OpenHarness
) -> None:
    page = await harness(relevo_server.url)
    first = await page.evaluate(
        """() => {
            window.rv = relevo.connect({ minDelay: 50 });
            relevo.indicator(document.getElementById("ind"), rv);
            const el = document.getElementById("ind");
            return [el.dataset.state, el.textContent];
        }"""
    )
    assert first == ["connecting", "Conectando…"]
    ind = page.locator("#ind")
    await page.wait_for_function("document.getElementById('ind').dataset.state === 'connected'")
    assert await ind.text_content() == "Conectado"
    assert await ind.get_attribute("role") == "status"
    (session,) = relevo_server.hub.sessions
    await page.evaluate(
        """() => { window.seen = []; rv.on("state", () =>
            seen.push([document.getElementById("ind").dataset.state,
                       document.getElementById("ind").textContent])); }"""
    )
    relevo_server.hub.disconnect(session, DisconnectCode.SHUTDOWN)
    await page.wait_for_function("seen.length === 2")
    assert await page.evaluate("seen") == [
        ["connecting", "Reconectando…"],
        ["connected", "Conectado"],
    ]
    await page.evaluate("rv.close()")
    assert await ind.get_attribute("data-state") == "disconnected"
    assert await ind.text_content() == "Sin conexión"
