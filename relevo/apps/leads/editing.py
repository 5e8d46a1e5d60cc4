"""Editing a lead (nombre, telefono, notas) and "Volver a llamar" with a
callback time — the two follow-up actions beside the wizard.

**Edit** (``CLIENT_EDITED``): a GTR edits any lead; an asesor only a lead
assigned to them now. The records layer writes the history row (who, when,
the fields it changed) in the same transaction, so every edit is audited.
A wizard open in someone else's tab refuses the edit (``locked``): the
wizard would overwrite the notes.

**Callback** (``CLIENT_CALLBACK_SCHEDULED``): the asesor ends the wizard
with a date and time instead of completing; the lead waits ``agendado``,
still theirs, and a durable records timer (``callback``) brings it back
``derivado`` at that moment (``CLIENT_CALLBACK_DUE``) — its five-minute
timeout starts then. The timer is a row in the database, so it fires after a
restart too (at start, if its time passed while the server was down).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from relevo.protocol.errors import PermissionDenied
from relevo.records import Actor, Record

from ..kit.errors import bad_request, conflict
from ..kit.http import acting_as
from .csv_import import clean_lead
from .kinds import CALLBACK, CALLBACK_HORIZON, EDITABLE, LEAD

if TYPE_CHECKING:
    from .service import LeadsService

__all__ = ["edit_lead", "schedule_callback"]

MIN_LEAD = 60.0
"""A callback is at least this many seconds ahead."""


def _edit_values(rec: Record, values: Mapping[str, Any]) -> dict[str, Any]:
    from .service import MAX_NOTAS

    extra = set(values) - EDITABLE
    if extra:
        raise bad_request(f"unknown fields {sorted(extra)}", field=sorted(extra)[0])
    for name, value in values.items():
        if not isinstance(value, str):
            raise bad_request(f"{name} must be text", field=name)
    contact = {
        "nombre": values.get("nombre", rec.get("nombre") or ""),
        "telefono": values.get("telefono", rec.get("telefono") or ""),
    }
    clean, errors = clean_lead(contact)
    errors = [e for e in errors if e.field in values]
    if errors:
        raise bad_request(errors[0].message, field=errors[0].field, reason=errors[0].code)
    out: dict[str, Any] = {
        k: clean[k] for k in ("nombre", "telefono") if k in values and k in clean
    }
    if "notas" in values:
        notas = str(values["notas"]).strip()
        if len(notas) > MAX_NOTAS:
            raise bad_request(f"notas is text of up to {MAX_NOTAS} characters", field="notas")
        out["notas"] = notas or None
    return {k: v for k, v in out.items() if v != rec.get(k)}


async def edit_lead(
    svc: LeadsService, actor: Actor, lead_id: str, values: Mapping[str, Any]
) -> Record:
    """Change a lead's nombre, telefono or notas; only what differs is written
    (nothing: the lead as it is, no history row)."""
    gtr = actor.has_any({"gtr", "admin"})
    if not gtr and ("asesor" not in actor.roles or not actor.user):
        raise PermissionDenied(f"user {actor.user or 'anonymous'} may not edit leads")
    async with svc.records.transaction() as tx:
        rec = await tx.get(LEAD, lead_id, lock=True)
        if not gtr and str(rec.get("asesor_id")) != actor.user:
            raise PermissionDenied(f"lead {rec.id} is not assigned to you")
        changes = _edit_values(rec, values)
        if not changes:
            return rec
        phone = changes.get("telefono")
        if phone is not None:
            clash = (await svc.open_phones(tx, [phone])).get(phone)
            if clash is not None and clash != rec.id:
                raise bad_request(
                    f"an open lead {clash} has this telefono",
                    field="telefono",
                    reason="exists",
                    ref=clash,
                )
        held = rec.lease_held(tx.now)
        if held is not None and held.holder != actor.user:
            raise await svc.locked_error(tx, rec, actor, held)
        return await tx.transition(LEAD, rec.id, "edit", changes, by=acting_as(actor))


def _callback_at(value: Any, now: float) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request("callback_at (milliseconds since the epoch) is required",
                          field="callback_at")  # fmt: skip
    if value < (now + MIN_LEAD) * 1000:
        raise bad_request("callback_at must be at least a minute from now",
                          field="callback_at", reason="past")  # fmt: skip
    if value > (now + CALLBACK_HORIZON) * 1000:
        raise bad_request("callback_at is at most 90 days from now",
                          field="callback_at", reason="too_far")  # fmt: skip
    return value


async def schedule_callback(
    svc: LeadsService, actor: Actor, lead_id: str, token: int, data: Mapping[str, Any]
) -> Record:
    """End the wizard with "Volver a llamar" at ``data["callback_at"]``: the
    lead goes ``agendado`` (still the asesor's, the lease released) and the
    ``callback`` timer is armed at that moment, in one transaction."""
    me = svc.require_asesor(actor)
    wizard = {k: v for k, v in data.items() if k != "callback_at"}
    values = svc.wizard_data(wizard)
    async with svc.records.transaction() as tx:
        rec = await svc.mine(tx, lead_id, me)
        if rec.state != "en_gestion":
            raise conflict(f"lead {rec.id} is {rec.state}; open it to schedule a callback",
                           state=rec.state, reason="not_open")  # fmt: skip
        at = _callback_at(data.get("callback_at"), tx.now)
        if "volver_a_llamar" in svc.options.tipificaciones:
            values.setdefault("tipificacion", "volver_a_llamar")
        rec = await tx.transition(LEAD, rec.id, "schedule", {**values, "callback_at": at},
                                  by=me, fencing_token=token)  # fmt: skip
        await tx.arm_timer(LEAD, rec.id, CALLBACK, at / 1000)
        return rec
