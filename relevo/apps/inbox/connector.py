"""The one connector interface between the inbox and WhatsApp, and the
dispatcher that picks a tenant's implementation.

Two implementations:

- :class:`~.cloud.CloudConnector`: Meta's WhatsApp Business Cloud API, for a
  tenant whose WhatsApp settings are saved (``inbox_whatsapp``);
- :class:`~.simulator.Simulator`: the demo's made-up WhatsApp, for every other
  tenant in demo mode.

Outside demo mode a tenant without settings has no connector here: the
backend that holds its session reports through ``/api/inbox/t/<tenant>/...``
as before.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol

from relevo.hub import Background
from relevo.records import Record

from .bulk import BulkSends
from .kinds import BULK, MESSAGE
from .service import InboxService

__all__ = ["Connector", "Connectors"]


class Connector(Protocol):
    name: str

    async def check(self, tenant: str) -> Record:
        """Ask WhatsApp how the tenant's connection is; the connector record."""
        ...

    async def deliver(self, tenant: str, message_id: str) -> None:
        """Send one pending outgoing message (at most once per message)."""
        ...

    async def templates(self, tenant: str) -> list[dict[str, Any]]:
        """The approved templates: ``[{name, language, category, text}]``."""
        ...

    async def send_bulk(self, tenant: str, bulk_id: str) -> None:
        """Send a campaign's messages (resumed where a restart left it)."""
        ...


class Connectors:
    """Routes each tenant to its connector; told of every outgoing message."""

    def __init__(
        self,
        inbox: InboxService,
        bulk: BulkSends,
        cloud: Connector,
        fallback: Connector | None,
        on_cloud: Callable[[str], Awaitable[bool]],
    ) -> None:
        self.inbox = inbox
        self.cloud = cloud
        self.fallback = fallback
        self.on_cloud = on_cloud
        """Whether a tenant has saved Cloud API settings (read from the
        database each time: another node may have saved them)."""
        self._tasks = Background("inbox connector task")
        inbox.outgoing.append(lambda tenant, msg: self.spawn(self._deliver(tenant, msg.id)))
        bulk.created.append(lambda tenant, rec: self.spawn(self._send_bulk(tenant, rec.id)))
        inbox.window_applies = self._window_applies

    async def of(self, tenant: str) -> Connector | None:
        return self.cloud if await self.on_cloud(tenant) else self.fallback

    async def _window_applies(self, tenant: str) -> bool:
        return await self.on_cloud(tenant)

    async def start(self) -> None:
        """Send what a restart left pending (each connector skips what it
        sent), and resume the campaigns (their messages are theirs)."""
        records = self.inbox.records
        for msg in await records.find(MESSAGE, {"status": "pendiente"}, limit=1000):
            if msg.get("direction") == "out" and not msg.get("bulk_id"):
                self.spawn(self._deliver(str(msg.get("tenant")), msg.id))
        for rec in await records.find(BULK, {"state": ["en_cola", "enviando"]}, limit=1000):
            self.spawn(self._send_bulk(str(rec.get("tenant")), rec.id))

    async def stop(self) -> None:
        await self._tasks.cancel()

    async def _deliver(self, tenant: str, message_id: str) -> None:
        connector = await self.of(tenant)
        if connector is not None:
            await connector.deliver(tenant, message_id)

    async def _send_bulk(self, tenant: str, bulk_id: str) -> None:
        connector = await self.of(tenant)
        if connector is not None:
            await connector.send_bulk(tenant, bulk_id)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        self._tasks.spawn(coro)
