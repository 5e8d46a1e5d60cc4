"""``/api/turnos/...`` in the server's OpenAPI document: one op per route of
:mod:`.http`, bodies as structs, tickets as the ``turno`` kind. A backend
issues a ticket (``turnos_emitir``) like a kiosk, with the API key."""

from __future__ import annotations

import copy
from typing import Annotated, Any, Literal

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
from .http import MAX_BODY
from .kinds import ROLE_ADMIN, ROLE_OPERADOR
from .service import ACCIONES

__all__ = ["OPS", "document"]

_Id = Annotated[str, Meta(pattern=r"^[A-Za-z0-9._-]{1,64}$")]


class TurnosArea(msgspec.Struct, forbid_unknown_fields=True):
    id: _Id
    nombre: str | None = None
    orden: int | None = None


class TurnosTramite(msgspec.Struct, forbid_unknown_fields=True):
    id: _Id
    nombre: str | None = None
    prefijo: str | None = None
    area_id: str | None = None
    orden: int | None = None
    activo: bool | None = None


class TurnosMesa(msgspec.Struct, forbid_unknown_fields=True):
    id: _Id
    nombre: str | None = None
    area_id: str | None = None
    tramites: list[str] | None = None
    orden: int | None = None
    activa: bool | None = None


class TurnosTablas(msgspec.Struct, forbid_unknown_fields=True):
    """Rows to create or change, each with its id; rows not named stay."""

    areas: list[TurnosArea] = []
    tramites: list[TurnosTramite] = []
    mesas: list[TurnosMesa] = []


class TurnosConfig(msgspec.Struct):
    areas: list[TurnosArea]
    tramites: list[TurnosTramite]
    mesas: list[TurnosMesa]
    hoy: str
    no_show_seconds: float
    monitor_last: int
    kiosk_role: str
    token_url: str
    demo: bool


class TurnosMonitor(msgspec.Struct):
    """The public monitor: no names. Subscribe to ``channel`` since
    ``epoch``/``offset`` and miss nothing."""

    channel: str
    epoch: str
    offset: int
    fecha: str
    en_espera: dict[str, int]
    llamados: list[dict[str, Any]]


class TurnosEmitir(msgspec.Struct):
    """Issue a ticket for a trámite (the kiosk, or a backend)."""

    tramite_id: str
    prioridad: Literal[0, 1] = 0
    prioridad_motivo: str | None = None
    persona_nombre: str | None = None


class TurnosAccion(msgspec.Struct):
    """``motivo`` only with ``finalizar``."""

    mesa_id: str | None = None
    motivo: str | None = None


class TurnosCambio(msgspec.Struct, forbid_unknown_fields=True):
    persona_nombre: str | None = None
    prioridad: Literal[0, 1] | None = None
    prioridad_motivo: str | None = None


class TurnosLease(msgspec.Struct):
    holder: str
    fencing_token: int
    expires_at: float


class TurnosAbierta(msgspec.Struct):
    """The operator's lease on the mesa (null for the backend)."""

    lease: TurnosLease | None


class TurnosPausa(msgspec.Struct):
    motivo: str | None = None


class TurnosTransferir(msgspec.Struct):
    """One of the two: a trámite (the ticket moves to its area) or a mesa."""

    tramite_id: str | None = None
    mesa_id: str | None = None


_RANGE = (
    Query("desde", {"type": "string", "format": "date"}, "YYYY-MM-DD; default today"),
    Query("hasta", {"type": "string", "format": "date"}, "YYYY-MM-DD; at most 366 days on"),
)
_MESA = {"type": "object", "properties": {"mesa": {"type": "object"}}, "required": ["mesa"]}
_FULL = "TurnoCompleto"
_STAFF = Access(apikey=True, roles=(ROLE_OPERADOR, ROLE_ADMIN))
_ADMIN = Access(apikey=True, roles=(ROLE_ADMIN,))
_ONE = {"type": "object", "properties": {"turno": component(_FULL)}, "required": ["turno"]}
_MAYBE = {
    "type": "object",
    "properties": {"turno": {"anyOf": [component(_FULL), {"type": "null"}]}},
    "required": ["turno"],
}
_ISSUED = {
    "type": "object",
    "properties": {
        "turno": component("Turno"),
        "adelante": {"type": "integer", "description": "how many wait before it"},
    },
    "required": ["turno", "adelante"],
}
_BODY_CAP = f"at most {MAX_BODY} bytes"

