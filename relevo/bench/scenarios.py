"""The five scenarios of issue 3, as load-generator arguments, at full size
and at the tiny ``--quick`` size the smoke test uses."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["P99_LIMIT_MS", "S1_RATES", "SCENARIOS", "Scenario", "select_scenarios"]

P99_LIMIT_MS = 200.0  # S1: a step is sustainable only with p99 below this
# Up to 3,000 msg/s (3 M deliveries/s): past that the generator's one core is
# near 90 % (its kernel receive path; docs/benchmarks.md) and stops being a
# fair judge.
S1_RATES = (10, 20, 50, 100, 150, 200, 300, 400, 500, 700, 1000, 1500, 2000, 3000)


@dataclass(frozen=True)
class Size:
    args: tuple[str, ...]  # loadgen arguments
    timeout: float  # seconds the whole loadgen run may take


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    mode: str  # loadgen --mode
    full: Size
    quick: Size
    relevo_only: bool = False

    def size(self, quick: bool) -> Size:
        return self.quick if quick else self.full


def _rates(rates: tuple[int, ...]) -> str:
    return ",".join(str(r) for r in rates)


_S1_STEP, _S1_DRAIN = 5.0, 2.0

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "S1",
            "fan-out throughput: 1 room x 1,000 subscribers, stepped publish rate",
            "publish",
            Size(
                ("--subs", "1000", "--rooms", "1", "--rates", _rates(S1_RATES))
                + ("--step-secs", str(_S1_STEP), "--drain-secs", str(_S1_DRAIN))
                + ("--max-fail", "2", "--timeout", "120"),
                120 + len(S1_RATES) * (_S1_STEP + _S1_DRAIN) + 30,
            ),
            Size(
                ("--subs", "50", "--rooms", "1", "--rates", "10,50")
                + ("--step-secs", "1", "--drain-secs", "1", "--max-fail", "2", "--timeout", "20"),
                40,
            ),
        ),
        Scenario(
            "S2",
            "many rooms: 10,000 subscribers over 1,000 rooms, 2,000 msg/s to random rooms, 10 s",
            "publish",
            Size(
                ("--subs", "10000", "--rooms", "1000", "--rates", "2000")
                + ("--step-secs", "10", "--drain-secs", "3", "--timeout", "180"),
                220,
            ),
            Size(
                ("--subs", "200", "--rooms", "20", "--rates", "200")
                + ("--step-secs", "1", "--drain-secs", "1", "--timeout", "20"),
                40,
            ),
        ),
        Scenario(
            "S3",
            "idle memory: server RSS per idle subscribed connection at 10,000 connections",
            "idle",
            Size(("--subs", "10000", "--rooms", "1000", "--timeout", "180"), 220),
            Size(("--subs", "200", "--rooms", "20", "--timeout", "20"), 40),
        ),
        Scenario(
            "S4",
            "connect storm: 5,000 clients connect and subscribe at once",
            "storm",
            Size(("--subs", "5000", "--rooms", "1000", "--timeout", "60"), 90),
            Size(("--subs", "200", "--rooms", "20", "--timeout", "20"), 40),
        ),
        Scenario(
            "S5",
            "recovery storm: 5,000 clients reconnect at once, each recovers 100 publications",
            "recovery",
            Size(("--subs", "5000", "--rooms", "50", "--missed", "100", "--timeout", "120"), 150),
            Size(("--subs", "200", "--rooms", "10", "--missed", "20", "--timeout", "20"), 40),
            relevo_only=True,
        ),
    )
}


def select_scenarios(spec: str) -> list[Scenario]:
    """``all`` or a comma-separated list such as ``S1,S3``."""
    if spec.strip().lower() == "all":
        return list(SCENARIOS.values())
    names = [n.strip().upper() for n in spec.split(",") if n.strip()]
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        raise ValueError(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
    return [s for s in SCENARIOS.values() if s.name in names]
