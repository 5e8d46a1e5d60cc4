"""The hub's parts depend on each other one way: the facade (hub.py) on its
parts, never a part on the facade, and nothing hides a cycle behind
``TYPE_CHECKING``. The session knows the hub only through its context."""

from __future__ import annotations

import ast
from pathlib import Path

import relevo.hub

HUB = Path(relevo.hub.__file__).parent


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_no_part_of_the_hub_imports_the_facade() -> None:
    parts = [p for p in HUB.glob("*.py") if p.name not in ("hub.py", "__init__.py")]
    assert {p.stem for p in parts} >= {"fanout", "subscriptions", "liveness", "session"}
    for part in parts:
        assert "relevo.hub.hub" not in _imports(part), part.name
        assert "relevo.hub" not in _imports(part), part.name


def test_no_import_hides_behind_type_checking() -> None:
    for path in HUB.glob("*.py"):
        assert "TYPE_CHECKING" not in path.read_text(), path.name


def test_the_hub_imports_no_transport() -> None:
    for path in HUB.glob("*.py"):
        assert not any(m.startswith("relevo.transport") for m in _imports(path)), path.name
