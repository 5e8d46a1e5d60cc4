"""What only the server sets — a record's state, version, lease and fencing
token, its timestamps, who made it, the owner fields an app reserves — a user
cannot set through ``POST``/``PATCH /api/records/{kind}``: each attempt is
refused with ``bad_request`` (or ``forbidden``) and changes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from relevo.apps.leads.kinds import lead_kind
from relevo.apps.leads.options import LeadsOptions
from relevo.hub.auth import mint_token

from .conftest import SECRET, Db, serve_records

GTR = {"Authorization": f"Bearer {mint_token(SECRET, 'g1', ['gtr'])}"}
A4 = {"Authorization": f"Bearer {mint_token(SECRET, '4', ['asesor'])}"}
BASE = "/api/records/lead"

SERVER_KEYS: dict[str, Any] = {
    "state": "terminado",
    "version": 99,
    "created_at": 0,
    "updated_at": 0,
    "lease": {"holder": "g1", "fencing_token": 7, "expires_at": 9e9},
    "lease_holder": "g1",
    "fence": 7,
    "created_by": "someone-else",
    "by": "system",
}
"""Top-level keys a client might send hoping the server keeps them."""

DATA_KEYS = ["id", "state", "version", "created_at", "updated_at", "lease"]
"""Names reserved for the server, inside ``data``."""


async def _code(resp: httpx.Response) -> tuple[int, str]:
    return resp.status_code, resp.json()["code"]


async def _count(http: httpx.AsyncClient) -> int:
    return len((await http.get(BASE, headers=GTR)).json()["rows"])


async def test_a_create_cannot_set_what_the_server_sets(http: httpx.AsyncClient) -> None:
    for key, value in SERVER_KEYS.items():
        resp = await http.post(BASE, json={"data": {"nombre": "Ana"}, key: value}, headers=GTR)
        assert await _code(resp) == (400, "bad_request"), (key, resp.text)
        assert key in resp.json()["message"]
    for key in DATA_KEYS:
        resp = await http.post(BASE, json={"data": {"nombre": "Ana", key: "x"}}, headers=GTR)
        assert await _code(resp) == (400, "bad_request"), (key, resp.text)
    assert await _count(http) == 0
    made = await http.post(BASE, json={"data": {"nombre": "Ana"}}, headers=GTR)
    assert made.status_code == 201
    assert (made.json()["state"], made.json()["version"]) == ("nuevo", 1)


async def test_a_change_cannot_set_what_the_server_sets(http: httpx.AsyncClient) -> None:
    lead = (await http.post(BASE, json={"data": {"nombre": "Ana"}}, headers=GTR)).json()
    url = f"{BASE}/{lead['id']}"
    await http.post(f"{url}/transitions/assign", json={"data": {"asesor_id": 4}}, headers=GTR)
    attempts: list[tuple[str, str, dict[str, Any]]] = []
    for key, value in SERVER_KEYS.items():
        if key == "version":  # a change's version is the one it expects, not one it sets
            continue
        attempts.append(("PATCH", url, {"data": {"nota": "x"}, key: value}))
        attempts.append(("POST", f"{url}/transitions/assign",
                         {"data": {"asesor_id": 5}, key: value}))  # fmt: skip
    for key in DATA_KEYS:
        attempts.append(("PATCH", url, {"data": {key: "x"}}))
    attempts += [
        ("POST", f"{url}/lease", {"holder": "5"}),
        ("POST", f"{url}/lease", {"fencing_token": 99}),
        ("POST", f"{url}/lease/heartbeat", {"fencing_token": 1, "expires_at": 9e9}),
    ]
    for method, path, body in attempts:
        resp = await http.request(method, path, json=body, headers=A4 if "lease" in path else GTR)
        assert await _code(resp) == (400, "bad_request"), (method, path, body, resp.text)
    now = (await http.get(url, headers=GTR)).json()
    assert (now["state"], now["version"], now["asesor_id"], now["lease"]) == (
        "derivado", 2, 4, None,
    )  # fmt: skip


@pytest.fixture
async def leads_http(db: Db) -> Any:
    async with (
        serve_records(db, [lead_kind(LeadsOptions())]) as (srv, _),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{srv.port}") as http,
    ):
        yield http


async def test_a_gtr_cannot_set_the_leads_apps_owner_fields(leads_http: httpx.AsyncClient) -> None:
    """The leads app reserves ``asesor_id`` and the wizard's fields for its own
    endpoints (``write_roles={"system"}``): through the records API a GTR
    creates and edits contact data only."""
    http = leads_http
    for field, value in [("asesor_id", "4"), ("seguimiento_status", "terminado"),
                         ("tipificacion", None), ("derivado_at", 1)]:  # fmt: skip
        resp = await http.post(BASE, json={"data": {"nombre": "Ana", field: value}}, headers=GTR)
        assert await _code(resp) == (403, "forbidden"), (field, resp.text)
        assert "Ana" not in resp.text
    lead = (await http.post(BASE, json={"data": {"nombre": "Ana"}}, headers=GTR)).json()
    resp = await http.patch(f"{BASE}/{lead['id']}", json={"data": {"asesor_id": "4"}}, headers=GTR)
    assert await _code(resp) == (403, "forbidden")
    resp = await http.post(f"{BASE}/{lead['id']}/transitions/assign",
                           json={"data": {"asesor_id": "4"}}, headers=GTR)  # fmt: skip
    assert await _code(resp) == (403, "forbidden")
    now = (await http.get(f"{BASE}/{lead['id']}", headers=GTR)).json()
    assert (now["asesor_id"], now["state"], now["version"]) == (None, "nuevo", 1)
