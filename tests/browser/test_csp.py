"""Every page runs under the server's Content-Security-Policy without a
single violation: what the policy forbids, no page needs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser

from tests.web.fullserver import FullServer, start_full_server

pytestmark = pytest.mark.browser

WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${where}`);
});
"""


@pytest.fixture
async def full(tmp_path: Path) -> AsyncIterator[FullServer]:
    srv = await start_full_server(tmp_path / "full.db")
    yield srv
    await srv.stop()


async def test_no_page_violates_the_content_security_policy(
    full: FullServer, browser: Browser
) -> None:
    async with httpx.AsyncClient(base_url=full.url) as client:
        links = [link["url"] for link in (await client.get("/api/links")).json()]
    pages = ["/", "/admin", "/static/demo.html", "/static/ui/kitchen.html", *links]
    for app in ("leads", "turnos", "cargue", "inbox"):
        pages.append(f"/{app}/login")
    pages += ["/turnos/kiosco", "/turnos/monitor", "/turnos/operador", "/turnos/admin"]
    context = await browser.new_context()
    await context.add_init_script(WATCH)
    found: dict[str, list[str]] = {}
    console: list[str] = []
    try:
        page = await context.new_page()
        page.on(
            "console",
            lambda m: console.append(m.text) if "Content Security Policy" in m.text else None,
        )
        for path in dict.fromkeys(pages):
            await page.goto(full.url + path)
            await page.wait_for_load_state("networkidle")
            violations = await page.evaluate("window.__cspViolations")
            if violations:
                found[path] = violations
    finally:
        await context.close()
    assert not found, found
    assert not console, console
