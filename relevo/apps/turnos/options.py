"""The ``[app.turnos]`` table of relevo.toml, validated at start.

Every option has a documented default; a wrong key or value raises
:class:`~relevo.settings.ConfigError` naming it, like the rest of the
configuration::

    [app.turnos]
    no_show_minutes = 5        # called and not attended for this long → no_presento
    monitor_last = 8           # turnos listed on the public monitor
    timezone = "America/Argentina/Buenos_Aires"
    kiosk_rate = 0.5           # tickets per second per kiosk address (sustained)
    kiosk_burst = 5
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from relevo.settings import ConfigError

from ..kit.options import check_timezone, parse

__all__ = ["TurnosOptions", "parse_options"]


@dataclass(frozen=True, slots=True)
class TurnosOptions:
    no_show_minutes: float = 5.0
    """Minutes a called turno may go unattended before it becomes ``no_presento``."""
    monitor_last: int = 8
    """Calls listed on the public monitor (the latest one is shown big)."""
    timezone: str = ""
    """IANA zone that decides "today" (numbering restarts each day); empty: the server's."""
    kiosk_rate: float = 0.5
    """Tickets per second one kiosk address may issue, sustained."""
    kiosk_burst: int = 5
    """Tickets one kiosk address may issue in a burst above the sustained rate."""
    kiosk_role: str = ""
    """Role a token must carry to issue tickets; empty: kiosks need no token."""
    token_url: str = ""
    """URL of your backend that returns ``{"token": ...}`` for the signed-in
    operator or admin (cookies are sent); the pages fetch their token there."""
    stats_interval: float = 0.3
    """Least seconds between two recomputations of the admin statistics."""
    history_size: int = 500
    """Publications kept per ``turnos:*`` channel for reconnecting screens."""
    history_ttl: float = 3600.0
    """Seconds a publication stays in that history."""
    simulate: bool = True
    """Demo only: a simulated kiosk and operators keep the screens moving
    (tickets issued, called, attended, finished, now and then a no-show);
    false: they move only when someone uses them."""
    simulate_every: float = 8.0
    """Demo only: seconds (about) between two of the simulator's actions."""

    @property
    def no_show_seconds(self) -> float:
        return self.no_show_minutes * 60.0

    def zone(self) -> dt.tzinfo | None:
        return ZoneInfo(self.timezone) if self.timezone else None

    def day(self, when: float) -> str:
        """The date (``2026-02-13``) a ticket issued at ``when`` belongs to."""
        return dt.datetime.fromtimestamp(when, self.zone()).date().isoformat()


def parse_options(options: Mapping[str, Any] | TurnosOptions | None) -> TurnosOptions:
    """``[app.turnos]`` → :class:`TurnosOptions`; clear errors for bad values."""
    o = parse(TurnosOptions, options, "turnos")
    if not o.no_show_minutes > 0:
        raise ConfigError("app.turnos.no_show_minutes: must be more than 0")
    if not 1 <= o.monitor_last <= 50:
        raise ConfigError("app.turnos.monitor_last: between 1 and 50")
    if not o.kiosk_rate > 0 or o.kiosk_burst < 1:
        raise ConfigError("app.turnos.kiosk_rate / kiosk_burst: must be positive")
    if o.stats_interval < 0:
        raise ConfigError("app.turnos.stats_interval: must be 0 or more")
    if o.history_size < 1 or not o.history_ttl > 0:
        raise ConfigError("app.turnos.history_size / history_ttl: must be positive")
    if not o.simulate_every > 0:
        raise ConfigError("app.turnos.simulate_every: must be a positive number of seconds")
    check_timezone(o.timezone, "app.turnos.timezone")
    return o
