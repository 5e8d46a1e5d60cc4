"""Which apps are importable, and how each becomes a server extension."""

from __future__ import annotations

import importlib
from typing import Any

from relevo.apps import KNOWN_APPS

__all__ = ["available_apps", "load_app"]


def available_apps() -> list[str]:
    out = []
    for name in KNOWN_APPS:
        try:
            mod = importlib.import_module(f"relevo.apps.{name}")
        except ImportError:
            continue
        if hasattr(mod, "extension"):
            out.append(name)
    return out


def load_app(name: str) -> Any:
    return importlib.import_module(f"relevo.apps.{name}")
