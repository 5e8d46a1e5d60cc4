"""The OpenAPI document of the HTTP API (served at /api/openapi.json)."""

from __future__ import annotations

from typing import Any

__all__ = ["openapi_document"]

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


def openapi_document(version: str, extra_paths: dict[str, Any] | None = None) -> dict[str, Any]:
    """The document; ``extra_paths``: the extensions' routes (records, apps)."""
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
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "retry": {"type": "boolean"},
                    },
                    "required": ["code", "message"],
                }
            },
        },
    }
