"""``/api/inbox/...`` for what agents do for each other: internal notes,
quick replies, "está escribiendo…", the contact's name. Every route takes the tenant from the
token; an id of another tenant is ``not_found``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from relevo.records import Actor
from relevo.web import json_response

from ..kit.http import endpoint, read_json
from .contact import Contacts
from .kinds import CONVERSATION, MESSAGE, QUICK_REPLY
from .notes import Notes
from .quick import QuickReplies
from .service import InboxService
from .team import Typing

__all__ = ["TeamHttp"]


class TeamHttp:
    def __init__(
        self, inbox: InboxService, notes: Notes, quick: QuickReplies, typing: Typing
    ) -> None:
        self.inbox = inbox
        self.contacts = Contacts(inbox)
        self.notes = notes
        self.quick = quick
        self.typing_ = typing

    async def add_note(self, request: Request, actor: Actor) -> Response:
        body = await read_json(request)
        rec = await self.notes.add(actor, request.path_params["id"], body.get("text"))
        return json_response(self.inbox.public(MESSAGE, rec), 201)

    async def rename(self, request: Request, actor: Actor) -> Response:
        body = await read_json(request)
        rec = await self.contacts.rename(actor, request.path_params["id"], body.get("name"))
        return json_response(self.inbox.public(CONVERSATION, rec))

    async def typing(self, request: Request, actor: Actor) -> Response:
        sent = await self.typing_.typing(actor, request.path_params["id"])
        return json_response({"sent": sent})

    async def create_quick(self, request: Request, actor: Actor) -> Response:
        body = await read_json(request)
        rec = await self.quick.create(actor, body.get("titulo"), body.get("texto"))
        return json_response(self.inbox.public(QUICK_REPLY, rec), 201)

    async def delete_quick(self, request: Request, actor: Actor) -> Response:
        rec = await self.quick.delete(actor, request.path_params["id"])
        return json_response({"deleted": rec.id})

    def routes(self) -> list[BaseRoute]:
        def ep(handler: Any) -> Any:
            return endpoint(self.inbox.records, handler)

        conv = "/api/inbox/conversations/{id}"
        return [
            Route(conv + "/notes", ep(self.add_note), methods=["POST"]),
            Route(conv + "/typing", ep(self.typing), methods=["POST"]),
            Route(conv + "/contact", ep(self.rename), methods=["POST"]),
            Route("/api/inbox/quick-replies", ep(self.create_quick), methods=["POST"]),
            Route("/api/inbox/quick-replies/{id}", ep(self.delete_quick), methods=["DELETE"]),
        ]
