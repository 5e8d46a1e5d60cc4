"""The records HTTP API over a real server: a live query's snapshot plus a
WebSocket subscription ``since`` its position misses nothing."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import websockets

from relevo.hub.auth import mint_token
from relevo.server.app import RelevoServer

from .conftest import API_KEY, SECRET

GTR = {"Authorization": f"Bearer {mint_token(SECRET, 'g1', ['gtr'])}"}
A4 = {"Authorization": f"Bearer {mint_token(SECRET, '4', ['asesor'])}"}
A5 = {"Authorization": f"Bearer {mint_token(SECRET, '5', ['asesor'])}"}
API = {"X-API-Key": API_KEY}


async def _ok(resp: httpx.Response, status: int = 200) -> Any:
    assert resp.status_code == status, resp.text
    return resp.json()


async def _recv(ws: Any) -> dict[str, Any]:
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if frame.get("op") != "ping":
            return dict(frame)


async def test_live_query_snapshot_then_deltas_since_its_position(
    server: RelevoServer, http: httpx.AsyncClient
) -> None:
    base = "/api/records/lead"
    one = await _ok(await http.post(base, json={"data": {"nombre": "Ana"}}, headers=GTR), 201)
    two = await _ok(await http.post(base, json={"data": {"nombre": "Luis"}}, headers=API), 201)
    await _ok(await http.post(f"{base}/{one['id']}/transitions/assign",
                              json={"data": {"asesor_id": 4}}, headers=GTR))  # fmt: skip

    snap = await _ok(await http.get(base, params={"asesor_id": "4"}, headers=A4))
    assert snap["kind"] == "lead"
    assert snap["channel"] == "asesor:4"
    assert [r["id"] for r in snap["rows"]] == [one["id"]]
    assert snap["rows"][0]["state"] == "derivado"

    token = mint_token(SECRET, "4", ["asesor"])
    async with websockets.connect(f"ws://127.0.0.1:{server.port}/ws") as ws:
        await ws.send(json.dumps({"id": 1, "op": "connect", "token": token}))
        assert "ok" in await _recv(ws)
        since = {"epoch": snap["epoch"], "offset": snap["offset"]}
        await ws.send(json.dumps({"id": 2, "op": "sub", "ch": "asesor:4", "since": since}))
        reply = await _recv(ws)
        assert reply["ok"]["recovered"] is True
        await _ok(await http.post(f"{base}/{two['id']}/transitions/assign",
                                  json={"data": {"asesor_id": 4}}, headers=GTR))  # fmt: skip
        # The relay may publish lead one's assignment after the snapshot was
        # read: it then comes as a delta the client drops (same version).
        pubs = list(reply["ok"]["missed"])
        while not any(p["data"]["id"] == two["id"] for p in pubs):
            pubs.append(await _recv(ws))
        assert all(p["off"] > snap["offset"] for p in pubs)
        for p in pubs:
            if p["data"]["id"] == one["id"]:
                assert p["data"]["version"] <= snap["rows"][0]["version"]
        pub = pubs[-1]
        assert pub["ch"] == "asesor:4"
        assert pub["ev"] == "CLIENT_REASSIGNED"
        data = pub["data"]
        assert data["id"] == two["id"]
        assert data["record"]["asesor_id"] == 4
        assert data["transition"] == "assign"
        assert data["by"] == "g1"

    gtr = await _ok(await http.get(base, headers=GTR))
    assert gtr["channel"] == "gtr"
    assert len(gtr["rows"]) == 2


async def test_errors_have_stable_codes(http: httpx.AsyncClient) -> None:
    base = "/api/records/lead"
    lead = await _ok(await http.post(base, json={"data": {"nombre": "Ana"}}, headers=GTR), 201)
    url = f"{base}/{lead['id']}"
    await _ok(await http.post(f"{url}/transitions/assign", json={"data": {"asesor_id": 4}},
                              headers=GTR))  # fmt: skip

    async def code(resp: httpx.Response) -> tuple[int, str]:
        return resp.status_code, resp.json()["code"]

    assert await code(await http.get(base)) == (401, "unauthorized")
    assert await code(await http.get(base, params={"asesor_id": "5"}, headers=A4)) == (
        403, "forbidden",
    )  # fmt: skip
    assert await code(await http.get(f"{base}/999", headers=GTR)) == (404, "not_found")
    assert await code(await http.get("/api/records/nope", headers=GTR)) == (404, "not_found")
    assert await code(await http.get(base, params={"asesor_id": "x"}, headers=GTR)) == (
        400, "bad_request",
    )  # fmt: skip
    assert await code(
        await http.post(f"{url}/transitions/assign", json={"data": {"asesor_id": 5},
                        "version": 1}, headers=GTR)
    ) == (409, "conflict")  # fmt: skip

    lease = await _ok(await http.post(f"{url}/lease", headers=A4))
    assert lease["holder"] == "4"
    assert lease["fencing_token"] == 1
    resp = await http.post(f"{url}/lease", headers=GTR)  # sees the lead; 4 holds it
    assert resp.status_code == 423
    assert resp.json()["holder"] == "4"
    assert resp.json()["code"] == "locked"
    hb = await _ok(await http.post(f"{url}/lease/heartbeat", json={"fencing_token": 1},
                                   headers=A4))  # fmt: skip
    assert hb["fencing_token"] == 1
    opened = await _ok(await http.post(f"{url}/transitions/open", json={"fencing_token": 1},
                                       headers=A4))  # fmt: skip
    assert opened["state"] == "en_gestion"
    act = await _ok(await http.post(f"{url}/activity", headers=A4))
    assert act["deadline"] is not None
    released = await _ok(await http.request("DELETE", f"{url}/lease", json={"fencing_token": 1},
                                            headers=A4))  # fmt: skip
    assert released["lease"] is None

    hist = await _ok(await http.get(f"{url}/history", headers=GTR))
    assert [e["event"] for e in hist["entries"]] == [
        "lead.created", "CLIENT_REASSIGNED", "CLIENT_LOCKED", "CLIENT_IN_GESTION",
        "CLIENT_UNLOCKED",
    ]  # fmt: skip

    check = await _ok(
        await http.post("/api/records/check", json={"data": {"vendedor_id": "7",
                        "producto": "pan"}}, headers=API), 201,
    )  # fmt: skip
    patched = await _ok(await http.patch(f"/api/records/check/{check['id']}",
                                         json={"data": {"v": True}, "version": 1},
                                         headers=API))  # fmt: skip
    assert patched["v"] is True
    assert patched["version"] == 2


async def test_a_long_query_returns_its_oldest_or_its_newest_rows(
    http: httpx.AsyncClient,
) -> None:
    base = "/api/records/lead"
    ids = []
    for n in range(5):
        lead = await _ok(
            await http.post(base, json={"data": {"nombre": f"L{n}"}}, headers=API), 201
        )
        ids.append(lead["id"])
    first = await _ok(await http.get(base, params={"limit": "3"}, headers=GTR))
    assert ([r["id"] for r in first["rows"]], first["more"]) == (ids[:3], True)
    assert first["total"] == 5
    last = await _ok(await http.get(base, params={"limit": "3", "newest": "1"}, headers=GTR))
    assert ([r["id"] for r in last["rows"]], last["more"]) == (ids[2:], True)  # still oldest first
    every = await _ok(await http.get(base, params={"limit": "9", "newest": "1"}, headers=GTR))
    assert ([r["id"] for r in every["rows"]], every["more"], every["total"]) == (ids, False, 5)
    # The newest *changed*: assigning the first lead makes it the latest.
    url = f"{base}/{ids[0]}/transitions/assign"
    await _ok(await http.post(url, json={"data": {"asesor_id": 4}}, headers=GTR))
    active = await _ok(
        await http.get(base, params={"limit": "3", "newest": "updated"}, headers=GTR)
    )
    assert [r["id"] for r in active["rows"]] == [ids[3], ids[4], ids[0]]
    bad = await http.get(base, params={"newest": "yes"}, headers=GTR)
    assert (bad.status_code, bad.json()["code"]) == (400, "bad_request")


async def test_a_user_cannot_change_a_record_it_cannot_see(http: httpx.AsyncClient) -> None:
    """Asesor 5 knows the id of asesor 4's lead: no lease, heartbeat, release,
    transition or change — each is ``403 forbidden``, without the record."""
    base = "/api/records/lead"
    lead = await _ok(await http.post(base, json={"data": {"nombre": "Ana"}}, headers=GTR), 201)
    url = f"{base}/{lead['id']}"
    await _ok(await http.post(f"{url}/transitions/assign", json={"data": {"asesor_id": 4}},
                              headers=GTR))  # fmt: skip
    attempts = [
        http.post(f"{url}/lease", headers=A5),
        http.post(f"{url}/transitions/open", json={"fencing_token": 1}, headers=A5),
        http.patch(url, json={"data": {"nota": "mía"}}, headers=A5),
        http.post(f"{url}/lease/heartbeat", json={"fencing_token": 1}, headers=A5),
        http.request("DELETE", f"{url}/lease", headers=A5),
        http.post(f"{url}/activity", headers=A5),
    ]
    for attempt in attempts:
        resp = await attempt
        assert (resp.status_code, resp.json()["code"]) == (403, "forbidden"), resp.text
        assert "Ana" not in resp.text
    # Its own asesor still can; the record is unchanged by the attempts.
    lease = await _ok(await http.post(f"{url}/lease", headers=A4))
    assert lease["fencing_token"] == 1
    now = await _ok(await http.get(url, headers=GTR))
    assert (now["state"], now["version"], now.get("nota")) == ("derivado", 3, None)


async def test_openapi_lists_the_records_routes(http: httpx.AsyncClient) -> None:
    doc = (await http.get("/api/openapi.json")).json()
    assert "/api/records/{kind}/{id}/transitions/{name}" in doc["paths"]
    assert "get" in doc["paths"]["/api/records/{kind}"]
