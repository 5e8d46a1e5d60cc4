"""The scale-out benchmarks cannot rot: two nodes sharing one port on a real
PostgreSQL and Redis take transitions and deliver every one to the
subscriber (``relevo bench records --workers 2``), and ``relevo serve
--workers 2`` on Redis delivers every publication of a quick S1. No timing
asserts: the figures are for docs/benchmarks.md, not for the test."""

from __future__ import annotations

import asyncio
import json
import math
import secrets
import shutil
from pathlib import Path

import asyncpg
import pytest

from relevo.bench import main
from relevo.bench.records_workers import run_records_workers

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


async def test_two_record_nodes_deliver_every_transition() -> None:
    name = f"relevo_bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        result = await run_records_workers(
            url=f"postgresql://postgres@127.0.0.1:5432/{name}",
            broker=f"redis://127.0.0.1:6379/9?prefix=bench-{secrets.token_hex(3)}",
            workers=2,
            transitions=400,
            concurrency=8,
        )
    finally:
        await asyncio.sleep(0.2)  # the nodes' connections are gone
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    # The client waits for every transition's publication (or fails): all arrived.
    assert result["workers"] == 2
    assert result["transitions"] == 400
    assert math.isfinite(result["commit_to_delivery_p99_ms"])


@pytest.mark.skipif(
    shutil.which("gcc") is None or shutil.which("taskset") is None,
    reason="the benchmark needs gcc and taskset",
)
def test_quick_s1_two_workers_on_redis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELEVO_BENCH_ROOT", str(tmp_path))
    out, raw_json = tmp_path / "benchmarks.md", tmp_path / "results.json"
    argv = ["--quick", "--peers", "relevo-2w", "--scenarios", "S1", "--nice", "0"]
    assert main([*argv, "--out", str(out), "--json", str(raw_json)]) == 0
    [outcome] = json.loads(raw_json.read_text())
    assert outcome["error"] is None
    steps = [r for r in outcome["records"] if r["mode"] == "publish"]
    assert steps
    for step in steps:
        assert step["received"] > 0, step
