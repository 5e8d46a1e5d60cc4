"""Every app reads its ``[app.<name>]`` table the same way: a wrong key or
value, and an unknown time zone, name themselves."""

from __future__ import annotations

import importlib

import pytest

from relevo.apps import KNOWN_APPS
from relevo.settings import ConfigError


def parse_options(app: str):  # type: ignore[no-untyped-def]
    return importlib.import_module(f"relevo.apps.{app}.options").parse_options


@pytest.mark.parametrize("app", KNOWN_APPS)
def test_every_app_names_a_bad_option(app: str) -> None:
    parse = parse_options(app)
    assert parse(None) == parse({})
    assert parse(parse({})) == parse({})
    with pytest.raises(ConfigError, match=rf"^app\.{app}\.nope: unknown setting \(known: "):
        parse({"nope": 1})
    with pytest.raises(ConfigError, match=rf"^app\.{app}\.history_size: expected an integer"):
        parse({"history_size": "10"})
    with pytest.raises(ConfigError, match=rf"^app\.{app}\.history_ttl: expected a number"):
        parse({"history_ttl": True})


@pytest.mark.parametrize("app", ["turnos", "cargue", "inbox"])
def test_a_time_zone_is_an_iana_name(app: str) -> None:
    parse = parse_options(app)
    assert parse({"timezone": "America/Bogota"}).timezone == "America/Bogota"
    with pytest.raises(ConfigError, match=rf"app\.{app}\.timezone: unknown time zone 'Marte/X'"):
        parse({"timezone": "Marte/X"})
