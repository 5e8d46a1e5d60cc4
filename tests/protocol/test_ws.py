"""RFC 6455 framing without sockets."""

from __future__ import annotations

import base64
import os
import struct

import pytest

from relevo.protocol import ws
from tests.helpers import ws_frame


def client_frame(payload: bytes, opcode: int = 1, fin: bool = True, masked: bool = True) -> bytes:
    return ws_frame(opcode, payload, fin=fin, masked=masked)


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
        (client_frame(b"x", 0x3), "reserved data opcode"),
        (client_frame(b"x" * 126, 0x9), "control frame payload over 125"),
        (client_frame(b"x", 0x9, fin=False), "fragmented control frame"),
        (client_frame(b"x", 0), "continuation frame without"),
        (client_frame(b"a", 1, fin=False) + client_frame(b"b", 1), "new message inside"),
    ],
    # Named by the reason: the frames carry random masks, and pytest-xdist
    # workers must collect the same test ids.
    ids=lambda value: value if isinstance(value, str) else "frame",
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


# -- RFC 6455 conformance (the Autobahn TestSuite's families, bytes in/bytes out) --


def feed_all(parser: ws.FrameParser, data: bytes, chunk: int = 0) -> list[ws.Event]:
    if not chunk:
        return parser.feed(data)
    events: list[ws.Event] = []
    for i in range(0, len(data), chunk):
        events += parser.feed(data[i : i + chunk])
    return events


def wire_error(events: list[ws.Event]) -> ws.WireError:
    assert events, "expected a wire error, got no event"
    last = events[-1]
    assert isinstance(last, ws.WireError), events
    return last


# Autobahn 6.3.1 / 6.4.1: valid prefix, then a code point out of range.
KOSME = "κόσμε".encode()
INVALID = b"\xf4\x90\x80\x80"


