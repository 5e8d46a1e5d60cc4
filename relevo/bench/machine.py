"""What the results table says about the machine and the software measured."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from relevo import __version__

__all__ = ["Machine", "describe_machine"]


@dataclass(frozen=True)
class Machine:
    nproc: int
    cpu_model: str
    memory_gib: float
    kernel: str
    versions: dict[str, str]


def _first_line(argv: list[str]) -> str:
    if shutil.which(argv[0]) is None:
        return "not installed"
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0] if done.returncode == 0 and lines else "unknown"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / (1024 * 1024)
    except OSError:
        pass
    return 0.0


def _git(root: Path, *args: str) -> str | None:
    """git's output in ``root``, or None where git or the repository is missing."""
    try:
        done = subprocess.run(
            ["git", *args], capture_output=True, text=True, timeout=10, cwd=root, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _relevo_version(root: Path) -> str:
    rev = _git(root, "rev-parse", "--short", "HEAD")
    if rev is None:
        return f"{__version__} (no git commit)"
    changes = _git(root, "status", "--porcelain", "--untracked-files=no")
    return f"{__version__} (git {rev}{' + uncommitted changes' if changes else ''})"


def _peer_versions(deps: Path) -> dict[str, str]:
    """The versions install-peers.sh recorded (``name version`` per line)."""
    out: dict[str, str] = {}
    try:
        for line in (deps / ".installed").read_text().splitlines():
            name, _, version = line.partition(" ")
            if name and version:
                out[name] = version
    except OSError:
        pass
    return out


def describe_machine(root: Path, deps: Path, gcc: str) -> Machine:
    versions = {
        "python": platform.python_version(),
        "relevo": _relevo_version(root),
        "gcc": gcc,
        "node": _first_line(["node", "--version"]),
    }
    versions.update(_peer_versions(deps))
    return Machine(
        nproc=os.cpu_count() or 0,
        cpu_model=_cpu_model(),
        memory_gib=_memory_gib(),
        kernel=platform.release(),
        versions=versions,
    )
