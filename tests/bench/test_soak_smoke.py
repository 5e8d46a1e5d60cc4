"""A few seconds of ``relevo bench soak`` so the soak cannot rot: a real
``relevo serve``, 200 churning clients. It checks the result's shape and that
the load met no error; speed and memory growth are the benchmark's to report,
not this test's (the machine running it may be busy)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from relevo.bench.soak import main

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def test_bounded_soak_runs_clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELEVO_BENCH_ROOT", str(tmp_path))  # results in tmp
    out = tmp_path / "soak.json"
    argv = ["--duration", "15", "--connections", "200", "--churn", "20", "--publish", "10"]
    argv += ["--sample-interval", "1", "--json", str(out)]

    status = main(argv)

    result = json.loads(out.read_text())
    assert status == (0 if result["passed"] else 1)
    assert result["errors"] == {}, result["errors"]
    counts = result["counts"]
    assert counts["errors"] == 0
    assert counts["ready"] >= 200  # the first 200, and the churn's replacements
    assert counts["dropped_clean"] + counts["dropped_abort"] > 0
    assert counts["publishes_sent"] > 0
    assert counts["deliveries"] > 0
    for key in ("rss", "rss_anon", "fds"):
        assert set(result[key]) >= {"warmup_end", "end", "growth_pct", "peak", "ok"}, key
        assert result[key]["growth_pct"] is not None, key
    assert result["samples"]
    assert result["server"]["alive"] is True
    after = result["server"]["after_close"]
    assert (after["ws"], after["subs"]) == (0, 0)  # the hub forgot every client
    assert list(tmp_path.glob("bench/results/*-soak/soak.json"))
