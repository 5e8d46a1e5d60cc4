"""RFC 6455 over real sockets: how the server fails a connection (1002, 1007),
answers a Close, and keeps the replies a client was owed. Each test sends the
bytes of an Autobahn TestSuite case family with a raw client."""

from __future__ import annotations

import asyncio
import json
import struct
from typing import Any

import pytest

from relevo.protocol.errors import DisconnectCode
from relevo.server.app import RelevoServer
from tests.conftest import make_settings
from tests.helpers import RawWS, timeout, ws_frame


def frame(opcode: int, payload: bytes = b"", fin: bool = True, masked: bool = True) -> bytes:
    return ws_frame(opcode, payload, fin=fin, masked=masked)


def text(obj: Any) -> bytes:
    return frame(0x1, json.dumps(obj).encode())


def close(code: int | None = None, reason: bytes = b"") -> bytes:
    return frame(0x8, b"" if code is None else struct.pack("!H", code) + reason)


async def frames_until_close(ws: RawWS) -> tuple[list[tuple[int, bytes]], int | None]:
    """Every frame up to the server's Close; then the Close's code, and the
    connection must end (EOF) without the client closing it."""
    before: list[tuple[int, bytes]] = []
    while True:
        opcode, payload = await ws.recv_frame()
        if opcode == 0x8:
            break
        before.append((opcode, payload))
    code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
    assert await asyncio.wait_for(ws.reader.read(), timeout(5)) == b"", "server kept the socket"
    await ws.close()
    return before, code


async def send(server: RelevoServer, data: bytes) -> RawWS:
    ws = await RawWS.connect(server.port)
    ws.writer.write(data)
    return ws


async def test_protocol_violation_closes_with_1002_and_nothing_else(server: RelevoServer) -> None:
    ws = await send(server, frame(0x1, b"unmasked", masked=False))
    assert await frames_until_close(ws) == ([], 1002)


@pytest.mark.parametrize(
    "data",
    [
        frame(0x1, b'{"op":"ping","x":"\xff\xfe"}'),
        frame(0x1, "κόσμε".encode() + b"\xed\xa0\x80edited"),
        # The message is never finished: the second fragment alone must fail it.
        frame(0x1, "κόσμε".encode() + b"\xf4", fin=False) + frame(0x0, b"\x90", fin=False),
    ],
    ids=["in-json", "surrogate", "unfinished-fragments"],
)
async def test_invalid_utf8_fails_the_connection_with_1007(
    server: RelevoServer, data: bytes
) -> None:
    ws = await send(server, data)
    assert await frames_until_close(ws) == ([], 1007)


@pytest.mark.parametrize("opcode", [0x3, 0x7, 0xB, 0xF])
async def test_reserved_opcode_fails_after_replying_to_what_came_first(
    server: RelevoServer, opcode: int
) -> None:
    # Autobahn 4.1.3/4.2.3: a message, the reserved opcode and a ping in one
    # write: the message gets its reply, the ping no pong, the close is 1002.
    sub = {"id": 7, "op": "sub", "ch": "demo:a"}
    ws = await send(server, text(sub) + frame(opcode, b"x") + frame(0x9))
    before, code = await frames_until_close(ws)
    assert [(op, json.loads(p)["id"]) for op, p in before] == [(0x1, 7)]
    assert code == 1002


async def test_commands_before_a_close_in_the_same_read_are_answered(server: RelevoServer) -> None:
    batch = b"".join(text({"id": i, "op": "sub", "ch": f"demo:{i}"}) for i in range(20))
    ws = await send(server, batch + close(1000) + frame(0x9))
    before, code = await frames_until_close(ws)
    assert [json.loads(p)["id"] for _, p in before] == list(range(20))
    assert code == 1000


@pytest.mark.parametrize(
    ("sent", "echoed"),
    [
        (close(1000, b"bye"), 1000),
        (close(1001), 1001),
        (close(1011), 1011),
        (close(3000), 3000),
        (close(4999, "κόσμε".encode()), 4999),
        (close(None), 1000),  # no code: answered with 1000 (Autobahn 7.3.1)
    ],
    ids=["1000", "1001", "1011", "3000", "4999", "empty"],
)
async def test_valid_close_is_echoed(server: RelevoServer, sent: bytes, echoed: int) -> None:
    ws = await send(server, sent)
    assert await frames_until_close(ws) == ([], echoed)


@pytest.mark.parametrize(
    "payload",
    [
        b"\x03",
        *(struct.pack("!H", c) for c in (0, 999, 1004, 1005, 1006, 1016, 2999, 5000, 65535)),
        struct.pack("!H", 1000) + b"\xce\xba\xf4\x90\x80\x80",
    ],
    ids=["1-byte", *(str(c) for c in (0, 999, 1004, 1005, 1006, 1016, 2999, 5000, 65535)), "utf8"],
)
async def test_invalid_close_fails_with_1002(server: RelevoServer, payload: bytes) -> None:
    ws = await send(server, frame(0x8, payload))
    assert await frames_until_close(ws) == ([], 1002)


async def test_data_frame_after_a_dropped_oversize_fragment_fails(server: RelevoServer) -> None:
    limit = server.settings.limits.max_frame_bytes
    ws = await send(server, frame(0x1, b"x" * (limit + 1), fin=False) + text({"op": "ping"}))
    before, code = await frames_until_close(ws)
    assert [json.loads(p)["err"]["code"] for _, p in before] == ["too_large"]
    assert code == 1002


async def test_empty_continuation_flood_is_bounded(server_factory: Any) -> None:
    server = await server_factory(make_settings())
    ws = await RawWS.connect(server.port)
    ws.writer.write(frame(0x1, b'{"op":', fin=False))
    empty = frame(0x0, b"", fin=False) * 1000
    for _ in range(20):
        ws.writer.write(empty)
        await ws.writer.drain()
    ws.writer.write(frame(0x0, b'"ping"}', fin=True) + text({"op": "ping"}))
    err = await ws.recv()
    assert err["err"]["code"] == "too_large"
    assert "frames" in err["err"]["message"]
    assert await ws.recv() == {"op": "pong"}
    (conn,) = [c for c in server.server.server_state.connections if hasattr(c, "parser")]
    assert conn.parser.buffered < 100
    await ws.close()


async def test_wire_errors_are_counted(server: RelevoServer) -> None:
    ws = await send(server, frame(0x1, b"\xff"))
    await frames_until_close(ws)
    counter = server.hub.metrics.disconnects.labels(str(DisconnectCode.PROTOCOL))
    assert counter._value.get() == 1
