"""Security headers on every response, and /metrics behind the API key.

A page must not run a script it did not load from this server (a stored
XSS that slips past escaping has nowhere to run), must not be framed
(clickjacking), must not be sniffed into another type, and must not leak
its URL to other sites."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import timeout
from tests.web.fullserver import API_KEY, FullServer, start_full_server, walk_routes


@pytest.fixture
async def full(tmp_path: Path) -> AsyncIterator[FullServer]:
    srv = await start_full_server(tmp_path / "full.db")
    yield srv
    await srv.stop()


def _directives(csp: str) -> dict[str, str]:
    out = {}
    for part in csp.split(";"):
        name, _, value = part.strip().partition(" ")
        if name:
            out[name] = value
    return out


def _check_headers(res: httpx.Response, where: str) -> None:
    h = res.headers
    assert h.get("x-content-type-options") == "nosniff", where
    assert h.get("referrer-policy") in ("no-referrer", "same-origin"), where
    assert h.get("x-frame-options") == "DENY", where
    csp = _directives(h.get("content-security-policy", ""))
    assert csp.get("frame-ancestors") == "'none'", (where, csp)
    scripts = csp.get("script-src", csp.get("default-src", ""))
    assert scripts, (where, csp)
    assert "'unsafe-inline'" not in scripts, (where, csp)
    assert "'unsafe-eval'" not in scripts, (where, csp)
    assert "*" not in scripts.split(), (where, csp)
    assert csp.get("object-src") == "'none'", (where, csp)
    assert csp.get("base-uri") in ("'none'", "'self'"), (where, csp)


async def test_every_get_route_sends_the_security_headers(full: FullServer) -> None:
    checked = 0
    async with httpx.AsyncClient(base_url=full.url, timeout=timeout(10)) as client:
        for path, methods in walk_routes(list(full.server.app.routes)):
            if "GET" not in methods or path in ("/sse",):
                continue
            target = re.sub(r"\{[^}]+\}", "1", path)
            if target.endswith("/1") and "static" in target:
                target = target[:-1] + "ui/ui.css" if target.startswith("/static") else target
            res = await client.get(target)
            _check_headers(res, f"GET {target} -> {res.status_code}")
            checked += 1
        # Error answers too: a 404 page, a 401 of the API, a static file.
        for target in ("/no/such/page", "/api/info", "/static/ui/ui.css", "/relevo.js"):
            _check_headers(await client.get(target), target)
    assert checked > 30


async def test_pages_have_no_inline_scripts(full: FullServer) -> None:
    """What the CSP forbids must not be needed: no page carries an inline
    ``<script>`` body or an ``on*=`` attribute."""
    pages = set()
    async with httpx.AsyncClient(base_url=full.url, timeout=timeout(10)) as client:
        links = (await client.get("/api/links")).json()
        for target in ["/static/index.html", "/static/admin.html", "/static/demo.html"] + [
            link["url"] for link in links
        ]:
            res = await client.get(target, follow_redirects=True)
            assert res.status_code == 200, target
            pages.add(target)
            html = res.text
            inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", html)
            assert not inline, (target, inline)
            assert not re.search(r"\son[a-z]+\s*=", html), target
    assert len(pages) >= 7


async def test_metrics_need_the_api_key(full: FullServer) -> None:
    async with httpx.AsyncClient(base_url=full.url, timeout=timeout(10)) as client:
        anonymous = await client.get("/metrics")
        assert anonymous.status_code == 401
        assert "relevo_" not in anonymous.text
        keyed = await client.get("/metrics", headers={"Authorization": f"apikey {API_KEY}"})
        assert keyed.status_code == 200
        assert "relevo_" in keyed.text
