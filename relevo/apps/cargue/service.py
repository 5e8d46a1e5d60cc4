"""The cargue actions: tick or untick a check (idempotently, for a phone that
retries), load a day's plantilla, and the day's progress per vendor.

Who may do what (the records layer enforces the rest):

- a **vendedor** ticks and unticks **V** on his own rows only, and cannot
  untick V once the dispatcher ticked D (the row is closed for him);
- a **despachador** (or admin) ticks **D** only on rows whose V is ticked, and
  may untick D (then the vendor may change V again);
- the backend (API key) may do either, and loads plantillas.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from relevo.protocol.errors import NotFound
from relevo.records import Actor, Record, Records

from ..kit.errors import bad_request, conflict, forbidden, not_found
from ..kit.http import acting_as, valid_id
from .kinds import (
    DESPACHADO,
    ITEM,
    PENDIENTE,
    ROLE_VENDEDOR,
    STAFF,
    TRANSITION_FOR,
    USER,
)
from .options import DIAS, CargueOptions

__all__ = ["CargueService", "Progress"]

MAX_ROWS = 500


@dataclass(frozen=True, slots=True)
class Progress:
    vendedor_id: str
    total: int
    v: int
    d: int

    def as_dict(self) -> dict[str, Any]:
        return {"vendedor_id": self.vendedor_id, "total": self.total, "v": self.v, "d": self.d}


def _is_staff(actor: Actor) -> bool:
    return actor.is_system or bool(actor.roles & STAFF)


class CargueService:
    def __init__(self, records: Records, options: CargueOptions) -> None:
        self.records = records
        self.options = options

    def today(self) -> tuple[str, str]:
        """Today's ``fecha`` (ISO) and ``dia`` (``LUNES``...), in the configured zone."""
        day = self.options.today(self.records.clock.now())
        return day.isoformat(), DIAS[day.weekday()]

    # -- checks ---------------------------------------------------------------------

    async def set_check(self, actor: Actor, item_id: str, check: Any, value: Any) -> Record:
        """Set check ``v`` or ``d`` of a row to ``value``. Idempotent: asking
        for the value the row already has changes (and publishes) nothing,
        so a phone may resend a tick whose answer it never got."""
        if not (_is_staff(actor) or ROLE_VENDEDOR in actor.roles):
            # Who before what: a caller with no cargue role learns nothing of the input rules.
            raise forbidden(
                f"user {actor.user} has no cargue role (vendedor, despachador, admin)",
                "Tu usuario no tiene un rol de cargue.",
            )
        if check not in ("v", "d"):
            raise bad_request(
                'check must be "v" or "d"', "Marca desconocida (V o D).", field="check"
            )
        if not isinstance(value, bool):
            raise bad_request("value must be true or false", "Valor inválido.", field="value")
        item_id = valid_id(item_id, "id")
        self._may_tick(actor, check)
        async with self.records.transaction() as tx:
            try:
                rec = await tx.get(ITEM, item_id, lock=True)
            except NotFound:
                raise not_found(
                    f"{ITEM} {item_id} does not exist", "Ese producto no existe."
                ) from None
            if (
                not _is_staff(actor)
                and ROLE_VENDEDOR in actor.roles
                and str(rec.get("vendedor_id")) != actor.user
            ):
                # Not "forbidden": a vendor learns nothing about other plantillas.
                raise not_found(f"{ITEM} {item_id} does not exist", "Ese producto no existe.")
            if bool(rec.get(check)) == value:
                return rec
            self._check_state(rec, check, value)
            return await tx.transition(
                ITEM, item_id, TRANSITION_FOR[(check, value)], by=acting_as(actor)
            )

    def _may_tick(self, actor: Actor, check: str) -> None:
        if check == "v" and not (actor.is_system or ROLE_VENDEDOR in actor.roles):
            raise forbidden(
                f"user {actor.user} may not tick V (vendedor only)",
                "Solo el vendedor marca V, desde su teléfono.",
            )
        if check == "d" and not _is_staff(actor):
            raise forbidden(
                f"user {actor.user} may not tick D (despachador only)",
                "Solo el despachador marca D.",
            )

    @staticmethod
    def _check_state(rec: Record, check: str, value: bool) -> None:
        if check == "d" and value and rec.state == PENDIENTE:
            raise conflict(
                f"{ITEM} {rec.id} is {rec.state}; D needs V first",
                "El vendedor aún no marcó V en este producto.",
                state=rec.state,
            )
        if check == "v" and not value and rec.state == DESPACHADO:
            raise conflict(
                f"{ITEM} {rec.id} is {rec.state}; untick D before V",
                "El despachador ya marcó D: pídele que lo desmarque primero.",
                state=rec.state,
            )

    # -- plantillas -------------------------------------------------------------------

    async def load_plantilla(
        self, actor: Actor, vendedor_id: Any, rows: Any, fecha: Any = None
    ) -> list[Record]:
        """Create a vendor's rows for a day (default today), replacing the
        rows of that day that are still ``pendiente``; ticked rows stay."""
        if not _is_staff(actor):
            raise forbidden(
                f"user {actor.user} may not load plantillas", "Solo el despacho carga plantillas."
            )
        vid = valid_id(vendedor_id, "vendedor_id")
        hoy, _ = self.today()
        day = _fecha(fecha if fecha is not None else hoy)
        if not isinstance(rows, list) or not rows or len(rows) > MAX_ROWS:
            raise bad_request(
                f"rows must be a list of 1 to {MAX_ROWS} products",
                f"La plantilla necesita entre 1 y {MAX_ROWS} productos.",
                field="rows",
            )
        clean = [_row(i, r) for i, r in enumerate(rows)]
        try:
            vendor = await self.records.get(USER, vid)
        except NotFound:
            raise not_found(f"no vendedor {vid}", "Ese vendedor no existe.") from None
        if vendor.get("rol") != ROLE_VENDEDOR:
            raise bad_request(f"user {vid} is not a vendedor", "Ese usuario no es vendedor.")
        dia = DIAS[_weekday(day)]
        by = acting_as(actor)
        async with self.records.transaction() as tx:
            for old in await tx.find(ITEM, {"vendedor_id": vid, "fecha": day}, limit=MAX_ROWS * 2):
                if old.state == PENDIENTE:
                    await tx.delete(ITEM, old.id, by=by)
            out = []
            for i, row in enumerate(clean):
                data = {**row, "vendedor_id": vid, "fecha": day, "dia": dia}
                data.setdefault("orden", i + 1)
                out.append(await tx.create(ITEM, data, by=by))
        return out

    # -- reading ------------------------------------------------------------------------

    async def vendedores(self) -> list[Record]:
        rows = await self.records.find(USER, {"rol": ROLE_VENDEDOR})
        return sorted((u for u in rows if u.get("activo", True)), key=lambda u: u.id)

    async def progress(self, fecha: str) -> list[Progress]:
        items = await self.records.find(ITEM, {"fecha": fecha}, limit=100_000)
        by_vendor: dict[str, list[Record]] = {}
        for it in items:
            by_vendor.setdefault(str(it.get("vendedor_id")), []).append(it)
        return [_progress(vid, rows) for vid, rows in sorted(by_vendor.items())]


