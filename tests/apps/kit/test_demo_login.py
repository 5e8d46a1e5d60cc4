"""The apps' demo login on a server without ``auth.secret``: a clear 503
``unavailable`` with a Spanish message, not a 500 (found by the cargue work)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import httpx
import pytest

from relevo.apps.registry import available_apps
from tests.web.fullserver import full_settings, start_full_server


@pytest.mark.parametrize("app", available_apps())
async def test_demo_login_without_a_secret_says_what_is_missing(tmp_path: Path, app: str) -> None:
    base = full_settings(demo=True)
    settings = dataclasses.replace(base, auth=dataclasses.replace(base.auth, secret=""))
    srv = await start_full_server(tmp_path / "nosecret.db", settings=settings)
    try:
        async with httpx.AsyncClient(base_url=srv.url) as client:
            resp = await client.get(f"/api/{app}/demo/users")
        assert resp.status_code == 503, resp.text
        body = resp.json()
        assert body["code"] == "unavailable"
        assert "auth.secret" in body["mensaje"]
    finally:
        await srv.stop()
