"""The soak's measurements: samples of the server process, the growth of its
RSS and open descriptors after warm-up, and the short table it prints."""

from __future__ import annotations

import os
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["TARGET_PCT", "Probe", "Sample", "growth", "probe", "table"]

TARGET_PCT = 5.0  # issue 11: RSS and open fds flat after warm-up, growth < 5 %
_CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Probe:
    """One reading of a process from /proc."""

    rss_kib: int
    rss_anon_kib: int  # the heap's share of it; the rest is mostly code paged in
    fds: int
    cpu_s: float


def probe(pid: int) -> Probe | None:
    """RSS (VmRSS, RssAnon), open descriptors and CPU time of ``pid``; None
    once it is gone."""
    proc = Path("/proc") / str(pid)
    try:
        status = dict(
            line.split(":", 1) for line in (proc / "status").read_text().splitlines() if ":" in line
        )
        rss, anon = (int(status[k].split()[0]) for k in ("VmRSS", "RssAnon"))
        fds = len(os.listdir(proc / "fd"))
        stat = (proc / "stat").read_text()
    except (OSError, KeyError, ValueError):
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return Probe(rss, anon, fds, (int(fields[11]) + int(fields[12])) / _CLK_TCK)


@dataclass(frozen=True)
class Sample:
    """The server and the load at ``t`` seconds after churn began."""

    t: float
    rss_kib: int
    rss_anon_kib: int
    fds: int
    open: int  # client connections the load holds (ready or setting up)
    ws: int  # the hub's gauges: WebSocket connections,
    subs: int  # subscriptions,
    channels: int  # and channels with local subscribers (-1: /metrics unanswered)


def _window(samples: list[Sample], key: str, lo: float, hi: float) -> float | None:
    values = [getattr(s, key) for s in samples if lo <= s.t <= hi]
    return float(statistics.median(values)) if values else None


def _slope_per_min(samples: list[Sample], key: str) -> float:
    """Least-squares slope, per minute: steady growth the two windows may blur."""
    if len(samples) < 2:
        return 0.0
    ts = [s.t for s in samples]
    ys = [float(getattr(s, key)) for s in samples]
    mt, my = statistics.fmean(ts), statistics.fmean(ys)
    var = sum((t - mt) ** 2 for t in ts)
    if var == 0:
        return 0.0
    return 60.0 * sum((t - mt) * (y - my) for t, y in zip(ts, ys, strict=True)) / var


def growth(
    samples: list[Sample], key: str, warmup: float, end: float, window: float
) -> dict[str, Any]:
    """``key`` at the end of warm-up (median of the samples in the ``window``
    seconds after it) against the end of the run (median of the last ``window``
    seconds): medians, so one sample taken mid-burst does not decide."""
    base = _window(samples, key, warmup, warmup + window)
    last = _window(samples, key, end - window, end)
    after = [s for s in samples if s.t >= warmup]
    pct = None if not base or last is None else round(100.0 * (last - base) / base, 2)
    return {
        "warmup_end": base,
        "end": last,
        "growth_pct": pct,
        "peak": max((getattr(s, key) for s in samples), default=None),
        "peak_after_warmup": max((getattr(s, key) for s in after), default=None),
        "slope_per_min": round(_slope_per_min(after, key), 2),
        "ok": pct is not None and pct < TARGET_PCT,
    }


def _fmt(value: float | None, unit: str = "") -> str:
    return "n/a" if value is None else f"{value:,.0f}{unit}"


def table(result: dict[str, Any]) -> str:
    """A few lines for the terminal; the JSON has everything."""
    cfg, counts = result["config"], result["counts"]
    rows = [
        f"soak: {cfg['connections']:,} connections, churn {cfg['churn_per_s']:g}/s, "
        f"publish {cfg['publish_per_s']:g}/s, {cfg['duration_s']:g} s "
        f"(warm-up {cfg['warmup_s']:g} s){' [quick]' if result['quick'] else ''}",
        "",
        "| | warm-up end | end | growth | peak | slope/min | < 5 % |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, key, unit in (
        ("RSS", "rss", " KiB"),
        ("(of which anon)", "rss_anon", " KiB"),
        ("open fds", "fds", ""),
    ):
        g = result[key]
        pct = "n/a" if g["growth_pct"] is None else f"{g['growth_pct']:+.2f} %"
        rows.append(
            f"| {name} | {_fmt(g['warmup_end'], unit)} | {_fmt(g['end'], unit)} | {pct} "
            f"| {_fmt(g['peak'], unit)} | {g['slope_per_min']:+,.1f} | "
            f"{'yes' if g['ok'] else 'NO'} |"
        )
    after = result["server"]["after_close"]
    errors = ", ".join(f"{k} {v}" for k, v in sorted(result["errors"].items())) or "none"
    rows += [
        "",
        f"connections made {counts['opened']:,} (ready {counts['ready']:,}; dropped clean "
        f"{counts['dropped_clean']:,}, abort {counts['dropped_abort']:,}); publishes "
        f"{counts['publishes_sent']:,} (acked {counts['publishes_acked']:,}); deliveries "
        f"{counts['deliveries']:,}",
        f"errors: {errors}",
        f"after every client closed: fds {after['fds']} (idle {result['server']['idle']['fds']}), "
        f"hub connections {after['ws']}, subscriptions {after['subs']}, channels "
        f"{after['channels']}",
        f"result: {'PASS' if result['passed'] else 'FAIL'}",
    ]
    return "\n".join(rows)
