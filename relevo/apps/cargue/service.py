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

import contextlib
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

from relevo.clock import Clock
from relevo.protocol.errors import NotFound
from relevo.records import Actor, Record, Records, Transaction

from ..kit.errors import bad_request, conflict, forbidden, not_found
from ..kit.http import acting_as, valid_id
from .cierre import close_day, ensure_open, may_close, may_reopen, reopen_day
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

__all__ = ["CargueService", "Progress", "is_staff", "may_check", "parse_fecha"]


@dataclass(frozen=True, slots=True)
class Progress:
    vendedor_id: str
    total: int
    v: int
    d: int

    def as_dict(self) -> dict[str, Any]:
        return {"vendedor_id": self.vendedor_id, "total": self.total, "v": self.v, "d": self.d}


def may_check(actor: Actor) -> None:
    """Who before what: a caller with no cargue role learns nothing of the input rules."""
    if not (is_staff(actor) or ROLE_VENDEDOR in actor.roles):
        raise forbidden(
            f"user {actor.user} has no cargue role (vendedor, despachador, admin)",
            "Tu usuario no tiene un rol de cargue.",
        )


def is_staff(actor: Actor) -> bool:
    return actor.is_system or bool(actor.roles & STAFF)


class CargueService:
    def __init__(
        self, records: Records, options: CargueOptions, *, clock: Clock | None = None
    ) -> None:
        self.records = records
        self.options = options
        self.clock: Clock = clock or records.clock
        """The time its changes happen at: the records' clock, or (the demo's
        seed, replaying the early morning) a clock of the past."""

    def today(self) -> tuple[str, str]:
        """Today's ``fecha`` (ISO) and ``dia`` (``LUNES``...), in the configured zone."""
        day = self.options.today(self.clock.now())
        return day.isoformat(), DIAS[day.weekday()]

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """The records' transaction, its changes stamped with this service's clock."""
        async with self.records.transaction() as tx:
            if self.clock is not self.records.clock:
                tx.now = self.clock.now()  # history and *_at count from then
            yield tx

    # -- checks ---------------------------------------------------------------------

    async def set_check(self, actor: Actor, item_id: str, check: Any, value: Any) -> Record:
        """Set check ``v`` or ``d`` of a row to ``value``. Idempotent: asking
        for the value the row already has changes (and publishes) nothing,
        so a phone may resend a tick whose answer it never got."""
        may_check(actor)
        if check not in ("v", "d"):
            raise bad_request(
                'check must be "v" or "d"', "Marca desconocida (V o D).", field="check"
            )
        if not isinstance(value, bool):
            raise bad_request("value must be true or false", "Valor inválido.", field="value")
        item_id = valid_id(item_id, "id")
        self._may_tick(actor, check)
        rec = await self._own_item(actor, item_id)
        by = acting_as(await self.named(actor))
        async with self.transaction() as tx:
            # The day's closing first (its lock orders a tick after a close), then the row.
            await ensure_open(tx, str(rec.get("vendedor_id")), str(rec.get("fecha")))
            rec = await tx.get(ITEM, item_id, lock=True)
            if bool(rec.get(check)) == value:
                return rec
            self._check_state(rec, check, value)
            return await tx.transition(ITEM, item_id, TRANSITION_FOR[(check, value)], by=by)

    async def _own_item(self, actor: Actor, item_id: str) -> Record:
        """The row, if ``actor`` may touch it: staff any, a vendor his own
        (another vendor's is ``not_found``: he learns nothing of it)."""
        try:
            rec = await self.records.get(ITEM, item_id)
        except NotFound:
            rec = None
        if rec is None or (not is_staff(actor) and str(rec.get("vendedor_id")) != actor.user):
            raise not_found(f"{ITEM} {item_id} does not exist", "Ese producto no existe.")
        return rec

    async def named(self, actor: Actor) -> Actor:
        """``actor`` with its display name in the claims (the directory's,
        else the token's), which the transitions write as ``*_nombre``."""
        nombre = actor.claims.get("name")
        try:
            nombre = (await self.records.get(USER, actor.user)).get("nombre") or nombre
        except NotFound:
            pass
        if actor.is_system and not nombre:
            nombre = "Sistema"
        if not nombre:
            return actor
        return dataclasses.replace(actor, claims={**actor.claims, "name": str(nombre)})

    # -- closing the day ------------------------------------------------------------------

    async def close(self, actor: Actor, vendedor_id: Any, fecha: Any = None) -> Record:
        """Close a vendor's load of a day (default today): no more ticks or edits."""
        may_close(actor)
        vid = valid_id(vendedor_id, "vendedor_id")
        day = parse_fecha(fecha if fecha is not None else self.today()[0])
        return await close_day(self, await self.named(actor), vid, day)

    async def reopen(
        self, actor: Actor, vendedor_id: Any, fecha: Any = None, motivo: Any = None
    ) -> Record:
        """Reopen a closed day: admin only, with a reason."""
        may_reopen(actor)
        day = parse_fecha(fecha if fecha is not None else self.today()[0])
        return await reopen_day(self, await self.named(actor), vendedor_id, day, motivo)

    def _may_tick(self, actor: Actor, check: str) -> None:
        if check == "v" and not (actor.is_system or ROLE_VENDEDOR in actor.roles):
            raise forbidden(
                f"user {actor.user} may not tick V (vendedor only)",
                "Solo el vendedor marca V, desde su teléfono.",
            )
        if check == "d" and not is_staff(actor):
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


def parse_fecha(value: Any) -> str:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    raise bad_request("fecha must be a date (YYYY-MM-DD)", "Fecha inválida.", field="fecha")
