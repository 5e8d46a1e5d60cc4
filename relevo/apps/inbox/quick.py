"""Quick replies: a tenant's saved answers (``inbox_quick_reply``). A
supervisor creates and deletes them; every agent of the tenant reads them (a
live query on ``t:<tenant>:inbox``) and inserts one in the composer."""

from __future__ import annotations

from typing import Any

from relevo.records import Actor, Record

from ..kit.errors import conflict
from ..kit.http import acting_as
from .kinds import QUICK_REPLY
from .service import InboxService
from .validate import supervisor_tenant, text

__all__ = ["MAX_QUICK", "MAX_QUICK_TEXT", "MAX_QUICK_TITLE", "QuickReplies"]

MAX_QUICK = 50
"""Saved answers per tenant."""
MAX_QUICK_TITLE = 60
MAX_QUICK_TEXT = 1000

_ONLY_SUPERVISOR = "Solo un supervisor puede crear o borrar respuestas rápidas."


class QuickReplies:
    def __init__(self, inbox: InboxService) -> None:
        self.inbox = inbox

    async def create(self, actor: Actor, titulo: Any, texto: Any) -> Record:
        tenant = supervisor_tenant(actor, "manage quick replies", _ONLY_SUPERVISOR)
        title = text(titulo, MAX_QUICK_TITLE, "titulo", ("El título", "vacío"))
        body = text(texto, MAX_QUICK_TEXT, "texto", ("El texto", "vacío"))
        name = actor.claims.get("name")
        async with self.inbox.records.transaction() as tx:
            await self.inbox.lock_tenant(tx, tenant)  # the count below holds
            saved = await tx.find(QUICK_REPLY, {"tenant": tenant}, limit=MAX_QUICK)
            if len(saved) >= MAX_QUICK:
                raise conflict(
                    f"a tenant keeps at most {MAX_QUICK} quick replies",
                    f"Ya hay {MAX_QUICK} respuestas rápidas: borra alguna antes de crear otra.",
                )
            data = {
                "tenant": tenant,
                "titulo": title,
                "texto": body,
                "creado_por_nombre": str(name) if name else actor.user,
            }
            return await tx.create(QUICK_REPLY, data, by=acting_as(actor))

    async def delete(self, actor: Actor, reply_id: Any) -> Record:
        tenant = supervisor_tenant(actor, "manage quick replies", _ONLY_SUPERVISOR)
        async with self.inbox.records.transaction() as tx:
            rec = await self.inbox.own(tx, QUICK_REPLY, reply_id, tenant, "Esa respuesta rápida")
            return await tx.delete(QUICK_REPLY, rec.id, by=acting_as(actor))
