"""The Autobahn TestSuite (cases 1-7 and 10) against relevo's real WebSocket
stack, through ``scripts/autobahn``.

The suite needs a Python 2.7 toolchain that ``scripts/autobahn`` builds on its
first run (from Debian 11's packages, about two minutes). This test never
builds it: it runs the suite where it is installed and is skipped elsewhere;
under CI (``.ci/run`` installs the toolchain first) a missing one fails. Without the suite,
tests/integration/test_ws_rfc.py and tests/protocol/test_ws*.py still check
every case family the suite found failing.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import missing_service, timeout

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.timeout(timeout(600))]


def test_autobahn_cases_1_to_7_and_10_none_failed(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts/autobahn.py"), "--no-install"]
        + ["--reports", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=timeout(500),
        cwd=ROOT,
    )
    if proc.returncode == 2 and "not installed" in proc.stderr:
        missing_service("the Autobahn TestSuite is not installed: run scripts/autobahn once")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "\n  all " in proc.stdout, proc.stdout
