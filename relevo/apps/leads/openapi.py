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
from .kinds import LEAD, STATES

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


class LeadsEditData(msgspec.Struct, forbid_unknown_fields=True):
    """What changes (only what differs is written; each edit is in the history)."""

    nombre: str | None = None
    telefono: str | None = None
    notas: Annotated[str, Meta(max_length=2000)] | None = None


class LeadsEdit(msgspec.Struct):
    data: LeadsEditData


class LeadsScheduleData(msgspec.Struct, forbid_unknown_fields=True):
    """The wizard's fields and when to call back (ms since the epoch, 1 min–90 days ahead)."""

    callback_at: int
    wizard_step: int | None = None
    resultado_contacto: str | None = None
    tipificacion: str | None = None
    notas: str | None = None
    proxima_accion: str | None = None


class LeadsSchedule(msgspec.Struct):
    fencing_token: int
    data: LeadsScheduleData


class LeadsBulkAssign(msgspec.Struct):
    """Derive several leads to one asesor, each in its own transaction."""

    ids: Annotated[list[str], Meta(min_length=1, max_length=200)]
    asesor_id: str


class LeadsBulkRow(msgspec.Struct):
    id: str
    ok: bool
    version: int | None = None
    code: str | None = None
    message: str | None = None
    holder: str | None = None
    holder_name: str | None = None
    state: str | None = None
    reason: str | None = None


class LeadsBulkResult(msgspec.Struct):
    assigned: int
    failed: int
    results: list[LeadsBulkRow]


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
    "POST /api/leads/assign": Op(
        "leads_assign_many", "Bulk assign: several leads to one asesor, a result per lead",
        _GTR, body=LeadsBulkAssign, ok=LeadsBulkResult,
    ),
    "GET /api/leads/export": Op(
        "leads_export", "The GTR board as filtered, as CSV (UTF-8 with a BOM, formula-safe)",
        _GTR, ok={"type": "string"}, ok_media="text/csv",
        query=(
            Query("estado", {"type": "string", "enum": list(STATES)}, "one state"),
            Query("asesor", {"type": "string"}, "an asesor id; - for unassigned"),
            Query("campana", {"type": "string"}, "one campaña"),
            Query("q", {"type": "string", "maxLength": 200}, "text in name, phone, document, #id"),
            Query("orden", {"type": "string", "enum": ["recent", "due", "activity"]}, "order"),
        ),
    ),
    "GET /api/leads/mine/completed": Op(
        "leads_completed", "The asesor's own completed leads, newest first", _ASESOR,
        ok={"type": "object", "properties": {"leads": {"type": "array", "items": component(_LEAD)}},
            "required": ["leads"]},
        query=(Query("limit", {"type": "integer", "minimum": 1, "maximum": 200}, "at most"),),
    ),
    "POST /api/leads/{id}/edit": Op(
        "leads_edit", "Edit nombre, telefono, notas (gtr: any lead; asesor: their own)",
        Access(apikey=True, roles=("gtr", "admin", "asesor")), body=LeadsEdit, ok=_ONE,
        errors=(404, 423),
    ),
    "POST /api/leads/{id}/schedule": Op(
        "leads_schedule", "Volver a llamar: agendado until callback_at, then back to the asesor",
        _ASESOR, body=LeadsSchedule, ok=_ONE, errors=_WIZARD_ERRORS,
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
