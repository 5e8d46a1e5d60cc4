"""A few seconds of ``relevo bench --quick`` so the benchmark cannot rot:
it builds the C generator and raw server, starts relevo and the raw server
pinned to their cores, and must deliver every publication. No timing asserts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from relevo.bench import main

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(60),
    pytest.mark.skipif(
        shutil.which("gcc") is None or shutil.which("taskset") is None,
        reason="the benchmark needs gcc and taskset",
    ),
]


def test_quick_s1_relevo_and_raw(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELEVO_BENCH_ROOT", str(tmp_path))  # build + results in tmp
    out, raw_json = tmp_path / "benchmarks.md", tmp_path / "results.json"
    argv = ["--quick", "--peers", "relevo,raw", "--scenarios", "S1"]
    argv += ["--out", str(out), "--json", str(raw_json)]

    assert main(argv) == 0

    outcomes = {o["peer"]: o for o in json.loads(raw_json.read_text())}
    assert set(outcomes) == {"relevo", "raw"}
    for peer, outcome in outcomes.items():
        assert outcome["error"] is None, peer
        steps = [r for r in outcome["records"] if r["mode"] == "publish"]
        assert steps, f"{peer}: no publish step ran: {outcome['records']}"
        for step in steps:
            assert step["received"] > 0, (peer, step)
            assert step["lost"] == 0, (peer, step)
            assert step["received"] == step["expected"], (peer, step)
    report = out.read_text()
    assert "| relevo |" in report
    assert "| raw limit (C, epoll) |" in report
