"""/api/openapi.json against the server that serves it: every route under
/api/ of the whole product (every app mounted) has its path and method in
the document, and the document is valid OpenAPI 3.1. The apps' ops come from
their routes (relevo/apps/kit/openapi.py), so a route without an op, or an op
without a route, fails when the app is built."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate
from starlette.routing import Route

from relevo.apps.kit.openapi import ANYONE, Access, Op, UndocumentedRoute, openapi_paths
from tests.web.fullserver import FullServer, start_full_server, walk_routes

_CONVERTER = re.compile(r"\{(\w+):\w+\}")


@pytest.fixture
async def full(tmp_path: Path) -> AsyncIterator[FullServer]:
    srv = await start_full_server(tmp_path / "full.db")
    yield srv
    await srv.stop()


async def _document(srv: FullServer) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=srv.url) as http:
        response = await http.get("/api/openapi.json")
    assert response.status_code == 200
    doc: dict[str, Any] = response.json()
    return doc


async def test_every_api_route_is_in_the_document(full: FullServer) -> None:
    doc = await _document(full)
    served = {
        (method.lower(), _CONVERTER.sub(r"{\1}", path))
        for path, methods in walk_routes(list(full.server.app.routes))
        if path.startswith("/api/")
        for method in methods - {"HEAD"}
    }
    documented = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert served - documented == set()
    assert documented - {(m, p) for m, p in documented if p.startswith("/api/")} <= {
        ("get", "/healthz"),
        ("get", "/readyz"),
        ("get", "/metrics"),
    }
    for app in ("leads", "turnos", "cargue", "inbox"):
        assert any(p.startswith(f"/api/{app}/") for _, p in served), app


async def test_the_document_is_valid_openapi_3_1(full: FullServer) -> None:
    doc = await _document(full)
    assert doc["openapi"].startswith("3.1")
    validate(doc)


async def test_every_app_operation_has_an_id_auth_and_spanish_errors(full: FullServer) -> None:
    doc = await _document(full)
    ids = []
    for path, ops in doc["paths"].items():
        if not path.startswith(("/api/leads/", "/api/turnos/", "/api/cargue/", "/api/inbox/")):
            continue
        for method, op in ops.items():
            ids.append(op["operationId"])
            assert "security" in op, (method, path)
            errors = {s: r for s, r in op["responses"].items() if s.startswith(("4", "5"))}
            for status, answer in errors.items():
                schema = answer["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/AppError"}, (path, status)
    assert len(ids) == len(set(ids)), "operationIds repeat"
    app_error = doc["components"]["schemas"]["AppError"]
    assert {"code", "message", "retry", "mensaje"} <= set(app_error["properties"])


async def test_a_backend_route_says_api_key_and_a_staff_route_its_roles(full: FullServer) -> None:
    paths = (await _document(full))["paths"]
    assert paths["/api/inbox/t/{tenant}/incoming"]["post"]["security"] == [{"apikey": []}]
    assert paths["/api/leads/create"]["post"]["security"] == [
        {"bearer": ["gtr", "admin"]},
        {"apikey": []},
    ]
    assert paths["/api/turnos/config"]["get"]["security"] == []
    body = paths["/api/cargue/items/{id}/check"]["post"]["requestBody"]
    ref = body["content"]["application/json"]["schema"]["$ref"]
    schemas = (await _document(full))["components"]["schemas"]
    check = schemas[ref.rsplit("/", 1)[1]]
    assert set(check["properties"]["check"]["enum"]) == {"v", "d"}
    assert set(check["required"]) == {"check", "value"}


async def _ok(request: Any) -> Any:
    raise AssertionError("not called")


def test_a_route_without_an_op_fails_the_app() -> None:
    routes = [Route("/api/x/a", _ok), Route("/api/x/b", _ok, methods=["POST"])]
    ops = {"GET /api/x/a": Op("x_a", "a", ANYONE)}
    with pytest.raises(UndocumentedRoute, match=r"POST /api/x/b"):
        openapi_paths(routes, ops, tag="x")


def test_an_op_without_a_route_fails_the_app() -> None:
    routes = [Route("/api/x/a", _ok)]
    ops = {
        "GET /api/x/a": Op("x_a", "a", ANYONE),
        "DELETE /api/x/a": Op("x_del", "gone", Access(apikey=True)),
    }
    with pytest.raises(UndocumentedRoute, match=r"DELETE /api/x/a"):
        openapi_paths(routes, ops, tag="x")


def test_inbox_status_literals_follow_the_service() -> None:
    import msgspec

    from relevo.apps.inbox.openapi import InboxConector, InboxEstado
    from relevo.apps.inbox.service import CONNECTOR_STATES, MESSAGE_STATUS

    def enum(struct: type) -> set[str]:
        schema = msgspec.json.schema(struct)
        return set(schema["$defs"][struct.__name__]["properties"]["status"]["enum"])

    assert enum(InboxConector) == set(CONNECTOR_STATES)
    assert enum(InboxEstado) == set(MESSAGE_STATUS)
