"""The agents of a tenant on one conversation: who is looking at it and who
is typing. Neither is stored.

- **Presence**: each agent's chat pane subscribes to
  ``equipo:<tenant>:conv:<id>`` while the conversation is open; the hub
  tracks who is subscribed (``$join`` / ``$leave`` and the presence list).
  The namespace ``equipo`` lets an agent subscribe and ask presence only on
  ``equipo:<their tenant claim>:*``, and nobody publishes from a browser.
- **Typing**: ``POST /api/inbox/conversations/{id}/typing`` publishes
  ``typing`` (the agent's id and name, from the token) on that channel,
  without history; at most once per :data:`TYPING_EVERY` seconds per agent
  and conversation (the rest is answered ``sent: false``). Pages show
  "X está escribiendo…" and drop it :data:`TYPING_SHOWN` seconds after the
  last one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from relevo.clock import Clock
from relevo.protocol.errors import NotFound
from relevo.records import Actor
from relevo.settings import NamespaceSettings, Rule

from ..kit.errors import not_found
from ..kit.http import valid_id
from .kinds import AGENT_ROLES, CONVERSATION
from .service import InboxService
from .validate import agent_tenant

if TYPE_CHECKING:
    from relevo.hub.hub import Hub

__all__ = ["TEAM_NS", "TYPING_EVERY", "TYPING_SHOWN", "Typing", "team_channel", "team_namespace"]

TEAM_NS = "equipo"
TYPING_EVERY = 1.0
"""Seconds between two ``typing`` publications of one agent on one conversation."""
TYPING_SHOWN = 4.0
"""Seconds a page shows "está escribiendo…" after the last ``typing`` (in team.js too)."""
_REMEMBERED = 10_000
"""Rate-limit entries kept before the stale ones are dropped."""


def team_channel(tenant: str, conversation_id: str) -> str:
    return f"{TEAM_NS}:{tenant}:conv:{conversation_id}"


def team_namespace() -> NamespaceSettings:
    """Subscribe and presence on the caller's own tenant only, agents only."""
    rules = tuple(Rule(role=r, channel=f"{TEAM_NS}:{{tenant}}:*") for r in sorted(AGENT_ROLES))
    return NamespaceSettings(
        TEAM_NS, subscribe=rules, presence=rules, join_leave=True, history_size=0
    )


class Typing:
    def __init__(self, inbox: InboxService, hub: Hub, clock: Clock | None = None) -> None:
        self.inbox = inbox
        self.hub = hub
        self.clock = clock or inbox.records.clock
        self.last: dict[tuple[str, str, str], float] = {}

    async def typing(self, actor: Actor, conversation_id: object) -> bool:
        """Tell the tenant's agents on the conversation that ``actor`` is
        typing; ``False`` when it was said less than TYPING_EVERY ago."""
        tenant = agent_tenant(actor)
        conv_id = valid_id(conversation_id, "id")
        try:
            conv = await self.inbox.records.get(CONVERSATION, conv_id)
        except NotFound:
            conv = None
        if conv is None or conv.get("tenant") != tenant:
            raise not_found(
                f"{CONVERSATION} {conv_id} does not exist", "Esa conversación no existe."
            )
        now = self.clock.monotonic()
        key = (tenant, actor.user, conv_id)
        if now - self.last.get(key, -TYPING_EVERY) < TYPING_EVERY:
            return False
        if len(self.last) >= _REMEMBERED:
            self.last = {k: t for k, t in self.last.items() if now - t < TYPING_EVERY}
        self.last[key] = now
        name = actor.claims.get("name")
        data = {"user": actor.user, "nombre": str(name) if name else actor.user}
        await self.hub.publish(
            team_channel(tenant, conv_id), "typing", msgspec.json.encode(data), "inbox"
        )
        return True
