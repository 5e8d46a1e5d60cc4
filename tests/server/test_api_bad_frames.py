"""``POST /api/command`` answers a frame it cannot parse with 400 and the
error frame (the id echoed when it is valid), never with a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from relevo.server.app import RelevoServer
from tests.conftest import token


@pytest.fixture
async def http(server: RelevoServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
        yield client


@pytest.mark.parametrize(
    ("body", "frame_id"),
    [
        (b"[" * 5000 + b"]" * 5000, None),
        (b'{"id":13,"op":{}}', 13),
        (b'{"id":14,"op":["pub"]}', 14),
        (b'{"id":15,"op":"history","ch":"demo:a","limit":99999999999999999999999}', 15),
        (b'{"id":16,"op":"history","ch":"demo:a","since":{"epoch":"e","offset":1e3}}', 16),
        (b'{"id":17,"op":"history","ch":"demo:a","since":{"epoch":"e","offset":-4}}', 17),
        (b'{"id":99999999999999999999999,"op":"ping"}', None),
        (
            b'{"id":18,"op":"pub","ch":"demo:a","ev":"e","data":' + b"[" * 40 + b"]" * 40 + b"}",
            None,
        ),
        (b'{"id":19,"op":"presence","ch":"' + b"x" * 60_000 + b'"}', 19),
        (b'{"id":20,"op":"pub","ch":"demo:\\u0007","ev":"e"}', 20),
    ],
)
async def test_unparseable_frames_answer_400_with_the_error_frame(
    http: httpx.AsyncClient, body: bytes, frame_id: object
) -> None:
    for headers in ({}, {"Authorization": f"Bearer {token('ana')}"}):
        resp = await http.post("/api/command", content=body, headers=headers)
        assert resp.status_code == 400, resp.text
        reply = resp.json()
        assert reply.get("id") == frame_id
        assert reply["err"]["code"] == "bad_request"
        assert reply["err"]["retry"] is False


async def test_ping_over_http_echoes_its_id(http: httpx.AsyncClient) -> None:
    resp = await http.post("/api/command", json={"id": 21, "op": "ping"})
    assert resp.status_code == 200
    assert resp.json() == {"id": 21, "op": "pong"}
    resp = await http.post("/api/command", json={"op": "ping"})
    assert resp.json() == {"op": "pong"}
