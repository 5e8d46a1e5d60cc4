"""Bulk sends ("envío masivo"): a campaign record per send, whose progress is
published on ``t:<tenant>:bulk`` as ``bulk:progress`` while it goes out.

Who sends: in demo mode the simulator (one message every
``sim_bulk_interval`` seconds, through :meth:`BulkSends.send_next`); in a real
deployment the backend that talks to WhatsApp, which reads the campaign
(``GET /api/records/inbox_bulk/<id>`` with the API key, ``destinatarios``
included) and reports ``POST /api/inbox/t/<tenant>/bulk/<id>/progress``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from relevo.records import SYSTEM, Actor, Record, Records

from ..kit.errors import bad_request, conflict
from ..kit.http import acting_as
from .kinds import BULK, CONVERSATION, MESSAGE
from .service import InboxService
from .validate import optional_str, phone, supervisor_tenant, tenant_id, text

__all__ = ["BulkSends"]

BulkListener = Callable[[str, Record], None]


def _count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise bad_request(
            f"{name} must be a non-negative integer", "Cantidad inválida.", field=name
        )
    return value


class BulkSends:
    def __init__(self, inbox: InboxService) -> None:
        self.inbox = inbox
        self.records: Records = inbox.records
        self.created: list[BulkListener] = []
        """Told of each new campaign (after commit): the simulator, in demo."""

    async def create(self, actor: Actor, nombre: Any, texto: Any, destinatarios: Any) -> Record:
        """A campaign to ``destinatarios`` (phones) or ``"todos"`` (every
        contact of the tenant), queued (``en_cola``) until a sender starts it.
        A supervisor's only."""
        tenant = supervisor_tenant(actor, "start a bulk send")
        name = optional_str(nombre, "nombre", 80)
        if not name:
            raise bad_request("nombre is required", "Ponle un nombre al envío.", field="nombre")
        body = text(texto, self.inbox.options.max_text, "texto")
        phones = await self._recipients(tenant, destinatarios)
        creator = str(actor.claims.get("name") or actor.user)
        data = {
            "tenant": tenant,
            "nombre": name,
            "texto": body,
            "destinatarios": phones,
            "total": len(phones),
            "creado_por": actor.user,
            "creado_por_nombre": creator,
        }
        async with self.records.transaction() as tx:
            rec = await tx.create(BULK, data, by=acting_as(actor))
        for listener in self.created:
            listener(tenant, rec)
        return rec

    async def _recipients(self, tenant: str, value: Any) -> list[str]:
        limit = self.inbox.options.max_bulk
        if value == "todos":
            convs = await self.records.find(CONVERSATION, {"tenant": tenant}, limit=limit + 1)
            phones = [str(c.get("contact_phone")) for c in convs]
        elif isinstance(value, list):
            phones = [phone(p, f"destinatarios[{i}]") for i, p in enumerate(value)]
        else:
            raise bad_request(
                'destinatarios must be "todos" or a list of phones',
                "Elige los destinatarios.",
                field="destinatarios",
            )
        phones = list(dict.fromkeys(phones))
        if not phones:
            raise bad_request("no recipients", "No hay destinatarios.", field="destinatarios")
        if len(phones) > limit:
            raise bad_request(
                f"more than {limit} recipients",
                f"Máximo {limit} destinatarios por envío.",
                field="destinatarios",
            )
        return phones

    async def cancel(self, actor: Actor, bulk_id: str) -> Record:
        """Stop a campaign (a supervisor's only). The sender checks the state
        under the campaign's row lock before each message, so nothing goes out
        after this commits."""
        tenant = supervisor_tenant(actor, "cancel a bulk send")
        async with self.records.transaction() as tx:
            rec = await self.inbox.own(tx, BULK, bulk_id, tenant, "Ese envío")
            if rec.state not in ("en_cola", "enviando"):
                raise conflict(
                    f"{BULK} {rec.id} is {rec.state}", "Ese envío ya terminó.", state=rec.state
                )
            return await tx.transition(BULK, rec.id, "cancelar", by=acting_as(actor))

    async def report(
        self, tenant: str, bulk_id: str, enviados: Any, fallidos: Any, done: Any = False
    ) -> Record:
        """A backend's progress report: counts so far; ``done`` completes it."""
        tenant = tenant_id(tenant)
        sent, failed = _count(enviados, "enviados"), _count(fallidos, "fallidos")
        if not isinstance(done, bool):
            raise bad_request("done must be true or false", "Dato inválido.", field="done")
        async with self.records.transaction() as tx:
            rec = await self.inbox.own(tx, BULK, bulk_id, tenant, "Ese envío")
            if sent + failed > int(rec.get("total") or 0):
                raise bad_request(
                    "enviados + fallidos exceed total", "Las cuentas superan el total."
                )
            if rec.state == "cancelado":
                raise conflict(
                    f"{BULK} {rec.id} was cancelled", "El envío fue cancelado.", state=rec.state
                )
            if rec.state == "en_cola":
                rec = await tx.transition(BULK, rec.id, "iniciar", by=SYSTEM)
            if rec.state != "enviando":
                raise conflict(
                    f"{BULK} {rec.id} is {rec.state}", "Ese envío ya terminó.", state=rec.state
                )
            counts = {"enviados": sent, "fallidos": failed}
            return await tx.transition(
                BULK, rec.id, "completar" if done else "progreso", counts, by=SYSTEM
            )

    async def send_next(self, tenant: str, bulk_id: str, *, fail: bool = False) -> Record | None:
        """Send the campaign's next message (the simulator's sender): writes
        the outgoing message and the progress in one transaction. Returns the
        campaign, or None when it is over (done or cancelled)."""
        async with self.records.transaction() as tx:
            rec = await tx.get(BULK, bulk_id, lock=True)
            if rec.state == "en_cola":
                rec = await tx.transition(BULK, rec.id, "iniciar", by=SYSTEM)
            if rec.state != "enviando":
                return None
            sent, failed = int(rec.get("enviados") or 0), int(rec.get("fallidos") or 0)
            phones: list[str] = list(rec.get("destinatarios") or [])
            i = sent + failed
            if i < len(phones):
                conv, _ = await self.inbox.conversation_for(tx, tenant, phones[i], None)
                await self.inbox.send_in(
                    tx,
                    conv,
                    str(rec.get("texto")),
                    SYSTEM,
                    bulk_id=rec.id,
                    status="fallido" if fail else "enviado",
                )
                sent, failed = (sent, failed + 1) if fail else (sent + 1, failed)
            done = sent + failed >= len(phones)
            counts = {"enviados": sent, "fallidos": failed}
            return await tx.transition(
                BULK, rec.id, "completar" if done else "progreso", counts, by=SYSTEM
            )

    async def next_message(self, tenant: str, bulk_id: str) -> Record | None:
        """For a sender that sends each message itself (the Cloud API): the
        outgoing message to the campaign's next recipient, written
        ``pendiente`` once — asked again before :meth:`count` (a restart), it
        is the same message, so a recipient never gets the campaign twice.
        None when the campaign is over (done or cancelled)."""
        async with self.records.transaction() as tx:
            rec = await tx.get(BULK, bulk_id, lock=True)
            if rec.state == "en_cola":
                rec = await tx.transition(BULK, rec.id, "iniciar", by=SYSTEM)
            phones: list[str] = list(rec.get("destinatarios") or [])
            i = int(rec.get("enviados") or 0) + int(rec.get("fallidos") or 0)
            if rec.state != "enviando" or i >= len(phones):
                return None
            conv, _ = await self.inbox.conversation_for(tx, tenant, phones[i], None)
            mine = await tx.find(
                MESSAGE, {"tenant": tenant, "conversation_id": conv.id}, limit=1000
            )
            for msg in mine:
                if msg.get("bulk_id") == rec.id:
                    return msg
            texto = str(rec.get("texto"))
            return (await self.inbox.send_in(tx, conv, texto, SYSTEM, bulk_id=rec.id)).message

    async def count(self, tenant: str, bulk_id: str, *, sent: bool) -> Record | None:
        """One more message of the campaign sent (or failed); completes it
        after the last. None when it was cancelled meanwhile."""
        async with self.records.transaction() as tx:
            rec = await tx.get(BULK, bulk_id, lock=True)
            if rec.state != "enviando":
                return None
            ok, failed = int(rec.get("enviados") or 0), int(rec.get("fallidos") or 0)
            ok, failed = (ok + 1, failed) if sent else (ok, failed + 1)
            done = ok + failed >= int(rec.get("total") or 0)
            counts = {"enviados": ok, "fallidos": failed}
            return await tx.transition(
                BULK, rec.id, "completar" if done else "progreso", counts, by=SYSTEM
            )
