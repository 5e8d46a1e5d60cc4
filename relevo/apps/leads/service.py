"""What GTRs and asesores do to leads, each action one records transaction.

The checks the records layer cannot make alone live here (the asesor exists
and is active, the lead is yours, another tab of yours has the wizard); then
the action runs the kind's transitions, lease and timer machinery, acting for
the user as a *privileged* actor — so the user is still the lease holder and
the one whose activity pushes the timeout, but the transitions marked
``roles={"system"}`` (see :mod:`relevo.apps.leads.kinds`) accept it.

Errors are the records layer's (stable codes, English messages; the pages
show Spanish ones by code): ``forbidden`` not your lead or not your role,
``locked`` someone (``holder``, ``holder_name``, ``same_user``) has the
wizard, ``conflict`` the lead is not in a state for this (``state``),
``bad_request`` bad input (``field``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from relevo.protocol.errors import Locked, NotFound, PermissionDenied, RelevoError
from relevo.records import SYSTEM, Actor, Lease, Record, Records, Transaction

from ..kit.errors import bad_request, conflict, with_extra
from ..kit.http import acting_as
from .csv_import import LineError, ParsedCsv, clean_lead
from .kinds import ACTIVE, GTR_ROLES, LEAD, USER
from .options import LeadsOptions

__all__ = ["ImportResult", "LeadsService"]

MAX_NOTAS = 2000
MAX_BULK = 200
_IMPORT_BATCH = 500
_USER_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.@")


@dataclass(frozen=True, slots=True)
class ImportResult:
    imported: list[str]
    errors: list[LineError]
    total: int
    dry_run: bool
    ignored_columns: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "imported": len(self.imported),
            "ids": self.imported,
            "errors": [e.as_dict() for e in self.errors],
            "total": self.total,
            "valid": self.total - len({e.line for e in self.errors}),
            "dry_run": self.dry_run,
            "ignored_columns": self.ignored_columns,
        }


def _row_extra(exc: RelevoError) -> dict[str, Any]:
    """What a bulk row tells of a refusal: the wizard's holder, the state."""
    keys = ("holder", "holder_name", "state", "reason")
    return {k: exc.extra[k] for k in keys if exc.extra.get(k) is not None}


def valid_user_id(user: str) -> bool:
    return 0 < len(user) <= 64 and _USER_ID_CHARS.issuperset(user)


