"""Internal notes: what an agent writes on a conversation for the other
agents of the tenant. A note is an ``inbox_message`` with direction ``note``
and status ``nota``, so it appears live in the conversation's stream
(``t:<tenant>:conv:<id>``) next to the messages; no connector ever sends it
(they send ``pendiente`` outgoing messages only) and it moves nothing on the
conversation (last text, unread, the day's figures)."""

from __future__ import annotations

from typing import Any

from relevo.records import Actor, Record

from ..kit.http import acting_as
from .kinds import CONVERSATION, MESSAGE
from .service import InboxService
from .validate import agent_tenant, text

__all__ = ["MAX_NOTE", "Notes"]

MAX_NOTE = 2000
"""Characters in one note."""


class Notes:
    def __init__(self, inbox: InboxService) -> None:
        self.inbox = inbox

    async def add(self, actor: Actor, conversation_id: Any, body: Any) -> Record:
        """A note by ``actor`` on a conversation of their tenant."""
        tenant = agent_tenant(actor)
        note = text(body, MAX_NOTE, what=("La nota", "vacía"))
        author_name = actor.claims.get("name")
        async with self.inbox.records.transaction() as tx:
            conv = await self.inbox.own(
                tx, CONVERSATION, conversation_id, tenant, "Esa conversación"
            )
            return await tx.create(
                MESSAGE,
                {
                    "tenant": tenant,
                    "conversation_id": conv.id,
                    "direction": "note",
                    "text": note,
                    "status": "nota",
                    "author": actor.user,
                    "author_name": str(author_name) if author_name else None,
                    "at": self.inbox.now_ms(),
                },
                by=acting_as(actor),
            )
