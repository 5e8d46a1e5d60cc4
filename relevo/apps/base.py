"""What an app is to the server: the contract every folder in ``relevo/apps``
fulfils, so the server mounts leads, turnos, cargue and inbox the same way.

An app module (``relevo/apps/<name>/__init__.py``) defines::

    NAME = "leads"
    def namespaces(options) -> tuple[NamespaceSettings, ...]   # channel rules it needs
    def kinds(options) -> list[Kind]                           # its record kinds
    def extension(ctx: AppContext) -> Extension                # routes, pages, startup hooks
    async def seed_demo(ctx: AppContext) -> None               # sample data for `relevo demo`

``options`` is the ``[app.<name>]`` table of relevo.toml (validated by the app).
An app owns its namespaces: the config file may add others, never redefine
them (``relevo.server.config.merge_namespaces``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from relevo.settings import Settings

if TYPE_CHECKING:
    from relevo.hub.hub import Hub
    from relevo.records.service import Records

__all__ = ["AppContext"]


@dataclass(frozen=True)
class AppContext:
    name: str
    settings: Settings
    hub: Hub
    records: Records
    options: Mapping[str, Any]
