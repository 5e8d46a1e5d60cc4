"""Closing a vendor's load of the day: a ``cargue_cierre`` record per vendor
and day (:func:`~.kinds.cierre_id`), ``abierto`` until a dispatcher closes
it. Closed, the day's rows take no tick and no edit — every write of the app
calls :func:`ensure_open` in its transaction, holding the closing record's
row lock, so a tick and a close never interleave. Only an admin reopens; the
record's history keeps who closed and reopened, when and why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError

from relevo.protocol.errors import Conflict, NotFound
from relevo.records import SYSTEM, Actor, Record, Transaction

from ..kit.errors import bad_request, conflict, forbidden
from ..kit.http import acting_as, valid_id
from .kinds import CERRADO, CIERRE, ROLE_ADMIN, STAFF, cierre_id

if TYPE_CHECKING:
    from .service import CargueService

__all__ = [
    "MAX_MOTIVO",
    "close_day",
    "closed_error",
    "ensure_open",
    "get_or_open",
    "may_close",
    "may_reopen",
    "reopen_day",
]

MAX_MOTIVO = 200


async def get_or_open(tx: Transaction, vendedor_id: str, fecha: str) -> Record:
    """The closing record of a vendor's day, row-locked; created ``abierto``
    when the day has none yet (the id is unique, so two creators are one)."""
    rid = cierre_id(vendedor_id, fecha)
    try:
        return await tx.get(CIERRE, rid, lock=True)
    except NotFound:
        pass
    try:
        async with tx.savepoint():
            data = {"vendedor_id": vendedor_id, "fecha": fecha}
            return await tx.create(CIERRE, data, by=SYSTEM, id=rid)
    except IntegrityError:
        # Another write created it first (PostgreSQL, MySQL: this insert
        # waited for that one's commit): use its row, locked.
        return await tx.get(CIERRE, rid, lock=True)


def closed_error(cierre: Record) -> Conflict:
    """``409 conflict`` with ``state: "cerrado"`` and who closed it, when."""
    return conflict(
        f"the load of {cierre.get('vendedor_id')} on {cierre.get('fecha')} is closed",
        "El cargue de este día ya está cerrado: no admite más marcas ni cambios.",
        state=CERRADO,
        cerrado_nombre=cierre.get("cerrado_nombre"),
        cerrado_at=cierre.get("cerrado_at"),
    )


async def ensure_open(tx: Transaction, vendedor_id: str, fecha: str) -> Record:
    """Refuse (``conflict``, ``state: "cerrado"``) when the day is closed;
    otherwise hold its closing record's lock until the write commits."""
    cierre = await get_or_open(tx, vendedor_id, fecha)
    if cierre.state == CERRADO:
        raise closed_error(cierre)
    return cierre


def may_close(actor: Actor) -> None:
    if not (actor.is_system or actor.roles & STAFF):
        raise forbidden(
            f"user {actor.user} may not close a load", "Solo el despacho cierra el cargue."
        )


def may_reopen(actor: Actor) -> None:
    if not (actor.is_system or ROLE_ADMIN in actor.roles):
        raise forbidden(
            f"user {actor.user} may not reopen a load (admin only)",
            "Solo un administrador reabre un cargue cerrado.",
        )


async def close_day(service: CargueService, actor: Actor, vendedor_id: str, fecha: str) -> Record:
    """Close a vendor's day (staff). Closing a closed day changes nothing."""
    may_close(actor)
    async with service.transaction() as tx:
        cierre = await get_or_open(tx, vendedor_id, fecha)
        if cierre.state == CERRADO:
            return cierre
        # Stamped once the day's lock is ours: a tick that held it meanwhile
        # landed before the close, and its v_at must not read later.
        tx.now = max(tx.now, service.clock.now())
        return await tx.transition(CIERRE, cierre.id, "cerrar", by=acting_as(actor))


async def reopen_day(
    service: CargueService, actor: Actor, vendedor_id: str, fecha: str, motivo: Any
) -> Record:
    """Reopen a closed day: an admin only, with a reason (kept in the history)."""
    may_reopen(actor)
    if not isinstance(motivo, str) or not motivo.strip() or len(motivo) > MAX_MOTIVO:
        raise bad_request(
            f"motivo: 1-{MAX_MOTIVO} characters",
            "Indica por qué se reabre el cargue.",
            field="motivo",
        )
    vid = valid_id(vendedor_id, "vendedor_id")
    async with service.transaction() as tx:
        cierre = await get_or_open(tx, vid, fecha)
        if cierre.state != CERRADO:
            raise conflict(
                f"the load of {vid} on {fecha} is not closed",
                "Ese cargue no está cerrado.",
                state=cierre.state,
            )
        return await tx.transition(
            CIERRE,
            cierre.id,
            "reabrir",
            {"motivo": motivo.strip()},
            by=acting_as(actor),
            reason=motivo.strip(),
        )
