"""How this project's users map to relevo: the grupo is a Django group named
``grupo:<name>`` (a vendor and the dispatcher of the vendor's group share it)."""

from __future__ import annotations

from typing import Any

PREFIX = "grupo:"


def grupo_de(user: Any) -> str:
    name = user.groups.filter(name__startswith=PREFIX).values_list("name", flat=True).first()
    return name[len(PREFIX) :] if name else ""


def canal(grupo: str) -> str:
    """The channel the dispatchers of ``grupo`` subscribe to."""
    return f"cargue:{grupo}"
