"""The worked migration Socket.IO → relevo (examples/socketio-inbox, seed 002),
run the way its README says on a copy of it: ``npm install`` (the two
packages of this repository, linked), ``npm run build`` (tsc, strict, the
front-end service against @relevo/client's types), then its node:test file
against a real relevo started from the example's own relevo.toml: the
backend publishes through @relevo/node-server and mints the tokens, the
typed service receives every event in order, recovers what it missed while
closed, and cannot subscribe to another company's channel."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from relevo.server.config import load_settings
from tests.helpers import timeout
from tests.js.conftest import ROOT, run
from tests.js.test_node_server import counts, node_test

EXAMPLE = ROOT / "examples" / "socketio-inbox"
SECRET = "inbox-example-secret-0123456789abcdef"
API_KEY = "inbox-example-api-key"
EXAMPLE_TESTS = 3  # test() calls in test/inbox.test.js

pytestmark = pytest.mark.slow


@pytest.fixture
def project(node: str, npm: str, tmp_path: Path) -> Path:
    """The example installed and built in a copy, as a developer would."""
    copy = tmp_path / "socketio-inbox"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("node_modules", "dist"))
    manifest = json.loads((copy / "package.json").read_text())
    deps = manifest["dependencies"]
    assert deps == {
        "@relevo/client": "file:../../clients/js",
        "@relevo/node-server": "file:../../clients/node-server",
    }
    # The copy is elsewhere: point the relative file: dependencies back at this repository.
    manifest["dependencies"] = {
        name: "file:" + str((EXAMPLE / spec.removeprefix("file:")).resolve())
        for name, spec in deps.items()
    }
    (copy / "package.json").write_text(json.dumps(manifest, indent=2))
    path = f"{Path(node).parent}:{Path(npm).parent}"
    # TypeScript comes from npm's cache (clients/js installed the same version).
    run([npm, "install", "--prefer-offline", "--no-audit", "--no-fund"], copy, PATH=path)
    config = json.loads((copy / "web" / "tsconfig.json").read_text())
    assert config["compilerOptions"]["strict"] is True
    run([npm, "run", "build"], copy, PATH=path)  # as the README says: its own tsc
    assert (copy / "dist" / "inbox-service.js").exists()
    return copy


async def test_the_crm_on_relevo(
    node: str, project: Path, server_factory: Callable[..., Any]
) -> None:
    overrides = {
        "server": {"port": 0},
        "auth": {"secret": SECRET, "api_key": API_KEY},
    }
    settings = load_settings(EXAMPLE / "relevo.toml", overrides, environ={})
    server = await server_factory(settings)
    env = {
        "RELEVO_URL": f"http://127.0.0.1:{server.port}",
        "RELEVO_API_KEY": API_KEY,
        "RELEVO_SECRET": SECRET,
        "RELEVO_WAIT_MS": str(int(timeout(20) * 1000)),
    }
    report = await node_test(node, project, "test/inbox.test.js", env, 120)
    assert counts(report) == {
        "pass": str(EXAMPLE_TESTS),
        "fail": "0",
        "skipped": "0",
        "cancelled": "0",
    }, report
