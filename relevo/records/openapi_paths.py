"""The records routes in the server's OpenAPI document."""

from __future__ import annotations

from typing import Any

__all__ = ["records_paths"]

_ERR = {"$ref": "#/components/schemas/Error"}
_SEC: list[dict[str, list[str]]] = [{"bearer": []}, {"apikey": []}]
_RECORD = {
    "type": "object",
    "description": "the kind's public fields plus id, version, state, lease, timestamps",
    "properties": {
        "id": {"type": "string"},
        "version": {"type": "integer"},
        "state": {"type": ["string", "null"]},
    },
    "additionalProperties": True,
}
_LEASE = {
    "type": "object",
    "properties": {
        "holder": {"type": "string"},
        "fencing_token": {"type": "integer"},
        "expires_at": {"type": "number", "description": "seconds since the Unix epoch"},
    },
}
_KIND = {"name": "kind", "in": "path", "required": True, "schema": {"type": "string"}}
_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
_CODES = {
    "400": "bad_request",
    "401": "unauthorized",
    "403": "forbidden",
    "404": "not_found",
    "409": "conflict",
    "423": "locked (with holder)",
    "429": "limit_exceeded",
    "503": "unavailable",
}


def _op(summary: str, ok: dict[str, Any], body: dict[str, Any] | None = None, **kw: Any) -> Any:
    responses: dict[str, Any] = {
        "200": {"description": "ok", "content": {"application/json": {"schema": ok}}}
    }
    for status, desc in _CODES.items():
        responses[status] = {"description": desc, "content": {"application/json": {"schema": _ERR}}}
    op: dict[str, Any] = {"summary": summary, "security": _SEC, "responses": responses, **kw}
    if body is not None:
        schema = {"type": "object", "properties": body}
        op["requestBody"] = {"content": {"application/json": {"schema": schema}}}
    return op


def records_paths() -> dict[str, Any]:
    """The OpenAPI paths of ``/api/records/...``."""
    p = [_KIND, _ID]
    fence = {"fencing_token": {"type": "integer"}}
    return dict(
        {
            "/api/records/{kind}": {
                "get": _op(
                    "Live query: rows matching ?field=value (a,b for any of) plus the channel "
                    "position read before them; subscribe since it and apply deltas",
                    {
                        "type": "object",
                        "properties": {
                            "kind": {"type": "string"},
                            "channel": {"type": "string"},
                            "epoch": {"type": "string"},
                            "offset": {"type": "integer"},
                            "rows": {"type": "array", "items": _RECORD},
                            "more": {"type": "boolean"},
                        },
                    },
                    parameters=[
                        _KIND,
                        {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                        {
                            "name": "newest",
                            "in": "query",
                            "description": "past limit, keep the newest: 1 or created "
                            "(by creation), updated (by last change); 0: the oldest",
                            "schema": {"type": "string", "enum": ["0", "1", "created", "updated"]},
                        },
                    ],
                ),
                "post": _op(
                    "Create a record",
                    _RECORD,
                    {"data": {"type": "object"}, "id": {"type": "string"}},
                    parameters=[_KIND],
                ),
            },
            "/api/records/{kind}/{id}": {
                "get": _op("One record", _RECORD, parameters=p),
                "patch": _op(
                    "Update fields (optimistic with version)",
                    _RECORD,
                    {"data": {"type": "object"}, "version": {"type": "integer"}, **fence},
                    parameters=p,
                ),
            },
            "/api/records/{kind}/{id}/transitions/{name}": {
                "post": _op(
                    "Run a named transition",
                    _RECORD,
                    {
                        "data": {"type": "object"},
                        "version": {"type": "integer"},
                        "reason": {"type": "string"},
                        **fence,
                    },
                    parameters=[
                        *p,
                        {
                            "name": "name",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                    ],
                )
            },
            "/api/records/{kind}/{id}/lease": {
                "post": _op("Acquire the lease", _LEASE, {"ttl": {"type": "number"}}, parameters=p),
                "delete": _op("Release the lease", _RECORD, fence, parameters=p),
            },
            "/api/records/{kind}/{id}/lease/heartbeat": {
                "post": _op(
                    "Renew the lease", _LEASE, {**fence, "ttl": {"type": "number"}}, parameters=p
                )
            },
            "/api/records/{kind}/{id}/history": {
                "get": _op(
                    "The record's history (who, when, from, to, why)",
                    {
                        "type": "object",
                        "properties": {"entries": {"type": "array", "items": {"type": "object"}}},
                    },
                    parameters=p,
                )
            },
            "/api/records/{kind}/{id}/activity": {
                "post": _op(
                    "Activity on the record: pushes idle timers' deadlines",
                    {"type": "object", "properties": {"deadline": {"type": ["integer", "null"]}}},
                    parameters=p,
                )
            },
        }
    )
