"""The leads app: lead follow-up ("seguimiento") for a GTR who routes leads
and the asesores who work them — seeds 000 and 001, rebuilt on relevo.

Modules (one concept each)::

    options     [app.leads] of relevo.toml: timeout, lease TTL, the wizard's choices
    kinds       the lead state machine and the user directory, as records kinds
    service     the actions (assign, open the wizard, heartbeat, step, complete, import)
    csv_import  reading a CSV of new leads, errors by line
    http        pages, assets and /api/leads/...
    demo        sample data for ``relevo demo`` and who its development login lists
    simulator   demo only: a GTR and asesores nobody sees, so the board keeps moving
    bench       the issue's target: 5,000 leads, 50 assignments/s, p99 to screen

See ``docs/apps/leads.md``.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from relevo.apps.base import AppContext
from relevo.apps.kit.directory import Directory
from relevo.apps.kit.simulate import Ticker, online_users, simulating
from relevo.records import Kind
from relevo.settings import NamespaceSettings, Rule
from relevo.web import Extension

from . import openapi
from .demo import demo_routes, seed
from .http import LeadsHttp
from .kinds import LEAD, USER, lead_kind, user_kind
from .options import LeadsOptions, parse_options
from .service import LeadsService
from .simulator import LeadsSimulator

__all__ = [
    "DIRECTORY",
    "NAME",
    "LeadsOptions",
    "LeadsService",
    "extension",
    "kinds",
    "namespaces",
    "seed_demo",
]

NAME = "leads"
#: The directory (``leads_user``) is kept from the accounts with these roles.
DIRECTORY = Directory(USER, ("asesor", "gtr", "admin"))
LINKS = [("Leads (GTR / asesores)", "/leads/")]


def namespaces(options: Mapping[str, Any] | None = None) -> tuple[NamespaceSettings, ...]:
    """``gtr`` (every lead), ``asesor:{id}`` (an asesor's own leads: only that
    asesor, and GTRs), ``presencia:{id}`` (an asesor's availability, seen by GTRs)."""
    opts = parse_options(options)
    staff = (Rule(role="gtr"), Rule(role="admin"))
    return (
        NamespaceSettings(
            "gtr", subscribe=staff, history_size=opts.history_size, history_ttl=opts.history_ttl
        ),
        NamespaceSettings(
            "asesor",
            subscribe=(Rule(role="asesor", channel="asesor:{user}"), *staff),
            history_size=500,
            history_ttl=opts.history_ttl,
        ),
        NamespaceSettings(
            "presencia",
            subscribe=(Rule(role="asesor", channel="presencia:{user}"), *staff),
            presence=staff,
            join_leave=True,
            history_size=0,
        ),
    )


def kinds(options: Mapping[str, Any] | None = None) -> list[Kind]:
    return [lead_kind(parse_options(options)), user_kind()]


def extension(ctx: AppContext) -> Extension:
    """Pages under ``/leads/``, actions under ``/api/leads/``, a leave hook
    that frees the wizards of an asesor whose last connection went, and in
    demo mode the simulator (``simulate``)."""
    opts = parse_options(ctx.options)
    if LEAD not in ctx.records.kinds:
        ctx.records.register(*kinds(ctx.options))
    service = LeadsService(ctx.records, opts)
    ctx.records.on_leave(service.user_left)
    http = LeadsHttp(ctx.records, service, opts, demo=ctx.settings.demo)
    routes = [*http.routes(), *demo_routes(ctx.records, ctx.settings)]
    if not simulating(ctx.settings, opts.simulate, opts.simulate_every):
        return openapi.document(Extension(NAME, routes=routes, links=list(LINKS)), ctx.records)

    sim = LeadsSimulator(service, online_users(ctx.hub), random.Random())
    ticker = Ticker(
        NAME, opts.simulate_every, sim.act, seed=sim.rnd.randrange(2**32), clock=ctx.records.clock
    )
    ext = Extension(
        NAME, routes=routes, links=list(LINKS), startup=[ticker.start], shutdown=[ticker.stop]
    )
    return openapi.document(ext, ctx.records)


async def seed_demo(ctx: AppContext) -> None:
    """Sample users (1 GTR, 4 asesores, 1 admin) and leads in every state;
    does nothing when the directory already has users."""
    opts = parse_options(ctx.options)
    await seed(ctx.records, LeadsService(ctx.records, opts), opts.demo_leads)
