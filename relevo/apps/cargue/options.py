"""The ``[app.cargue]`` table of relevo.toml, validated at start. For example:

    [app.cargue]
    timezone = "America/Bogota"   # decides "today": the day's plantilla
    token_url = ""                # your backend's endpoint that returns {"token": ...}
    history_size = 1000           # publications kept per cargue:* / despacho:* channel
    history_ttl = 43200           # seconds they stay (a working day)
    simulate = true               # demo only: simulated vendors and dispatcher keep ticking
    simulate_every = 10.0         # demo only: seconds (about) between two of their actions

A wrong key or value raises ``ConfigError`` naming it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from relevo.settings import ConfigError

from ..kit.options import check_timezone, parse

__all__ = ["DIAS", "CargueOptions", "parse_options"]

DIAS = ("LUNES", "MARTES", "MIERCOLES", "JUEVES", "VIERNES", "SABADO", "DOMINGO")
"""The seed's ``dia`` values, by ``date.weekday()``."""


@dataclass(frozen=True, slots=True)
class CargueOptions:
    timezone: str = ""
    """IANA zone that decides "today" (the plantilla of the day); empty: the server's."""
    token_url: str = ""
    """URL of your backend returning ``{"token": ...}`` for the signed-in user
    (cookies are sent); the pages fetch their token there. Empty: demo login."""
    history_size: int = 1000
    """Publications kept per ``cargue:*`` and ``despacho:*`` channel for reconnecting screens."""
    history_ttl: float = 43_200.0
    """Seconds a publication stays in that history (a phone offline over lunch recovers)."""
    simulate: bool = True
    """Demo only: simulated vendors and a dispatcher keep the sheet moving (V
    and D ticks, a short load now and then, days closed and reopened for a
    second trip); false: it moves only when someone uses it."""
    simulate_every: float = 10.0
    """Demo only: seconds (about) between two of the simulator's actions."""

    def zone(self) -> dt.tzinfo | None:
        return ZoneInfo(self.timezone) if self.timezone else None

    def today(self, now: float) -> dt.date:
        return dt.datetime.fromtimestamp(now, self.zone()).date()


def parse_options(options: Mapping[str, Any] | CargueOptions | None) -> CargueOptions:
    """``[app.cargue]`` → :class:`CargueOptions`; clear errors for bad values."""
    opts = parse(CargueOptions, options, "cargue")
    if not opts.simulate_every > 0:
        raise ConfigError("app.cargue.simulate_every: must be a positive number of seconds")
    if opts.history_size < 1 or not opts.history_ttl > 0:
        raise ConfigError("app.cargue.history_size / history_ttl: must be positive")
    check_timezone(opts.timezone, "app.cargue.timezone")
    return opts
