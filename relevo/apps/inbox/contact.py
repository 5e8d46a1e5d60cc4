"""The contact profile: what the inbox knows of the customer behind a
conversation (one conversation per number and tenant). Agents may name the
contact; that name then wins over the one WhatsApp sends with each message.
The rest is read from the conversation record: the phone, the first contact
(``first_at``: the customer's first message; else its ``created_at``) and
``atenciones`` (how many times the customer came back after it was
resolved, the first time included)."""

from __future__ import annotations

from typing import Any

from relevo.records import Actor, Record

from ..kit.http import acting_as
from .kinds import CONVERSATION
from .service import InboxService
from .validate import agent_tenant, text

__all__ = ["MAX_CONTACT_NAME", "Contacts"]

MAX_CONTACT_NAME = 80


class Contacts:
    def __init__(self, inbox: InboxService) -> None:
        self.inbox = inbox

    async def rename(self, actor: Actor, conversation_id: Any, name: Any) -> Record:
        """``actor`` (an agent of the tenant) names the conversation's contact."""
        tenant = agent_tenant(actor)
        new = text(name, MAX_CONTACT_NAME, "name", ("El nombre", "vacío"))
        async with self.inbox.records.transaction() as tx:
            conv = await self.inbox.own(
                tx, CONVERSATION, conversation_id, tenant, "Esa conversación"
            )
            if conv.get("contact_name") == new and conv.get("contact_name_by"):
                return conv
            data = {"contact_name": new, "contact_name_by": actor.user}
            return await tx.transition(
                CONVERSATION, conv.id, "renombrar", data, by=acting_as(actor)
            )
