"""The dispatcher's day over the API: the plantilla editor (add, edit,
remove a product), who ticked each V/D by name, loaded and returned
quantities with a reason, closing a vendor's day (locks every write, live on
both screens; reopening is the admin's, audited), the CSV sheet
(formula-safe), and who is online. Every new route is called as a vendor,
the dispatcher, the admin, another app's user (another tenant), and anyone;
a denial is the bare error body, never a row."""

from __future__ import annotations

import csv
import io
from typing import Any

from tests.apps.appserver import API, AppServer, token

from .conftest import DESPACHO, V1, V2
from .test_cargue_api import OpenWs, check, pending, rows

ADMIN = token("admin", ("admin",), name="Rosa Valdivia")
OTHER = token("a1", ("agente",), "andes", name="Otra Empresa")  # another app, another tenant
BARE = {"code", "message", "retry", "mensaje"}


async def denied(app: AppServer, method: str, path: str, **kw: Any) -> None:
    """Anyone, another tenant's user and a vendor are refused with a bare body."""
    for tok, status in ((None, 401), (OTHER, 403), (V1, 403)):
        res = await app.request(method, path, tok, **kw)
        assert res.status_code == status, (tok, res.text)
        assert set(res.json()) <= BARE, res.json()


async def test_who_ticked_v_and_d_is_named(app: AppServer) -> None:
    item = pending(await rows(app, "v2"))[0]["id"]
    rec = await check(app, V2, item, "v", True)
    assert (rec["v_by"], rec["v_nombre"]) == ("v2", "Lucía Gómez")
    rec = await check(app, DESPACHO, item, "d", True)
    assert (rec["d_by"], rec["d_nombre"]) == ("despacho1", "Marta Ríos")
    assert rec["v_at"]
    assert rec["d_at"]
    # a user the directory does not know: the token's name
    stranger = token("d7", ("despachador",), name="Pedro Ayala")
    rec = await check(app, stranger, item, "d", False)
    assert rec["d_nombre"] is None
    rec = await check(app, stranger, item, "d", True)
    assert rec["d_nombre"] == "Pedro Ayala"


async def test_plantilla_editor_adds_edits_and_removes_rows(
    app: AppServer, ws_clients: OpenWs
) -> None:
    vendor = await ws_clients(app, V1)
    await vendor.sub("cargue:v1")
    before = await rows(app, "v1")
    added = await app.ok(
        "POST",
        "/api/cargue/items",
        DESPACHO,
        json={
            "vendedor_id": "v1",
            "producto": "Arepa rellena x4",
            "cantidad": 10,
            "codigo": "AR-R",
        },
    )
    assert added["orden"] == max(r["orden"] for r in before) + 1
    assert (added["state"], added["vendedor_id"], added["dia"]) == (
        "pendiente",
        "v1",
        before[0]["dia"],
    )
    await vendor.wait(lambda f: f.get("ev") == "cargue_item.created")
    path = f"/api/cargue/items/{added['id']}"
    edited = await app.ok("PATCH", path, DESPACHO, json={"cantidad": 12, "producto": "Arepa x4"})
    assert (edited["cantidad"], edited["producto"]) == (12, "Arepa x4")
    await app.ok("DELETE", path, ADMIN)
    await app.fails(404, "not_found", "GET", f"/api/records/cargue_item/{added['id']}", DESPACHO)
    await app.ok(
        "POST", "/api/cargue/items", headers=API, json={"vendedor_id": "v1", "producto": "Kumis"}
    )

    # a verified row keeps its plan and cannot be removed
    ticked = pending(before)[0]["id"]
    await check(app, V1, ticked, "v", True)
    body = await app.fails(
        409, "conflict", "PATCH", f"/api/cargue/items/{ticked}", DESPACHO, json={"cantidad": 1}
    )
    assert "Cargado" in body["mensaje"]
    await app.fails(409, "conflict", "DELETE", f"/api/cargue/items/{ticked}", DESPACHO)

    # who may: nobody else; bad input names its field; nothing changed
    for method, p, kw in (
        ("POST", "/api/cargue/items", {"json": {"vendedor_id": "v1", "producto": "x"}}),
        ("PATCH", f"/api/cargue/items/{ticked}", {"json": {"cargada": 1, "motivo": "x"}}),
        ("DELETE", f"/api/cargue/items/{pending(before)[1]['id']}", {}),
    ):
        await denied(app, method, p, **kw)
    bad: list[dict[str, Any]] = [
        {"vendedor_id": "v1"},
        {"vendedor_id": "v1", "producto": "x", "cantidad": -2},
        {"vendedor_id": "v1", "producto": "x", "precio": 3},
        {"vendedor_id": "despacho1", "producto": "x"},
        {"vendedor_id": "v1", "producto": "x", "fecha": "mañana"},
        {"vendedor_id": "../v1", "producto": "x"},
    ]
    for b in bad:
        await app.fails(400, "bad_request", "POST", "/api/cargue/items", DESPACHO, json=b)
    await app.fails(
        404,
        "not_found",
        "POST",
        "/api/cargue/items",
        DESPACHO,
        json={"vendedor_id": "v9", "producto": "x"},
    )
    await app.fails(
        404, "not_found", "PATCH", "/api/cargue/items/99999", DESPACHO, json={"cantidad": 1}
    )
    await app.fails(400, "bad_request", "PATCH", path, DESPACHO, json={"v": True})
    await app.fails(400, "bad_request", "PATCH", path, DESPACHO, json={})
    assert len(await rows(app, "v1")) == len(before) + 1  # only the backend's Kumis


