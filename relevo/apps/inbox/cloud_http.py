"""``/api/inbox/...`` routes of the WhatsApp connection:

- settings (a **supervisor** of the tenant): ``GET`` / ``PUT
  /api/inbox/whatsapp`` — ids and masked secrets, never a secret;
- status on demand (an agent): ``POST /api/inbox/whatsapp/check``;
- templates (an agent): ``GET /api/inbox/templates``, and ``POST
  /api/inbox/conversations/{id}/template`` to send one;
- an attachment (an agent of the message's tenant): ``GET
  /api/inbox/messages/{id}/media``;
- Meta's webhook (anyone; the signature decides): ``GET`` / ``POST
  /api/inbox/whatsapp/webhook`` (see :mod:`.webhook`).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from relevo.records import Actor
from relevo.web import json_response

from ..kit.errors import bad_request, not_found
from ..kit.http import endpoint, public, read_json
from .cloud import CloudConnector
from .connector import Connectors
from .kinds import CONNECTOR, CONVERSATION, MESSAGE
from .media import MediaStore
from .service import InboxService
from .validate import agent_tenant, optional_str, supervisor_tenant
from .webhook import Webhook

__all__ = ["CloudHttp"]


class CloudHttp:
    def __init__(
        self,
        inbox: InboxService,
        connectors: Connectors,
        cloud: CloudConnector,
        webhook: Webhook,
        media: MediaStore,
    ) -> None:
        self.inbox = inbox
        self.connectors = connectors
        self.cloud = cloud
        self.webhook = webhook
        self.media = media

    async def _status(self, tenant: str) -> dict[str, Any]:
        return self.inbox.public(CONNECTOR, await self.cloud.connector_record(tenant))

    async def settings(self, request: Request, actor: Actor) -> Response:
        tenant = supervisor_tenant(actor, "see the WhatsApp settings")
        view = self.cloud.view(tenant, await self.cloud.settings(tenant))
        return json_response({"settings": view, "connector": await self._status(tenant)})

    async def configure(self, request: Request, actor: Actor) -> Response:
        tenant = supervisor_tenant(actor, "configure WhatsApp")
        rec = await self.cloud.configure(actor, await read_json(request))
        connector = await self.cloud.check(tenant)
        return json_response(
            {
                "settings": self.cloud.view(tenant, rec),
                "connector": self.inbox.public(CONNECTOR, connector),
            }
        )

    async def check(self, request: Request, actor: Actor) -> Response:
        tenant = agent_tenant(actor)
        connector = await self.connectors.of(tenant)
        if connector is None:
            return json_response(await self._status(tenant))
        return json_response(self.inbox.public(CONNECTOR, await connector.check(tenant)))

    async def templates(self, request: Request, actor: Actor) -> Response:
        tenant = agent_tenant(actor)
        connector = await self.connectors.of(tenant)
        found = await connector.templates(tenant) if connector is not None else []
        return json_response({"templates": found})

    async def send_template(self, request: Request, actor: Actor) -> Response:
        """``{"name", "language"}``: one of the tenant's approved templates."""
        tenant = agent_tenant(actor)
        body = await read_json(request)
        name = optional_str(body.get("name"), "name", 512)
        language = optional_str(body.get("language"), "language", 16)
        if not name or not language:
            raise bad_request("name and language are required", "Elige una plantilla.",
                              field="name")  # fmt: skip
        connector = await self.connectors.of(tenant)
        found = await connector.templates(tenant) if connector is not None else []
        pick = next((t for t in found if (t["name"], t["language"]) == (name, language)), None)
        if pick is None:
            raise not_found(
                f"no approved template {name!r} ({language})", "Esa plantilla no está aprobada."
            )
        preview = f"[Plantilla: {name}] {pick.get('text') or ''}".strip()
        d = await self.inbox.send_template(
            actor,
            request.path_params["id"],
            {"name": name, "language": language},
            preview[: self.inbox.options.max_text],
        )
        return json_response(
            {
                "message": self.inbox.public(MESSAGE, d.message),
                "conversation": self.inbox.public(CONVERSATION, d.conversation),
                "duplicate": False,
            },
            201,
        )

    async def media_file(self, request: Request, actor: Actor) -> Response:
        tenant = agent_tenant(actor)
        async with self.inbox.records.transaction() as tx:
            msg = await self.inbox.own(
                tx, MESSAGE, request.path_params["id"], tenant, "Ese mensaje"
            )
        return await self.media.response(tenant, msg.get("media"))

    def routes(self) -> list[BaseRoute]:
        def ep(handler: Any) -> Any:
            return endpoint(self.inbox.records, handler)

        wa = "/api/inbox/whatsapp"
        return [
            Route(wa, ep(self.settings), methods=["GET"]),
            Route(wa, ep(self.configure), methods=["PUT"]),
            Route(wa + "/check", ep(self.check), methods=["POST"]),
            Route(wa + "/webhook", public(self.webhook.verify), methods=["GET"]),
            Route(wa + "/webhook", public(self.webhook.deliver), methods=["POST"]),
            Route("/api/inbox/templates", ep(self.templates), methods=["GET"]),
            Route(
                "/api/inbox/conversations/{id}/template", ep(self.send_template), methods=["POST"]
            ),
            Route("/api/inbox/messages/{id}/media", ep(self.media_file), methods=["GET"]),
        ]
