"""The OpenAPI document of the HTTP API (served at /api/openapi.json)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["merge_schemas", "openapi_document"]

_ERR = {"$ref": "#/components/schemas/Error"}


def _resp(desc: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    ok: dict[str, Any] = {"description": desc}
    if schema is not None:
        ok["content"] = {"application/json": {"schema": schema}}
    return {
        "200": ok,
        "400": {"description": "bad_request", "content": {"application/json": {"schema": _ERR}}},
        "401": {"description": "unauthorized", "content": {"application/json": {"schema": _ERR}}},
        "503": {"description": "unavailable", "content": {"application/json": {"schema": _ERR}}},
    }


def _body(props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema = {"type": "object", "properties": props, "required": required}
    return {"required": True, "content": {"application/json": {"schema": schema}}}


_CH = {"name": "channel", "in": "path", "required": True, "schema": {"type": "string"}}
_POSITION = {
    "type": "object",
    "properties": {
        "channel": {"type": "string"},
        "epoch": {"type": "string"},
        "offset": {"type": "integer"},
    },
}
_PUBLICATION = {
    "type": "object",
    "properties": {
        "ch": {"type": "string"},
        "off": {"type": "integer"},
        "ev": {"type": "string"},
        "data": {},
        "ts": {"type": "integer", "description": "milliseconds since the Unix epoch"},
    },
}

_IDEMPOTENCY_KEY = {
    "type": "string",
    "minLength": 1,
    "maxLength": 256,
    "description": "A repeat within the broker's window (5 min by default) publishes "
    "nothing and answers the first publication's position; broadcast applies it per channel",
}


def merge_schemas(parts: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The extensions' ``components/schemas`` in one; a name two of them
    define differently is a bug in one of them."""
    out: dict[str, Any] = {}
    for part in parts:
        for name, schema in part.items():
            if out.setdefault(name, schema) != schema:
                raise ValueError(f"two extensions define the OpenAPI schema {name} differently")
    return out


_ADMIN_SEC: list[dict[str, list[str]]] = [{"bearer": ["admin"]}, {"apikey": []}]


def _admin_op(summary: str, **kw: Any) -> dict[str, Any]:
    responses = _resp("ok", {"type": "object"})
    responses["403"] = {
        "description": "forbidden",
        "content": {"application/json": {"schema": _ERR}},
    }
    return {"summary": summary, "security": _ADMIN_SEC, "responses": responses, **kw}


def _server_api_paths() -> dict[str, Any]:
    """The server's own routes under /api/ beyond the backend's API."""
    return {
        "/api/command": {
            "post": {
                "summary": "Run one stateless client frame (pub, history, presence, ping) over "
                "HTTP as the Bearer token's user, or anonymously: what an SSE client cannot "
                "send on its stream. The body and answer are protocol frames (docs/protocol.md)",
                "security": [{}, {"bearer": []}],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "responses": _resp("the reply frame", {"type": "object"}),
            }
        },
        "/api/links": {
            "get": {
                "summary": "The apps' links for the index page",
                "security": [],
                "responses": _resp(
                    "(label, url) pairs",
                    {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {"label": {"type": "string"}, "url": {"type": "string"}},
                        },
                    },
                ),
            }
        },
        "/api/openapi.json": {
            "get": {
                "summary": "This document",
                "security": [],
                "responses": _resp("OpenAPI 3.1", {"type": "object"}),
            }
        },
        "/api/admin/overview": {
            "get": _admin_op("Nodes, connections, channels and recent errors (the admin page)")
        },
        "/api/admin/presence/{channel}": {
            "get": _admin_op("Who is in a channel (where join_leave tracks it)", parameters=[_CH])
        },
        "/api/admin/disconnect": {
            "post": _admin_op(
                "Close one connection of this node (client) or every one of a user (user)",
                requestBody=_body({"client": {"type": "string"}, "user": {"type": "string"}}, []),
            )
        },
    }


def openapi_document(
    version: str,
    extra_paths: dict[str, Any] | None = None,
    extra_schemas: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The document; ``extra_paths``: the extensions' routes (records, apps),
    ``extra_schemas``: the components they refer to."""
    paths: dict[str, Any] = {
        "/api/publish": {
            "post": {
                "summary": "Publish one event to one channel",
                "requestBody": _body(
                    {
                        "channel": {"type": "string"},
                        "event": {"type": "string"},
                        "data": {},
                        "idempotency_key": _IDEMPOTENCY_KEY,
                    },
                    ["channel", "event"],
                ),
                "responses": _resp("the publication's position", _POSITION),
            }
        },
        "/api/broadcast": {
            "post": {
                "summary": "Publish the same event to many channels",
                "requestBody": _body(
                    {
                        "channels": {"type": "array", "items": {"type": "string"}},
                        "event": {"type": "string"},
                        "data": {},
                        "idempotency_key": _IDEMPOTENCY_KEY,
                    },
                    ["channels", "event"],
                ),
                "responses": _resp(
                    "one position per channel",
                    {
                        "type": "object",
                        "properties": {"results": {"type": "array", "items": _POSITION}},
                    },
                ),
            }
        },
        "/api/history/{channel}": {
            "get": {
                "summary": "A channel's retained publications",
                "parameters": [
                    _CH,
                    {"name": "since_epoch", "in": "query", "schema": {"type": "string"}},
                    {"name": "since_offset", "in": "query", "schema": {"type": "integer"}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 100}},
                ],
                "responses": _resp(
                    "publications and the current position",
                    {
                        "type": "object",
                        "properties": {
                            "epoch": {"type": "string"},
                            "offset": {"type": "integer"},
                            "publications": {"type": "array", "items": _PUBLICATION},
                        },
                    },
                ),
            }
        },
        "/api/presence/{channel}": {
            "get": {
                "summary": "Who is subscribed to a channel",
                "parameters": [_CH],
                "responses": _resp("clients by id", {"type": "object"}),
            }
        },
        "/api/disconnect": {
            "post": {
                "summary": "Close every connection of a user on every node",
                "requestBody": _body({"user": {"type": "string"}}, ["user"]),
                "responses": _resp("done", {"type": "object"}),
            }
        },
        "/api/info": {
            "get": {"summary": "This node's connections and channels", "responses": _resp("info")}
        },
        "/healthz": {
            "get": {"summary": "The process is up", "security": [], "responses": _resp("ok")}
        },
        "/readyz": {
            "get": {"summary": "The broker answers", "security": [], "responses": _resp("ready")}
        },
        "/metrics": {
            "get": {"summary": "Prometheus metrics", "security": [], "responses": _resp("text")}
        },
    }
    paths.update(_server_api_paths())
    paths.update(extra_paths or {})
    return {
        "openapi": "3.1.0",
        "info": {"title": "relevo server API", "version": version},
        "paths": paths,
        "security": [{"apikey": []}],
        "components": {
            "securitySchemes": {
                "apikey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "relevo_session",
                    "description": "relevo's sign-in session (POST /auth/login); "
                    "__Host-relevo_session over https",
                },
            },
            "schemas": {
                **(extra_schemas or {}),
                "Error": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "retry": {"type": "boolean"},
                    },
                    "required": ["code", "message"],
                },
            },
        },
    }
