"""Hostile frames over real sockets.

First the protocol errors of issue 11 (finding 9) as a client sees them; then
a wire-level fuzz: attackers send thousands of random frames (valid ops,
mistyped fields, random JSON, random bytes, deep nesting) while a bystander
subscribed to a channel a backend keeps publishing to must get every
publication, in order, with no gap. Every attacker frame gets a reply (or its
connection a proper close), and ``internal`` never appears.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import secrets
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from relevo.protocol.errors import DisconnectCode, ErrorCode
from relevo.protocol.frames import MAX_DEPTH
from relevo.server.app import RelevoServer
from tests.conftest import API_KEY, make_settings, token
from tests.helpers import RawWS, timeout
from tests.integration.test_websocket import publish

SEED = int(os.environ.get("RELEVO_FUZZ_SEED", "20240611"))
ATTACKERS = 20
FRAMES_EACH = 200
CHANNEL = "demo:fuzz"
INT64 = 2**63
REDIS_URL = os.environ.get("RELEVO_TEST_REDIS", "redis://127.0.0.1:6379/9")

# Close codes a server may end a hostile connection with (RFC 6455 §7.4.1):
# normal, going away, protocol error, invalid data, policy, too big.
PROPER_CLOSE = {1000, 1001, 1002, 1007, 1008, 1009}
ERROR_CODES = {str(c) for c in ErrorCode} - {str(ErrorCode.INTERNAL)}
DISCONNECT_CODES = {str(c) for c in DisconnectCode}


# -- finding 9, over the wire ----------------------------------------------------------


async def request_text(ws: RawWS, text: str, frame_id: Any) -> dict[str, Any]:
    """Send a frame as written (not re-encoded) and return the reply with its id."""
    ws.send(text)
    while True:
        msg = await ws.recv()
        if msg.get("id") == frame_id:
            return msg


async def test_protocol_errors_are_bad_request_with_the_id(server: RelevoServer) -> None:
    ws = await RawWS.connect(server.port)
    ws.send("[" * 5000 + "]" * 5000)
    deep = await ws.recv()
    assert deep["err"]["code"] == "bad_request"
    assert "id" not in deep
    for op in ("{}", "[]", '{"a":[1]}', "null", "3"):
        reply = await request_text(ws, '{"id":13,"op":' + op + "}", 13)
        assert reply["err"]["code"] == "bad_request", reply
    reply = await ws.request({"id": 14, "op": "sub", "ch": CHANNEL, "since": {"epoch": "e",
                              "offset": 99999999999999999999999}})  # fmt: skip
    assert reply["err"]["code"] == "bad_request"
    ws.send({"id": 99999999999999999999999, "op": "ping"})
    assert (await ws.recv())["err"]["code"] == "bad_request"
    assert await ws.request({"id": 15, "op": "ping"}) == {"id": 15, "op": "pong"}
    assert await ws.request({"id": "p", "op": "ping"}) == {"id": "p", "op": "pong"}
    ws.send({"op": "ping"})
    assert await ws.recv() == {"op": "pong"}
    assert "internal" not in {e["code"] for e in server.hub.recent_errors}
    await ws.close()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def broker_url(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    if request.param == "memory":
        yield "memory://"
        return
    prefix = "wf-" + secrets.token_hex(6)
    yield f"{REDIS_URL}?prefix={prefix}"
    client = aioredis.Redis.from_url(REDIS_URL)
    keys = [k async for k in client.scan_iter(match=f"{{{prefix}.*", count=500)]
    if keys:
        await client.delete(*keys)
    await client.aclose()


@pytest.mark.parametrize("offset", [10**14 - 1, 10**14, 2**53 + 1, INT64 - 1])
async def test_a_since_past_the_end_is_not_recovered_and_not_internal(
    server_factory: Any, broker_url: str, offset: int
) -> None:
    server = await server_factory(make_settings(broker={"url": broker_url}))
    pub = await publish(server, "demo:p", "x", 1)
    ws = await RawWS.connect(server.port)
    since = {"epoch": pub["epoch"], "offset": offset}
    sub = await ws.request({"id": 1, "op": "sub", "ch": "demo:p", "since": since})
    assert sub["ok"]["recovered"] is False, sub
    assert sub["ok"]["missed"] == []
    hist = await ws.request({"id": 2, "op": "history", "ch": "demo:p", "since": since})
    assert hist["ok"]["publications"] == [], hist
    assert "internal" not in {e["code"] for e in server.hub.recent_errors}
    await ws.close()


# -- random frames ---------------------------------------------------------------------

_CHANNELS = [CHANNEL, "demo:x", "demo:y", "gtr", "asesor:4", "t:acme:inbox", "small:1",
             "nope:1", "", "a b", "demo:" + "x" * 300]  # fmt: skip
_OPS = ["connect", "sub", "unsub", "pub", "history", "presence", "refresh", "ping"]
_FIELDS = ["id", "op", "ch", "ev", "data", "since", "limit", "token"]
_CHARS = 'abcXYZ09:_-.@$ "\\/[]{}\x00\x01\x1f\x7f\u00e9\u20ac\u202e\ufeff\U0001f600'


def _string(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.05:
        return rng.choice("x\u00e9\x00") * rng.choice([300, 5_000, 30_000])
    return "".join(rng.choice(_CHARS) for _ in range(rng.randint(0, 12)))


def _number(rng: random.Random) -> Any:
    return rng.choice([
        0, -1, 1, rng.randint(-1000, 1000), INT64 - 1, INT64, -INT64, -INT64 - 1,
        10 ** rng.randint(19, 40), -(10 ** rng.randint(19, 40)), 0.5, -2.5, 1e308,
        float("nan"), float("inf"), 4.0,
    ])  # fmt: skip


def _json(rng: random.Random, depth: int = 0) -> Any:
    r = rng.random()
    if depth > 4 or r < 0.45:
        return rng.choice([None, True, False, _number(rng), _string(rng), _string(rng)])
    if r < 0.7:
        return [_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    keys = [rng.choice(_FIELDS) if rng.random() < 0.5 else _string(rng) for _ in range(4)]
    return {k: _json(rng, depth + 1) for k in keys[: rng.randint(0, 4)]}


def _valid(rng: random.Random, fid: int, tokens: list[str]) -> dict[str, Any]:
    op = rng.choice(_OPS)
    frame: dict[str, Any] = {"id": fid, "op": op}
    if op in ("sub", "unsub", "pub", "history", "presence"):
        frame["ch"] = rng.choice(_CHANNELS[:8])
    if op == "pub":
        frame["ev"] = rng.choice(["typing", "x", "$join"])
        frame["data"] = _json(rng)
    if op in ("sub", "history") and rng.random() < 0.5:
        frame["since"] = {"epoch": rng.choice(["", "e1"]), "offset": rng.randint(0, 50)}
    if op == "history":
        frame["limit"] = rng.randint(0, 200)
    if op in ("connect", "refresh"):
        frame["token"] = rng.choice([*tokens, "forged", "a.b.c", ""])
    return frame


@dataclass
class Frame:
    payload: bytes
    opcode: int = 0x1
    expect_id: Any = None  # the id the reply must echo; None: no promise


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


def _echoable(frame: Any, text: str) -> Any:
    """The id a reply must carry: the frame's own, when the frame is strict
    JSON within the limits and its id is one the protocol accepts."""
    if not isinstance(frame, dict) or "id" not in frame:
        return None
    fid = frame["id"]
    ok_id = isinstance(fid, str) or (type(fid) is int and -INT64 <= fid < INT64)
    try:
        json.dumps(frame, allow_nan=False)
    except ValueError:
        return None
    if not ok_id or _depth(frame) > MAX_DEPTH or len(text.encode()) > 65536:
        return None
    return fid


def random_frame(rng: random.Random, fid: int, tokens: list[str]) -> Frame:
    r = rng.random()
    if r < 0.08:  # random bytes as a text frame (mostly not UTF-8)
        return Frame(rng.randbytes(rng.randint(0, 200)))
    if r < 0.11:
        return Frame(rng.randbytes(rng.randint(0, 50)), opcode=0x2)
    if r < 0.16:  # deep nesting, past the bound and past the recursion limit
        n = rng.choice([MAX_DEPTH, MAX_DEPTH + 1, 1000, 5000, 20_000])
        opener, closer = rng.choice([("[", "]"), ('{"a":', "}")])
        text = (
            f'{{"id":{fid},"op":"pub","ch":"{CHANNEL}","ev":"e","data":{opener * n}1{closer * n}}}'
        )
        return Frame(text.encode())
    frame: Any
    if r < 0.3:
        frame = _json(rng)
        if isinstance(frame, dict) and rng.random() < 0.5:
            frame["id"] = fid
    else:
        frame = _valid(rng, fid, tokens)
        if r < 0.75:  # mistype one or two fields
            for _ in range(rng.randint(1, 2)):
                frame[rng.choice(_FIELDS)] = rng.choice([_json(rng), _number(rng), _string(rng)])
    text = json.dumps(frame)
    return Frame(text.encode(), expect_id=_echoable(frame, text))


# -- the fuzz --------------------------------------------------------------------------


@dataclass
class Tally:
    frames: int = 0
    replies: int = 0
    closes: list[int] = field(default_factory=list)
    cut: int = 0  # frames left unanswered because the server closed the connection
    codes: dict[str, int] = field(default_factory=dict)


async def _read_reply(ws: RawWS) -> dict[str, Any] | int:
    """The next reply to a command (publications and pushes skipped, pings
    answered), or the close code if the server closed the connection."""
    while True:
        opcode, payload = await ws.recv_frame(wait=30)
        if opcode == 0x9:
            ws.send_frame(0xA, payload)
        elif opcode == 0x8:
            return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
        elif opcode == 0x1:
            msg: dict[str, Any] = json.loads(payload)
            if "ok" in msg or "err" in msg or msg.get("op") in ("pong", "disconnect"):
                return msg
            assert "ch" in msg, msg  # a publication or a push: not a reply


async def attacker(port: int, index: int, tally: Tally) -> None:
    rng = random.Random(SEED * 1000 + index)
    tokens = [token(f"u{index}"), token(f"a{index}", ("asesor",), "acme")]
    ws = await RawWS.connect(port)
    sent = 0
    while sent < FRAMES_EACH:
        burst = [random_frame(rng, sent + i, tokens) for i in range(rng.randint(1, 8))]
        burst = burst[: FRAMES_EACH - sent]
        for frame in burst:
            ws.send_frame(frame.opcode, frame.payload)
        sent += len(burst)
        tally.frames += len(burst)
        replies: list[dict[str, Any]] = []
        while len(replies) < len(burst):
            reply = await _read_reply(ws)
            if isinstance(reply, int):  # closed: a proper code, then come back
                assert reply in PROPER_CLOSE, (SEED, index, reply)
                tally.closes.append(reply)
                tally.cut += len(burst) - len(replies)
                break
            if reply.get("op") == "disconnect":
                assert reply["code"] in DISCONNECT_CODES, (SEED, index, reply)
                continue  # the close frame follows
            replies.append(reply)
            tally.replies += 1
            if "err" in reply:
                code = reply["err"]["code"]
                assert code in ERROR_CODES, (SEED, index, reply)
                tally.codes[code] = tally.codes.get(code, 0) + 1
        else:
            got = [r.get("id") for r in replies]
            for frame in burst:
                if frame.expect_id is not None:
                    assert frame.expect_id in got, (SEED, index, frame.payload[:200], replies)
            continue
        await ws.close()
        ws = await RawWS.connect(port)
    # Nothing was answered twice: the next reply is this ping's.
    ws.send({"id": "last", "op": "ping"})
    assert await _read_reply(ws) == {"id": "last", "op": "pong"}, (SEED, index)
    await ws.close()


async def bystander_reads(ws: RawWS, start: int, received: list[dict[str, Any]]) -> None:
    """Every publication on the channel until the backend's ``end``."""
    while True:
        opcode, payload = await ws.recv_frame(wait=30)
        if opcode == 0x9:
            ws.send_frame(0xA, payload)
            continue
        assert opcode == 0x1, (opcode, payload)
        msg = json.loads(payload)
        assert "err" not in msg, msg
        assert msg.get("op") != "disconnect", msg
        if "off" not in msg:
            continue  # presence pushes carry no offset
        assert msg["off"] == start + len(received) + 1, (msg, len(received))
        received.append(msg)
        if msg["ev"] == "end":
            return


