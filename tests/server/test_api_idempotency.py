"""``idempotency_key`` on the HTTP API: a retried publish is one event, one offset."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from relevo.server.app import RelevoServer
from relevo.server.cli import main
from relevo.server.config import ConfigError
from tests.conftest import API_KEY, SECRET, make_settings
from tests.helpers import RawWS, timeout

AUTH = {"Authorization": f"apikey {API_KEY}"}


@pytest.fixture
async def http(server: RelevoServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
        yield client


async def test_publish_twice_with_one_key_is_one_publication(
    server: RelevoServer, http: httpx.AsyncClient
) -> None:
    ws = await RawWS.connect(server.port)
    assert "ok" in await ws.request({"id": 1, "op": "sub", "ch": "demo:idem"})
    body = {"channel": "demo:idem", "event": "e", "data": {"n": 1}, "idempotency_key": "op-17"}
    first = await http.post("/api/publish", json=body, headers=AUTH)
    again = await http.post("/api/publish", json=body, headers=AUTH)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert first.json()["offset"] == 1
    other = {**body, "data": {"n": 2}, "idempotency_key": "op-18"}
    assert (await http.post("/api/publish", json=other, headers=AUTH)).json()["offset"] == 2
    # The subscriber sees 1 then 2: the repeat was never delivered.
    assert [(await ws.recv())["off"] for _ in range(2)] == [1, 2]
    hist = (await http.get("/api/history/demo:idem", headers=AUTH)).json()
    assert [p["data"] for p in hist["publications"]] == [{"n": 1}, {"n": 2}]
    await ws.close()


async def test_broadcast_uses_the_key_on_each_channel(http: httpx.AsyncClient) -> None:
    body = {"channels": ["demo:a", "demo:b"], "event": "e", "idempotency_key": "bulk-3"}
    first = await http.post("/api/broadcast", json=body, headers=AUTH)
    again = await http.post("/api/broadcast", json=body, headers=AUTH)
    assert again.json() == first.json()
    assert [r["offset"] for r in first.json()["results"]] == [1, 1]
    # Retrying over a longer list publishes only where the key is new.
    wider = {**body, "channels": ["demo:a", "demo:b", "demo:c"]}
    results = (await http.post("/api/broadcast", json=wider, headers=AUTH)).json()["results"]
    assert [(r["channel"], r["offset"]) for r in results] == [
        ("demo:a", 1),
        ("demo:b", 1),
        ("demo:c", 1),
    ]
    for ch in ("demo:a", "demo:b"):
        hist = (await http.get(f"/api/history/{ch}", headers=AUTH)).json()
        assert len(hist["publications"]) == 1


async def test_unusable_key_is_a_bad_request(http: httpx.AsyncClient) -> None:
    for key in ("", "k" * 257):
        body = {"channel": "demo:x", "event": "e", "idempotency_key": key}
        resp = await http.post("/api/publish", json=body, headers=AUTH)
        assert resp.status_code == 400
        assert resp.json()["code"] == "bad_request"
        assert "idempotency_key" in resp.json()["message"]
    hist = (await http.get("/api/history/demo:x", headers=AUTH)).json()
    assert hist["publications"] == []


async def test_cli_publish_with_a_key_twice_is_one_publication(
    server: RelevoServer,
    http: httpx.AsyncClient,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = tmp_path / "relevo.toml"
    config.write_text(f'[auth]\nsecret = "{SECRET}"\napi_key = "{API_KEY}"\n')
    argv = [
        "publish", "--config", str(config), "--url", f"http://127.0.0.1:{server.port}",
        "--idempotency-key", "cron-2024-06-01", "demo:cli", "daily", '{"n": 1}',
    ]  # fmt: skip
    # In this process (a thread: the CLI blocks), so it runs this tree's code.
    codes = [await asyncio.to_thread(main, argv) for _ in range(2)]
    assert codes == [0, 0]
    first, again = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert again == first
    hist = (await http.get("/api/history/demo:cli", headers=AUTH)).json()
    assert len(hist["publications"]) == 1


async def test_window_is_a_broker_setting(server_factory: Callable[..., Any]) -> None:
    with pytest.raises(ConfigError, match="broker.idempotency_window"):
        make_settings(broker={"idempotency_window": 0})
    srv = await server_factory(make_settings(broker={"idempotency_window": 0.3}))
    body = {"channel": "demo:w", "event": "e", "idempotency_key": "k"}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{srv.port}") as http:
        first = (await http.post("/api/publish", json=body, headers=AUTH)).json()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout(5)
        while True:
            again = (await http.post("/api/publish", json=body, headers=AUTH)).json()
            if again != first:
                break
            assert loop.time() < deadline, "the key outlived its window"
            await asyncio.sleep(0.05)  # real time must pass: nothing to await
    assert again["offset"] == 2
