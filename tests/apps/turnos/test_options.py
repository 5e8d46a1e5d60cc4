"""[app.turnos]: defaults, and a clear error for each bad value."""

from __future__ import annotations

import pytest

from relevo.apps import turnos
from relevo.apps.turnos.options import TurnosOptions, parse_options
from relevo.server.config import ConfigError


def test_defaults_and_values() -> None:
    assert parse_options(None) == TurnosOptions()
    opts = parse_options({"no_show_minutes": 2, "timezone": "America/Bogota", "monitor_last": 5})
    assert opts.no_show_seconds == 120.0
    assert opts.day(1_767_225_600.0) == "2025-12-31"  # 00:00 UTC is still the 31st in Bogotá
    kind = next(k for k in turnos.kinds({"no_show_minutes": 2}) if k.name == "turno")
    assert kind.timers[0].after == 120.0
    (ns,) = turnos.namespaces({"history_size": 50})
    assert ns.name == "turnos"
    assert ns.history_size == 50


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"no_show": 5}, "app.turnos.no_show: unknown setting"),
        ({"no_show_minutes": 0}, "no_show_minutes: must be more than 0"),
        ({"no_show_minutes": "5"}, "no_show_minutes: expected a number"),
        ({"monitor_last": True}, "monitor_last: expected an integer"),
        ({"monitor_last": 500}, "monitor_last: between 1 and 50"),
        ({"timezone": "Marte/Olympus"}, "unknown time zone 'Marte/Olympus'"),
        ({"kiosk_rate": -1}, "kiosk_rate / kiosk_burst: must be positive"),
    ],
)
def test_bad_values_name_the_option(options: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_options(options)
