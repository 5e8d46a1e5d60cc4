"""Typed settings from plain data: :func:`build` turns a table of
relevo.toml (or env-var strings) into a frozen dataclass, and a bad value
raises :class:`~relevo.settings.ConfigError` naming its key::

    build(LeadsOptions, {"timeout": "5 min"}, "app.leads")
    # ConfigError: app.leads.timeout: expected a number, got '5 min'

relevo.toml's sections (``relevo.server.config``) and every app's
``[app.<name>]`` table are read with it; checks across fields (``heartbeat``
below ``lease_ttl``) stay with the dataclass that has them.

Field types: ``bool``, ``int``, ``float``, ``str``, ``tuple[T, ...]``,
``Mapping[str, T]`` and dataclasses (a nested table).
"""

from __future__ import annotations

import collections.abc
import dataclasses
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from relevo.settings import ConfigError

__all__ = ["Shorthand", "build", "convert"]

T = TypeVar("T")

Shorthand = Callable[[str, str], Any]
"""Reads a dataclass field given as a string: ``(value, where) -> instance``."""

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


@dataclass(frozen=True, slots=True)
class _Reading:
    strings: bool = False
    """Env vars are strings: read ``"9000"`` as a number, ``"a, b"`` as a list."""
    shorthand: Mapping[type, Shorthand] = field(default_factory=dict)


def build(
    cls: type[T],
    data: Mapping[str, Any] | None,
    where: str,
    *,
    strings: bool = False,
    shorthand: Mapping[type, Shorthand] | None = None,
) -> T:
    """``cls(**data)`` with every value checked against its field's type;
    an unknown key or a wrong value is a ConfigError naming ``where.key``."""
    return _build(cls, data or {}, where, _Reading(strings, shorthand or {}))


def convert(
    value: Any,
    tp: Any,
    where: str,
    *,
    strings: bool = False,
    shorthand: Mapping[type, Shorthand] | None = None,
) -> Any:
    """One value read as type ``tp`` (``where`` names it in an error)."""
    return _convert(value, tp, where, _Reading(strings, shorthand or {}))


def _build(cls: type[T], data: Mapping[str, Any], where: str, how: _Reading) -> T:
    hints = typing.get_type_hints(cls)
    names = sorted(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key not in names:
            raise ConfigError(f"{where}.{key}: unknown setting (known: {', '.join(names)})")
        kwargs[key] = _convert(value, hints[key], f"{where}.{key}", how)
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _fail(where: str, what: str, value: Any) -> ConfigError:
    return ConfigError(f"{where}: expected {what}, got {value!r}")


def _convert(value: Any, tp: Any, where: str, how: _Reading) -> Any:
    if tp is bool:
        return _bool(value, where, how)
    if tp is int or tp is float:
        return _number(value, tp, where, how)
    if tp is str:
        if not isinstance(value, str):
            raise _fail(where, "a string", value)
        return value
    origin = typing.get_origin(tp)
    if origin is tuple:
        item = typing.get_args(tp)[0]
        if how.strings and isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list | tuple):
            raise _fail(where, "a list", value)
        return tuple(_convert(v, item, f"{where}[{i}]", how) for i, v in enumerate(value))
    if origin in (collections.abc.Mapping, dict):
        if not isinstance(value, Mapping):
            raise _fail(where, "a table", value)
        item = typing.get_args(tp)[1]
        return {str(k): _convert(v, item, f"{where}.{k}", how) for k, v in value.items()}
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if isinstance(value, str) and tp in how.shorthand:
            return how.shorthand[tp](value, where)
        if not isinstance(value, Mapping):
            raise _fail(where, "a table", value)
        return _build(tp, value, where, how)
    raise ConfigError(f"{where}: unsupported setting type {tp}")


def _bool(value: Any, where: str, how: _Reading) -> bool:
    if isinstance(value, bool):
        return value
    if how.strings and isinstance(value, str) and value.lower() in (*_TRUE, *_FALSE):
        return value.lower() in _TRUE
    raise _fail(where, "true or false", value)


def _number(value: Any, tp: type[int] | type[float], where: str, how: _Reading) -> Any:
    what = "an integer" if tp is int else "a number"
    exact = (int,) if tp is int else (int, float)
    if isinstance(value, bool):
        raise _fail(where, what, value)
    if isinstance(value, exact):
        return tp(value)
    if how.strings and isinstance(value, str):
        try:
            return tp(value)
        except ValueError:
            pass
    raise _fail(where, what, value)
