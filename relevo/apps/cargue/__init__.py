"""The cargue app (seed 003): load-out checks. Each vendor has a plantilla of
product rows for the day's load; on the phone he ticks **V**, the dispatcher
sees it at once and ticks **D**. One group per vendor: ``cargue:<vendedor>``.

Modules (one concept each)::

    options   the [app.cargue] table, validated
    kinds     cargue_item (the V/D state machine) and cargue_user (the directory)
    service   tick / untick (idempotent), load a plantilla, progress per vendor
    plantilla the plantilla editor: load a day, add / edit / remove a row, quantities
    cierre    closing a vendor's day (locks it), reopening (admin)
    export    the day's sheet as CSV
    http      pages, assets and /api/cargue/...
    demo      sample data for ``relevo demo``
    simulator demo only: vendors and a dispatcher nobody sees, so the sheet keeps moving

Guide: ``docs/apps/cargue.md``.
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
from .demo import seed
from .http import CargueHttp
from .kinds import (
    ITEM,
    ROLE_ADMIN,
    ROLE_DESPACHADOR,
    ROLE_VENDEDOR,
    USER,
    cierre_kind,
    item_kind,
    user_kind,
)
from .options import CargueOptions, parse_options
from .service import CargueService
from .simulator import CargueSimulator

__all__ = [
    "DIRECTORY",
    "NAME",
    "CargueOptions",
    "CargueService",
    "extension",
    "kinds",
    "namespaces",
    "seed_demo",
]

NAME = "cargue"
#: The vendors and dispatchers (``cargue_user``) are kept from the accounts.
DIRECTORY = Directory(USER, (ROLE_VENDEDOR, ROLE_DESPACHADOR, ROLE_ADMIN))


def namespaces(options: Mapping[str, Any] | None = None) -> tuple[NamespaceSettings, ...]:
    """``cargue:<vendedor>``: that vendor, and staff; ``despacho:*`` (every
    vendor's rows, the directory): staff only. Nobody publishes from a
    browser: every tick goes through ``/api/cargue``."""
    opts = parse_options(options)
    staff = (Rule(role=ROLE_DESPACHADOR), Rule(role=ROLE_ADMIN))
    size, ttl = opts.history_size, opts.history_ttl
    return (
        NamespaceSettings(
            "cargue",
            subscribe=(Rule(role=ROLE_VENDEDOR, channel="cargue:{user}"), *staff),
            history_size=size,
            history_ttl=ttl,
        ),
        NamespaceSettings("despacho", subscribe=staff, history_size=size, history_ttl=ttl),
        # Who is online: each vendor's page holds vendedor:<id>; staff see its presence.
        NamespaceSettings(
            "vendedor",
            subscribe=(Rule(role=ROLE_VENDEDOR, channel="vendedor:{user}"), *staff),
            presence=staff,
            join_leave=True,
            history_size=0,
        ),
    )


def kinds(options: Mapping[str, Any] | None = None) -> list[Kind]:
    return [item_kind(), user_kind(), cierre_kind()]


def extension(ctx: AppContext) -> Extension:
    """Pages under ``/cargue/``, actions under ``/api/cargue/``, and in demo
    mode the simulator (``simulate``)."""
    opts = parse_options(ctx.options)
    if ITEM not in ctx.records.kinds:
        ctx.records.register(*kinds(ctx.options))
    service = CargueService(ctx.records, opts)
    http = CargueHttp(service, ctx.settings)
    links = [("Cargue (vendedor / despacho)", "/cargue/")]
    if not simulating(ctx.settings, opts.simulate, opts.simulate_every):
        return openapi.document(Extension(NAME, routes=http.routes(), links=links), ctx.records)

    sim = CargueSimulator(service, online_users(ctx.hub), random.Random())
    ticker = Ticker(
        NAME, opts.simulate_every, sim.act, seed=sim.rnd.randrange(2**32), clock=ctx.records.clock
    )
    ext = Extension(
        NAME, routes=http.routes(), links=links, startup=[ticker.start], shutdown=[ticker.stop]
    )
    return openapi.document(ext, ctx.records)


async def seed_demo(ctx: AppContext) -> None:
    """A dispatcher, three vendors and today's plantillas; idempotent."""
    await seed(ctx.records, CargueService(ctx.records, parse_options(ctx.options)))