@pytest.mark.parametrize("chunk", [0, 1, 3])
@pytest.mark.parametrize(
    "payload", [KOSME + INVALID + b"edited", b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", KOSME + b"\xe1"]
)
def test_invalid_utf8_text_fails_with_1007(payload: bytes, chunk: int) -> None:
    parser = ws.FrameParser()
    error = wire_error(feed_all(parser, client_frame(payload), chunk))
    assert error.close_code == ws.CLOSE_INVALID_DATA
    assert parser.feed(client_frame(b"more")) == []


def test_valid_utf8_split_inside_a_code_point_across_fragments() -> None:
    text = "Hello-µ@ßöäüàá-UTF-8!!".encode()
    data = b"".join(
        client_frame(text[i : i + 1], 1 if i == 0 else 0, fin=i == len(text) - 1)
        for i in range(len(text))
    )
    assert feed_all(ws.FrameParser(), data, 1) == [ws.Message(text)]


def test_invalid_utf8_fails_fast_on_the_fragment_that_breaks_it() -> None:
    # Autobahn 6.4.1/6.4.2: the second fragment makes the text invalid; the
    # connection must fail then, before the message's last fragment arrives.
    parser = ws.FrameParser()
    assert parser.feed(client_frame(KOSME + INVALID[:1], 1, fin=False)) == []
    error = wire_error(parser.feed(client_frame(INVALID[1:2], 0, fin=False)))
    assert error.close_code == ws.CLOSE_INVALID_DATA


def test_invalid_utf8_fails_fast_inside_one_frame() -> None:
    # Autobahn 6.4.3/6.4.4: one frame sent in chops; fail on the chop that breaks it.
    frame = client_frame(KOSME + INVALID + b"edited")
    header = 6
    parser = ws.FrameParser()
    assert parser.feed(frame[: header + len(KOSME)]) == []
    error = wire_error(parser.feed(frame[header + len(KOSME) : header + len(KOSME) + 2]))
    assert error.close_code == ws.CLOSE_INVALID_DATA


def test_binary_messages_are_not_checked_for_utf8() -> None:
    assert ws.FrameParser().feed(client_frame(b"\xff\xfe", 0x2)) == [ws.Message(b"\xff\xfe", True)]


@pytest.mark.parametrize("opcode", [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF])
def test_reserved_opcodes_fail_with_1002(opcode: int) -> None:
    # Autobahn 4.1.x / 4.2.x: a valid message first, then the reserved opcode.
    parser = ws.FrameParser()
    events = parser.feed(client_frame(b"hi") + client_frame(b"x", opcode) + client_frame(b"", 9))
    assert events[0] == ws.Message(b"hi")
    assert wire_error(events).close_code == ws.CLOSE_PROTOCOL_ERROR
    assert len(events) == 2


def test_length_with_the_top_bit_set_is_a_protocol_error() -> None:
    frame = struct.pack("!BBQ", 0x81, 0x80 | 127, 1 << 63) + b"\0\0\0\0"
    parser = ws.FrameParser()
    assert wire_error(parser.feed(frame)).close_code == ws.CLOSE_PROTOCOL_ERROR


def close_payload(code: int, reason: bytes = b"") -> bytes:
    return struct.pack("!H", code) + reason


@pytest.mark.parametrize(
    "payload",
    [
        b"\x03",  # Autobahn 7.3.2: one byte
        *(close_payload(c) for c in (0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999)),
        *(close_payload(c) for c in (5000, 65535)),
        close_payload(1000, KOSME + INVALID),  # Autobahn 7.5.1
    ],
)
def test_invalid_close_payloads_fail_with_1002(payload: bytes) -> None:
    error = wire_error(ws.FrameParser().feed(client_frame(payload, 0x8)))
    assert error.close_code == ws.CLOSE_PROTOCOL_ERROR


@pytest.mark.parametrize(
    "code", [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999]
)
def test_valid_close_codes_are_reported(code: int) -> None:
    events = ws.FrameParser().feed(client_frame(close_payload(code, KOSME), 0x8))
    assert events == [ws.Close(code, "κόσμε")]


def test_close_frame_reason_is_cut_on_a_code_point() -> None:
    frame = ws.close_frame(1000, "é" * 200)
    assert len(frame) <= 2 + 125
    payload = frame[2:]
    assert payload[:2] == b"\x03\xe8"
    payload[2:].decode("utf-8")


def test_data_frame_after_a_dropped_oversize_fragment_is_refused() -> None:
    parser = ws.FrameParser(max_size=100)
    events = parser.feed(client_frame(b"a" * 200, 1, fin=False) + client_frame(b"new"))
    assert events[0] == ws.Oversize(200)
    assert "inside a fragmented" in wire_error(events).reason


def test_empty_continuation_frames_are_counted_and_bounded() -> None:
    # 5 million empty continuation frames once grew a list without bound.
    parser = ws.FrameParser(max_size=1000, max_fragments=50)
    empty = client_frame(b"", 0, fin=False)
    events = parser.feed(client_frame(b"a", 1, fin=False))
    for _ in range(200):
        events += parser.feed(empty * 50)
        assert parser.buffered <= 14
    events += parser.feed(client_frame(b"", 0, fin=True) + client_frame(b"ok"))
    assert events == [ws.Oversize(1, frames=51), ws.Message(b"ok")]


def test_a_message_in_many_frames_under_the_limits_is_delivered() -> None:
    parser = ws.FrameParser(max_size=1000, max_fragments=50)
    data = client_frame(b"a", 1, fin=False) + client_frame(b"b", 0, fin=False) * 48
    data += client_frame(b"c", 0, fin=True)
    assert parser.feed(data) == [ws.Message(b"a" + b"b" * 48 + b"c")]


def test_buffered_bytes_stay_within_the_limit_while_a_frame_streams_in() -> None:
    parser = ws.FrameParser(max_size=100_000)
    frame = client_frame(b"z" * 90_000)
    events: list[ws.Event] = []
    for i in range(0, len(frame), 1000):
        events += parser.feed(frame[i : i + 1000])
        assert parser.buffered <= 90_000 + 14
    assert events == [ws.Message(b"z" * 90_000)]
    assert parser.buffered == 0
