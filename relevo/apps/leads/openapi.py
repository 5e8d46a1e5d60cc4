"""``/api/leads/...`` in the server's OpenAPI document: one op per route of
:mod:`.http` (and the demo login), bodies as structs, leads as the ``lead``
kind. A backend creates leads (``leads_create``) and derives them
(``leads_assign``) with the API key; the wizard's routes are the asesor's."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta

from relevo.records import Records
from relevo.web import Extension

from ..kit.openapi import (
    ANYONE,
    Access,
    Op,
    Query,
    component,
    demo_login_ops,
    documented,
    record_schema,
)
from .csv_import import MAX_BYTES
from .kinds import LEAD

__all__ = ["OPS", "document"]


class LeadsChoice(msgspec.Struct):
    code: str
    label: str


class LeadsConfig(msgspec.Struct):
    timeout: float
    lease_ttl: float
    heartbeat: float
    max_leads: int
    tipificaciones: list[LeadsChoice]
    resultados: list[LeadsChoice]
    proximas_acciones: list[LeadsChoice]
    demo: bool
    token_url: str


class LeadsMe(msgspec.Struct):
    id: str
    nombre: str
    roles: list[str]


class LeadsUser(msgspec.Struct):
    id: str
    nombre: str | None
    rol: str | None
    activo: bool | None


class LeadsUsers(msgspec.Struct):
    users: list[LeadsUser]


class LeadsContacto(msgspec.Struct, forbid_unknown_fields=True):
    """A new lead's contact data (checked and normalised like a CSV row)."""

    nombre: str
    telefono: str
    documento: str | None = None
    campana: str | None = None
    fuente: str | None = None


class LeadsCreate(msgspec.Struct):
    data: LeadsContacto


class LeadsAssign(msgspec.Struct):
    """Derive (or re-derive) to an asesor; ``force`` takes an open wizard away."""

    asesor_id: str
    force: bool = False


class LeadsImportError(msgspec.Struct):
    line: int
    code: str
    field: str | None
    message: str
    ref: str | None


class LeadsImport(msgspec.Struct):
    imported: int
    ids: list[str]
    errors: list[LeadsImportError]
    total: int
    valid: int
    dry_run: bool
    ignored_columns: list[str]


class LeadsOpen(msgspec.Struct):
    tab: Annotated[str, Meta(min_length=1, max_length=64, description="names the browser tab")]


class LeadsFence(msgspec.Struct):
    fencing_token: int


class LeadsWizard(msgspec.Struct, forbid_unknown_fields=True):
    """The wizard's fields (choices: ``GET /api/leads/config``)."""

    wizard_step: int | None = None
    resultado_contacto: str | None = None
    tipificacion: str | None = None
    notas: str | None = None
    proxima_accion: str | None = None


class LeadsStep(msgspec.Struct):
    fencing_token: int
    data: LeadsWizard = msgspec.field(default_factory=LeadsWizard)


class LeadsLease(msgspec.Struct):
    holder: str
    fencing_token: int
    expires_at: Annotated[float, Meta(description="seconds since the Unix epoch")]


_LEAD = "Lead"
_GTR = Access(apikey=True, roles=("gtr", "admin"))
_ASESOR = Access(roles=("asesor",))
_HELD = {
    "type": "object",
    "properties": {"record": component(_LEAD), "lease": component("LeadsLease")},
    "required": ["record", "lease"],
}
_ONE = {"type": "object", "properties": {"record": component(_LEAD)}, "required": ["record"]}
_FLAG = {"type": "string", "enum": ["0", "1", "true", "false", "yes", "no"]}
_WIZARD_ERRORS = (404, 409, 423)

OPS: dict[str, Op] = {
    "GET /api/leads/config": Op(
        "leads_config", "Timeouts, the wizard's choices, demo mode", ANYONE, ok=LeadsConfig
    ),
    "GET /api/leads/me": Op(
        "leads_me", "The caller's id, name and roles", Access(apikey=True, user=True), ok=LeadsMe
    ),
    "GET /api/leads/users": Op(
        "leads_users", "The directory (names for ids)",
        Access(apikey=True, roles=("gtr", "admin", "asesor")), ok=LeadsUsers,
    ),
    "POST /api/leads/create": Op(
        "leads_create", "Create a lead (nuevo)", _GTR, body=LeadsCreate,
        ok=component(_LEAD), status=201,
    ),
    "POST /api/leads/import": Op(
        "leads_import", "Import leads from a CSV (the body); errors by line", _GTR,
        body={"type": "string", "maxLength": MAX_BYTES}, ok=LeadsImport,
        body_media=("text/csv", "application/octet-stream"),
        query=(
            Query("dry_run", _FLAG, "check without writing"),
            Query("strict", _FLAG, "write nothing if any row is bad"),
        ),
    ),
    "POST /api/leads/{id}/assign": Op(
        "leads_assign", "Derive a lead to an asesor", _GTR, body=LeadsAssign,
        ok=component(_LEAD), errors=(404, 409, 423),
    ),
    "POST /api/leads/{id}/open": Op(
        "leads_open", "Take the wizard: the lease and en_gestion", _ASESOR, body=LeadsOpen,
        ok=_HELD, errors=_WIZARD_ERRORS,
    ),
    "POST /api/leads/{id}/heartbeat": Op(
        "leads_heartbeat", "Keep the wizard: renew the lease, push the timeout", _ASESOR,
        body=LeadsFence, ok=_HELD, errors=_WIZARD_ERRORS,
    ),
    "POST /api/leads/{id}/step": Op(
        "leads_step", "Save a wizard step", _ASESOR, body=LeadsStep, ok=_ONE,
        errors=_WIZARD_ERRORS,
    ),
    "POST /api/leads/{id}/complete": Op(
        "leads_complete", "Finish: terminado, the lease released", _ASESOR, body=LeadsStep,
        ok=_ONE, errors=_WIZARD_ERRORS,
    ),
    "POST /api/leads/{id}/close": Op(
        "leads_close", "Close the wizard without finishing (a no-op if already released)",
        _ASESOR, body=LeadsFence, ok=_ONE, errors=_WIZARD_ERRORS,
    ),
    **demo_login_ops("leads"),
}  # fmt: skip


def document(ext: Extension, records: Records) -> Extension:
    """``ext`` with its routes' OpenAPI paths (see :func:`..kit.openapi.documented`)."""
    schemas: dict[str, Any] = {
        _LEAD: record_schema(records.kind(LEAD), "A lead as users see it"),
        "LeadsLease": LeadsLease,
    }
    return documented(ext, OPS, schemas=schemas)
