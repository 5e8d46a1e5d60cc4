"""The relevo command as a user runs it: real subprocesses."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import jwt

from tests.helpers import timeout

RELEVO = [sys.executable, "-m", "relevo.server.cli"]
#: The tree under test, not whatever ``relevo`` the interpreter has installed
#: (an editable install may point at another checkout).
ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        RELEVO + args,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout(30),
        check=False,
        env=ENV,
    )


def wait_ready(port: int) -> None:
    # Generous: a demo seeds four apps before it is ready, and CI machines are busy.
    deadline = time.monotonic() + timeout(60)
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise TimeoutError("server did not become ready")


def test_serve_writes_dev_config_then_token_and_publish_use_it(tmp_path: Path) -> None:
    port = free_port()
    env = {**ENV, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [*RELEVO, "serve", "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        wait_ready(port)
        config = tmp_path / "relevo.toml"
        assert config.exists()
        tok = run(["token", "--user", "ana", "--roles", "asesor,gtr", "--tenant", "acme"], tmp_path)
        assert tok.returncode == 0, tok.stderr
        secret = config.read_text().split('secret = "')[1].split('"')[0]
        claims = jwt.decode(tok.stdout.strip(), secret, algorithms=["HS256"])
        assert (claims["sub"], claims["roles"], claims["tenant"]) == (
            "ana",
            ["asesor", "gtr"],
            "acme",
        )
        pub = run(
            ["publish", "--url", f"http://127.0.0.1:{port}", "demo:1", "hola", '{"a": 1}'], tmp_path
        )
        assert pub.returncode == 0, pub.stderr
        assert json.loads(pub.stdout)["offset"] == 1
        bad = run(
            ["publish", "--url", f"http://127.0.0.1:{port}", "demo:1", "hola", "{nope"], tmp_path
        )
        assert bad.returncode == 2
        assert "not JSON" in bad.stderr
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=timeout(10))
    assert "wrote" in out
    assert "development mode" in out


def test_bad_config_stops_the_server_naming_the_key(tmp_path: Path) -> None:
    (tmp_path / "relevo.toml").write_text("[server]\nprot = 1\n")
    result = run(["serve"], tmp_path)
    assert result.returncode == 2
    assert "server.prot: unknown setting" in result.stderr


def test_token_without_config_explains(tmp_path: Path) -> None:
    result = run(["token", "--user", "x"], tmp_path)
    assert result.returncode == 2
    assert "relevo serve" in result.stderr


def test_publish_without_config_or_server_explains(tmp_path: Path) -> None:
    result = run(["publish", "demo:1", "e"], tmp_path)
    assert result.returncode == 2
    assert "auth.api_key: not set" in result.stderr
    (tmp_path / "relevo.toml").write_text('[auth]\napi_key = "k"\n')
    port = free_port()
    result = run(["publish", "--url", f"http://127.0.0.1:{port}", "demo:1", "e"], tmp_path)
    assert result.returncode == 1
    assert "cannot reach" in result.stderr


def test_demo_refuses_a_public_interface_unless_told(tmp_path: Path) -> None:
    """The demo's login signs anyone in as anyone (admin included): on a
    network interface it needs an explicit flag, and then says so loudly."""
    refused = run(["demo", "--host", "0.0.0.0", "--port", str(free_port())], tmp_path)
    assert refused.returncode == 2
    assert "--public-demo" in refused.stderr
    assert "0.0.0.0" in refused.stderr


def test_token_refuses_a_token_that_never_expires(tmp_path: Path) -> None:
    (tmp_path / "relevo.toml").write_text(f'[auth]\nsecret = "{"s" * 32}"\n')
    result = run(["token", "--user", "ana", "--ttl", "0"], tmp_path)
    assert result.returncode == 2
    assert "--ttl" in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_refuses_a_config_that_redefines_an_app_namespace(tmp_path: Path) -> None:
    # The [namespaces.t] older versions wrote: client publish on the inbox's channels.
    (tmp_path / "relevo.toml").write_text(
        f'[auth]\nsecret = "{"s" * 32}"\n[namespaces.t]\n'
        'subscribe = [{ channel = "t:{tenant}:*" }]\npublish = [{ channel = "t:{tenant}:*" }]\n'
    )
    result = run(["demo", "--port", str(free_port())], tmp_path)
    assert result.returncode == 2, result.stderr
    assert "namespaces.t: relevo.toml defines [namespaces.t], which the inbox app owns" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr


def test_serve_mounts_the_apps_named_by_the_apps_flag(tmp_path: Path) -> None:
    """``relevo serve --apps leads`` (docs/apps/leads.md) mounts that app,
    as ``apps = ["leads"]`` in relevo.toml would."""
    port = free_port()
    db = f"sqlite+aiosqlite:///{tmp_path / 'records.db'}"
    proc = subprocess.Popen(
        [*RELEVO, "serve", "--apps", "leads", "--port", str(port), "--database", db],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    try:
        wait_ready(port)
        links = httpx.get(f"http://127.0.0.1:{port}/api/links").json()
        assert [link["url"] for link in links] == ["/leads/", "/admin/personas"]
    finally:
        proc.terminate()
        proc.communicate(timeout=timeout(10))
    bad = run(["serve", "--apps", "leads,nope", "--port", str(free_port())], tmp_path)
    assert bad.returncode == 2
    assert "nope" in bad.stderr


def test_publish_finds_the_server_on_the_port_of_the_config(tmp_path: Path) -> None:
    port = free_port()
    (tmp_path / "relevo.toml").write_text(
        f'[server]\nport = {port}\n[auth]\napi_key = "k"\nsecret = "{"s" * 32}"\n'
        "[namespaces.demo]\n"
    )
    proc = subprocess.Popen(
        [*RELEVO, "serve"], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=ENV,
    )  # fmt: skip
    try:
        wait_ready(port)
        pub = run(["publish", "demo:1", "hola", '{"a": 1}'], tmp_path)
        assert pub.returncode == 0, pub.stderr
    finally:
        proc.terminate()
        proc.communicate(timeout=timeout(10))
