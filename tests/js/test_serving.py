"""One client: the server serves the npm package's own modules (clients/js/src)
at /relevo/{name}, and /relevo.js re-exports them; no module is over 450 lines."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from relevo.server.app import RelevoServer
from tests.js.conftest import ROOT, SRC

MODULES = sorted(SRC.glob("*.js"))
IMPORT = re.compile(r"""^(?:import|export)\b[^;]*?\bfrom\s+"([^"]+)";""", re.M | re.S)


@pytest.fixture
async def http(server: RelevoServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
        yield client


def test_the_package_has_its_modules() -> None:
    assert {p.name for p in MODULES} >= {"index.js", "client.js", "recovery.js", "live.js"}


async def test_every_module_is_served_as_it_is_in_the_package(http: httpx.AsyncClient) -> None:
    for path in MODULES:
        res = await http.get(f"/relevo/{path.name}")
        assert res.status_code == 200, path.name
        assert res.headers["content-type"].startswith("text/javascript")
        assert res.headers["cache-control"] == "no-cache"
        assert "script-src 'self'" in res.headers["content-security-policy"]
        assert res.content == path.read_bytes(), path.name


async def test_relevo_js_re_exports_the_package(http: httpx.AsyncClient) -> None:
    res = await http.get("/relevo.js")
    assert res.status_code == 200
    assert res.headers["content-type"].startswith("text/javascript")
    assert IMPORT.findall(res.text) == ["./relevo/index.js"]


@pytest.mark.parametrize(
    "name", ["nope.js", "index.d.ts", "package.json", "..%2Fapp.py", "%2E%2E", "INDEX.JS", ""]
)
async def test_nothing_else_is_served_under_relevo(http: httpx.AsyncClient, name: str) -> None:
    res = await http.get(f"/relevo/{name}")
    assert res.status_code == 404
    if res.headers.get("content-type", "").startswith("application/json"):
        assert set(res.json()) <= {"code", "message", "retry"}


def test_every_relative_import_is_a_served_module() -> None:
    """The browser resolves the imports against /relevo/: each must be a module there."""
    names = {p.name for p in MODULES}
    for path in MODULES:
        for target in IMPORT.findall(path.read_text()):
            assert target.startswith("./"), (path.name, target)  # zero dependencies
            assert target[2:] in names, (path.name, target)


def _js_files() -> list[Path]:
    return sorted([*MODULES, *(ROOT / "relevo").rglob("*.js")])


@pytest.mark.parametrize("path", _js_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_js_module_is_over_450_lines(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines <= 450, f"{lines} lines"
