"""Where the benchmark's files live: the repository's ``bench/`` folder (peer
apps, the install script, the ignored build / deps / results folders) and the
C sources shipped inside this package."""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

__all__ = ["BenchPaths", "c_source", "find_paths", "package_text"]


@dataclass(frozen=True)
class BenchPaths:
    """The folders of one checkout's ``bench/``."""

    root: Path  # the repository root (holds bench/ and docs/)

    @property
    def bench(self) -> Path:
        return self.root / "bench"

    @property
    def peers(self) -> Path:
        return self.bench / "peers"

    @property
    def build(self) -> Path:
        return self.bench / ".build"

    @property
    def deps(self) -> Path:
        return self.bench / ".deps"

    @property
    def results(self) -> Path:
        return self.bench / "results"

    @property
    def install_script(self) -> Path:
        return self.bench / "install-peers.sh"


def find_paths() -> BenchPaths:
    """RELEVO_BENCH_ROOT, else the checkout this package runs from (editable
    install), else the nearest folder at or above the working directory that
    has ``bench/peers``, else the working directory."""
    env = os.environ.get("RELEVO_BENCH_ROOT")
    if env:
        return BenchPaths(Path(env).resolve())
    package_root = Path(__file__).resolve().parents[2]
    if (package_root / "bench" / "peers").is_dir():
        return BenchPaths(package_root)
    cwd = Path.cwd().resolve()
    for folder in (cwd, *cwd.parents):
        if (folder / "bench" / "peers").is_dir():
            return BenchPaths(folder)
    return BenchPaths(cwd)


def package_text(*parts: str) -> str:
    """The text of a data file shipped in this package."""
    node = resources.files("relevo.bench")
    for part in parts:
        node = node / part
    return node.read_text(encoding="utf-8")


def c_source(name: str) -> str:
    """The text of one of the C programs shipped in ``relevo/bench/c/``."""
    return package_text("c", name)
