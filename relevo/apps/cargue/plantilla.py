"""The plantilla editor's actions (dispatcher, admin, backend): load a
vendor's whole day, add one product, edit a row, remove a row — and on the
same row, what actually left (``cargada``), what came back (``devuelta``)
and why (``motivo``).

Every write holds the day's closing lock (:func:`.cierre.ensure_open`): a
closed day takes no edit. A row the vendor already verified keeps its plan
(product, quantity): a difference is recorded as ``cargada`` with a reason,
so what the vendor ticked is never rewritten under him.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from relevo.protocol.errors import NotFound
from relevo.records import Actor, Record

from ..kit.errors import bad_request, conflict, forbidden, not_found
from ..kit.http import acting_as, valid_id
from .cierre import ensure_open
from .kinds import ITEM, PENDIENTE, ROLE_VENDEDOR, USER
from .options import DIAS
from .service import CargueService, is_staff, parse_fecha

__all__ = ["MAX_CANTIDAD", "MAX_ROWS", "PLAN", "QTY", "Plantillas"]

MAX_ROWS = 500
MAX_CANTIDAD = 100_000
MAX_MOTIVO = 120
PLAN = ("producto", "cantidad", "codigo", "unidad", "orden")
"""What the dispatcher plans; fixed once the vendor ticked V."""
QTY = ("cargada", "devuelta", "motivo")
"""What happened: loaded, returned, and why it differs."""


class Plantillas:
    def __init__(self, service: CargueService) -> None:
        self.service = service
        self.records = service.records

    def _staff(self, actor: Actor, what: str) -> None:
        if not is_staff(actor):
            raise forbidden(
                f"user {actor.user} may not {what}", "Solo el despacho edita las plantillas."
            )

    async def _vendor(self, vendedor_id: Any) -> str:
        vid = valid_id(vendedor_id, "vendedor_id")
        try:
            vendor = await self.records.get(USER, vid)
        except NotFound:
            raise not_found(f"no vendedor {vid}", "Ese vendedor no existe.") from None
        if vendor.get("rol") != ROLE_VENDEDOR:
            raise bad_request(f"user {vid} is not a vendedor", "Ese usuario no es vendedor.")
        return vid

    def _day(self, fecha: Any) -> str:
        return parse_fecha(fecha if fecha is not None else self.service.today()[0])

    async def load(
        self, actor: Actor, vendedor_id: Any, rows: Any, fecha: Any = None
    ) -> list[Record]:
        """Create a vendor's rows for a day (default today), replacing the
        rows of that day that are still ``pendiente``; ticked rows stay."""
        self._staff(actor, "load plantillas")
        day = self._day(fecha)
        if not isinstance(rows, list) or not rows or len(rows) > MAX_ROWS:
            raise bad_request(
                f"rows must be a list of 1 to {MAX_ROWS} products",
                f"La plantilla necesita entre 1 y {MAX_ROWS} productos.",
                field="rows",
            )
        clean = [plan_row(f"rows[{i}]", r) for i, r in enumerate(rows)]
        vid = await self._vendor(vendedor_id)
        dia = DIAS[dt.date.fromisoformat(day).weekday()]
        by = acting_as(actor)
        async with self.service.transaction() as tx:
            await ensure_open(tx, vid, day)
            for old in await tx.find(ITEM, {"vendedor_id": vid, "fecha": day}, limit=MAX_ROWS * 2):
                if old.state == PENDIENTE:
                    await tx.delete(ITEM, old.id, by=by)
            out = []
            for i, row in enumerate(clean):
                data = {**row, "vendedor_id": vid, "fecha": day, "dia": dia}
                data.setdefault("orden", i + 1)
                out.append(await tx.create(ITEM, data, by=by))
        return out

    async def add(self, actor: Actor, body: Mapping[str, Any]) -> Record:
        """One more product on a vendor's day: ``{vendedor_id, fecha?, producto,
        cantidad, codigo?, unidad?, orden?}``; ``orden`` defaults to the end."""
        self._staff(actor, "edit plantillas")
        day = self._day(body.get("fecha"))
        row = plan_row("row", {k: v for k, v in body.items() if k not in ("vendedor_id", "fecha")})
        vid = await self._vendor(body.get("vendedor_id"))
        async with self.service.transaction() as tx:
            await ensure_open(tx, vid, day)
            rows = await tx.find(ITEM, {"vendedor_id": vid, "fecha": day}, limit=MAX_ROWS * 2)
            if len(rows) >= MAX_ROWS:
                raise bad_request(
                    f"a plantilla holds at most {MAX_ROWS} products",
                    f"La plantilla ya tiene {MAX_ROWS} productos.",
                )
            last = max((int(r.get("orden") or 0) for r in rows), default=0)
            data = {"orden": last + 1, **row, "vendedor_id": vid, "fecha": day}
            data["dia"] = DIAS[dt.date.fromisoformat(day).weekday()]
            return await tx.create(ITEM, data, by=acting_as(actor))

    async def edit(self, actor: Actor, item_id: Any, body: Mapping[str, Any]) -> Record:
        """Change a row's plan (while ``pendiente``) and/or its quantities."""
        self._staff(actor, "edit plantillas")
        item_id = valid_id(item_id, "id")
        unknown = set(body) - set(PLAN) - set(QTY)
        if unknown or not body:
            raise bad_request(
                f"send some of {[*PLAN, *QTY]}; unknown {sorted(unknown)}", "Cambio inválido."
            )
        plan = plan_row("row", {k: v for k, v in body.items() if k in PLAN}, partial=True)
        qty = _quantities({k: v for k, v in body.items() if k in QTY})
        rec = await self._item(item_id)
        by = acting_as(await self.service.named(actor))
        async with self.service.transaction() as tx:
            await ensure_open(tx, str(rec.get("vendedor_id")), str(rec.get("fecha")))
            rec = await tx.get(ITEM, item_id, lock=True)
            if plan and any(rec.get(k) != v for k, v in plan.items()) and rec.state != PENDIENTE:
                raise conflict(
                    f"{ITEM} {item_id} is {rec.state}; its plan is fixed",
                    "El vendedor ya verificó este producto: registra la diferencia en «Cargado».",
                    state=rec.state,
                )
            merged = {**rec.data, **plan, **qty}
            _check_quantities(merged)
            motivo = merged.get("motivo") if qty else None
            return await tx.update(ITEM, item_id, {**plan, **qty}, by=by, reason=motivo)

    async def remove(self, actor: Actor, item_id: Any) -> Record:
        """Take a product off a day, while the vendor has not ticked it."""
        self._staff(actor, "edit plantillas")
        item_id = valid_id(item_id, "id")
        rec = await self._item(item_id)
        async with self.service.transaction() as tx:
            await ensure_open(tx, str(rec.get("vendedor_id")), str(rec.get("fecha")))
            rec = await tx.get(ITEM, item_id, lock=True)
            if rec.state != PENDIENTE:
                raise conflict(
                    f"{ITEM} {item_id} is {rec.state}; only pendiente rows are removed",
                    "El vendedor ya marcó V en este producto: no se puede quitar.",
                    state=rec.state,
                )
            return await tx.delete(ITEM, item_id, by=acting_as(actor))

    async def _item(self, item_id: str) -> Record:
        try:
            return await self.records.get(ITEM, item_id)
        except NotFound:
            raise not_found(f"{ITEM} {item_id} does not exist", "Ese producto no existe.") from None