class LeadsService:
    def __init__(self, records: Records, options: LeadsOptions) -> None:
        self.records = records
        self.options = options

    # -- who may do what --------------------------------------------------------

    @staticmethod
    def require_gtr(actor: Actor) -> None:
        if not actor.has_any(GTR_ROLES):
            raise PermissionDenied(f"user {actor.user} is not a gtr or admin")

    @staticmethod
    def require_asesor(actor: Actor) -> Actor:
        """The asesor, as the privileged actor the app's transitions accept."""
        if "asesor" not in actor.roles or not actor.user:
            raise PermissionDenied(f"user {actor.user or 'anonymous'} is not an asesor")
        return acting_as(actor)

    # -- the directory ------------------------------------------------------------

    async def users(self) -> list[Record]:
        return await self.records.find(USER, {}, limit=10_000)

    async def user_name(self, tx: Transaction, user: str | None) -> str | None:
        if not user:
            return None
        try:
            return str((await tx.get(USER, user)).get("nombre"))
        except NotFound:
            return None

    async def _asesor(self, tx: Transaction, asesor_id: Any) -> Record:
        if not isinstance(asesor_id, str | int) or isinstance(asesor_id, bool) or not asesor_id:
            raise bad_request("asesor_id is required", field="asesor_id")
        try:
            user = await tx.get(USER, str(asesor_id))
        except NotFound:
            raise bad_request(
                f"asesor {asesor_id} does not exist", field="asesor_id", reason="unknown_asesor"
            ) from None
        if user.get("rol") != "asesor":
            raise bad_request(
                f"user {asesor_id} is not an asesor", field="asesor_id", reason="not_asesor"
            )
        if not user.get("activo", True):
            raise bad_request(
                f"asesor {asesor_id} is inactive", field="asesor_id", reason="inactive_asesor"
            )
        return user

    async def mine(self, tx: Transaction, lead_id: str, me: Actor) -> Record:
        """The lead, locked, if it is ``me``'s: assigned to them, or finished or
        timed out while it was. Anyone else gets the same bare ``forbidden``
        whatever the lead's state or holder, so an asesor counting ids up
        learns nothing but that the id exists."""
        rec = await tx.get(LEAD, lead_id, lock=True)
        owner = rec.get("asesor_id")
        if owner is None:
            owner = rec.get("previous_asesor_id")
        if owner is None or str(owner) != me.user:
            raise PermissionDenied(f"lead {rec.id} is not assigned to you")
        return rec

    async def locked_error(
        self, tx: Transaction, rec: Record, actor: Actor, lease: Lease
    ) -> Locked:
        same = lease.holder == actor.user
        who = "another tab of yours" if same else lease.holder
        err = Locked(f"lead {rec.id} is open by {who}", holder=lease.holder)
        with_extra(err, holder_name=await self.user_name(tx, lease.holder), same_user=same)
        return err

    # -- GTR -------------------------------------------------------------------------

    async def create(self, actor: Actor, values: Mapping[str, Any]) -> Record:
        self.require_gtr(actor)
        text = {k: v for k, v in values.items() if isinstance(v, str)}
        if set(values) - {"nombre", "telefono", "documento", "campana", "fuente"}:
            raise bad_request(f"unknown fields {sorted(set(values) - set(text))}")
        clean, errors = clean_lead(text)
        if errors:
            e = errors[0]
            raise bad_request(e.message, field=e.field, reason=e.code)
        async with self.records.transaction() as tx:
            clash = await self.open_phones(tx, [clean["telefono"]])
            if clash:
                raise bad_request(
                    f"an open lead {clash[clean['telefono']]} has this telefono",
                    field="telefono",
                    reason="exists",
                    ref=clash[clean["telefono"]],
                )
            return await tx.create(LEAD, clean, by=actor)

    async def assign(
        self, actor: Actor, lead_id: str, asesor_id: Any, *, force: bool = False
    ) -> Record:
        """Derive (or re-derive) a lead to an asesor: ``CLIENT_REASSIGNED``. A
        lead whose wizard is open is refused (``locked``) unless ``force``,
        which takes the wizard away from its holder in the same transaction."""
        self.require_gtr(actor)
        async with self.records.transaction() as tx:
            asesor = await self._asesor(tx, asesor_id)
            rec = await tx.get(LEAD, lead_id, lock=True)
            if rec.state not in ("nuevo", "derivado", "en_gestion", "no_gestionado", "agendado"):
                raise conflict(
                    f"lead {rec.id} is {rec.state}; it cannot be assigned",
                    state=rec.state,
                    reason="finished",
                )
            held = rec.lease_held(tx.now)
            reason = "reassigned" if rec.get("asesor_id") else "assigned"
            if held is not None:
                if not force:
                    raise await self.locked_error(tx, rec, actor, held)
                await tx.release_lease(LEAD, rec.id, by=SYSTEM)
                reason = "forced"
            return await tx.transition(
                LEAD, rec.id, "assign", {"asesor_id": asesor.id},
                by=acting_as(actor), reason=reason,
            )  # fmt: skip

    async def assign_many(self, actor: Actor, ids: Any, asesor_id: Any) -> list[dict[str, Any]]:
        """Bulk assign: each lead derived to ``asesor_id`` in a transaction of
        its own, so one refused lead (terminado, a wizard open, gone) leaves
        the others derived; the answer says, lead by lead, which and why.
        A wizard open is never taken away here (no ``force``)."""
        self.require_gtr(actor)
        if not isinstance(ids, list) or not ids or len(ids) > MAX_BULK:
            raise bad_request(f"ids is a list of 1 to {MAX_BULK} lead ids", field="ids")
        if not all(isinstance(i, str) and 0 < len(i) <= 64 for i in ids):
            raise bad_request("each id is a lead id (text)", field="ids")
        async with self.records.transaction() as tx:
            await self._asesor(tx, asesor_id)  # a bad asesor refuses the whole request
        results: list[dict[str, Any]] = []
        for lead_id in dict.fromkeys(ids):
            try:
                rec = await self.assign(actor, lead_id, asesor_id)
            except RelevoError as exc:
                results.append({"id": lead_id, "ok": False, "code": exc.code,
                                "message": exc.message, **_row_extra(exc)})  # fmt: skip
            else:
                results.append({"id": rec.id, "ok": True, "version": rec.version})
        return results

    async def completed(self, actor: Actor, limit: int) -> list[Record]:
        """The asesor's own history: the leads they completed, newest first."""
        me = self.require_asesor(actor)
        where = {"state": "terminado", "previous_asesor_id": me.user}
        return await self.records.find(LEAD, where, limit=limit, order_by=["-updated_at"])

    async def open_phones(self, tx: Transaction, phones: Iterable[str]) -> dict[str, str]:
        """Open leads (not terminado) already holding one of ``phones``."""
        found: dict[str, str] = {}
        todo = list(dict.fromkeys(phones))
        for start in range(0, len(todo), _IMPORT_BATCH):
            chunk = todo[start : start + _IMPORT_BATCH]
            for rec in await tx.find(LEAD, {"telefono": chunk}, limit=0):
                if rec.state != "terminado":
                    found.setdefault(str(rec.get("telefono")), rec.id)
        return found

    async def import_csv(
        self, actor: Actor, parsed: ParsedCsv, *, dry_run: bool = False, strict: bool = False
    ) -> ImportResult:
        """Write the good rows — all of them in one transaction, or none — and
        report the bad ones by line. ``strict``: any bad row writes nothing."""
        self.require_gtr(actor)
        errors = list(parsed.errors)
        imported: list[str] = []
        async with self.records.transaction() as tx:
            clash = await self.open_phones(tx, [row["telefono"] for _, row in parsed.rows])
            good: list[dict[str, str]] = []
            for line, row in parsed.rows:
                ref = clash.get(row["telefono"])
                if ref is not None:
                    msg = f"telefono already belongs to open lead {ref}"
                    errors.append(LineError(line, "exists", msg, "telefono", ref))
                else:
                    good.append(row)
            errors.sort(key=lambda e: e.line)
            if strict and errors:
                raise bad_request(
                    f"{len({e.line for e in errors})} rows have errors; nothing was imported",
                    errors=[e.as_dict() for e in errors],
                    reason="rows_with_errors",
                )
            if not dry_run:
                for row in good:
                    imported.append((await tx.create(LEAD, row, by=actor)).id)
        return ImportResult(imported, errors, parsed.total, dry_run, parsed.ignored_columns)

    # -- the asesor's wizard ---------------------------------------------------------

    async def open(self, actor: Actor, lead_id: str, tab: Any) -> tuple[Record, Lease]:
        """Take the wizard: the lease (``CLIENT_LOCKED``) and ``en_gestion``
        (``CLIENT_IN_GESTION``), atomically. ``tab`` names the browser tab, so
        a second tab of the same asesor is refused like another asesor is;
        the same tab (a reload) gets the wizard back."""
        me = self.require_asesor(actor)
        if not isinstance(tab, str) or not 0 < len(tab) <= 64:
            raise bad_request("tab is required (a string naming the browser tab)", field="tab")
        async with self.records.transaction() as tx:
            rec = await self.mine(tx, lead_id, me)
            if str(rec.get("asesor_id")) != me.user:
                raise PermissionDenied(f"lead {rec.id} is not assigned to you")
            held = rec.lease_held(tx.now)
            if held is not None and (held.holder != me.user or rec.get("wizard_tab") != tab):
                raise await self.locked_error(tx, rec, me, held)
            if rec.state not in ACTIVE:
                raise conflict(
                    f"lead {rec.id} is {rec.state}; only a derivado lead opens",
                    state=rec.state,
                    reason="not_active",
                )
            lease = await tx.acquire_lease(LEAD, rec.id, by=me)
            rec = await tx.transition(LEAD, rec.id, "open", {"wizard_tab": tab}, by=me)
            return rec, lease

    async def heartbeat(self, actor: Actor, lead_id: str, token: int) -> tuple[Record, Lease]:
        """Keep the wizard: renew the lease and record the activity
        (``last_activity``, ``CLIENT_ACTIVITY``) that pushes the timeout."""
        me = self.require_asesor(actor)
        async with self.records.transaction() as tx:
            await self.mine(tx, lead_id, me)
            lease = await tx.heartbeat(LEAD, lead_id, by=me, fencing_token=token)
            rec = await tx.transition(LEAD, lead_id, "activity", by=me, fencing_token=token)
            return rec, lease

    async def step(self, actor: Actor, lead_id: str, token: int, data: Mapping[str, Any]) -> Record:
        me = self.require_asesor(actor)
        values = self.wizard_data(data)
        async with self.records.transaction() as tx:
            await self.mine(tx, lead_id, me)
            return await tx.transition(LEAD, lead_id, "step", values, by=me, fencing_token=token)

    async def complete(
        self, actor: Actor, lead_id: str, token: int, data: Mapping[str, Any]
    ) -> Record:
        """Finish: ``terminado`` (``CLIENT_COMPLETED``), the asesor cleared, the
        lease released. A second call is a ``conflict``: the lead is terminado."""
        me = self.require_asesor(actor)
        values = self.wizard_data(data)
        async with self.records.transaction() as tx:
            rec = await self.mine(tx, lead_id, me)
            if rec.state == "terminado":
                raise conflict(
                    f"lead {rec.id} is already terminado",
                    state=rec.state,
                    reason="already_completed",
                )
            return await tx.transition(
                LEAD, lead_id, "complete", values, by=me, fencing_token=token
            )

    async def close(self, actor: Actor, lead_id: str, token: int) -> Record:
        """Close the wizard without finishing: the lease goes (``CLIENT_UNLOCKED``),
        the lead stays en_gestion and its timeout counts from now."""
        me = self.require_asesor(actor)
        async with self.records.transaction() as tx:
            rec = await self.mine(tx, lead_id, me)
            if rec.lease_held(tx.now) is None or rec.fence != token:
                return rec  # already released (expired, taken, completed): nothing to give up
            if rec.state in ACTIVE and str(rec.get("asesor_id")) == me.user:
                await tx.transition(LEAD, lead_id, "activity", by=me, fencing_token=token)
            return await tx.release_lease(LEAD, lead_id, by=me, fencing_token=token)

    def wizard_data(self, data: Mapping[str, Any]) -> dict[str, Any]:
        allowed = {"wizard_step", "resultado_contacto", "tipificacion", "notas", "proxima_accion"}
        extra = set(data) - allowed
        if extra:
            raise bad_request(f"unknown wizard fields {sorted(extra)}", field=sorted(extra)[0])
        out = {k: v for k, v in data.items() if v is not None and v != ""}
        step = out.get("wizard_step")
        if step is not None and (not isinstance(step, int) or isinstance(step, bool)):
            raise bad_request("wizard_step must be an integer", field="wizard_step")
        if step is not None and not 1 <= step <= 3:
            raise bad_request("wizard_step is 1, 2 or 3", field="wizard_step")
        notas = out.get("notas")
        if notas is not None and (not isinstance(notas, str) or len(notas) > MAX_NOTAS):
            raise bad_request(f"notas is text of up to {MAX_NOTAS} characters", field="notas")
        for name, choices in (
            ("resultado_contacto", self.options.resultados),
            ("tipificacion", self.options.tipificaciones),
            ("proxima_accion", self.options.proximas_acciones),
        ):
            value = out.get(name)
            if value is not None and value not in choices:
                raise bad_request(f"{name} must be one of {sorted(choices)}", field=name)
        return out

    # -- leave hook -------------------------------------------------------------------

    async def user_left(self, user: str) -> None:
        """An asesor's last connection is gone: give up the wizards they held
        (``CLIENT_UNLOCKED``), so GTR sees them free and nobody waits on a dead tab."""
        await self.records.release_leases(user)
