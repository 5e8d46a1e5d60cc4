"""A server publish to a namespace nobody can subscribe to is a mistake (a
typo in a backend): it is refused, never stored and lost."""

from __future__ import annotations

import httpx

from relevo.protocol.types import StreamPosition
from relevo.server.app import RelevoServer
from tests.conftest import API_KEY

AUTH = {"Authorization": f"apikey {API_KEY}"}


async def test_publish_to_an_unknown_namespace_is_refused(server: RelevoServer) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
        resp = await http.post(
            "/api/publish", json={"channel": "nope:1", "event": "e", "data": 1}, headers=AUTH
        )
        assert resp.status_code == 404, resp.text
        assert resp.json()["code"] == "not_found"
        assert "unknown namespace nope" in resp.json()["message"]

        # A broadcast with one unknown channel publishes to none of them.
        resp = await http.post(
            "/api/broadcast",
            json={"channels": ["demo:b", "nope:2"], "event": "e", "data": 1},
            headers=AUTH,
        )
        assert resp.status_code == 404, resp.text
        assert "unknown namespace nope" in resp.json()["message"]

    options = server.hub.permissions.history_options("nope:1")
    for ch in ("nope:1", "nope:2", "demo:b"):
        stored = await server.hub.broker.history(ch, StreamPosition("", 0), 10, options)
        assert stored.publications == [], ch
