"""The leads app's options: the ``[app.leads]`` table of relevo.toml, validated.

Every option has a documented default, so an empty table (or none) runs the
seeds' behaviour: five minutes without activity returns a lead to the GTR.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from relevo.settings import ConfigError

from ..kit.options import parse

__all__ = [
    "DEFAULT_PROXIMAS_ACCIONES",
    "DEFAULT_RESULTADOS",
    "DEFAULT_TIPIFICACIONES",
    "LeadsOptions",
    "parse_options",
]

DEFAULT_TIPIFICACIONES: dict[str, str] = {
    "venta": "Venta cerrada",
    "interesado": "Interesado",
    "volver_a_llamar": "Volver a llamar",
    "no_interesado": "No interesado",
    "no_califica": "No califica",
}
DEFAULT_RESULTADOS: dict[str, str] = {
    "contactado": "Contactado",
    "no_contesta": "No contesta",
    "buzon": "Buzón de voz",
    "numero_equivocado": "Número equivocado",
}
DEFAULT_PROXIMAS_ACCIONES: dict[str, str] = {
    "ninguna": "Ninguna",
    "llamar": "Llamar de nuevo",
    "enviar_propuesta": "Enviar propuesta",
    "agendar_visita": "Agendar visita",
}


@dataclass(frozen=True, slots=True)
class LeadsOptions:
    timeout: float = 300.0
    """Seconds a derivado / en_gestion lead may go without activity by its
    asesor before it returns to the GTR as no_gestionado (seed 001: 300)."""
    lease_ttl: float = 60.0
    """Seconds the wizard's lease lasts unless renewed by a heartbeat."""
    heartbeat: float = 0.0
    """Seconds between the open wizard's heartbeats; 0: a third of the
    shorter of ``lease_ttl`` and ``timeout``."""
    history_size: int = 2000
    """Publications the ``gtr`` channel keeps for reconnecting screens."""
    history_ttl: float = 600.0
    """Seconds those publications are kept."""
    max_leads: int = 10000
    """Rows the GTR dashboard loads (its live query's limit)."""
    token_url: str = ""
    """Where the pages fetch a token in a real deployment (GET, with the
    browser's cookies, answering ``{"token": "<JWT>"}``); empty: none."""
    demo_leads: int = 60
    """Sample leads ``relevo demo`` seeds."""
    simulate: bool = True
    """Demo only: a simulated GTR and asesores keep the board moving (new
    leads, derivations, wizards finished); false: the board moves only when
    someone uses it."""
    simulate_every: float = 12.0
    """Demo only: seconds (about) between two of the simulator's actions."""
    tipificaciones: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_TIPIFICACIONES))
    """The wizard's tipificación codes and their Spanish labels."""
    resultados: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_RESULTADOS))
    """Contact results (the wizard's first step): code → label."""
    proximas_acciones: Mapping[str, str] = field(
        default_factory=lambda: dict(DEFAULT_PROXIMAS_ACCIONES)
    )
    """Next actions (the wizard's last step): code → label."""

    @property
    def heartbeat_every(self) -> float:
        return self.heartbeat or min(self.lease_ttl, self.timeout) / 3


def parse_options(options: Mapping[str, Any] | LeadsOptions | None) -> LeadsOptions:
    """``[app.leads]`` → :class:`LeadsOptions`; a wrong key or value raises
    ConfigError naming it."""
    opts = parse(LeadsOptions, options, "leads")
    for name in ("timeout", "lease_ttl", "history_ttl"):
        if getattr(opts, name) <= 0:
            raise ConfigError(f"app.leads.{name}: must be a positive number of seconds")
    if opts.heartbeat < 0 or opts.heartbeat >= opts.lease_ttl:
        raise ConfigError("app.leads.heartbeat: between 0 (automatic) and lease_ttl")
    if opts.simulate_every <= 0:
        raise ConfigError("app.leads.simulate_every: must be a positive number of seconds")
    if opts.history_size < 1 or opts.max_leads < 1 or opts.demo_leads < 0:
        raise ConfigError("app.leads: history_size and max_leads >= 1, demo_leads >= 0")
    if opts.max_leads > 10000:
        raise ConfigError("app.leads.max_leads: at most 10000 (a live query's limit)")
    for name in ("tipificaciones", "resultados", "proximas_acciones"):
        codes: Mapping[str, str] = getattr(opts, name)
        if not codes:
            raise ConfigError(f"app.leads.{name}: needs at least one code")
        if not all(code.isidentifier() and label for code, label in codes.items()):
            raise ConfigError(f'app.leads.{name}: expected a table of code = "Etiqueta"')
    return opts
