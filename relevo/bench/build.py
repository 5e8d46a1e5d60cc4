"""Compiles the C load generator and raw limit server with the machine's gcc
into ``bench/.build/``; a binary is rebuilt only when its source changed."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

from relevo.bench.paths import c_source

__all__ = ["BuildError", "CFLAGS", "build_binary", "compiler_version"]

CFLAGS = ("-O2", "-Wall", "-Wextra", "-std=gnu11")


class BuildError(RuntimeError):
    """gcc is missing or refused a source."""


def _gcc() -> str:
    gcc = shutil.which("gcc")
    if gcc is None:
        raise BuildError("gcc not found: install it (Debian: apt-get install gcc)")
    return gcc


def compiler_version() -> str:
    """e.g. ``12.2.0``."""
    out = subprocess.run([_gcc(), "-dumpfullversion"], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def build_binary(name: str, build_dir: Path) -> Path:
    """Builds ``c/<name>.c`` into ``build_dir/<name>``; returns the binary."""
    source = c_source(f"{name}.c")
    digest = hashlib.sha256((source + " ".join(CFLAGS)).encode()).hexdigest()[:16]
    build_dir.mkdir(parents=True, exist_ok=True)
    binary = build_dir / name
    stamp = build_dir / f"{name}.sha"
    if binary.exists() and stamp.exists() and stamp.read_text() == digest:
        return binary
    src_file = build_dir / f"{name}.c"
    src_file.write_text(source, encoding="utf-8")
    cmd = [_gcc(), *CFLAGS, "-o", str(binary), str(src_file)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0 or done.stderr.strip():
        # warnings count as failures: the sources must build clean
        raise BuildError(f"{' '.join(cmd)} failed:\n{done.stderr}")
    stamp.write_text(digest)
    return binary
