"""The people API's operations in /api/openapi.json (routes:
:mod:`relevo.accounts.people`)."""

from __future__ import annotations

from typing import Any

import msgspec

from relevo.apps.kit.openapi import Access, Op, Query, component

__all__ = ["PEOPLE_OPS", "PEOPLE_SCHEMAS"]

WHO = Access(session=True, roles=("admin", "supervisor"))


class NewPerson(msgspec.Struct):
    """A person to create; the server chooses the id and a temporary password."""

    username: str
    name: str
    roles: dict[str, list[str]]
    tenant: str = ""


class PersonChange(msgspec.Struct, omit_defaults=True):
    """What to change of a person (absent: unchanged)."""

    name: str | None = None
    roles: dict[str, list[str]] | None = None


_TIME = {"type": "number", "description": "seconds since the Unix epoch"}
PERSON: dict[str, Any] = {
    "type": "object",
    "description": "A person as the people API shows them: never a password, hash or session",
    "properties": {
        "id": {"type": "integer"},
        "username": {"type": "string"},
        "name": {"type": "string"},
        "tenant": {"type": "string"},
        "roles": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": 'roles per app; "*": in every app',
        },
        "active": {"type": "boolean"},
        "must_change_password": {"type": "boolean"},
        "created_at": _TIME,
        "last_sign_in_at": {"anyOf": [_TIME, {"type": "null"}]},
    },
    "required": ["id", "username", "name", "tenant", "roles", "active"],
}
_ONE = {"type": "object", "properties": {"person": component("Person")}, "required": ["person"]}
_WITH_PASSWORD = {
    "type": "object",
    "properties": {
        "person": component("Person"),
        "temporary_password": {
            "type": "string",
            "description": "shown once; the person must change it at their next sign-in",
        },
    },
    "required": ["person", "temporary_password"],
}
_LIST = {
    "type": "object",
    "properties": {
        "people": {"type": "array", "items": component("Person")},
        "me": {"type": "object"},
        "scope": {
            "type": "object",
            "description": "tenant: null for a global admin; roles: what the caller may give",
        },
    },
    "required": ["people"],
}
_AUDIT = {
    "type": "object",
    "properties": {
        "entries": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "at": _TIME,
                    "username": {"type": "string"},
                    "event": {"type": "string"},
                    "detail": {"type": "string"},
                    "address": {"type": "string"},
                },
            },
        }
    },
}

PEOPLE_SCHEMAS: dict[str, Any] = {"Person": PERSON}

PEOPLE_OPS: dict[str, Op] = {
    "GET /api/people": Op(
        "people_list",
        "The people the caller manages (a supervisor: their tenant's inbox people)",
        WHO,
        ok=_LIST,
    ),
    "POST /api/people": Op(
        "people_create",
        "Create a person with a temporary password they must change at first sign-in",
        WHO,
        body=NewPerson,
        ok=_WITH_PASSWORD,
        status=201,
        errors=(409,),
    ),
    "GET /api/people/audit": Op(
        "people_audit",
        "Sign-ins, failures and changes of the people the caller manages, newest first",
        WHO,
        ok=_AUDIT,
        errors=(400,),
        query=(Query("limit", {"type": "integer", "minimum": 1, "maximum": 500}),),
    ),
    "PATCH /api/people/{id:int}": Op(
        "people_update",
        "Change a person's name or roles",
        WHO,
        body=PersonChange,
        ok=_ONE,
        errors=(404,),
        path={"id": {"type": "integer"}},
    ),
    "POST /api/people/{id:int}/password": Op(
        "people_reset_password",
        "A new temporary password (shown once); the person's sessions end",
        WHO,
        ok=_WITH_PASSWORD,
        errors=(404,),
        path={"id": {"type": "integer"}},
    ),
    "POST /api/people/{id:int}/deactivate": Op(
        "people_deactivate",
        "Turn sign-in off; the person's sessions and live connections end at once",
        WHO,
        ok=_ONE,
        errors=(404, 409),
        path={"id": {"type": "integer"}},
    ),
    "POST /api/people/{id:int}/activate": Op(
        "people_activate",
        "Turn sign-in back on",
        WHO,
        ok=_ONE,
        errors=(404,),
        path={"id": {"type": "integer"}},
    ),
}
