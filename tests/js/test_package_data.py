"""The Python distribution ships the client: a wheel (not only an editable
install) carries clients/js/src as relevo/server/client_js, byte for byte."""

from __future__ import annotations

import shutil
import sys
import zipfile
from pathlib import Path

import pytest

from tests.js.conftest import ROOT, SRC, run

pytestmark = pytest.mark.slow


def test_a_wheel_ships_every_module_of_the_client(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "relevo", tree / "relevo", symlinks=True, ignore=skip)
    shutil.copytree(SRC, tree / "clients" / "js" / "src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tree / name)
    assert (tree / "relevo" / "server" / "client_js").is_symlink()
    pip = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist")]
    run([*pip, str(tree)], tree, seconds=600)
    (wheel,) = (tmp_path / "dist").glob("relevo-*.whl")
    with zipfile.ZipFile(wheel) as whl:
        shipped = {
            name.rsplit("/", 1)[1]: whl.read(name)
            for name in whl.namelist()
            if name.startswith("relevo/server/client_js/")
        }
        assert (
            whl.read("relevo/server/static/relevo.js")
            == (ROOT / "relevo" / "server" / "static" / "relevo.js").read_bytes()
        )
    assert shipped == {p.name: p.read_bytes() for p in SRC.glob("*.js")}
