"""Renders one run as Markdown and adds it to ``docs/benchmarks.md`` above
the earlier runs, which stay below as history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from relevo.bench.machine import Machine
from relevo.bench.peers import Peer
from relevo.bench.results import Idle, Outcome, PublishStep, Recovery, Storm, sustainable_step
from relevo.bench.scenarios import P99_LIMIT_MS, Scenario
from relevo.bench.targets import check_targets

__all__ = ["MARKER", "RunInfo", "render_run", "write_report"]

MARKER = "<!-- relevo bench: new results go below this line; older runs follow as history -->"

Outcomes = dict[tuple[str, str], Outcome]


@dataclass(frozen=True)
class RunInfo:
    started: datetime
    command: str
    quick: bool
    nice: int
    results_dir: str
    machine: Machine
    peers: list[Peer]
    scenarios: list[Scenario]


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split()).replace("|", "/")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _problem(outcome: Outcome | None) -> str | None:
    """The cell for a run that has no figure to show, or None."""
    if outcome is None:
        return "—"
    if outcome.skipped:
        return "n/a"
    failures = outcome.failures()
    return f"✗ {_short(failures[0])}" if failures else None


def _s1_cells(outcome: Outcome | None) -> list[str]:
    steps = outcome.steps() if outcome else []
    best = sustainable_step(steps)
    if best is None:
        reason = _problem(outcome) or "no step sustainable"
        return [reason, "—", "—", _gen_cpu(None, steps)]
    top = " (top step)" if best.rate == max(s.rate for s in steps) else ""
    return [
        f"{best.rate:,}{top}",
        f"{best.deliveries_per_cpu_s:,.0f}",
        f"{best.latency_ms.p99:.2f}",
        _gen_cpu(best, steps),
    ]


def _gen_cpu(best: PublishStep | None, steps: list[PublishStep]) -> str:
    """The generator's CPU at the sustainable step (the one the row reports),
    then its peak over every step."""
    if not steps:
        return "—"
    peak = f"{max(s.gen_cpu for s in steps):.0%}"
    return peak if best is None else f"{best.gen_cpu:.0%} / {peak}"


def _s2_cells(outcome: Outcome | None) -> list[str]:
    steps = outcome.steps() if outcome else []
    if not steps:
        problem = _problem(outcome) or "—"
        return [problem, "—"]
    s = steps[0]
    lat = s.latency_ms
    lost = f"{s.lost:,} of {s.expected:,}"
    if s.achieved_rate < 0.95 * s.rate:
        lost += f" (sent {s.achieved_rate:,.0f}/s)"
    return [f"{lat.p50:.2f} / {lat.p99:.2f} / {lat.max:.1f}", lost]


def _s3_cell(outcome: Outcome | None) -> str:
    idle = outcome.first(Idle) if outcome else None
    if idle is None:
        return _problem(outcome) or "—"
    if idle.failed:
        return f"{idle.per_conn_kib:.1f} (✗ only {idle.conns:,} connected)"
    return f"{idle.per_conn_kib:.1f}"


def _s4_cell(outcome: Outcome | None) -> str:
    storm = outcome.first(Storm) if outcome else None
    if storm is None:
        return _problem(outcome) or "—"
    if storm.confirmed < storm.clients:
        return f"✗ {storm.confirmed:,} of {storm.clients:,} in {storm.secs:.2f}"
    return f"{storm.secs:.2f}"


def _s5_cell(outcome: Outcome | None) -> str:
    rec = outcome.first(Recovery) if outcome else None
    if rec is None:
        return _problem(outcome) or "—"
    if rec.recovered < rec.clients:
        return f"✗ {rec.recovered:,} of {rec.clients:,} in {rec.secs:.2f}, lost {rec.lost:,}"
    return f"{rec.secs:.2f} (lost {rec.lost})"


NOISY = 0.15  # cores of other processes' CPU above which a figure is suspect


def _noise_cell(mine: list[Outcome]) -> str:
    noise = max((o.noise() for o in mine), default=0.0)
    return f"⚠ {noise:.2f}" if noise >= NOISY else f"{noise:.2f}"


def _main_table(run: RunInfo, outcomes: Outcomes) -> list[str]:
    head = [
        "server",
        "S1 sustainable msg/s",
        "S1 deliveries / server CPU-s",
        "S1 p99 ms",
        "S1 generator CPU: at that step / peak",
        "S2 p50 / p99 / max ms",
        "S2 lost",
        "S3 KiB / idle conn",
        "S4 s to all confirmed",
        "S5 s to all recovered",
        "noise (cores)",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for peer in run.peers:
        get = outcomes.get
        row = [peer.title]
        row += _s1_cells(get((peer.name, "S1")))
        row += _s2_cells(get((peer.name, "S2")))
        row += [_s3_cell(get((peer.name, "S3"))), _s4_cell(get((peer.name, "S4")))]
        row.append(_s5_cell(get((peer.name, "S5"))))
        row.append(_noise_cell([o for (name, _), o in outcomes.items() if name == peer.name]))
        lines.append("| " + " | ".join(row) + " |")
    return lines


def _step_cell(step: PublishStep) -> str:
    cell = f"{step.latency_ms.p99:.1f}"
    if step.passed:
        return cell
    why = []
    if step.lost:
        why.append(f"lost {step.lost:,}")
    if step.latency_ms.p99 >= P99_LIMIT_MS:
        why.append("slow")
    if step.achieved_rate < 0.95 * step.rate:
        why.append(f"sent {step.achieved_rate:,.0f}/s")
    return f"✗ {cell} ({', '.join(why)})"


def _s1_steps_table(run: RunInfo, outcomes: Outcomes) -> list[str]:
    runs = {
        p.name: outcomes[(p.name, "S1")].steps() for p in run.peers if (p.name, "S1") in outcomes
    }
    rates = sorted({s.rate for steps in runs.values() for s in steps})
    if not rates:
        return []
    lines = [
        "S1 p99 latency (ms) per publish rate (msg/s); ✗ = not sustainable "
        f"(loss, p99 ≥ {P99_LIMIT_MS:.0f} ms, or < 95 % of the rate sent). "
        "Server CPU % in brackets.",
        "",
        "| server | " + " | ".join(f"{r:,}" for r in rates) + " |",
        "|" + "---|" * (len(rates) + 1),
    ]
    for peer in run.peers:
        by_rate = {s.rate: s for s in runs.get(peer.name, [])}
        cells = [
            f"{_step_cell(by_rate[r])} [{by_rate[r].server_cpu:.0%}]" if r in by_rate else ""
            for r in rates
        ]
        lines.append(f"| {peer.title} | " + " | ".join(cells) + " |")
    return lines


def render_run(run: RunInfo, outcomes: Outcomes) -> str:
    m = run.machine
    stamp = run.started.strftime("%Y-%m-%d %H:%M UTC")
    kind = " (quick: tiny sizes, not comparable)" if run.quick else ""
    versions = ", ".join(f"{k} {v}" for k, v in m.versions.items())
    out = [
        f"### Run of {stamp}{kind}",
        "",
        f"- Command: `{run.command}`",
        f"- Machine: nproc {m.nproc}, {m.cpu_model}, {m.memory_gib:.0f} GiB, Linux {m.kernel}; "
        "server pinned with `taskset -c 1`, generator with `taskset -c 0`"
        + (f", both at nice {run.nice}" if run.nice else ""),
        f"- Versions: {versions}",
        f"- Scenarios: {', '.join(s.name for s in run.scenarios)}; raw generator output and "
        f"server logs: `{run.results_dir}`",
        "",
        *_main_table(run, outcomes),
        "",
        "*noise*: the most CPU (in cores) other processes on the machine used during any of "
        f"the row's measurements; from {NOISY} up (⚠) its figures are suspect.",
        "",
    ]
    steps = _s1_steps_table(run, outcomes)
    if steps:
        out += [*steps, ""]
    targets = check_targets(outcomes)
    if targets:
        out.append("Targets for relevo (issues 3 and 12):")
        out.append("")
        marks = {True: "✓", False: "✗", None: "·"}
        out += [f"- {marks[t.met]} {t.goal}: {t.measured}" for t in targets]
        out.append("")
    return "\n".join(out) + "\n"


_NEW_FILE = f"""# Benchmarks

Results of `relevo bench`; see the repository's `docs/benchmarks.md` for what
the scenarios and columns mean.

## Results

{MARKER}
"""


def write_report(path: Path, block: str) -> None:
    """Puts ``block`` right under MARKER (creating the file if needed), so the
    newest run comes first and earlier runs remain below it."""
    text = path.read_text(encoding="utf-8") if path.exists() else _NEW_FILE
    if MARKER not in text:
        text = text.rstrip("\n") + f"\n\n## Results\n\n{MARKER}\n"
    head, _, tail = text.partition(MARKER)
    new = f"{head}{MARKER}\n\n{block.rstrip()}\n\n{tail.lstrip(chr(10))}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new.rstrip("\n") + "\n", encoding="utf-8")