@pytest.mark.slow
async def test_wire_fuzz_with_a_bystander(
    server_factory: Any, broker_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    server: RelevoServer = await server_factory(
        make_settings(
            limits={"commands_per_second": 1e6, "command_burst": 1_000_000},
            broker={"url": broker_url},
        )
    )
    bystander = await RawWS.connect(server.port)
    sub = await bystander.request({"id": 1, "op": "sub", "ch": CHANNEL})
    received: list[dict[str, Any]] = []
    reader = asyncio.create_task(bystander_reads(bystander, sub["ok"]["offset"], received))
    tally = Tally()
    attack = asyncio.gather(*(attacker(server.port, i, tally) for i in range(ATTACKERS)))

    ticks = 0
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{server.port}", headers={"X-API-Key": API_KEY}
    ) as http:

        async def publish(event: str, data: Any) -> None:
            resp = await http.post("/api/publish", json={"channel": CHANNEL, "event": event,
                                                         "data": data})  # fmt: skip
            assert resp.status_code == 200, resp.text

        while not attack.done():
            ticks += 1
            await publish("tick", {"n": ticks})
            # Pace the backend; the attack, not the publisher, should load the server.
            await asyncio.wait([attack], timeout=0.01)
        await attack  # re-raises an attacker's assertion
        await publish("end", None)
        await asyncio.wait_for(reader, timeout(30))

    mine = [m["data"]["n"] for m in received if m["ev"] == "tick"]
    assert mine == list(range(1, ticks + 1)), SEED
    assert tally.frames == ATTACKERS * FRAMES_EACH
    assert tally.replies + tally.cut == tally.frames  # one reply per frame, or a close
    assert "internal" not in {e["code"] for e in server.hub.recent_errors}
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
    # The fuzz reached past "not JSON": commands were parsed, run and refused.
    assert tally.codes.get("bad_request", 0) > 100, tally.codes
    assert tally.codes.get("forbidden", 0) > 10, tally.codes
    await bystander.close()
