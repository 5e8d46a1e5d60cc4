"""Wire-level fuzz over real sockets: many clients send frame soup (valid
commands, broken frames, bad UTF-8, reserved opcodes, bad closes, floods of
fragments) cut at random points, while a bystander must keep getting every
publication of its channel, in order. The server must log no error, answer
nothing as ``internal``, and forget every fuzzing connection."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import struct
from typing import Any

import httpx
import pytest

from relevo.protocol.errors import DisconnectCode
from relevo.server.app import RelevoServer
from tests.conftest import API_KEY
from tests.helpers import RawWS, timeout, ws_frame

CLIENTS = 40
PUBLICATIONS = 60


def frame(rng: random.Random, opcode: int, payload: bytes, fin: bool = True) -> bytes:
    rsv = rng.choice([0] * 12 + [1, 2, 4])
    return ws_frame(opcode, payload, fin=fin, masked=rng.random() > 0.05, rsv=rsv)


def soup(rng: random.Random) -> bytes:
    """One client's bytes: mostly plausible traffic, some of it hostile."""
    commands = [
        {"op": "ping"},
        {"id": 1, "op": "sub", "ch": f"demo:{rng.randrange(5)}"},
        {"id": "x", "op": "unsub", "ch": "demo:1"},
        {"id": 2, "op": "pub", "ch": "demo:watch", "ev": "forged", "data": 1},
        {"id": 3, "op": "history", "ch": "demo:watch", "limit": 5},
        {"id": 4, "op": "nope"},
    ]
    out = b""
    for _ in range(rng.randrange(1, 25)):
        kind = rng.randrange(10)
        if kind < 4:
            out += frame(rng, 1, json.dumps(rng.choice(commands)).encode())
        elif kind == 4:
            text = json.dumps(rng.choice(commands)).encode()
            cut = rng.randrange(len(text))
            out += frame(rng, 1, text[:cut], fin=False)
            out += frame(rng, 9, b"p") * rng.randrange(2)
            out += frame(rng, 0, b"", fin=False) * rng.randrange(3000)
            out += frame(rng, 0, text[cut:])
        elif kind == 5:
            out += frame(rng, 1, rng.choice([b"\xff", b"\xed\xa0\x80", "κ".encode()[:1]]))
        elif kind == 6:
            out += frame(rng, rng.choice([3, 7, 0xB, 0xF, 0]), os.urandom(rng.randrange(10)))
        elif kind == 7:
            out += frame(rng, 2, os.urandom(rng.randrange(200)))
        elif kind == 8:
            out += frame(rng, 1, b"x" * rng.choice([70_000, 200]))
        else:
            out += os.urandom(rng.randrange(1, 40))
    if rng.random() < 0.5:
        out += frame(rng, 8, struct.pack("!H", rng.choice([1000, 1001, 999, 5000])))
    return out


async def fuzz_client(server: RelevoServer, seed: int) -> None:
    rng = random.Random(seed)
    ws = await RawWS.connect(server.port)
    data = soup(rng)
    try:
        pos = 0
        while pos < len(data):
            step = rng.randrange(1, 4000)
            ws.writer.write(data[pos : pos + step])
            await ws.writer.drain()
            pos += step
        # Read what the server says until it closes or goes quiet.
        while await asyncio.wait_for(ws.reader.read(65536), timeout(3)):
            pass
    except (ConnectionError, TimeoutError):
        pass
    finally:
        await ws.close()


@pytest.mark.slow
async def test_frame_soup_never_hurts_a_bystander(
    server: RelevoServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    bystander = await RawWS.connect(server.port)
    assert "ok" in await bystander.request({"id": 1, "op": "sub", "ch": "demo:watch"})

    async def publish() -> None:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
            for i in range(PUBLICATIONS):
                resp = await http.post(
                    "/api/publish",
                    json={"channel": "demo:watch", "event": "tick", "data": i},
                    headers={"Authorization": f"apikey {API_KEY}"},
                )
                assert resp.status_code == 200
                await asyncio.sleep(0)

    async def watch() -> list[Any]:
        seen = []
        while len(seen) < PUBLICATIONS:
            msg = await bystander.recv(wait=20)
            if msg.get("ch") == "demo:watch":
                seen.append(msg["data"])
        return seen

    watcher = asyncio.create_task(watch())
    await asyncio.gather(publish(), *(fuzz_client(server, seed) for seed in range(CLIENTS)))
    assert await asyncio.wait_for(watcher, timeout(30)) == list(range(PUBLICATIONS))

    async def only_the_bystander_left() -> None:
        # No hub event marks the end of an anonymous session: poll, bounded.
        while len(server.hub.sessions) > 1:  # noqa: ASYNC110
            await asyncio.sleep(0.05)

    await asyncio.wait_for(only_the_bystander_left(), timeout(10))
    assert "internal" not in [e["code"] for e in server.hub.recent_errors]
    # The soup did reach the codec's failure paths, not only the happy ones.
    failed = server.hub.metrics.disconnects.labels(str(DisconnectCode.PROTOCOL))._value.get()
    assert failed > CLIENTS // 4
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    await bystander.close()
