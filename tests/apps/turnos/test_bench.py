"""The benchmark runs end to end at a tiny size (the full run is
``python -m relevo.bench.turnos``; figures in docs/benchmarks.md)."""

from __future__ import annotations

from relevo.bench.turnos import run_turnos_bench


async def test_the_benchmark_runs_and_loses_nothing() -> None:
    result = await run_turnos_bench(mesas=3, monitors=2, speedup=60, duration=3.0, warmup=0)
    assert result["tickets"] > 0
    assert result["operator_actions"] > 0
    assert result["missing_deliveries"] == 0
    assert result["monitor_deliveries"] == 2 * result["measured_actions"]
    assert result["action_to_monitor_p99_ms"] is not None
