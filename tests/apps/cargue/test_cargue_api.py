"""The cargue flows over real sockets: a vendor's V reaches his group and the
dispatcher at once, D only after V, idempotent ticks, per-vendor isolation
at the frame level, and bad input with clear codes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tests.apps.appserver import API, AppServer, WsClient, token

from .conftest import DESPACHO, V1, V2, Factory

OpenWs = Callable[[AppServer, str], Awaitable[WsClient]]


async def rows(app: AppServer, vendedor: str) -> list[dict[str, Any]]:
    snap = await app.ok(
        "GET", "/api/records/cargue_item", DESPACHO, params={"vendedor_id": vendedor}
    )
    return sorted(snap["rows"], key=lambda r: r["orden"])


def pending(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in items if r["state"] == "pendiente"]


async def check(app: AppServer, tok: str, item: str, which: str, value: bool) -> Any:
    return await app.ok(
        "POST", f"/api/cargue/items/{item}/check", tok, json={"check": which, "value": value}
    )


def is_update(item: str, **fields: Any) -> Callable[[dict[str, Any]], bool]:
    def match(f: dict[str, Any]) -> bool:
        rec = (f.get("data") or {}).get("record") or {}
        return (
            f.get("ev") == "check_update"
            and rec.get("id") == item
            and all(rec.get(k) == v for k, v in fields.items())
        )

    return match


async def test_v_reaches_the_vendor_group_and_the_dispatcher(
    app: AppServer, ws_clients: OpenWs
) -> None:
    item = pending(await rows(app, "v1"))[0]
    dispatcher = await ws_clients(app, DESPACHO)
    vendor = await ws_clients(app, V1)
    assert "ok" in await dispatcher.sub("despacho:cargue")
    assert "ok" in await vendor.sub("cargue:v1")

    rec = await check(app, V1, item["id"], "v", True)
    assert (rec["state"], rec["v"], rec["d"], rec["v_by"]) == ("verificado", True, False, "v1")
    for ws, ch in ((dispatcher, "despacho:cargue"), (vendor, "cargue:v1")):
        frame = await ws.wait(is_update(item["id"], v=True))
        assert frame["ch"] == ch
        record = frame["data"]["record"]
        # the seed's check_update fields, plus the transition that made it
        assert {"producto", "v", "d", "dia", "fecha"} <= set(record)
        assert frame["data"]["transition"] == "marcar_v"

    rec = await check(app, DESPACHO, item["id"], "d", True)
    assert (rec["state"], rec["d"], rec["d_by"]) == ("despachado", True, "despacho1")
    await vendor.wait(is_update(item["id"], d=True))
    await dispatcher.wait(is_update(item["id"], d=True))


async def test_a_repeated_tick_changes_and_publishes_nothing(
    app: AppServer, ws_clients: OpenWs
) -> None:
    first, second = pending(await rows(app, "v1"))[:2]
    vendor = await ws_clients(app, V1)
    await vendor.sub("cargue:v1")
    one = await check(app, V1, first["id"], "v", True)
    again = await check(app, V1, first["id"], "v", True)  # a phone resending an unanswered tick
    assert again["version"] == one["version"]
    await check(app, V1, second["id"], "v", True)  # a marker: the next publication
    await vendor.wait(is_update(second["id"], v=True))
    about_first = [p for p in vendor.publications() if p["data"]["id"] == first["id"]]
    assert len(about_first) == 1


async def test_d_needs_v_and_closes_the_row_for_the_vendor(app: AppServer) -> None:
    item = pending(await rows(app, "v2"))[0]["id"]
    body = await app.fails(
        409,
        "conflict",
        "POST",
        f"/api/cargue/items/{item}/check",
        DESPACHO,
        json={"check": "d", "value": True},
    )
    assert body["mensaje"] == "El vendedor aún no marcó V en este producto."
    await check(app, V2, item, "v", True)
    await check(app, DESPACHO, item, "d", True)
    body = await app.fails(
        409,
        "conflict",
        "POST",
        f"/api/cargue/items/{item}/check",
        V2,
        json={"check": "v", "value": False},
    )
    assert "desmarque" in body["mensaje"]
    await check(app, DESPACHO, item, "d", False)
    rec = await check(app, V2, item, "v", False)
    assert (rec["state"], rec["v"], rec["v_at"], rec["v_by"]) == ("pendiente", False, None, None)
    history = await app.ok("GET", f"/api/records/cargue_item/{item}/history", DESPACHO)
    moves = [(e["transition"], e["by"]) for e in history["entries"] if e["transition"]]
    assert moves == [
        ("marcar_v", "v2"),
        ("marcar_d", "despacho1"),
        ("desmarcar_d", "despacho1"),
        ("desmarcar_v", "v2"),
    ]


async def test_a_vendor_never_receives_or_touches_another_vendors_rows(
    app: AppServer, ws_clients: OpenWs
) -> None:
    v1_rows, v2_rows = await rows(app, "v1"), await rows(app, "v2")
    other = pending(v2_rows)[0]["id"]
    vendor = await ws_clients(app, V1)
    assert (await vendor.sub("cargue:v2"))["err"]["code"] == "forbidden"
    assert (await vendor.sub("despacho:cargue"))["err"]["code"] == "forbidden"
    assert "ok" in await vendor.sub("cargue:v1")

    # reads: another plantilla, all of them, one of its rows
    items = "/api/records/cargue_item"
    await app.fails(403, "forbidden", "GET", items, V1, params={"vendedor_id": "v2"})
    await app.fails(403, "forbidden", "GET", items, V1)
    await app.fails(403, "forbidden", "GET", f"{items}/{other}", V1)
    await app.fails(403, "forbidden", "GET", "/api/records/cargue_user", V1)
    # writes: through the app (not found: no hint the row exists) and the records API
    await app.fails(
        404,
        "not_found",
        "POST",
        f"/api/cargue/items/{other}/check",
        V1,
        json={"check": "v", "value": True},
    )
    await app.fails(403, "forbidden", "POST", f"{items}/{other}/transitions/marcar_v", V1)
    await app.fails(
        403, "forbidden", "POST", f"{items}/{v1_rows[0]['id']}/transitions/marcar_v", V1
    )
    await app.fails(
        403, "forbidden", "PATCH", f"{items}/{v1_rows[0]['id']}", V1, json={"data": {"v": True}}
    )
    await app.fails(
        403,
        "forbidden",
        "POST",
        f"/api/cargue/items/{v1_rows[0]['id']}/check",
        V1,
        json={"check": "d", "value": True},
    )
    # the dispatcher cannot forge V or set checks by hand either
    await app.fails(
        403,
        "forbidden",
        "POST",
        f"/api/cargue/items/{other}/check",
        DESPACHO,
        json={"check": "v", "value": True},
    )
    await app.fails(
        403, "forbidden", "PATCH", f"{items}/{other}", DESPACHO, json={"data": {"v": True}}
    )

    # v2 works his whole plantilla while v1 ticks one row
    for r in pending(v2_rows):
        await check(app, V2, r["id"], "v", True)
    await check(app, DESPACHO, pending(v2_rows)[0]["id"], "d", True)
    mine = pending(v1_rows)[0]["id"]
    await check(app, V1, mine, "v", True)
    await vendor.wait(is_update(mine, v=True))
    pubs = vendor.publications()
    assert pubs
    assert {p["ch"] for p in pubs} == {"cargue:v1"}
    assert {p["data"]["record"]["vendedor_id"] for p in pubs} == {"v1"}
    assert not any("v2" in str(f) for f in vendor.frames if "err" not in f)


async def test_bad_input_gets_clear_codes(app: AppServer) -> None:
    item = pending(await rows(app, "v1"))[0]["id"]
    path = f"/api/cargue/items/{item}/check"
    body = await app.fails(400, "bad_request", "POST", path, V1, json={"check": "x", "value": True})
    assert body["field"] == "check"
    body = await app.fails(400, "bad_request", "POST", path, V1, json={"check": "v", "value": "sí"})
    assert body["field"] == "value"
    await app.fails(400, "bad_request", "POST", path, V1, content=b"{not json")
    await app.fails(400, "bad_request", "POST", path, V1, content=b"[1, 2]")
    await app.fails(401, "unauthorized", "POST", path, json={"check": "v", "value": True})
    await app.fails(
        401, "unauthorized", "POST", path, "not-a-jwt", json={"check": "v", "value": True}
    )
    await app.fails(
        404,
        "not_found",
        "POST",
        "/api/cargue/items/99999/check",
        V1,
        json={"check": "v", "value": True},
    )
    await app.fails(
        400,
        "bad_request",
        "POST",
        "/api/cargue/items/a:b/check",
        V1,
        json={"check": "v", "value": True},
    )
    await app.fails(413, "too_large", "POST", path, V1, content=b'{"x": "' + b"a" * 70_000 + b'"}')
    stranger = token("x9", ("gtr",))
    await app.fails(403, "forbidden", "POST", path, stranger, json={"check": "v", "value": True})
    # nothing changed on the row
    rec = await app.ok("GET", f"/api/records/cargue_item/{item}", DESPACHO)
    assert (rec["state"], rec["version"]) == ("pendiente", 1)


async def test_dispatcher_loads_a_plantilla_and_the_vendor_sees_it(
    app: AppServer, ws_clients: OpenWs
) -> None:
    vendor = await ws_clients(app, token("v3", ("vendedor",)))
    await vendor.sub("cargue:v3")
    url = "/api/cargue/plantillas"
    rows_in = [
        {"producto": "Arepa 500 g", "cantidad": 12, "codigo": "AR-500"},
        {"producto": "Kumis 1 L", "cantidad": 6, "unidad": "und"},
    ]
    made = await app.ok(
        "POST", url, DESPACHO, json={"vendedor_id": "v3", "fecha": "2030-01-07", "rows": rows_in}
    )
    assert [(r["producto"], r["dia"], r["orden"]) for r in made["rows"]] == [
        ("Arepa 500 g", "LUNES", 1),
        ("Kumis 1 L", "LUNES", 2),
    ]
    await vendor.wait(lambda f: f.get("ev") == "cargue_item.created")
    snap = await app.ok(
        "GET",
        "/api/records/cargue_item",
        token("v3", ("vendedor",)),
        params={"vendedor_id": "v3", "fecha": "2030-01-07"},
    )
    assert len(snap["rows"]) == 2
    # a backend with the API key may load too; a vendor may not
    await app.ok(
        "POST", url, headers=API, json={"vendedor_id": "v3", "fecha": "2030-01-08", "rows": rows_in}
    )
    await app.fails(403, "forbidden", "POST", url, V1, json={"vendedor_id": "v1", "rows": rows_in})
    bad: list[tuple[dict[str, Any], str]] = [
        ({"vendedor_id": "v3", "rows": []}, "bad_request"),
        ({"vendedor_id": "v3", "rows": [{"cantidad": 3}]}, "bad_request"),
        ({"vendedor_id": "v3", "rows": [{"producto": "x", "cantidad": -1}]}, "bad_request"),
        ({"vendedor_id": "v3", "rows": [{"producto": "x", "precio": 1}]}, "bad_request"),
        ({"vendedor_id": "v3", "fecha": "ayer", "rows": rows_in}, "bad_request"),
        ({"vendedor_id": "despacho1", "rows": rows_in}, "bad_request"),
    ]
    for body, code in bad:
        await app.fails(400, code, "POST", url, DESPACHO, json=body)
    await app.fails(
        404, "not_found", "POST", url, DESPACHO, json={"vendedor_id": "v9", "rows": rows_in}
    )


async def test_progress_and_demo_login(app: AppServer) -> None:
    prog = await app.ok("GET", "/api/cargue/progreso", DESPACHO)
    by_vendor = {p["vendedor_id"]: p for p in prog["vendedores"]}
    assert set(by_vendor) == {"v1", "v2", "v3"}
    assert all(p["total"] == 15 for p in by_vendor.values())
    assert (by_vendor["v1"]["v"], by_vendor["v1"]["d"]) == (7, 3)
    await app.fails(403, "forbidden", "GET", "/api/cargue/progreso", V1)
    users = await app.ok("GET", "/api/cargue/demo/users")
    assert {u["id"] for u in users["users"]} >= {"despacho1", "v1", "v2", "v3"}
    login = await app.ok("POST", "/api/cargue/demo/token", json={"user": "v2"})
    me = await app.ok("GET", "/api/cargue/me", login["token"])
    assert (me["id"], me["roles"], me["ruta"]) == ("v2", ["vendedor"], "Ruta 2 · Norte")
    await app.fails(404, "not_found", "POST", "/api/cargue/demo/token", json={"user": "nadie"})


async def test_demo_login_is_off_outside_demo_mode(make_server: Factory) -> None:
    app = await make_server(demo=False, seed=False)
    await app.fails(404, "not_found", "GET", "/api/cargue/demo/users")
    await app.fails(404, "not_found", "POST", "/api/cargue/demo/token", json={"user": "v1"})
    config = await app.ok("GET", "/api/cargue/config")
    assert config["demo"] is False
