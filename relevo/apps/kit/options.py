"""An app's ``[app.<name>]`` table → its options dataclass, read by
:func:`relevo.options.build` (a wrong key or value names itself:
``app.turnos.monitor_last: expected an integer, got '8'``), plus the checks
several apps share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from relevo.options import build
from relevo.settings import ConfigError

__all__ = ["check_timezone", "parse"]

T = TypeVar("T")


def parse(cls: type[T], options: Mapping[str, Any] | T | None, app: str) -> T:
    """``[app.<app>]`` as ``cls`` (an instance of ``cls`` passes as is)."""
    if isinstance(options, cls):
        return options
    return build(cls, cast("Mapping[str, Any] | None", options), f"app.{app}")


def check_timezone(name: str, where: str) -> None:
    """``name`` is empty (the server's zone) or an IANA zone."""
    if not name:
        return
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f'{where}: unknown time zone {name!r} (use an IANA name such as "America/Bogota")'
        ) from None
