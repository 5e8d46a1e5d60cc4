"""Live-query filter values a database cannot hold (integers past signed 64
bits, NUL characters, non-finite floats) are a 400 ``bad_request`` naming the
field, on every database — never a 500 from deep inside the driver."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest

from relevo.records import Records
from relevo.records.extension import records_extension
from relevo.records.kinds import Field
from relevo.server.app import RelevoServer
from relevo.settings import ServerSettings

from .conftest import API_KEY, FAST, SETTINGS, Db
from .sample_kinds import ALL

API = {"X-API-Key": API_KEY}
HUGE = "99999999999999999999999"
INT64_MAX = 2**63 - 1


@pytest.fixture
async def http(db: Db) -> AsyncIterator[httpx.AsyncClient]:
    records = Records(db.url, ALL, schema=db.schema, options=FAST)
    settings = dataclasses.replace(SETTINGS, server=ServerSettings(port=0, log_level="warning"))
    srv = RelevoServer(settings, extensions=[records_extension(records, migrate=True)])
    records.attach(srv.hub)
    await srv.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{srv.port}") as client:
            yield client
    finally:
        await srv.stop()


@pytest.mark.parametrize(
    ("kind", "params", "field"),
    [
        ("lead", {"asesor_id": HUGE}, "asesor_id"),  # indexed int (an n slot)
        ("lead", {"asesor_id": "-" + HUGE}, "asesor_id"),
        ("lead", {"asesor_id": str(INT64_MAX + 1)}, "asesor_id"),
        ("lead", {"asesor_id": f"4,{HUGE}"}, "asesor_id"),
        ("lead", {"asesor_id": "9" * 5000}, "asesor_id"),
        ("lead", {"asesor_id": "1e3"}, "asesor_id"),
        ("lead", {"derivado_at": HUGE}, "derivado_at"),  # int filtered in Python
        ("turno", {"prioridad": HUGE}, "prioridad"),
        ("ping", {"n": HUGE}, "n"),
        ("check", {"vendedor_id": "7\x00"}, "vendedor_id"),  # indexed str (an s slot)
        ("turno", {"area": "a,\x00"}, "area"),
        ("turno", {"mesa": "\x00"}, "mesa"),
        ("lead", {"state": "nuevo\x00"}, "state"),
        ("lead", {"id": "\x00"}, "id"),
    ],
)
async def test_values_out_of_range_are_a_bad_request_naming_the_field(
    http: httpx.AsyncClient, kind: str, params: dict[str, str], field: str
) -> None:
    resp = await http.get(f"/api/records/{kind}", params=params, headers=API)
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["code"] == "bad_request"
    assert field in body["message"]


async def test_values_at_the_edges_of_the_range_are_queried(http: httpx.AsyncClient) -> None:
    lead = await http.post("/api/records/lead", json={"data": {"nombre": "Ana"}}, headers=API)
    assert lead.status_code == 201, lead.text
    for value in (str(INT64_MAX), str(-(2**63)), "0", "-1"):
        resp = await http.get("/api/records/lead", params={"asesor_id": value}, headers=API)
        assert resp.status_code == 200, resp.text
        assert resp.json()["rows"] == []
    resp = await http.get("/api/records/turno", params={"area": "caja\u00e9\u202e\n"}, headers=API)
    assert resp.status_code == 200, resp.text


@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "-Infinity", "1e400", "-1e999"])
def test_a_float_filter_must_be_finite(text: str) -> None:
    with pytest.raises(ValueError, match="amount"):
        Field(float).parse("amount", text)


def test_numeric_filters_within_range_parse() -> None:
    assert Field(int).parse("n", str(INT64_MAX)) == INT64_MAX
    assert Field(int).parse("n", "-42") == -42
    assert Field(float).parse("x", "2.5") == 2.5
    assert Field(float).parse("x", "1e300") == 1e300
    with pytest.raises(ValueError, match="n"):
        Field(int).parse("n", str(-(2**63) - 1))


@pytest.mark.parametrize(
    ("kind", "data", "field"),
    [
        ("lead", {"nombre": "Ana", "asesor_id": int(HUGE)}, "asesor_id"),
        ("lead", {"nombre": "Ana", "asesor_id": -int(HUGE)}, "asesor_id"),
        ("lead", {"nombre": "Ana\x00"}, "nombre"),
        ("ping", {"n": INT64_MAX + 1}, "n"),
        # A value that would render an invalid channel name (cargue:{vendedor_id}).
        ("check", {"vendedor_id": "a b", "producto": "x"}, "vendedor_id"),
        ("check", {"vendedor_id": "v" * 300, "producto": "x"}, "vendedor_id"),
    ],
)
async def test_written_values_a_database_or_a_channel_cannot_hold_are_refused(
    http: httpx.AsyncClient, kind: str, data: dict[str, object], field: str
) -> None:
    res = await http.post(f"/api/records/{kind}", json={"data": data}, headers=API)
    assert res.status_code == 400, res.text
    assert res.json()["code"] == "bad_request"
    assert field in res.json()["message"]
    # Nothing was written, and the relay is not stuck behind it.
    ok = await http.post("/api/records/ping", json={"data": {"n": 1}}, headers=API)
    assert ok.status_code == 201, ok.text
