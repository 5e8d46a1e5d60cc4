"""Chromium for the app tests: Debian's /usr/bin/chromium driven by
Playwright (never a downloaded browser), contexts that fail the test on an
uncaught page error, screenshots (into tests.helpers.SCREENSHOTS), and
signing in on the one login page as a person does."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from tests.helpers import BROWSER_CONTEXT, SCREENSHOTS, missing_service, timeout

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
WAIT_MS = timeout(10) * 1000
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
}
DESK: dict[str, Any] = {"viewport": {"width": 1360, "height": 860}}

expect.set_options(timeout=WAIT_MS)


class Contexts:
    """Browser contexts (one per person) that record uncaught page errors."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.opened: list[BrowserContext] = []
        self.errors: list[str] = []

    async def page(self, **options: Any) -> tuple[BrowserContext, Page]:
        ctx = await self.browser.new_context(locale="es-ES", **{**BROWSER_CONTEXT, **options})
        ctx.set_default_timeout(WAIT_MS)
        self.opened.append(ctx)
        page = await ctx.new_page()
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        return ctx, page

    async def close(self) -> None:
        for ctx in self.opened:
            await ctx.close()


@pytest.fixture
async def contexts() -> AsyncIterator[Contexts]:
    if not HAVE_CHROMIUM:
        missing_service(f"{CHROMIUM} is not installed (apt-get install chromium)")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        made = Contexts(browser)
        try:
            yield made
        finally:
            # Bounded: a close that hangs (a page stuck in a request) must not
            # eat the test's whole timeout; the browser process goes with pw.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(made.close(), timeout(20))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(browser.close(), timeout(20))
    assert not made.errors, f"uncaught errors in the pages: {made.errors}"


async def screenshot(page: Page, name: str, **options: Any) -> None:
    """``SCREENSHOTS/<name>.png`` (animations settled, the caret hidden)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(
        path=str(SCREENSHOTS / f"{name}.png"), animations="disabled", caret="hide", **options
    )


async def sign_in_on(page: Page, url: str, username: str, password: str) -> None:
    """Open ``url`` (the login page, or a page that sends there) and sign in
    with the keyboard, as the main flow does."""
    await page.goto(url)
    await page.locator("#login-user").fill(username)
    await page.locator("#login-pass").fill(password)
    await page.locator("#login-pass").press("Enter")


async def token_status(page: Page) -> int:
    """What ``/auth/token`` answers the page's session now (200, or 401 once it ended)."""
    status: int = await page.evaluate(
        "fetch('/auth/token', {cache: 'no-store'}).then((r) => r.status)"
    )
    return status


async def connect_with_held_token(page: Page, app: str) -> dict[str, Any]:
    """The first frame a fresh WebSocket connection gets for the token that
    ``app``'s page keeps (``sessionStorage["relevo.<app>.session"]``), or
    ``{"closed": true}``: whether a session that ended left it usable."""
    reply: dict[str, Any] = await page.evaluate(
        """(key) => new Promise((resolve) => {
            const s = JSON.parse(sessionStorage.getItem(key));
            const ws = new WebSocket(location.origin.replace("http", "ws") + "/ws");
            ws.onopen = () => ws.send(JSON.stringify({id: 1, op: "connect", token: s.token}));
            ws.onmessage = (e) => resolve(JSON.parse(e.data));
            ws.onclose = () => resolve({closed: true});
        })""",
        f"relevo.{app}.session",
    )
    return reply
