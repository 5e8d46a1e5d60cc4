"""The inbox over HTTP: pages, assets and ``/api/inbox/...``.

Three audiences:

- **agents** (``Authorization: Bearer <JWT>`` with role ``agente`` or
  ``supervisor`` and a ``tenant`` claim): answer, read, assign, resolve,
  bulk sends. The tenant is the token's; an id of another tenant is
  ``not_found``. Reads are live queries of the records API.
- **the backend** that holds the WhatsApp session (the API key; the tenant in
  the path, ``/api/inbox/t/<tenant>/...``): incoming messages, connector
  status, delivery status, bulk progress. This is the integration point.
- **the simulator** (``/api/inbox/sim/...``, demo mode only; an agent's token
  picks the tenant): what that backend would do, made up.

Errors: ``{"code", "message", "retry", "mensaje", ...}``.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from relevo.protocol.errors import NotFound
from relevo.records import Actor, Records
from relevo.settings import Settings
from relevo.web import json_response

from ..kit.demo import DemoUser, demo_login_routes
from ..kit.errors import forbidden, not_found
from ..kit.http import endpoint, public, read_json
from ..kit.pages import page_routes
from .bulk import BulkSends
from .kinds import AGENT, BULK, CONNECTOR, CONVERSATION, MESSAGE, TENANT
from .service import Delivery, InboxService
from .simulator import Simulator
from .validate import agent_tenant, phone, tenant_id

__all__ = ["STATIC", "InboxHttp"]

STATIC = resources.files("relevo.apps.inbox") / "static"
PAGES = {"": "inbox.html", "masivo": "masivo.html"}


def _backend(actor: Actor) -> None:
    if not actor.is_system:
        raise forbidden(
            "this endpoint is the backend's: send the API key",
            "Solo el backend (con la clave de API) informa esto.",
        )


class InboxHttp:
    def __init__(
        self, inbox: InboxService, bulk: BulkSends, sim: Simulator | None, settings: Settings
    ) -> None:
        self.inbox = inbox
        self.bulk = bulk
        self.sim = sim
        self.records: Records = inbox.records
        self.settings = settings

    def _delivery(self, d: Delivery) -> dict[str, Any]:
        return {
            "message": self.inbox.public(MESSAGE, d.message),
            "conversation": self.inbox.public(CONVERSATION, d.conversation),
            "duplicate": d.duplicate,
        }

    async def config(self, request: Request) -> Response:
        return json_response(
            {
                "demo": self.settings.demo,
                "simulator": self.sim is not None,
                "token_url": self.inbox.options.token_url,
                "max_text": self.inbox.options.max_text,
                "max_bulk": self.inbox.options.max_bulk,
            }
        )

    # -- agents ---------------------------------------------------------------------------

    async def me(self, request: Request, actor: Actor) -> Response:
        tenant = agent_tenant(actor)
        out: dict[str, Any] = {
            "id": actor.user,
            "tenant": tenant,
            "roles": sorted(actor.roles),
            "nombre": str(actor.claims.get("name") or actor.user),
        }
        for kind, rid, key in ((AGENT, actor.user, "nombre"), (TENANT, tenant, "tenant_nombre")):
            try:
                rec = await self.records.get(kind, rid)
            except NotFound:
                continue
            if rec.get("tenant") == tenant:
                out[key] = rec.get("nombre")
        return json_response(out)

    async def send(self, request: Request, actor: Actor) -> Response:
        body = await read_json(request)
        d = await self.inbox.send(actor, request.path_params["id"], body.get("text"))
        return json_response(self._delivery(d), 201)

    async def act(self, request: Request, actor: Actor) -> Response:
        action = request.path_params["action"]
        conv_id = request.path_params["id"]
        if action not in ("read", "resolve", "reopen", "assign"):
            raise not_found(f"no conversation action {action!r}", "Acción desconocida.")
        if action == "assign":
            body = await read_json(request)
            rec = await self.inbox.assign(actor, conv_id, body.get("agent"))
        else:
            rec = await self.inbox.act(actor, conv_id, action)
        return json_response(self.inbox.public(CONVERSATION, rec))

    async def create_bulk(self, request: Request, actor: Actor) -> Response:
        body = await read_json(request, 1_048_576)
        rec = await self.bulk.create(
            actor, body.get("nombre"), body.get("texto"), body.get("destinatarios")
        )
        return json_response(self.inbox.public(BULK, rec), 201)

    async def cancel_bulk(self, request: Request, actor: Actor) -> Response:
        rec = await self.bulk.cancel(actor, request.path_params["id"])
        return json_response(self.inbox.public(BULK, rec))

    # -- the backend (API key) ----------------------------------------------------------------

    async def incoming(self, request: Request, actor: Actor) -> Response:
        """``{"from", "text", "name"?, "id"?, "at"?}``: a WhatsApp message arrived."""
        _backend(actor)
        b = await read_json(request)
        d = await self.inbox.incoming(
            request.path_params["tenant"],
            b.get("from"),
            b.get("text"),
            name=b.get("name"),
            external_id=b.get("id"),
            at=b.get("at"),
        )
        return json_response(self._delivery(d), 200 if d.duplicate else 201)

    async def connector(self, request: Request, actor: Actor) -> Response:
        """``{"status": "qr"|"authenticated"|"disconnected", "qr"?, "phone"?, "detail"?}``."""
        _backend(actor)
        b = await read_json(request)
        rec = await self.inbox.connector(
            request.path_params["tenant"],
            b.get("status"),
            qr=b.get("qr"),
            number=b.get("phone"),
            detail=b.get("detail"),
        )
        return json_response(self.inbox.public(CONNECTOR, rec))

    async def message_status(self, request: Request, actor: Actor) -> Response:
        """``{"status": "enviado"|"entregado"|"leido"|"fallido"}`` of an outgoing message."""
        _backend(actor)
        b = await read_json(request)
        p = request.path_params
        rec = await self.inbox.set_status(p["tenant"], p["id"], b.get("status"))
        return json_response(self.inbox.public(MESSAGE, rec))

    async def bulk_progress(self, request: Request, actor: Actor) -> Response:
        """``{"enviados", "fallidos", "done"?}`` of a bulk send the backend runs."""
        _backend(actor)
        b = await read_json(request)
        p = request.path_params
        rec = await self.bulk.report(
            p["tenant"], p["id"], b.get("enviados"), b.get("fallidos"), b.get("done", False)
        )
        return json_response(self.inbox.public(BULK, rec))

    # -- the simulator (demo only) --------------------------------------------------------------

    def _simulator(self, request: Request, actor: Actor) -> tuple[Simulator, str]:
        if self.sim is None:
            raise not_found(
                "the simulator runs in demo mode only",
                "El simulador solo existe en modo demostración.",
            )
        if actor.is_system:  # the API key names the tenant: ?tenant=
            return self.sim, tenant_id(request.query_params.get("tenant"))
        return self.sim, agent_tenant(actor)

    async def simulate(self, request: Request, actor: Actor) -> Response:
        sim, tenant = self._simulator(request, actor)
        what = request.path_params["what"]
        if what == "incoming":
            b = await read_json(request)
            body = b.get("text") if isinstance(b.get("text"), str) and b.get("text") else None
            sender = phone(b["from"]) if b.get("from") is not None else None
            d = await sim.incoming(tenant, body, sender)
            return json_response(self._delivery(d), 201)
        actions = {"qr": sim.show_qr, "scan": sim.scan, "disconnect": sim.disconnect}
        if what not in actions:
            raise not_found(f"no simulator action {what!r}", "Acción desconocida.")
        rec = await actions[what](tenant)
        return json_response(self.inbox.public(CONNECTOR, rec))

    # -- demo login ---------------------------------------------------------------------------

    async def demo_users(self) -> list[DemoUser]:
        tenants = {t.id: t for t in await self.records.find(TENANT, {}, limit=1000)}
        agents = await self.records.find(AGENT, {}, limit=1000)
        out = []
        for a in sorted(agents, key=lambda a: (str(a.get("tenant")), a.id)):
            tenant = str(a.get("tenant"))
            t = tenants.get(tenant)
            info = {
                "rol": a.get("rol"),
                "tenant_nombre": t.get("nombre") if t else tenant,
                "color": t.get("color") if t else None,
            }
            out.append(DemoUser(a.id, str(a.get("nombre")), (str(a.get("rol")),), tenant, info))
        return out

    def routes(self) -> list[BaseRoute]:
        def ep(handler: Any) -> Any:
            return endpoint(self.records, handler)

        conv = "/api/inbox/conversations/{id}"
        t = "/api/inbox/t/{tenant}"
        return [
            *page_routes("inbox", STATIC, PAGES, home="/inbox/"),
            Route("/api/inbox/config", public(self.config)),
            Route("/api/inbox/me", ep(self.me)),
            Route(conv + "/messages", ep(self.send), methods=["POST"]),
            Route(conv + "/{action:str}", ep(self.act), methods=["POST"]),
            Route("/api/inbox/bulk", ep(self.create_bulk), methods=["POST"]),
            Route("/api/inbox/bulk/{id}/cancel", ep(self.cancel_bulk), methods=["POST"]),
            Route(t + "/incoming", ep(self.incoming), methods=["POST"]),
            Route(t + "/connector", ep(self.connector), methods=["POST"]),
            Route(t + "/messages/{id}/status", ep(self.message_status), methods=["POST"]),
            Route(t + "/bulk/{id}/progress", ep(self.bulk_progress), methods=["POST"]),
            Route("/api/inbox/sim/{what}", ep(self.simulate), methods=["POST"]),
            *demo_login_routes("inbox", self.settings, self.demo_users),
        ]