async def test_quantities_and_returns_need_a_reason_and_reach_the_dispatcher(
    app: AppServer, ws_clients: OpenWs
) -> None:
    dispatcher = await ws_clients(app, DESPACHO)
    await dispatcher.sub("despacho:cargue")
    row = pending(await rows(app, "v2"))[0]
    path = f"/api/cargue/items/{row['id']}"
    body = await app.fails(400, "bad_request", "PATCH", path, DESPACHO, json={"cargada": 1})
    assert body["field"] == "motivo"
    body = await app.fails(
        400, "bad_request", "PATCH", path, DESPACHO,
        json={"devuelta": row["cantidad"] + 1, "motivo": "Averiado"},
    )  # fmt: skip
    assert body["field"] == "devuelta"
    for b in ({"cargada": -1, "motivo": "x"}, {"devuelta": True}, {"motivo": "x" * 121}):
        await app.fails(400, "bad_request", "PATCH", path, DESPACHO, json=b)

    rec = await app.ok(
        "PATCH",
        path,
        DESPACHO,
        json={"cargada": row["cantidad"] - 2, "motivo": "Faltante en bodega"},
    )
    assert (rec["cargada"], rec["devuelta"], rec["motivo"]) == (
        row["cantidad"] - 2,
        0,
        "Faltante en bodega",
    )
    frame = await dispatcher.wait(
        lambda f: (f.get("data") or {}).get("record", {}).get("cargada") == row["cantidad"] - 2
    )
    assert frame["data"]["record"]["motivo"] == "Faltante en bodega"
    rec = await app.ok("PATCH", path, ADMIN, json={"devuelta": 3, "motivo": "Vencido"})
    assert (rec["devuelta"], rec["motivo"]) == (3, "Vencido")
    history = await app.ok("GET", f"/api/records/cargue_item/{row['id']}/history", DESPACHO)
    assert [(e["by"], e["reason"]) for e in history["entries"]][-2:] == [
        ("despacho1", "Faltante en bodega"),
        ("admin", "Vencido"),
    ]


