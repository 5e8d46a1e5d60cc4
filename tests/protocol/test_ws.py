"""RFC 6455 framing without sockets."""

from __future__ import annotations

import base64
import os
import struct

import pytest

from relevo.protocol import ws


def client_frame(payload: bytes, opcode: int = 1, fin: bool = True, masked: bool = True) -> bytes:
    b0 = (0x80 if fin else 0) | opcode
    n = len(payload)
    m = 0x80 if masked else 0
    if n < 126:
        head = struct.pack("!BB", b0, m | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, m | 126, n)
    else:
        head = struct.pack("!BBQ", b0, m | 127, n)
    if not masked:
        return head + payload
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def handshake(extra: str = "") -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        f"GET /ws?token=abc HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    ).encode()


def test_handshake_and_accept_key() -> None:
    # The example of RFC 6455 section 1.3.
    assert ws.accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    parsed = ws.parse_handshake(handshake("Origin: http://a\r\n") + b"rest")
    assert parsed is not None
    req, rest = parsed
    assert (req.path, req.query, req.origin, rest) == ("/ws", "token=abc", "http://a", b"rest")
    assert ws.parse_handshake(b"GET / HTTP/1.1\r\n") is None


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"POST /ws HTTP/1.1\r\n\r\n", 405),
        (b"GET /ws HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n", 426),
        (
            b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
            b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: short\r\n\r\n",
            400,
        ),
        (b"garbage\r\n\r\n", 400),
    ],
)
def test_bad_handshakes(raw: bytes, status: int) -> None:
    with pytest.raises(ws.HandshakeError) as info:
        ws.parse_handshake(raw)
    assert info.value.status == status


def test_text_frame_lengths() -> None:
    for n in (0, 125, 126, 65535, 65536, 70000):
        frame = ws.text_frame(b"a" * n)
        parser_view = frame[:2]
        assert parser_view[0] == 0x81
        assert frame.endswith(b"a" * n) or n == 0
        assert len(frame) == n + (2 if n < 126 else 4 if n < 65536 else 10)


def test_parses_masked_messages_split_anywhere() -> None:
    data = client_frame(b'{"op":"ping"}') + client_frame(b"x" * 300) + client_frame(b"", 0x9)
    for cut in range(1, len(data)):
        parser = ws.FrameParser()
        events = parser.feed(data[:cut]) + parser.feed(data[cut:])
        assert events == [ws.Message(b'{"op":"ping"}'), ws.Message(b"x" * 300), ws.Ping(b"")]


def test_fragmented_message_with_interleaved_control() -> None:
    parser = ws.FrameParser()
    data = (
        client_frame(b"hel", 1, fin=False)
        + client_frame(b"p", 0x9)
        + client_frame(b"lo", 0, fin=True)
    )
    assert parser.feed(data) == [ws.Ping(b"p"), ws.Message(b"hello")]


def test_oversize_is_reported_skipped_and_stream_goes_on() -> None:
    parser = ws.FrameParser(max_size=100)
    data = client_frame(b"y" * 70000) + client_frame(b"ok")
    events = []
    for i in range(0, len(data), 997):
        events += parser.feed(data[i : i + 997])
    assert events == [ws.Oversize(70000), ws.Message(b"ok")]


def test_oversize_fragmented_message() -> None:
    parser = ws.FrameParser(max_size=100)
    data = (
        client_frame(b"a" * 80, 1, fin=False)
        + client_frame(b"b" * 80, 0, fin=False)
        + client_frame(b"c" * 80, 0, fin=True)
        + client_frame(b"next")
    )
    assert parser.feed(data) == [ws.Oversize(160), ws.Message(b"next")]


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (client_frame(b"x", masked=False), "must be masked"),
        (bytes([0xC1, 0x80]) + b"\0\0\0\0", "reserved bits"),
        (client_frame(b"x", 0x3), "unknown opcode"),
        (client_frame(b"x" * 126, 0x9), "invalid control frame"),
        (client_frame(b"x", 0), "continuation frame without"),
        (client_frame(b"a", 1, fin=False) + client_frame(b"b", 1), "new message inside"),
    ],
)
def test_protocol_violations_end_the_stream(frame: bytes, reason: str) -> None:
    parser = ws.FrameParser()
    events = parser.feed(frame)
    assert isinstance(events[-1], ws.WireError)
    assert reason in events[-1].reason
    assert parser.feed(client_frame(b"more")) == []


def test_close_frame_parsed() -> None:
    parser = ws.FrameParser()
    assert parser.feed(client_frame(struct.pack("!H", 1000) + b"bye", 0x8)) == [
        ws.Close(1000, "bye")
    ]
    assert ws.FrameParser().feed(client_frame(b"", 0x8)) == [ws.Close(1005, "")]
