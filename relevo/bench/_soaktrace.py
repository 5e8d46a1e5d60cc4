"""``relevo serve`` with a memory probe, for ``relevo bench soak --trace-memory``.

The server runs as ``python -m relevo.bench._soaktrace serve ...``. Each
SIGUSR1 runs a full garbage collection (what that frees is cyclic garbage
waiting for the collector, not a leak), then writes
``$SOAK_TRACE_DIR/probe-<n>.json``: live objects by type, the interpreter's
allocated blocks and arenas, and glibc's heap (in use vs. free: growth of
"free" alone is fragmentation, not a leak). With ``SOAK_TRACE_MODE=tracemalloc`` it also dumps
a tracemalloc snapshot beside it, for the traceback of what grew (that slows
the server several times over: use a lighter load).

The soak takes a probe at the end of warm-up and one at the end and lists what
grew between them.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import json
import os
import signal
import sys
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

__all__ = ["MODE_ENV", "TRACE_ENV", "compare", "take_probe"]

TRACE_ENV = "SOAK_TRACE_DIR"  # not RELEVO_*: the server reads those as settings
MODE_ENV = "SOAK_TRACE_MODE"
_FRAMES = 8


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def _malloc() -> dict[str, int]:
    """glibc's heap: bytes in use, free inside the heap, and mmapped."""
    try:
        fn = ctypes.CDLL("libc.so.6").mallinfo2
    except (OSError, AttributeError):
        return {}
    fn.restype = _MallInfo2
    info = fn()
    return {"in_use": info.uordblks, "free": info.fordblks, "mmapped": info.hblkhd}


_PYMALLOC = {
    "# arenas allocated current": "arenas",
    "# bytes in allocated blocks": "allocated",
    "# bytes in available blocks": "available",
}


def _pymalloc(out: Path) -> dict[str, int]:
    """The interpreter's small-object allocator: arenas held, bytes in use and
    free in them (sys._debugmallocstats writes to C's stderr, fd 2)."""
    path = out / "pymalloc.txt"
    saved = os.dup(2)
    try:
        with path.open("wb") as f:
            os.dup2(f.fileno(), 2)
            sys._debugmallocstats()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    found = {}
    for line in path.read_text().splitlines():
        name, _, value = line.partition("=")
        if name.strip() in _PYMALLOC:
            found[_PYMALLOC[name.strip()]] = int(value.strip().replace(",", ""))
    return found


_GARBAGE_TYPES = 30


def _name(obj: object) -> str:
    kind = type(obj)
    return f"{kind.__module__}.{kind.__qualname__}"


def _heap(out: Path) -> dict[str, Any]:
    return {"blocks": sys.getallocatedblocks(), "malloc": _malloc(), "pymalloc": _pymalloc(out)}


def _probe(out: Path) -> None:
    number = len(list(out.glob("probe-*.json"))) + 1
    # the collector's own history first: how many full collections ran, and
    # what was waiting for one
    info: dict[str, Any] = {
        "gc_stats": gc.get_stats(),
        "gc_count": gc.get_count(),
        "gc_threshold": gc.get_threshold(),
        "gc_frozen": gc.get_freeze_count(),
        "before_gc": _heap(out),
    }
    # keep what the collection finds, to name it, then free it for real
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        info["gc_collected"] = gc.collect()
        info["garbage_types"] = dict(
            Counter(_name(o) for o in gc.garbage).most_common(_GARBAGE_TYPES)
        )
        gc.garbage.clear()
    finally:
        gc.set_debug(0)
    gc.collect()
    info["after_gc"] = _heap(out)
    info["types"] = dict(Counter(type(o).__qualname__ for o in gc.get_objects()))
    if tracemalloc.is_tracing():
        tracemalloc.take_snapshot().dump(str(out / f"snapshot-{number}.pickle"))
    (out / f"probe-{number}.json").write_text(json.dumps(info))


async def take_probe(pid: int, out: Path, number: int, timeout: float = 120.0) -> dict[str, Any]:
    """Ask the server for probe ``number`` and wait until it is written."""
    done = out / f"probe-{number}.json"
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + timeout
    while not done.exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server wrote no {done.name} in {timeout:g} s")
        await asyncio.sleep(0.2)
    info: dict[str, Any] = json.loads(done.read_text())
    return info


def _traceback_growth(out: Path, first: int, second: int, limit: int) -> list[dict[str, Any]]:
    ignore = [
        tracemalloc.Filter(False, tracemalloc.__file__),
        tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
        tracemalloc.Filter(False, "<unknown>"),
    ]
    a = tracemalloc.Snapshot.load(str(out / f"snapshot-{first}.pickle")).filter_traces(ignore)
    b = tracemalloc.Snapshot.load(str(out / f"snapshot-{second}.pickle")).filter_traces(ignore)
    stats = [s for s in b.compare_to(a, "traceback") if s.size_diff > 0][:limit]
    lines = []
    for s in stats:
        lines.append(f"+{s.size_diff / 1024:.1f} KiB, {s.count_diff:+d} blocks")
        lines += ["    " + line for line in s.traceback.format(most_recent_first=True)]
    (out / "growth.txt").write_text("\n".join(lines) + "\n")
    return [
        {
            "size_diff_kib": round(s.size_diff / 1024, 1),
            "count_diff": s.count_diff,
            "where": [f"{f.filename}:{f.lineno}" for f in list(s.traceback)[::-1][:4]],
        }
        for s in stats
    ]


def compare(
    out: Path, first: dict[str, Any], second: dict[str, Any], limit: int = 15
) -> dict[str, Any]:
    """What grew from probe 1 (``first``) to probe 2 (``second``)."""
    before, after = Counter(first["types"]), Counter(second["types"])
    after.subtract(before)
    grown = [(name, n) for name, n in after.most_common(limit) if n > 0]

    def delta(key: str) -> dict[str, int]:
        a, b = first["after_gc"][key], second["after_gc"][key]
        return {k: v - a.get(k, 0) for k, v in b.items()}

    probes = (first, second)
    full = [p["gc_stats"][-1]["collections"] for p in probes]
    result: dict[str, Any] = {
        "live_blocks": second["after_gc"]["blocks"] - first["after_gc"]["blocks"],
        "malloc_bytes": delta("malloc"),
        "pymalloc_bytes": delta("pymalloc"),
        "objects_by_type": dict(grown),
        # cyclic garbage the collector had not reached yet, at each probe
        "garbage_objects": [first["gc_collected"], second["gc_collected"]],
        "garbage_blocks": [p["before_gc"]["blocks"] - p["after_gc"]["blocks"] for p in probes],
        "full_collections_between": full[1] - full[0] - 2,  # minus the probe's own two
        "garbage_types_at_end": second["garbage_types"],
    }
    if (out / "snapshot-2.pickle").exists():
        result["by_traceback"] = _traceback_growth(out, 1, 2, limit)
    return result


if __name__ == "__main__":
    # imported before tracing starts: start-up under tracemalloc takes a minute
    # on a busy machine, and what it allocates is not what the soak looks for
    import relevo.server.run  # noqa: F401
    from relevo.server.cli import main

    trace_dir = Path(os.environ[TRACE_ENV])
    if os.environ.get(MODE_ENV) == "tracemalloc":
        tracemalloc.start(_FRAMES)
    signal.signal(signal.SIGUSR1, lambda signum, frame: _probe(trace_dir))
    raise SystemExit(main(sys.argv[1:]))
