"""[app.leads] options, checked at start; the kinds and namespaces they make."""

from __future__ import annotations

from typing import Any

import pytest

from relevo.apps import leads
from relevo.apps.leads.options import parse_options
from relevo.server.config import ConfigError


def test_defaults_are_the_seeds() -> None:
    opts = parse_options({})
    assert opts.timeout == 300
    assert opts.heartbeat_every == 20
    (lead, user) = leads.kinds({})
    assert lead.timers[0].after == 300
    assert lead.timers[0].timer_name == "timeout_no_gestionado"
    assert lead.lease is not None
    assert lead.lease.ttl == 60
    states = ["agendado", "derivado", "en_gestion", "no_gestionado", "nuevo", "terminado"]
    assert sorted(lead.states) == states
    assert user.name == "leads_user"


def test_options_shape_the_kind() -> None:
    opts = {"timeout": 3, "lease_ttl": 30, "tipificaciones": {"venta": "Venta", "otra": "Otra"}}
    lead, _ = leads.kinds(opts)
    assert lead.timers[0].after == 3
    assert parse_options(opts).heartbeat_every == 1
    assert lead.fields["tipificacion"].choices == {"venta", "otra"}
    names = {ns.name: ns for ns in leads.namespaces(opts)}
    assert set(names) == {"gtr", "asesor", "presencia"}
    assert names["presencia"].join_leave


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"timeout": 0}, "app.leads.timeout"),
        ({"timeout": "5 min"}, "app.leads.timeout"),
        ({"timeout": True}, "app.leads.timeout"),
        ({"lease_ttl": -1}, "app.leads.lease_ttl"),
        ({"heartbeat": 90}, "app.leads.heartbeat"),
        ({"max_leads": 20000}, "app.leads.max_leads"),
        ({"tipificaciones": {}}, "app.leads.tipificaciones"),
        ({"tipificaciones": {"a b": "X"}}, "app.leads.tipificaciones"),
        ({"timout": 3}, "app.leads.timout: unknown setting"),
    ],
)
def test_bad_options_are_refused_by_name(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_options(options)
