"""An app's routes in the server's OpenAPI document (``/api/openapi.json``).

Each app declares one :class:`Op` per route, keyed the way
``docs/security.md`` names routes (``"POST /api/leads/create"``): who may
call it (:class:`Access`), the body and the answer as types that
``msgspec.json.schema`` describes (a ``msgspec.Struct``) or as a schema of a
component (a record of a kind: :func:`record_schema`), and the errors past
those the caller and the body already imply. :func:`documented` walks the
Extension's routes against those ops, so a route without an op — or an op
without a route — fails the moment the app is built, not in a client months
later::

    def extension(ctx):
        ...
        return documented(Extension(NAME, routes=...), OPS, schemas={...})

Errors are :data:`APP_ERROR`: relevo's ``{"code", "message", "retry"}``
plus the Spanish ``mensaje`` and the fields the pages read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec
from starlette.routing import BaseRoute, Route

from relevo.records import Kind
from relevo.web import Extension

__all__ = [
    "ANYONE",
    "APP_ERROR",
    "Access",
    "Op",
    "Query",
    "UndocumentedRoute",
    "component",
    "demo_login_ops",
    "documented",
    "openapi_paths",
    "record_schema",
]

#: relevo's error body as the apps send it.
APP_ERROR: dict[str, Any] = {
    "type": "object",
    "description": "relevo's error body; apps add mensaje (Spanish, shown as is) and "
    "the fields their pages read",
    "properties": {
        "code": {
            "type": "string",
            "description": "stable: bad_request, unauthorized, forbidden, not_found, "
            "too_large, conflict, locked, rate_limited, limit_exceeded, unavailable, internal",
        },
        "message": {"type": "string", "description": "English, for developers"},
        "retry": {"type": "boolean", "description": "the same request may succeed later"},
        "mensaje": {"type": "string", "description": "Spanish, for the screen"},
        "field": {"type": "string", "description": "the input it is about"},
        "holder": {"type": "string", "description": "423: who holds the lease"},
        "retry_after": {"type": "number", "description": "429: seconds to wait"},
        "state": {"type": "string", "description": "409: the record's state"},
    },
    "required": ["code", "message", "retry"],
    "additionalProperties": True,
}
_ERROR_REF = {"$ref": "#/components/schemas/AppError"}
_REF = "#/components/schemas/{name}"
_CODES = {
    400: "bad_request",
    401: "unauthorized: no or a bad token / API key",
    403: "forbidden",
    404: "not_found",
    409: "conflict: the record's state does not allow it",
    413: "too_large: the body is over the route's cap",
    423: "locked: another holder has it (holder)",
    429: "rate_limited (Retry-After)",
    503: "unavailable",
}
_CONVERTER = re.compile(r"\{(\w+)(?::\w+)?\}")


class UndocumentedRoute(ValueError):
    """A route with no :class:`Op`, or an op with no route."""


@dataclass(frozen=True, slots=True)
class Access:
    """Who may call a route: ``anyone`` (no credentials; a token or the key
    may still be sent), the ``apikey`` (the team's backend), a JWT carrying
    one of ``roles`` — or any valid JWT with ``user`` — and ``demo``: only
    while the server runs with ``demo = true`` (404 otherwise). ``session``:
    relevo's sign-in cookie (the people API), with ``roles`` of its account."""

    anyone: bool = False
    apikey: bool = False
    user: bool = False
    roles: tuple[str, ...] = ()
    demo: bool = False
    session: bool = False

    def security(self) -> list[dict[str, list[str]]]:
        """OpenAPI security requirements, one alternative each; a JWT's
        required roles are its list (OpenAPI 3.1 allows roles there)."""
        out: list[dict[str, list[str]]] = []
        if self.session:
            return [{"session": []}]
        if self.user or self.roles:
            out.append({"bearer": list(self.roles)})
        if self.apikey:
            out.append({"apikey": []})
        if self.anyone and out:
            out.append({})
        return out

    def errors(self) -> set[int]:
        out: set[int] = set()
        if not self.anyone:
            out.add(401)
            if self.roles or not self.user:
                out.add(403)
        if self.demo:
            out.add(404)
        return out


ANYONE = Access(anyone=True)


@dataclass(frozen=True, slots=True)
class Query:
    """A query-string parameter."""

    name: str
    schema: Mapping[str, Any]
    description: str = ""
    required: bool = False

    def as_parameter(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "in": "query", "schema": dict(self.schema)}
        if self.required:
            out["required"] = True
        if self.description:
            out["description"] = self.description
        return out


@dataclass(frozen=True, slots=True)
class Op:
    """One route's operation. ``body`` and ``ok`` are types ``msgspec`` can
    describe, or a JSON schema (a ``$ref`` to a component from
    :func:`component`); ``ok=None``: an empty object."""

    id: str
    """operationId: what a generated client names the call."""
    summary: str
    access: Access
    body: Any = None
    ok: Any = None
    status: int = 200
    errors: tuple[int, ...] = ()
    """Error statuses past those ``access`` and ``body`` imply."""
    query: tuple[Query, ...] = ()
    path: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Schemas of path parameters that are more than a string."""
    body_media: str | tuple[str, ...] = "application/json"
    """The body's media type(s), one schema for all."""
    body_required: bool = True
    description: str = ""
    ok_media: str = "application/json"
    """The answer's media type (``text/csv`` for an export)."""


def component(name: str) -> dict[str, str]:
    """A ``$ref`` to the schema component ``name``."""
    return {"$ref": _REF.format(name=name)}


_JSON_TYPES: dict[type, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    dict: "object",
    list: "array",
}
_SCALARS = (str, int, float, bool)


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def record_schema(kind: Kind, description: str = "") -> dict[str, Any]:
    """What users see of a record of ``kind`` (``Kind.public``): its public
    fields (each may be null) and the metadata every record carries."""
    props: dict[str, Any] = {}
    for name, f in kind.fields.items():
        if not f.public:
            continue
        tp = _JSON_TYPES.get(f.type)
        schema: dict[str, Any] = {"type": tp} if tp else {}
        if f.choices is not None and f.type in _SCALARS:
            schema["enum"] = sorted(f.choices, key=str)
        props[name] = _nullable(schema) if schema else {}
    state: dict[str, Any] = {"type": "string"}
    if kind.states:
        state["enum"] = sorted(kind.states)
    props["id"] = {"type": "string"}
    props["version"] = {"type": "integer"}
    props["state"] = _nullable(state)
    if kind.lease is not None:
        props["lease"] = _nullable(
            {
                "type": "object",
                "properties": {
                    "holder": {"type": "string"},
                    "fencing_token": {"type": "integer"},
                    "expires_at": {"type": "number", "description": "seconds since the epoch"},
                },
                "required": ["holder", "fencing_token", "expires_at"],
            }
        )
    props["created_at"] = {"type": "integer", "description": "ms since the Unix epoch"}
    props["updated_at"] = {"type": "integer", "description": "ms since the Unix epoch"}
    out: dict[str, Any] = {
        "type": "object",
        "title": kind.name,
        "properties": props,
        "required": ["id", "version", "state", "created_at", "updated_at"],
    }
    if description:
        out["description"] = description
    return out


class _Schemas:
    """msgspec types → schemas with ``$ref``s into ``components/schemas``."""

    def __init__(self) -> None:
        self.components: dict[str, Any] = {"AppError": APP_ERROR}

    def of(self, value: Any) -> dict[str, Any]:
        if isinstance(value, Mapping):
            return dict(value)
        (schema,), comps = msgspec.json.schema_components([value], ref_template=_REF)
        for name, comp in comps.items():
            if self.components.setdefault(name, comp) != comp:
                raise UndocumentedRoute(f"two different schemas are named {name}")
        return schema


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _operation(op: Op, path: str, tag: str, schemas: _Schemas) -> dict[str, Any]:
    out: dict[str, Any] = {"operationId": op.id, "summary": op.summary, "tags": [tag]}
    if op.description:
        out["description"] = op.description
    out["security"] = op.access.security()
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": dict(op.path.get(name, {}))}
        for name in _CONVERTER.findall(path)
    ]
    for p in params:
        p["schema"] = p["schema"] or {"type": "string"}
    params.extend(q.as_parameter() for q in op.query)
    if params:
        out["parameters"] = params
    errors = op.access.errors() | set(op.errors)
    if op.body is not None:
        errors |= {400, 413}
        media = (op.body_media,) if isinstance(op.body_media, str) else op.body_media
        schema = schemas.of(op.body)
        out["requestBody"] = {
            "required": op.body_required,
            "content": {m: {"schema": schema} for m in media},
        }
    ok = schemas.of(op.ok) if op.ok is not None else {"type": "object"}
    content = _json(ok) if op.ok_media == "application/json" else {op.ok_media: {"schema": ok}}
    responses: dict[str, Any] = {str(op.status): {"description": "ok", "content": content}}
    for status in sorted(errors):
        answer: dict[str, Any] = {"description": _CODES[status], "content": _json(_ERROR_REF)}
        if status == 429:
            answer["headers"] = {
                "Retry-After": {"description": "seconds", "schema": {"type": "integer"}}
            }
        responses[str(status)] = answer
    out["responses"] = responses
    return out


