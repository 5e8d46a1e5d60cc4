"""Reads /proc: a process's descendants, and whose pid a program runs as."""

from __future__ import annotations

from pathlib import Path

__all__ = ["descendants", "pids_named"]

_PROC = Path("/proc")


def _stat_fields(pid: int) -> tuple[str, int] | None:
    """(comm, ppid) of a process, or None if it is gone."""
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    lpar, rpar = text.index("("), text.rindex(")")
    rest = text[rpar + 2 :].split()
    return text[lpar + 1 : rpar], int(rest[1])


def _all_pids() -> list[int]:
    return [int(p.name) for p in _PROC.iterdir() if p.name.isdigit()]


def descendants(pid: int) -> list[int]:
    """``pid`` followed by every process below it."""
    children: dict[int, list[int]] = {}
    for other in _all_pids():
        fields = _stat_fields(other)
        if fields is not None:
            children.setdefault(fields[1], []).append(other)
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(sorted(children.get(current, [])))
    return out


def pids_named(comm: str) -> list[int]:
    """Pids whose command name (``/proc/<pid>/comm``) is ``comm``."""
    found = []
    for pid in _all_pids():
        fields = _stat_fields(pid)
        if fields is not None and fields[0] == comm:
            found.append(pid)
    return sorted(found)
