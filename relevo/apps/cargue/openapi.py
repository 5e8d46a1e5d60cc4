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
from .kinds import CIERRE, ITEM, ROLE_ADMIN, ROLE_DESPACHADOR, ROLE_VENDEDOR
from .plantilla import MAX_ROWS

__all__ = ["OPS", "document"]

_Id = Annotated[str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")]
_Fecha = Annotated[str, Meta(description="YYYY-MM-DD")]
_Unset = msgspec.UnsetType
_UNSET = msgspec.UNSET


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


class CargueNuevaFila(msgspec.Struct):
    """One more product on a vendor's day (``orden`` default: the end)."""

    vendedor_id: _Id
    producto: Annotated[str, Meta(min_length=1, max_length=120)]
    cantidad: Annotated[int, Meta(ge=0, le=100_000)] = 0
    codigo: Annotated[str, Meta(max_length=40)] | None = None
    unidad: Annotated[str, Meta(max_length=40)] | None = None
    orden: Annotated[int, Meta(ge=0, le=100_000)] | None = None
    fecha: _Fecha | None = None


class CargueCambio(msgspec.Struct, omit_defaults=True):
    """The plan (only while the row is pendiente) and what happened: loaded
    (null: as planned), returned, and why; a difference or a return needs
    ``motivo``. Send only what changes."""

    producto: Annotated[str, Meta(min_length=1, max_length=120)] | _Unset = _UNSET
    cantidad: Annotated[int, Meta(ge=0, le=100_000)] | _Unset = _UNSET
    codigo: Annotated[str, Meta(max_length=40)] | None | _Unset = _UNSET
    unidad: Annotated[str, Meta(max_length=40)] | None | _Unset = _UNSET
    orden: Annotated[int, Meta(ge=0, le=100_000)] | None | _Unset = _UNSET
    cargada: Annotated[int, Meta(ge=0, le=100_000)] | None | _Unset = _UNSET
    devuelta: Annotated[int, Meta(ge=0, le=100_000)] | _Unset = _UNSET
    motivo: Annotated[str, Meta(max_length=120)] | None | _Unset = _UNSET


class CargueQuitada(msgspec.Struct):
    id: str


class CargueDia(msgspec.Struct):
    """A vendor's day (default today)."""

    vendedor_id: _Id
    fecha: _Fecha | None = None


class CargueReapertura(msgspec.Struct):
    vendedor_id: _Id
    motivo: Annotated[str, Meta(min_length=1, max_length=200)]
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
_CIERRE = "CargueCierre"
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
    "POST /api/cargue/items": Op(
        "cargue_item_add", "Add a product to a vendor's day (the plantilla editor)",
        Access(apikey=True, roles=_STAFF), body=CargueNuevaFila, ok=component(_ROW), status=201,
        errors=(404, 409),
    ),
    "PATCH /api/cargue/items/{id}": Op(
        "cargue_item_edit", "Edit a row's plan (while pendiente) or its loaded/returned quantities",
        Access(apikey=True, roles=_STAFF), body=CargueCambio, ok=component(_ROW), errors=(404, 409),
    ),
    "DELETE /api/cargue/items/{id}": Op(
        "cargue_item_remove", "Take a product (still pendiente) off its day",
        Access(apikey=True, roles=_STAFF), ok=CargueQuitada, errors=(404, 409),
    ),
    "POST /api/cargue/cierre": Op(
        "cargue_cerrar", "Close a vendor's load of the day: no more ticks or edits",
        Access(apikey=True, roles=_STAFF), body=CargueDia, ok=component(_CIERRE),
    ),
    "POST /api/cargue/reabrir": Op(
        "cargue_reabrir", "Reopen a closed load (admin; the reason is kept in the history)",
        Access(apikey=True, roles=(ROLE_ADMIN,)), body=CargueReapertura, ok=component(_CIERRE),
        errors=(409,),
    ),
    "GET /api/cargue/hoja.csv": Op(
        "cargue_hoja_csv", "The day's sheet as CSV (UTF-8 with a BOM, formula-safe cells)",
        Access(apikey=True, roles=_STAFF), ok={"type": "string"}, ok_media="text/csv",
        query=(Query("fecha", {"type": "string"}, "YYYY-MM-DD; default today"),
               Query("vendedor_id", {"type": "string"}, "one vendor; default all")),
    ),
    "POST /api/cargue/items/{id}/check": Op(
        "cargue_check", "Tick or untick V (the vendor, on his own rows) or D (the dispatcher)",
        Access(apikey=True, roles=(ROLE_VENDEDOR, *_STAFF)),
        body=CargueCheck, ok=component(_ROW), errors=(404, 409),
        description="A closed day answers 409 conflict with state: cerrado.",
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
    cierre = record_schema(records.kind(CIERRE), "A vendor's load of a day, open or closed")
    schemas: dict[str, Any] = {_ROW: row, _CIERRE: cierre}
    return documented(ext, OPS, schemas=schemas)
