"""A record field as a kind declares it: its type, whether it is required,
public or secret, and how a value is checked (from JSON) or parsed (from a
query string). Values no database column holds — integers past signed 64
bits, NaN and infinities, NUL characters — are refused here, naming the
field, rather than deep in a driver."""

from __future__ import annotations

import math
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = ["Field"]


@dataclass(frozen=True, slots=True)
class Field:
    type: type = str
    """str, int, float, bool, dict or list."""
    required: bool = False
    """Must be given (not None) on create."""
    default: Any = None
    """Value on create when not given."""
    choices: AbstractSet[Any] | None = None
    """Allowed values, if restricted."""
    public: bool = True
    """Sent to browsers in API answers and publications."""
    secret: bool = False
    """A credential (an access token): stored, but returned by no API, not even
    to the API key, and dropped from history entries. Implies not public."""
    write_roles: AbstractSet[str] = frozenset()
    """Roles that may set it through create/update; empty: whoever may write the kind."""

    def check(self, name: str, value: Any) -> Any:
        if value is None:
            return None
        tp = self.type
        ok = isinstance(value, tp) and not (tp is int and isinstance(value, bool))
        if tp is float and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        if not ok:
            raise ValueError(f"field {name} must be {tp.__name__}, got {type(value).__name__}")
        # What no database column holds, refused here rather than deep in a driver.
        if tp is int and not _INT64_MIN <= value <= _INT64_MAX:
            raise ValueError(f"field {name} is outside the signed 64-bit integer range")
        if tp is float and not math.isfinite(value):
            raise ValueError(f"field {name} must be a finite number")
        if tp is str and "\x00" in value:
            raise ValueError(f"field {name} must not contain NUL characters")
        if self.choices is not None and value not in self.choices:
            raise ValueError(f"field {name} must be one of {sorted(map(str, self.choices))}")
        return value

    def parse(self, name: str, text: str) -> Any:
        """A value from a query string (``asesor_id=4``); empty means null.
        Numbers the databases cannot compare (past signed 64 bits, NaN,
        infinities) are refused here, naming the field, not deep in a driver."""
        if text == "" or text == "null":
            return None
        if self.type is int:
            number = _convert(int, name, text)
            if not _INT64_MIN <= number <= _INT64_MAX:
                raise ValueError(f"field {name} is outside the signed 64-bit integer range")
            return number
        if self.type is float:
            real = _convert(float, name, text)
            if not math.isfinite(real):
                raise ValueError(f"field {name} must be a finite number")
            return real
        if self.type is bool:
            if text.lower() in ("true", "1"):
                return True
            if text.lower() in ("false", "0"):
                return False
            raise ValueError(f"field {name} must be true or false, got {text!r}")
        if self.type is str:
            return text
        raise ValueError(f"field {name} cannot be filtered on")


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_Number = TypeVar("_Number", int, float)


def _convert(tp: type[_Number], name: str, text: str) -> _Number:
    try:
        return tp(text)
    except ValueError:
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise ValueError(f"field {name} must be {tp.__name__}, got {shown!r}") from None
