"""The day's closing under concurrency, on the production store (PostgreSQL,
marker ``postgres``): a burst of products added to a new day makes one
closing record (the second creator waits for the first and uses its row),
and ticks racing a close either land before it or are refused with
``state: "cerrado"`` — never a tick after the close."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from relevo.apps import cargue
from tests.apps.appserver import AppServer, pg_app_server

from .conftest import DESPACHO, V2

pytestmark = pytest.mark.postgres


@pytest.fixture
async def pg_app(tmp_path: Path) -> AsyncIterator[AppServer]:
    async with pg_app_server(cargue, tmp_path, {"simulate": False}) as srv:
        yield srv


async def test_a_burst_on_a_new_day_makes_one_closing_record(pg_app: AppServer) -> None:
    async def add(i: int) -> int:
        body = {"vendedor_id": "v1", "fecha": "2031-03-03", "producto": f"Producto {i}"}
        res = await pg_app.request("POST", "/api/cargue/items", DESPACHO, json=body)
        assert res.status_code == 201, res.text
        return res.status_code

    codes = await asyncio.gather(*(add(i) for i in range(10)))
    assert codes == [201] * 10
    days = await pg_app.records.find("cargue_cierre", {"fecha": "2031-03-03"})
    assert [(c.get("vendedor_id"), c.state) for c in days] == [("v1", "abierto")]
    rows = await pg_app.records.find("cargue_item", {"fecha": "2031-03-03"})
    assert sorted(int(r.get("orden")) for r in rows) == list(range(1, 11))


async def test_ticks_racing_a_close_land_before_it_or_are_refused(pg_app: AppServer) -> None:
    plan = [{"producto": f"Producto {i}", "cantidad": 5} for i in range(16)]
    made = await pg_app.ok(
        "POST", "/api/cargue/plantillas", DESPACHO,
        json={"vendedor_id": "v2", "fecha": "2031-03-04", "rows": plan},
    )  # fmt: skip
    ids = [r["id"] for r in made["rows"]]

    async def tick(item: str) -> tuple[str, int, dict[str, object]]:
        res = await pg_app.request(
            "POST", f"/api/cargue/items/{item}/check", V2, json={"check": "v", "value": True}
        )
        return item, res.status_code, res.json()

    async def close() -> dict[str, object]:
        await asyncio.sleep(0)  # let a few ticks start first
        return await pg_app.ok(
            "POST",
            "/api/cargue/cierre",
            DESPACHO,
            json={"vendedor_id": "v2", "fecha": "2031-03-04"},
        )

    *ticks, closed = await asyncio.gather(*(tick(i) for i in ids), close())
    assert isinstance(closed, dict)
    cerrado_at = int(str(closed["cerrado_at"]))
    for item, status, body in ticks:
        rec = await pg_app.records.get("cargue_item", item)
        if status == 200:
            assert rec.state == "verificado"
            assert int(rec.get("v_at")) <= cerrado_at
        else:
            assert (status, body["state"]) == (409, "cerrado"), body
            assert rec.state == "pendiente"
