"""The turnero (seed 004): a ticket queue with a kiosk, operator panels, a
public monitor and an admin dashboard, on relevo's records layer.

Modules (one concept each)::

    options    the [app.turnos] table, validated
    kinds      area, tramite, mesa, turno: fields, states, transitions, timer
    config     reading and changing areas / trámites / mesas
    service    Turnero: issue, call next, recall, attend, finish, no-show
    views      what each audience sees of a turno (the monitor: no names)
    stats      the admin's figures, kept live (stats_actualizadas)
    estimate   the estimated wait per area (kiosk ticket, monitor)
    reports    a range of days per area / mesa / operator / day, and as CSV
    _sql       counts and lookups that stay index lookups on a long day
    http       the screens under /turnos/, the API under /api/turnos
    demo       sample data for ``relevo demo``: the config, one operator per mesa, a morning
    simulator  demo only: a kiosk and operators nobody sees, so the screens keep moving
    bench      the benchmark of issue 7's target (_bench_io: its plumbing)

Guide: ``docs/apps/turnos.md``.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from relevo.apps.base import AppContext
from relevo.apps.kit.simulate import Ticker, online_users, simulating
from relevo.records import Kind
from relevo.settings import NamespaceSettings, Rule
from relevo.web import Extension

from . import openapi
from .demo import DEMO_OPERADORES, seed_demo
from .http import TurnosHttp
from .kinds import CH_CONFIG, CH_MONITOR, ROLE_ADMIN, ROLE_OPERADOR, build_kinds
from .options import TurnosOptions, parse_options
from .service import Turnero
from .simulator import TurnosSimulator
from .stats import LiveStats

__all__ = ["NAME", "TurnosOptions", "extension", "kinds", "namespaces", "seed_demo"]

NAME = "turnos"


def namespaces(options: Mapping[str, Any] | None = None) -> tuple[NamespaceSettings, ...]:
    """``turnos:monitor`` and ``turnos:config``: anyone, read-only (no names
    ever go there); ``turnos:area:<id>``: operators and admins;
    ``turnos:stats`` and everything else: admins. Nobody publishes from a
    browser: every change goes through the app API."""
    opts = parse_options(options)
    return (
        NamespaceSettings(
            "turnos",
            subscribe=(
                Rule(anonymous=True, channel=CH_MONITOR),
                Rule(anonymous=True, channel=CH_CONFIG),
                Rule(role=ROLE_OPERADOR, channel="turnos:area:*"),
                Rule(role=ROLE_ADMIN),
            ),
            history_size=opts.history_size,
            history_ttl=opts.history_ttl,
        ),
    )


def kinds(options: Mapping[str, Any] | None = None) -> list[Kind]:
    return build_kinds(parse_options(options))


def extension(ctx: AppContext) -> Extension:
    """The screens under ``/turnos/``, the API under ``/api/turnos/``, the
    live statistics, and in demo mode the simulator (``simulate``), started
    and stopped with the server."""
    opts = parse_options(ctx.options)
    if "turno" not in ctx.records.kinds:
        ctx.records.register(*build_kinds(opts))
    stats = LiveStats(ctx.records, opts)
    turnero = Turnero(ctx.records, opts, changed=stats.changed)
    ctx.records.on_leave(turnero.operador_salio)
    http = TurnosHttp(turnero, ctx.settings)
    startup: list[Callable[[], Awaitable[None]]] = [stats.start]
    shutdown: list[Callable[[], Awaitable[None]]] = [stats.stop]
    if simulating(ctx.settings, opts.simulate, opts.simulate_every):
        sim = TurnosSimulator(turnero, online_users(ctx.hub), random.Random(), DEMO_OPERADORES)
        ticker = Ticker(
            NAME,
            opts.simulate_every,
            sim.act,
            seed=sim.rnd.randrange(2**32),
            clock=ctx.records.clock,
        )
        startup.append(ticker.start)
        shutdown.insert(0, ticker.stop)
    ext = Extension(
        NAME,
        routes=http.routes(),
        startup=startup,
        shutdown=shutdown,
        links=[("Turnos (kiosco, operador, monitor)", "/turnos/")],
    )
    return openapi.document(ext, ctx.records)
