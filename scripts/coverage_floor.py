"""Fail when branch coverage of a core package falls below its floor.

``scripts/test`` runs the whole suite under coverage and then this; the
floors are in ``pyproject.toml`` (``[tool.relevo.coverage_floor]``), one per
package, so the number lives where a reviewer sees it change.
"""

from __future__ import annotations

import io
import sys
import tomllib
from pathlib import Path

import coverage

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    floors: dict[str, float] = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"][
        "relevo"
    ]["coverage_floor"]
    cov = coverage.Coverage(data_file=str(ROOT / ".coverage"))
    cov.load()
    failed = False
    for package, floor in floors.items():
        folder = ROOT / package.replace(".", "/")
        try:
            pct = cov.report(include=[f"{folder}/*"], file=io.StringIO())
        except coverage.exceptions.NoDataError:
            print(f"coverage: nothing measured in {package}", file=sys.stderr)
            failed = True
            continue
        ok = pct >= floor
        failed |= not ok
        print(f"coverage {package:16} {pct:5.1f}%  (floor {floor:.0f}%){'' if ok else '  BELOW'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