def plan_row(where: str, row: Any, *, partial: bool = False) -> dict[str, Any]:
    """A product row's plan fields, checked (``partial``: only those given)."""
    if not isinstance(row, Mapping):
        raise bad_request(f"{where} must be an object", "Fila de plantilla inválida.", field=where)
    unknown = set(row) - set(PLAN)
    if unknown:
        raise bad_request(
            f"{where}: unknown fields {sorted(unknown)}", "Fila inválida.", field=where
        )
    out: dict[str, Any] = {}
    producto = row.get("producto")
    if "producto" in row or not partial:
        if not isinstance(producto, str) or not producto.strip() or len(producto) > 120:
            raise bad_request(
                f"{where}.producto: 1-120 characters", "Falta el producto.", field=where
            )
        out["producto"] = producto.strip()
    if "cantidad" in row or not partial:
        cantidad = row.get("cantidad", 0)
        if not _count(cantidad):
            raise bad_request(
                f"{where}.cantidad: an integer 0-{MAX_CANTIDAD}", "Cantidad inválida.", field=where
            )
        out["cantidad"] = cantidad
    for name in ("codigo", "unidad"):
        value = row.get(name)
        if value is not None:
            if not isinstance(value, str) or len(value) > 40:
                raise bad_request(f"{where}.{name}: text up to 40", "Fila inválida.", field=where)
            out[name] = value.strip() if name == "codigo" else value.strip() or "und"
    orden = row.get("orden")
    if orden is not None:
        if isinstance(orden, bool) or not isinstance(orden, int) or not 0 <= orden <= 100_000:
            raise bad_request(f"{where}.orden must be an integer", "Orden inválido.", field=where)
        out["orden"] = orden
    return out


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_CANTIDAD


def _quantities(body: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "cargada" in body:
        if body["cargada"] is not None and not _count(body["cargada"]):
            raise bad_request(
                f"cargada: null or an integer 0-{MAX_CANTIDAD}",
                "Cantidad cargada inválida.",
                field="cargada",
            )
        out["cargada"] = body["cargada"]
    if "devuelta" in body:
        if not _count(body["devuelta"]):
            raise bad_request(
                f"devuelta: an integer 0-{MAX_CANTIDAD}",
                "Cantidad devuelta inválida.",
                field="devuelta",
            )
        out["devuelta"] = body["devuelta"]
    if "motivo" in body:
        motivo = body["motivo"]
        if motivo is not None and (not isinstance(motivo, str) or len(motivo) > MAX_MOTIVO):
            raise bad_request(
                f"motivo: text up to {MAX_MOTIVO}", "Motivo demasiado largo.", field="motivo"
            )
        out["motivo"] = motivo.strip() or None if isinstance(motivo, str) else None
    return out


def _check_quantities(row: Mapping[str, Any]) -> None:
    """Returns fit in what left; a difference or a return says why."""
    cantidad = int(row.get("cantidad") or 0)
    cargada = row.get("cargada")
    salio = cantidad if cargada is None else int(cargada)
    devuelta = int(row.get("devuelta") or 0)
    if devuelta > salio:
        raise bad_request(
            f"devuelta ({devuelta}) exceeds what was loaded ({salio})",
            f"No se puede devolver más de lo cargado ({salio}).",
            field="devuelta",
        )
    if (salio != cantidad or devuelta) and not row.get("motivo"):
        raise bad_request(
            "a difference or a return needs a motivo",
            "Indica el motivo de la diferencia o la devolución.",
            field="motivo",
        )
