"""`relevo demo` as a new user runs it: a fresh folder, one command, every
app's pages answer and the server is ready."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx

from relevo.apps.registry import available_apps
from tests.helpers import timeout
from tests.server.test_cli import ENV, RELEVO, free_port, wait_ready


def test_demo_serves_every_app_with_sample_data(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [*RELEVO, "demo", "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**ENV, "PYTHONUNBUFFERED": "1"},
    )
    try:
        wait_ready(port)
        base = f"http://127.0.0.1:{port}"
        links = httpx.get(f"{base}/api/links").json()
        urls = {link["url"] for link in links}
        assert "/static/demo.html" in urls
        for app in available_apps():
            assert any(u.startswith(f"/{app}/") for u in urls), (app, urls)
        for url in urls:
            resp = httpx.get(base + url, follow_redirects=True)
            assert resp.status_code == 200, url
            assert "<html" in resp.text.lower(), url
        for page in ("/", "/admin", "/relevo.js", "/static/ui/ui.css"):
            assert httpx.get(base + page, follow_redirects=True).status_code == 200, page
        assert (tmp_path / "relevo.db").exists()
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=timeout(15))
    assert "Traceback" not in out, out
