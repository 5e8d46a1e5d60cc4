"""The inbox app (seed 002): a WhatsApp CRM per tenant. Conversations and
messages, the connector's status (QR → authenticated → disconnected), bulk
sends with live progress, and live stats; each tenant sees only its own
data, by channel permissions bound to the token's ``tenant`` claim.

Modules (one concept each)::

    options    the [app.inbox] table, validated
    kinds      conversation, message, connector, bulk, agent, tenant, stats
    validate   tenant ids, phones, texts, the caller's tenant
    service    messages in and out, conversation moves, connector status
    bulk       bulk sends and their progress
    connector  the one connector interface; picks a tenant's implementation
    cloud      the WhatsApp Business Cloud API connector (settings, status, sends)
    _graph     the Graph API client (retries with backoff on 429 / 5xx)
    webhook    Meta's webhook: handshake, signed deliveries, statuses
    media      attachments customers send, stored and served
    notes      internal notes on a conversation (never sent)
    quick      quick replies: a tenant's saved answers
    team       who is looking at a conversation, who is typing (not stored)
    contact    the contact profile: an agent names the contact
    team_http  /api/inbox/... for notes, quick replies, typing, the contact
    simulator  demo only: a made-up WhatsApp (incoming, QR flow, delivery, bulk)
    http       pages, assets and /api/inbox/... (agents, backend, simulator)
    cloud_http /api/inbox/whatsapp..., templates, attachments
    demo       sample data for ``relevo demo``

Guide: ``docs/apps/inbox.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from relevo.apps.base import AppContext
from relevo.apps.kit.directory import Directory
from relevo.apps.kit.simulate import online_users
from relevo.records import Kind
from relevo.settings import NamespaceSettings, Rule
from relevo.web import Extension

from . import openapi
from ._graph import GraphClient
from .bulk import BulkSends
from .cloud import CloudConnector
from .cloud_http import CloudHttp
from .connector import Connectors
from .demo import seed
from .http import InboxHttp
from .kinds import AGENT, CONVERSATION, TENANT, all_kinds
from .media import MediaStore
from .notes import Notes
from .options import InboxOptions, parse_options
from .quick import QuickReplies
from .service import InboxService
from .simulator import Simulator
from .team import Typing, team_namespace
from .team_http import TeamHttp
from .webhook import Webhook

__all__ = [
    "DIRECTORY",
    "NAME",
    "InboxOptions",
    "InboxService",
    "extension",
    "kinds",
    "namespaces",
    "seed_demo",
]

NAME = "inbox"
#: The agents (``inbox_agent``) are kept from the accounts with these roles.
DIRECTORY = Directory(AGENT, ("supervisor", "agente"), tenant=True)


def namespaces(options: Mapping[str, Any] | None = None) -> tuple[NamespaceSettings, ...]:
    """``t``: an authenticated user may subscribe to ``t:<their tenant claim>:*``
    only. Nobody publishes from a browser (every change goes through
    ``/api/inbox``). ``equipo``: agents on a conversation (see :mod:`.team`)."""
    opts = parse_options(options)
    return (
        NamespaceSettings(
            "t",
            subscribe=(Rule(channel="t:{tenant}:*"),),
            history_size=opts.history_size,
            history_ttl=opts.history_ttl,
        ),
        team_namespace(),
    )


def kinds(options: Mapping[str, Any] | None = None) -> list[Kind]:
    return all_kinds()


def extension(ctx: AppContext) -> Extension:
    """Pages under ``/inbox/``, the API under ``/api/inbox/``; in demo mode
    the simulator starts with the server."""
    opts = parse_options(ctx.options)
    if CONVERSATION not in ctx.records.kinds:
        ctx.records.register(*kinds(ctx.options))
    inbox = InboxService(ctx.records, opts)
    bulk = BulkSends(inbox)
    sim: Simulator | None = None
    if ctx.settings.demo:

        async def tenants() -> list[str]:
            return [t.id for t in await ctx.records.find(TENANT, {}, limit=100)]

        sim = Simulator(inbox, bulk, tenants, online_users(ctx.hub))
    graph = GraphClient(
        opts.graph_url,
        ctx.records.clock,
        timeout=opts.graph_timeout,
        retries=opts.graph_retries,
        backoff=opts.graph_backoff,
    )
    cloud = CloudConnector(inbox, bulk, graph)
    connectors = Connectors(inbox, bulk, cloud, sim, cloud.configured)
    cloud.attach(connectors)
    media = MediaStore(opts.media_dir)
    cloud_http = CloudHttp(inbox, connectors, cloud, Webhook(inbox, cloud, media), media)
    http = InboxHttp(inbox, bulk, sim, ctx.settings)
    team = TeamHttp(inbox, Notes(inbox), QuickReplies(inbox), Typing(inbox, ctx.hub))
    ext = Extension(
        NAME,
        # the Cloud and team routes first: /conversations/{id}/template before /{action}
        routes=[*cloud_http.routes(), *team.routes(), *http.routes()],
        startup=[*([sim.start] if sim else []), cloud.start, connectors.start],
        shutdown=[connectors.stop, *([sim.stop] if sim else []), cloud.stop],
        links=[("Bandeja WhatsApp (por empresa)", "/inbox/")],
    )
    return openapi.document(ext, ctx.records)


async def seed_demo(ctx: AppContext) -> None:
    """Two tenants with agents, conversations and a finished bulk send; idempotent."""
    inbox = InboxService(ctx.records, parse_options(ctx.options))
    await seed(ctx.records, inbox, BulkSends(inbox))