OPS: dict[str, Op] = {
    "GET /api/turnos/config": Op(
        "turnos_config", "Areas, trámites, mesas and the settings the screens use", ANYONE,
        ok=TurnosConfig,
    ),
    "POST /api/turnos/config": Op(
        "turnos_configurar", "Create or change areas, trámites and mesas, checked as a whole",
        _ADMIN, body=TurnosTablas, ok=TurnosConfig, description=_BODY_CAP,
    ),
    "GET /api/turnos/monitor": Op(
        "turnos_monitor", "The public monitor's start: the last calls, who waits per area",
        ANYONE, ok=TurnosMonitor,
    ),
    "POST /api/turnos/turnos": Op(
        "turnos_emitir", "Issue a ticket (the kiosk, or a backend with the API key)",
        Access(anyone=True, apikey=True, roles=(ROLE_ADMIN,)), body=TurnosEmitir, ok=_ISSUED,
        status=201, errors=(403, 404, 409, 429),
        description="Anyone, unless `kiosk_role` is set (then a token with it, or admin); "
        "rate-limited per address except for the API key. " + _BODY_CAP,
    ),
    "GET /api/turnos/turnos/{id}": Op(
        "turnos_turno", "One ticket, with the person's name", _STAFF, ok=_ONE, errors=(404,)
    ),
    "PATCH /api/turnos/turnos/{id}": Op(
        "turnos_actualizar", "Edit the person's name or the priority", _STAFF,
        body=TurnosCambio, ok=_ONE, errors=(404, 409),
    ),
    "POST /api/turnos/turnos/{id}/{accion}": Op(
        "turnos_accion", "Recall, attend, finish or mark a no-show", _STAFF,
        body=TurnosAccion, ok=_ONE, errors=(404, 409),
        path={"accion": {"type": "string", "enum": list(ACCIONES)}},
    ),
    "POST /api/turnos/mesas/{mesa}/abrir": Op(
        "turnos_abrir_mesa", "Take (or renew) a mesa; locked while another operator has it",
        _STAFF, ok=TurnosAbierta, errors=(404, 409, 423),
    ),
    "POST /api/turnos/mesas/{mesa}/cerrar": Op(
        "turnos_cerrar_mesa", "Give up a mesa", _STAFF, errors=(404, 409, 423),
    ),
    "POST /api/turnos/mesas/{mesa}/siguiente": Op(
        "turnos_siguiente", "Call the next ticket to a mesa (turno null: nobody waits)",
        _STAFF, ok=_MAYBE, errors=(404, 409, 423),
    ),
    "GET /api/turnos/mesas/{mesa}/actual": Op(
        "turnos_actual", "The ticket a mesa is serving (null: none)", _STAFF, ok=_MAYBE,
        errors=(404,),
    ),
    "GET /api/turnos/stats": Op(
        "turnos_stats", "The admin's figures of the day", _ADMIN,
        ok={
            "type": "object",
            "properties": {
                "stats": {"type": "object"},
                "timestamp": {"type": "integer", "description": "ms since the Unix epoch"},
            },
            "required": ["stats", "timestamp"],
        },
    ),
    "POST /api/turnos/mesas/{mesa}/pausa": Op(
        "turnos_pausar_mesa", "Pause a mesa (a break): it is not called while paused",
        _STAFF, body=TurnosPausa, ok=_MESA, errors=(404, 409, 423), description=_BODY_CAP,
    ),
    "POST /api/turnos/mesas/{mesa}/reanudar": Op(
        "turnos_reanudar_mesa", "End a mesa's pause", _STAFF, ok=_MESA, errors=(404, 409, 423),
    ),
    "POST /api/turnos/turnos/{id}/transferir": Op(
        "turnos_transferir", "Send a waiting ticket to another trámite (its area) or to one mesa; "
        "it keeps its number, priority and arrival", _STAFF, body=TurnosTransferir, ok=_ONE,
        errors=(404, 409), description=_BODY_CAP,
    ),
    "GET /api/turnos/reportes": Op(
        "turnos_reportes", "Tickets, waits and service times per area, mesa, operator and day",
        _ADMIN, ok={"type": "object"}, query=_RANGE,
    ),
    "GET /api/turnos/reportes.csv": Op(
        "turnos_reportes_csv", "The same report as CSV (UTF-8 with a BOM)", _ADMIN,
        ok={"type": "string"}, ok_media="text/csv", query=_RANGE,
    ),
    **demo_login_ops("turnos"),
}  # fmt: skip


def document(ext: Extension, records: Records) -> Extension:
    """``ext`` with its routes' OpenAPI paths (see :func:`..kit.openapi.documented`)."""
    public = record_schema(records.kind("turno"), "A ticket as the public sees it (no names)")
    full = copy.deepcopy(public)
    full["title"] = "turno (staff)"
    full["description"] = "A ticket as operators see it: with the person's name"
    for name in ("persona_nombre", "prioridad_motivo"):
        full["properties"][name] = {"anyOf": [{"type": "string"}, {"type": "null"}]}
    return documented(ext, OPS, schemas={"Turno": public, _FULL: full})
