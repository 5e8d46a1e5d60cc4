"""docs/security.md's tables, walked: every route the product serves has a
row, and every route is called as every principal. Whoever the row does not
name is refused (401/403/404) with the bare error body — no record data on a
denial; whoever it names gets past authentication.

A route added without a row fails ``test_every_route_has_a_row``."""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from relevo.hub.auth import mint_token
from relevo.protocol import frames
from relevo.settings import OidcSettings
from tests.helpers import timeout
from tests.web.fullserver import (
    API_KEY,
    SECRET,
    FullServer,
    full_settings,
    start_full_server,
    walk_routes,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"
BARE = {"code", "message", "retry", "mensaje", "retry_after"}
DENIED = {401, 403, 404}


@dataclass(frozen=True)
class Principal:
    name: str
    headers: dict[str, str]
    roles: frozenset[str] = frozenset()

    @property
    def is_user(self) -> bool:
        return bool(self.roles)


def _user(name: str, sub: str, role: str, tenant: str = "") -> Principal:
    tok = mint_token(SECRET, sub, [role], tenant, ttl=3600)
    return Principal(name, {"Authorization": f"Bearer {tok}"}, frozenset({role}))


PRINCIPALS = [
    Principal("anyone", {}),
    Principal("apikey", {"Authorization": f"apikey {API_KEY}"}),
    _user("gtr", "g1", "gtr"),
    _user("asesor", "4", "asesor"),
    _user("admin", "admin", "admin"),
    _user("operador", "op1", "operador"),
    _user("vendedor", "v1", "vendedor"),
    _user("despachador", "d1", "despachador"),
    _user("agente", "a1", "agente", "andes"),
    _user("supervisor", "s1", "supervisor", "andes"),
]


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    who: str

    def allows(self, p: Principal, *, demo: bool) -> bool:
        for term in (t.strip() for t in self.who.split(",")):
            only_demo = term.endswith("(demo)")
            term = term.removesuffix("(demo)").strip()
            if only_demo and not demo:
                continue
            if term == "anyone":
                return True
            if term == "apikey" and p.name == "apikey":
                return True
            if term == "user" and p.is_user:
                return True
            if term.startswith("role:") and p.roles & set(term[5:].split("|")):
                return True
        return False

    @property
    def demo_only(self) -> bool:
        return all(t.strip().endswith("(demo)") for t in self.who.split(","))


def _table(name: str) -> list[list[str]]:
    text = DOC.read_text()
    body = text.split(f"<!-- {name}: begin -->", 1)[1].split(f"<!-- {name}: end -->", 1)[0]
    rows = []
    for line in body.strip().splitlines()[2:]:
        cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        rows.append(cells)
    return rows


def route_rows() -> list[Row]:
    rows = []
    for route, who, _ in _table("route-table"):
        method, path = route.strip("`").split(" ", 1)
        rows.append(Row(method, path, who))
    return rows


@pytest.fixture
async def full(tmp_path: Path) -> AsyncIterator[FullServer]:
    # Single sign-on on (its routes have rows too), to a provider that is not there.
    base = full_settings()
    oidc = OidcSettings(issuer="http://127.0.0.1:9", client_id="relevo", timeout=2.0)
    settings = dataclasses.replace(base, auth=dataclasses.replace(base.auth, oidc=oidc))
    srv = await start_full_server(tmp_path / "full.db", settings=settings)
    yield srv
    await srv.stop()


@pytest.fixture
async def bare(tmp_path: Path) -> AsyncIterator[FullServer]:
    srv = await start_full_server(tmp_path / "bare.db", demo=False)
    yield srv
    await srv.stop()


def _served(srv: FullServer) -> set[tuple[str, str]]:
    return {
        (method, path)
        for path, methods in walk_routes(list(srv.server.app.routes))
        for method in methods - {"HEAD"}
    }


def test_the_tables_parse() -> None:
    rows = route_rows()
    assert len(rows) > 90
    assert len({(r.method, r.path) for r in rows}) == len(rows), "a route has two rows"
    ops = {cells[0].strip("`") for cells in _table("op-table")}
    tags = {cls.__struct_config__.tag for cls in typing.get_args(frames.Command)}
    assert ops == tags


async def test_every_route_has_a_row(full: FullServer) -> None:
    table = {(r.method, r.path) for r in route_rows()}
    served = _served(full)
    assert not served - table, f"routes with no row in docs/security.md: {served - table}"
    assert not table - served, f"rows for routes that do not exist: {table - served}"


def _concrete(path: str) -> str:
    path = path.replace("{tenant}", "andes").replace("{path}", "ui/ui.css")
    return re.sub(r"\{[^}]+\}", "1", path)


async def _call(client: httpx.AsyncClient, row: Row, p: Principal) -> httpx.Response:
    kwargs: dict[str, typing.Any] = {"headers": p.headers}
    if row.method in ("POST", "PATCH", "PUT"):
        kwargs["json"] = {}
    return await client.request(row.method, _concrete(row.path), **kwargs)


def _assert_bare_denial(res: httpx.Response, where: str) -> None:
    assert res.status_code in DENIED, (where, res.status_code, res.text[:300])
    body = res.json()
    assert isinstance(body, dict), where
    assert set(body) <= BARE, (where, body)


async def test_every_route_as_every_principal(full: FullServer) -> None:
    wrong: list[str] = []
    async with httpx.AsyncClient(base_url=full.url, timeout=timeout(10)) as client:
        for row in route_rows():
            if row.path in ("/sse",):
                continue  # a stream: tests/integration/test_sse.py checks who may open it
            for p in PRINCIPALS:
                where = f"{row.method} {row.path} as {p.name}"
                res = await _call(client, row, p)
                try:
                    if row.allows(p, demo=True):
                        assert res.status_code != 401, (where, res.text[:300])
                    else:
                        _assert_bare_denial(res, where)
                except AssertionError as exc:
                    wrong.append(str(exc))
    assert not wrong, "\n".join(wrong)


async def test_demo_routes_do_not_exist_outside_demo(bare: FullServer) -> None:
    async with httpx.AsyncClient(base_url=bare.url, timeout=timeout(10)) as client:
        for row in route_rows():
            if not row.demo_only and "(demo)" not in row.who:
                continue
            for p in PRINCIPALS:
                where = f"{row.method} {row.path} as {p.name} (no demo)"
                res = await _call(client, row, p)
                if row.allows(p, demo=False):
                    continue
                assert res.status_code in DENIED, (where, res.status_code)
                if res.headers.get("content-type", "").startswith("application/json"):
                    assert set(res.json()) <= BARE, where