def _progress(vid: str, rows: Iterable[Record]) -> Progress:
    rows = list(rows)
    return Progress(
        vid, len(rows), sum(bool(r.get("v")) for r in rows), sum(bool(r.get("d")) for r in rows)
    )


def _fecha(value: Any) -> str:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    raise bad_request("fecha must be a date (YYYY-MM-DD)", "Fecha inválida.", field="fecha")


def _weekday(fecha: str) -> int:
    return dt.date.fromisoformat(fecha).weekday()


def _row(i: int, row: Any) -> dict[str, Any]:
    where = f"rows[{i}]"
    if not isinstance(row, Mapping):
        raise bad_request(f"{where} must be an object", "Fila de plantilla inválida.", field=where)
    producto = row.get("producto")
    if not isinstance(producto, str) or not producto.strip() or len(producto) > 120:
        raise bad_request(f"{where}.producto: 1-120 characters", "Falta el producto.", field=where)
    out: dict[str, Any] = {"producto": producto.strip()}
    cantidad = row.get("cantidad", 0)
    if isinstance(cantidad, bool) or not isinstance(cantidad, int) or not 0 <= cantidad <= 100_000:
        raise bad_request(
            f"{where}.cantidad: an integer 0-100000", "Cantidad inválida.", field=where
        )
    out["cantidad"] = cantidad
    for name in ("codigo", "unidad"):
        value = row.get(name)
        if value is not None:
            if not isinstance(value, str) or len(value) > 40:
                raise bad_request(f"{where}.{name}: text up to 40", "Fila inválida.", field=where)
            out[name] = value
    orden = row.get("orden")
    if orden is not None:
        if isinstance(orden, bool) or not isinstance(orden, int):
            raise bad_request(f"{where}.orden must be an integer", "Orden inválido.", field=where)
        out["orden"] = orden
    unknown = set(row) - {"producto", "cantidad", "codigo", "unidad", "orden"}
    if unknown:
        raise bad_request(
            f"{where}: unknown fields {sorted(unknown)}", "Fila inválida.", field=where
        )
    return out
