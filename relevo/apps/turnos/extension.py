"""The turnero as a server extension: its kinds on the records service, the
operations, the statistics publisher, the API and the pages."""

from __future__ import annotations

from typing import Any

import msgspec

from relevo.apps.base import AppContext
from relevo.apps.web import DemoUser, demo_login_routes
from relevo.records import Record
from relevo.web import Extension

from ._sql import WaitCache
from .http import TurnosApi, api_routes
from .kinds import CH_STATS, LLAMADO, ROLE_ADMIN, ROLE_OPERADOR, build_kinds
from .options import TurnosOptions, parse_options
from .pages import page_routes
from .service import Turnero
from .stats import StatsPublisher, compute_stats

__all__ = ["TurnosApp", "build_extension"]

_json = msgspec.json.Encoder()
_SETTLE = (1.0, 3.0)
"""Seconds after a no-show deadline to look at the statistics again (the
records timer fires within about a second of it)."""


class TurnosApp:
    """Everything the app holds while the server runs."""

    def __init__(self, ctx: AppContext, options: TurnosOptions) -> None:
        self.ctx = ctx
        self.options = options
        records = ctx.records
        if "turno" not in records.kinds:
            records.register(*build_kinds(options))
        waits = WaitCache()
        self.stats = StatsPublisher(
            lambda: compute_stats(records, options, waits),
            self._publish_stats,
            min_interval=options.stats_interval,
        )
        self.turnero = Turnero(records, options, changed=self._changed)
        records.on_leave(self.turnero.operador_salio)
        self.api = TurnosApi(self.turnero, demo=ctx.settings.demo)

    async def _publish_stats(self, stats: dict[str, Any]) -> None:
        body = {"stats": stats, "timestamp": int(self.ctx.records.clock.now() * 1000)}
        await self.turnero.hub.publish(CH_STATS, "stats_actualizadas", _json.encode(body), "turnos")

    def _changed(self, rec: Record) -> None:
        self.stats.poke()
        if rec.state == LLAMADO and rec.get("llamado_at") is not None:
            self._expect_no_show(rec)

    def _expect_no_show(self, rec: Record) -> None:
        deadline = rec["llamado_at"] / 1000 + self.options.no_show_seconds
        delay = deadline - self.ctx.records.clock.now()
        for settle in _SETTLE:
            self.stats.poke(max(0.0, delay + settle))

    async def start(self) -> None:
        self.stats.start()
        self.stats.poke()
        hoy = self.turnero.hoy()
        for rec in await self.ctx.records.find("turno", {"fecha": hoy, "state": LLAMADO}):
            self._expect_no_show(rec)

    async def stop(self) -> None:
        await self.stats.close()


DEMO_USERS = (
    DemoUser("operador", "Carla Ruiz", (ROLE_OPERADOR,), info={"rol": "Operadora"}),
    DemoUser("supervisor", "Laura Méndez", (ROLE_ADMIN,), info={"rol": "Supervisora"}),
)
"""Who ``relevo demo`` signs in the operator and admin pages as."""


async def _demo_users() -> tuple[DemoUser, ...]:
    return DEMO_USERS


def build_extension(ctx: AppContext) -> Extension:
    app = TurnosApp(ctx, parse_options(ctx.options))
    demo = demo_login_routes("turnos", ctx.settings, _demo_users)
    return Extension(
        "turnos",
        routes=[*api_routes(app.api), *demo, *page_routes()],
        startup=[app.start],
        shutdown=[app.stop],
        links=[("Turnos (kiosco, operador, monitor)", "/turnos/")],
    )
