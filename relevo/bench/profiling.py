"""Samples a Python server with py-spy while a scenario runs, and sums the
samples per function (self and inclusive), for the hot-path notes."""

from __future__ import annotations

import contextlib
import signal
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from relevo.bench.servers import GENERATOR_CPU

__all__ = ["Profile", "py_spy_recording", "summarise"]


@dataclass(frozen=True)
class Profile:
    samples: int
    self_counts: Counter[str]  # function -> samples where it was on top
    total_counts: Counter[str]  # function -> samples where it was anywhere on the stack

    def table(self, top: int = 25) -> str:
        lines = [f"{self.samples} samples", "", "self%  total%  function"]
        for name, count in self.self_counts.most_common(top):
            share = 100 * count / self.samples
            total = 100 * self.total_counts[name] / self.samples
            lines.append(f"{share:5.1f}  {total:6.1f}  {name}")
        lines += ["", "by inclusive time:", "total%  function"]
        for name, count in self.total_counts.most_common(top):
            lines.append(f"{100 * count / self.samples:6.1f}  {name}")
        return "\n".join(lines) + "\n"


@contextlib.contextmanager
def py_spy_recording(py_spy: Path, pid: int, output: Path, log: Path) -> Iterator[None]:
    """Records ``pid`` (collapsed stacks, without pausing it) until the block
    ends; py-spy runs on the generator's core so the server's stays clean."""
    argv = ["taskset", "-c", GENERATOR_CPU, str(py_spy), "record", "--pid", str(pid)]
    argv += ["--nonblocking", "--rate", "200", "--format", "raw", "--output", str(output)]
    with log.open("wb") as sink:
        process = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT)
    try:
        yield
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _frame_name(frame: str) -> str:
    # py-spy raw frames look like "function (path/to/module.py:123)"
    func, _, where = frame.partition(" (")
    module = where.rsplit(":", 1)[0].rstrip(")")
    for marker in ("site-packages/", "/relevo/", "/lib/python"):
        if marker in module:
            module = module.split(marker, 1)[1]
            if marker == "/relevo/":
                module = "relevo/" + module
            break
    return f"{func} ({module})" if module else func


def summarise(collapsed: Path) -> Profile:
    self_counts: Counter[str] = Counter()
    total_counts: Counter[str] = Counter()
    samples = 0
    for line in collapsed.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame_name(f) for f in stack.split(";") if f]
        if not frames:
            continue
        samples += count
        self_counts[frames[-1]] += count
        for name in set(frames):
            total_counts[name] += count
    return Profile(samples, self_counts, total_counts)
