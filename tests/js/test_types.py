"""The hand-written types (clients/js/index.d.ts) against the code: every
value src/index.js exports is declared and nothing else is; the typed example
uses every export and compiles with ``tsc --strict --noEmit`` (its
``@ts-expect-error`` lines fail it when a type loosens to ``any``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.js.conftest import PACKAGE, run

EXAMPLE = PACKAGE / "examples" / "typed.ts"


def _exports(node: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = json.loads(run([node, "test/exports.mjs"], PACKAGE))
    return out


def test_every_export_has_a_declaration_and_every_declaration_an_export(
    node: str, tsc: Path
) -> None:
    found = _exports(node)
    assert found["js"], found
    assert set(found["js"]) - set(found["declared"]) == set(), "exported, not declared"
    assert set(found["declared"]) - set(found["js"]) == set(), "declared, not exported"


def test_the_typed_example_uses_every_export(node: str, tsc: Path) -> None:
    text = EXAMPLE.read_text()
    named = re.search(r'import \{([^}]*)\} from "@relevo/client";', text)
    assert named is not None
    imported = {n.strip() for n in named.group(1).split(",") if n.strip()}
    used = {n for n in imported if not n.startswith("type ")}
    used |= set(re.findall(r"\brelevo\.(\w+)", text))
    missing = set(_exports(node)["js"]) - used
    assert not missing, f"examples/typed.ts does not use {missing}"


def test_the_typed_example_compiles_strictly(node: str, tsc: Path) -> None:
    config = json.loads((PACKAGE / "examples" / "tsconfig.json").read_text())
    assert config["compilerOptions"]["strict"] is True
    run([node, str(tsc), "-p", "examples", "--strict", "--noEmit"], PACKAGE)