async def test_closing_the_day_locks_it_and_only_an_admin_reopens(
    app: AppServer, ws_clients: OpenWs
) -> None:
    vendor = await ws_clients(app, V1)
    await vendor.sub("cargue:v1")
    items = pending(await rows(app, "v1"))
    for method, p, kw in (
        ("POST", "/api/cargue/cierre", {"json": {"vendedor_id": "v1"}}),
        ("POST", "/api/cargue/reabrir", {"json": {"vendedor_id": "v1", "motivo": "x"}}),
    ):
        await denied(app, method, p, **kw)
    await app.fails(
        400, "bad_request", "POST", "/api/cargue/cierre", DESPACHO, json={"vendedor_id": "a b"}
    )
    # who before what: a malformed body from someone not allowed is a 403, not a 400
    for method, p, tok in (
        ("POST", "/api/cargue/reabrir", DESPACHO),
        ("POST", "/api/cargue/cierre", V1),
        ("POST", "/api/cargue/items", V1),
        ("PATCH", f"/api/cargue/items/{items[0]['id']}", V1),
        ("POST", "/api/cargue/plantillas", V1),
        ("POST", f"/api/cargue/items/{items[0]['id']}/check", OTHER),
    ):
        await app.fails(403, "forbidden", method, p, tok, content=b"{not json")

    closed = await app.ok("POST", "/api/cargue/cierre", DESPACHO, json={"vendedor_id": "v1"})
    assert (closed["state"], closed["cerrado_by"], closed["cerrado_nombre"]) == (
        "cerrado", "despacho1", "Marta Ríos",
    )  # fmt: skip
    assert closed["cerrado_at"]
    frame = await vendor.wait(lambda f: f.get("ev") == "cargue_cerrado")
    assert frame["data"]["record"]["cerrado_nombre"] == "Marta Ríos"
    again = await app.ok("POST", "/api/cargue/cierre", DESPACHO, json={"vendedor_id": "v1"})
    assert again["version"] == closed["version"]

    # locked: ticks, edits, plantilla loads; a clear Spanish error with a stable code
    body = await app.fails(
        409, "conflict", "POST", f"/api/cargue/items/{items[0]['id']}/check", V1,
        json={"check": "v", "value": True},
    )  # fmt: skip
    assert (body["state"], body["cerrado_nombre"]) == ("cerrado", "Marta Ríos")
    assert (
        body["mensaje"] == "El cargue de este día ya está cerrado: no admite más marcas ni cambios."
    )
    await app.fails(
        409, "conflict", "PATCH", f"/api/cargue/items/{items[0]['id']}", DESPACHO,
        json={"cantidad": 1},
    )  # fmt: skip
    await app.fails(409, "conflict", "DELETE", f"/api/cargue/items/{items[0]['id']}", DESPACHO)
    await app.fails(
        409,
        "conflict",
        "POST",
        "/api/cargue/items",
        DESPACHO,
        json={"vendedor_id": "v1", "producto": "x"},
    )
    await app.fails(
        409, "conflict", "POST", "/api/cargue/plantillas", DESPACHO,
        json={"vendedor_id": "v1", "rows": [{"producto": "x"}]},
    )  # fmt: skip
    # the records API cannot go around it
    await app.fails(
        403, "forbidden", "PATCH", f"/api/records/cargue_item/{items[0]['id']}", DESPACHO,
        json={"data": {"cantidad": 1}},
    )  # fmt: skip
    await app.fails(
        403, "forbidden", "POST", f"/api/records/cargue_cierre/{closed['id']}/transitions/reabrir",
        ADMIN,
    )  # fmt: skip
    # another vendor's day stays open
    await check(app, V2, pending(await rows(app, "v2"))[0]["id"], "v", True)

    # the dispatcher may not reopen; the admin must say why
    body = await app.fails(
        403,
        "forbidden",
        "POST",
        "/api/cargue/reabrir",
        DESPACHO,
        json={"vendedor_id": "v1", "motivo": "x"},
    )
    assert set(body) <= BARE
    await app.fails(
        400, "bad_request", "POST", "/api/cargue/reabrir", ADMIN, json={"vendedor_id": "v1"}
    )
    opened = await app.ok(
        "POST",
        "/api/cargue/reabrir",
        ADMIN,
        json={"vendedor_id": "v1", "motivo": "Faltó un pedido"},
    )
    assert (opened["state"], opened["reabierto_nombre"], opened["motivo"]) == (
        "abierto", "Rosa Valdivia", "Faltó un pedido",
    )  # fmt: skip
    await vendor.wait(lambda f: f.get("ev") == "cargue_reabierto")
    await app.fails(
        409,
        "conflict",
        "POST",
        "/api/cargue/reabrir",
        ADMIN,
        json={"vendedor_id": "v1", "motivo": "x"},
    )
    await check(app, V1, items[0]["id"], "v", True)
    history = await app.ok("GET", f"/api/records/cargue_cierre/{closed['id']}/history", DESPACHO)
    moves = [(e["transition"], e["by"], e["reason"]) for e in history["entries"] if e["transition"]]
    assert moves == [("cerrar", "despacho1", None), ("reabrir", "admin", "Faltó un pedido")]
    # the vendor reads his own day's closing, not another's
    mine = await app.ok("GET", "/api/records/cargue_cierre", V1, params={"vendedor_id": "v1"})
    assert [r["vendedor_id"] for r in mine["rows"]] == ["v1"]
    await app.fails(
        403, "forbidden", "GET", "/api/records/cargue_cierre", V1, params={"vendedor_id": "v2"}
    )


