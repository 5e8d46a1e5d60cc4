"""relevo.options: plain data (a TOML table, env-var strings) → a frozen
dataclass, every bad value named by its key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from relevo.options import build
from relevo.settings import ConfigError


@dataclass(frozen=True, slots=True)
class Inner:
    name: str
    size: int = 1


@dataclass(frozen=True, slots=True)
class Sample:
    flag: bool = False
    count: int = 3
    ratio: float = 0.5
    label: str = ""
    tags: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    inner: Inner = field(default_factory=lambda: Inner("x"))
    inners: tuple[Inner, ...] = ()


def test_values_of_the_right_type_are_taken() -> None:
    got = build(
        Sample,
        {
            "flag": True,
            "count": 7,
            "ratio": 2,
            "label": "hola",
            "tags": ["a", "b"],
            "labels": {"venta": "Venta"},
            "inner": {"name": "n", "size": 4},
            "inners": [{"name": "m"}, "shorthand"],
        },
        "app.sample",
        shorthand={Inner: lambda value, where: Inner(value)},
    )
    assert got == Sample(
        True, 7, 2.0, "hola", ("a", "b"), {"venta": "Venta"}, Inner("n", 4),
        (Inner("m"), Inner("shorthand")),
    )  # fmt: skip
    assert isinstance(got.ratio, float)
    assert build(Sample, None, "app.sample") == Sample()


def test_strings_are_read_only_where_asked() -> None:
    """Env vars are strings; a TOML file has real types."""
    env = {"flag": "yes", "count": "9", "ratio": "1.5", "tags": "a, b"}
    assert build(Sample, env, "s", strings=True) == Sample(True, 9, 1.5, tags=("a", "b"))
    with pytest.raises(ConfigError, match=r"^s\.count: expected an integer, got '9'$"):
        build(Sample, {"count": "9"}, "s")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"cuont": 1}, r"app\.sample\.cuont: unknown setting \(known: count, flag, "),
        ({"count": True}, r"app\.sample\.count: expected an integer, got True"),
        ({"count": 1.5}, r"app\.sample\.count: expected an integer, got 1\.5"),
        ({"ratio": "x"}, r"app\.sample\.ratio: expected a number, got 'x'"),
        ({"ratio": False}, r"app\.sample\.ratio: expected a number, got False"),
        ({"flag": 1}, r"app\.sample\.flag: expected true or false, got 1"),
        ({"label": 3}, r"app\.sample\.label: expected a string, got 3"),
        ({"tags": [1]}, r"app\.sample\.tags\[0\]: expected a string, got 1"),
        ({"labels": {"a": 1}}, r"app\.sample\.labels\.a: expected a string, got 1"),
        ({"labels": [1]}, r"app\.sample\.labels: expected a table, got \[1\]"),
        ({"inner": {"size": 2}}, r"app\.sample\.inner: .*name"),
        ({"inner": {"nmae": "x"}}, r"app\.sample\.inner\.nmae: unknown setting"),
        ({"inners": ["x"]}, r"app\.sample\.inners\[0\]: expected a table, got 'x'"),
    ],
)
def test_a_bad_value_is_named_by_its_key(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build(Sample, data, "app.sample")
