"""The Node server SDK (clients/node-server, ``@relevo/node-server``): its
node:test file against a real relevo server (publish, broadcast, history,
presence, disconnect; retries through a fault proxy that loses answers,
answers 5xx or hangs, reusing one idempotency key; HS256 and RS256 tokens it
mints, checked by the server), its types against its code, and ``npm pack``."""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import API_KEY, SECRET, make_settings
from tests.helpers import timeout
from tests.js.conftest import ROOT, run

SDK = ROOT / "clients" / "node-server"
SDK_TESTS = 11  # test() calls in test/server.test.js

EXPORTS = """\
import ts from "typescript";
const js = Object.keys(await import("@relevo/node-server"));
const file = new URL("./index.d.ts", import.meta.url).pathname;
const program = ts.createProgram([file], { strict: true, noEmit: true, types: [] });
const checker = program.getTypeChecker();
const module = checker.getSymbolAtLocation(program.getSourceFile(file));
const declared = checker.getExportsOfModule(module)
  .filter((s) => s.flags & ts.SymbolFlags.Value).map((s) => s.name);
console.log(JSON.stringify({ js: js.sort(), declared: declared.sort() }));
"""


def _rsa_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


async def node_test(node: str, cwd: Path, script: str, env: dict[str, str], seconds: float) -> str:
    """Run one node:test file; its spec report, asserted to have passed."""
    proc = await asyncio.create_subprocess_exec(
        node,
        "--test",
        "--test-reporter=spec",
        script,
        cwd=cwd,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout(seconds))
    except TimeoutError:
        proc.kill()
        out, _ = await proc.communicate()
        pytest.fail(f"node --test {script} did not finish:\n{out.decode()}")
    text = out.decode()
    assert proc.returncode == 0, text
    return text


def counts(report: str) -> dict[str, str]:
    return dict(re.findall(r"^ℹ (pass|fail|skipped|cancelled) (\d+)$", report, re.M))


@pytest.mark.slow
async def test_the_sdk_against_a_real_server(node: str, server_factory: Callable[..., Any]) -> None:
    private, public = _rsa_pair()
    settings = make_settings(auth={"public_key": public, "algorithms": ["HS256", "RS256"]})
    server = await server_factory(settings)
    env = {
        "RELEVO_URL": f"http://127.0.0.1:{server.port}",
        "RELEVO_API_KEY": API_KEY,
        "RELEVO_SECRET": SECRET,
        "RELEVO_PRIVATE_KEY": private,
        "RELEVO_WAIT_MS": str(int(timeout(20) * 1000)),
    }
    report = await node_test(node, SDK, "test/server.test.js", env, 120)
    assert counts(report) == {
        "pass": str(SDK_TESTS),
        "fail": "0",
        "skipped": "0",
        "cancelled": "0",
    }, report


def test_every_export_is_declared_and_every_declaration_exported(
    node: str, tsc: Path, tmp_path: Path
) -> None:
    # Run from clients/js (its node_modules has TypeScript) on a copy of the
    # SDK linked in as a package: the script imports it by its name.
    (tmp_path / "node_modules" / "@relevo").mkdir(parents=True)
    (tmp_path / "node_modules" / "@relevo" / "node-server").symlink_to(SDK)
    (tmp_path / "node_modules" / "typescript").symlink_to(tsc.parents[1])
    script = tmp_path / "exports.mjs"
    script.write_text(EXPORTS.replace("./index.d.ts", str(SDK / "index.d.ts")))
    found = json.loads(run([node, str(script)], tmp_path))
    assert found["js"], found
    assert set(found["js"]) == set(found["declared"]), found


def test_the_typed_example_compiles_strictly_and_uses_every_export(node: str, tsc: Path) -> None:
    config = json.loads((SDK / "examples" / "tsconfig.json").read_text())
    assert config["compilerOptions"]["strict"] is True
    assert config["compilerOptions"]["lib"] == ["es2022"]  # no DOM, no @types/node
    run([node, str(tsc), "-p", "examples", "--noEmit"], SDK)
    text = (SDK / "examples" / "typed.ts").read_text()
    named = re.search(r'import \{([^}]*)\} from "@relevo/node-server";', text)
    assert named is not None
    imported = {n.strip() for n in named.group(1).split(",") if n.strip()}
    values = {n for n in imported if not n.startswith("type ")}
    assert values == {"RelevoClient", "RelevoApiError", "mintToken", "retryDelay"} | {
        "RESERVED_CLAIMS",
        "MIN_SECRET_LENGTH",
    }


def test_npm_pack_has_the_modules_and_types_only(npm: str, tmp_path: Path) -> None:
    packed = json.loads(run([npm, "pack", "--json", "--pack-destination", str(tmp_path)], SDK))
    files = {f["path"] for f in packed[0]["files"]}
    modules = {f"src/{p.name}" for p in (SDK / "src").glob("*.js")}
    assert files == {"package.json", "README.md", "index.d.ts", *modules}
    manifest = json.loads((SDK / "package.json").read_text())
    assert "dependencies" not in manifest  # zero dependencies