async def test_the_sheet_exports_as_formula_safe_csv(app: AppServer) -> None:
    await app.ok(
        "POST", "/api/cargue/items", DESPACHO,
        json={"vendedor_id": "v3", "producto": '=HYPERLINK("http://x")', "codigo": "@SUM(A1)"},
    )  # fmt: skip
    item = pending(await rows(app, "v3"))[0]
    await check(app, token("v3", ("vendedor",)), item["id"], "v", True)
    await app.ok("POST", "/api/cargue/cierre", DESPACHO, json={"vendedor_id": "v3"})
    await denied(app, "GET", "/api/cargue/hoja.csv")
    for tok in (DESPACHO, ADMIN):
        res = await app.request("GET", "/api/cargue/hoja.csv", tok, params={"vendedor_id": "v3"})
        assert res.status_code == 200
        assert res.headers["content-type"].startswith("text/csv")
        assert "attachment" in res.headers["content-disposition"]
    res = await app.request("GET", "/api/cargue/hoja.csv", headers=API)
    assert res.status_code == 200
    lines = list(csv.DictReader(io.StringIO(res.content.decode("utf-8-sig"))))
    assert {r["vendedor_id"] for r in lines} == {"v1", "v2", "v3"}
    v3 = [r for r in lines if r["vendedor_id"] == "v3"]
    evil = next(r for r in v3 if "HYPERLINK" in r["producto"])
    assert evil["producto"].startswith("'=")
    assert evil["codigo"] == "'@SUM(A1)"
    ticked = next(r for r in v3 if r["v_hora"])
    assert (ticked["vendedor"], ticked["estado"]) == ("Jorge Paredes", "verificado")
    assert ticked["v_por"] == "Jorge Paredes"
    assert all(r["cierre"].startswith("cerrado") and "Marta Ríos" in r["cierre"] for r in v3)
    await app.fails(
        400, "bad_request", "GET", "/api/cargue/hoja.csv", DESPACHO, params={"fecha": "x"}
    )


async def test_staff_see_which_vendors_are_online(app: AppServer, ws_clients: OpenWs) -> None:
    dispatcher = await ws_clients(app, DESPACHO)
    assert "ok" in await dispatcher.sub("vendedor:v1")
    vendor = await ws_clients(app, V1)
    assert "ok" in await vendor.sub("vendedor:v1")
    joined = await dispatcher.wait(lambda f: f.get("ev") == "$join" and f["data"]["user"] == "v1")
    assert joined["ch"] == "vendedor:v1"
    who = await dispatcher.call({"op": "presence", "ch": "vendedor:v1"})
    assert "v1" in {c["user"] for c in who["ok"]["clients"].values()}
    # a vendor holds only his own channel and sees nobody's presence
    assert (await vendor.sub("vendedor:v2"))["err"]["code"] == "forbidden"
    assert (await vendor.call({"op": "presence", "ch": "vendedor:v1"}))["err"][
        "code"
    ] == "forbidden"
    other = await ws_clients(app, OTHER)
    assert (await other.sub("vendedor:v1"))["err"]["code"] == "forbidden"
    await vendor.close()
    await dispatcher.wait(lambda f: f.get("ev") == "$leave" and f["data"]["user"] == "v1")
