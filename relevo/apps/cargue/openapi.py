"""``/api/cargue/...`` in the server's OpenAPI document: one op per route of
:mod:`.http`, its bodies as structs, its rows as the ``cargue_item`` kind."""

from __future__ import annotations

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
from .kinds import ITEM, ROLE_ADMIN, ROLE_DESPACHADOR, ROLE_VENDEDOR
from .service import MAX_ROWS

__all__ = ["OPS", "document"]

_Id = Annotated[str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")]
_Fecha = Annotated[str, Meta(description="YYYY-MM-DD")]


class CargueConfig(msgspec.Struct):
    fecha: _Fecha
    dia: Annotated[str, Meta(description="LUNES ... DOMINGO")]
    demo: bool
    token_url: str


class CargueMe(msgspec.Struct):
    id: str
    roles: list[str]
    nombre: str | None
    ruta: str | None = None


class CargueCheck(msgspec.Struct):
    """Tick (true) or untick (false) V or D; asking for the value the row has
    changes nothing, so a phone may resend."""

    check: Literal["v", "d"]
    value: bool


class CargueFila(msgspec.Struct):
    """One product of a plantilla."""

    producto: Annotated[str, Meta(min_length=1, max_length=120)]
    cantidad: Annotated[int, Meta(ge=0, le=100_000)] = 0
    codigo: Annotated[str, Meta(max_length=40)] | None = None
    unidad: Annotated[str, Meta(max_length=40)] | None = None
    orden: int | None = None


class CarguePlantilla(msgspec.Struct):
    """A vendor's rows for a day (default today); rows of that day still
    pendiente are replaced, ticked ones stay."""

    vendedor_id: _Id
    rows: Annotated[list[CargueFila], Meta(min_length=1, max_length=MAX_ROWS)]
    fecha: _Fecha | None = None


class CargueAvance(msgspec.Struct):
    vendedor_id: str
    total: int
    v: int
    d: int


class CargueProgreso(msgspec.Struct):
    fecha: str
    vendedores: list[CargueAvance]


_ROW = "CargueItem"
_STAFF = (ROLE_DESPACHADOR, ROLE_ADMIN)

OPS: dict[str, Op] = {
    "GET /api/cargue/config": Op(
        "cargue_config", "What the pages need: today's date and day, demo mode", ANYONE,
        ok=CargueConfig,
    ),
    "GET /api/cargue/me": Op(
        "cargue_me", "The caller as the directory knows them (name, route)",
        Access(apikey=True, user=True), ok=CargueMe,
    ),
    "POST /api/cargue/items/{id}/check": Op(
        "cargue_check", "Tick or untick V (the vendor, on his own rows) or D (the dispatcher)",
        Access(apikey=True, roles=(ROLE_VENDEDOR, *_STAFF)),
        body=CargueCheck, ok=component(_ROW), errors=(404, 409),
    ),
    "POST /api/cargue/plantillas": Op(
        "cargue_plantilla", "Load a vendor's plantilla for a day",
        Access(apikey=True, roles=_STAFF),
        body=CarguePlantilla, status=201, errors=(404,),
        ok={"type": "object", "properties": {"rows": {"type": "array", "items": component(_ROW)}},
            "required": ["rows"]},
    ),
    "GET /api/cargue/progreso": Op(
        "cargue_progreso", "Per-vendor totals of a day", Access(apikey=True, roles=_STAFF),
        ok=CargueProgreso, query=(Query("fecha", {"type": "string"}, "YYYY-MM-DD; default today"),),
    ),
    **demo_login_ops("cargue"),
}  # fmt: skip


def document(ext: Extension, records: Records) -> Extension:
    """``ext`` with its routes' OpenAPI paths (see :func:`..kit.openapi.documented`)."""
    row = record_schema(records.kind(ITEM), "A product row of a vendor's load-out check")
    schemas: dict[str, Any] = {_ROW: row}
    return documented(ext, OPS, schemas=schemas)