def _api_routes(routes: Iterable[BaseRoute]) -> Iterable[tuple[str, str]]:
    for route in routes:
        if isinstance(route, Route) and route.path.startswith("/api/"):
            for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
                yield method, route.path


def openapi_paths(
    routes: Iterable[BaseRoute],
    ops: Mapping[str, Op],
    *,
    tag: str,
    schemas: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(paths, component schemas) of the ``/api/`` routes among ``routes``;
    ``ops`` is keyed ``"METHOD /path"`` as the route declares its path;
    ``schemas``: components the ops refer to (a schema, or a struct that
    is named after itself)."""
    found = {f"{m} {p}": (m, p) for m, p in _api_routes(routes)}
    missing = sorted(set(found) - set(ops))
    stale = sorted(set(ops) - set(found))
    if missing or stale:
        raise UndocumentedRoute(f"routes without an op: {missing}; ops without a route: {stale}")
    comps = _Schemas()
    for name, schema in (schemas or {}).items():
        if isinstance(schema, Mapping):
            comps.components[name] = dict(schema)
        else:  # a struct others refer to by its name
            comps.of(schema)
    paths: dict[str, Any] = {}
    for key, (method, path) in found.items():
        plain = _CONVERTER.sub(r"{\1}", path)
        paths.setdefault(plain, {})[method.lower()] = _operation(ops[key], path, tag, comps)
    return paths, comps.components


def documented(
    ext: Extension, ops: Mapping[str, Op], *, schemas: Mapping[str, Any] | None = None
) -> Extension:
    """``ext`` with the OpenAPI paths and schemas of its routes (tag: its name)."""
    paths, comps = openapi_paths(ext.routes, ops, tag=ext.name, schemas=schemas)
    ext.openapi_paths = {**ext.openapi_paths, **paths}
    ext.openapi_schemas = {**ext.openapi_schemas, **comps}
    return ext


class DemoToken(msgspec.Struct):
    """Whom to sign in as (an id from the demo users)."""

    user: str


def demo_login_ops(app: str) -> dict[str, Op]:
    """The ops of :func:`relevo.apps.kit.demo.demo_login_routes`."""
    who = Access(anyone=True, demo=True)
    user = {"type": "object", "additionalProperties": True}
    return {
        f"GET /api/{app}/demo/users": Op(
            f"{app}_demo_users",
            "Demo only: the seeded users the login page lists",
            who,
            ok={"type": "object", "properties": {"users": {"type": "array", "items": user}}},
        ),
        f"POST /api/{app}/demo/token": Op(
            f"{app}_demo_token",
            "Demo only: a token for a seeded user, without a password",
            who,
            body=DemoToken,
            ok={
                "type": "object",
                "properties": {"token": {"type": "string"}, "user": user},
                "required": ["token", "user"],
            },
            errors=(404,),
        ),
    }
