"""Hostile client frames: every one ends in ``bad_request`` (with the frame's id
echoed when the id itself is valid), never in another exception."""

from __future__ import annotations

import json

import pytest

from relevo.protocol import frames
from relevo.protocol.errors import ErrorCode, ProtocolError

INT64_MAX = 2**63 - 1


def _bad(text: str | bytes) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        frames.parse_command(text)
    assert info.value.code is ErrorCode.BAD_REQUEST
    return info.value


def _nested(depth: int) -> bytes:
    """A pub frame whose whole nesting (the frame object included) is ``depth``."""
    inner = b"[" * (depth - 1) + b"]" * (depth - 1)
    return b'{"id":1,"op":"pub","ch":"demo:a","ev":"e","data":' + inner + b"}"


def test_deep_nesting_is_a_bad_request_not_a_recursion_error() -> None:
    err = _bad("[" * 5000 + "]" * 5000)
    assert "nested deeper than" in err.message
    err = _bad(_nested(5000))
    assert "nested deeper than" in err.message
    assert getattr(err, "frame_id", None) is None  # the id is not read from a refused frame


def test_the_nesting_bound_is_exact_and_ignores_brackets_in_strings() -> None:
    assert isinstance(frames.parse_command(_nested(frames.MAX_DEPTH)), frames.Pub)
    assert "nested deeper than" in _bad(_nested(frames.MAX_DEPTH + 1)).message
    quoted = json.dumps({"op": "pub", "ch": "demo:a", "ev": "e", "data": "[{" * 1000 + '\\"['})
    assert isinstance(frames.parse_command(quoted), frames.Pub)
    assert isinstance(frames.parse_command(quoted.encode()), frames.Pub)


@pytest.mark.parametrize("op", ["{}", "[]", "[1]", '{"a":1}', "null", "true", "1.5"])
def test_an_op_of_the_wrong_type_echoes_the_id(op: str) -> None:
    err = _bad('{"id":13,"op":' + op + "}")
    assert getattr(err, "frame_id", None) == 13
    assert "op" in err.message


@pytest.mark.parametrize(
    ("frame", "frame_id", "message"),
    [
        # ids: int64 or string; anything else is not echoed
        ({"id": 2**64, "op": "ping"}, None, "invalid ping frame"),
        ({"id": -(2**63) - 1, "op": "ping"}, None, "invalid ping frame"),
        ({"id": [1], "op": "sub", "ch": "gtr"}, None, "invalid sub frame"),
        ({"id": {"a": 1}, "op": {}}, None, "op"),
        ({"id": 1.5, "op": "ping"}, None, "invalid ping frame"),
        # since
        ({"id": 1, "op": "sub", "ch": "gtr", "since": {"epoch": "e", "offset": 10**23}}, 1, ""),
        ({"id": 2, "op": "sub", "ch": "gtr", "since": {"epoch": "e", "offset": -1}}, 2, ""),
        ({"id": 3, "op": "sub", "ch": "gtr", "since": {"epoch": "e", "offset": 1.5}}, 3, ""),
        ({"id": 4, "op": "sub", "ch": "gtr", "since": {"epoch": 5, "offset": 1}}, 4, ""),
        ({"id": 5, "op": "sub", "ch": "gtr", "since": [1, 2]}, 5, ""),
        ({"id": 6, "op": "history", "ch": "gtr", "since": {"epoch": "e", "offset": 2**63}}, 6, ""),
        # limit
        ({"id": 7, "op": "history", "ch": "gtr", "limit": 10**23}, 7, "limit"),
        ({"id": 8, "op": "history", "ch": "gtr", "limit": -(10**23)}, 8, "limit"),
        ({"id": 9, "op": "history", "ch": "gtr", "limit": -5}, 9, "limit"),
        ({"id": 10, "op": "history", "ch": "gtr", "limit": 2.5}, 10, ""),
        ({"id": 11, "op": "history", "ch": "gtr", "limit": True}, 11, ""),
        ({"id": 12, "op": "history", "ch": "gtr", "limit": "10"}, 12, ""),
        # channel names
        ({"id": 13, "op": "sub", "ch": {"a": "b"}}, 13, ""),
        ({"id": 14, "op": "sub", "ch": ["gtr"]}, 14, ""),
        ({"id": 15, "op": "unsub", "ch": None}, 15, ""),
        ({"id": 16, "op": "presence", "ch": "x" * 100_000}, 16, "longer than"),
        ({"id": 17, "op": "sub", "ch": "gtr\u0000"}, 17, "channel name"),
        ({"id": 18, "op": "sub", "ch": "gtr\u202e"}, 18, "channel name"),
        ({"id": 19, "op": "pub", "ch": "demo:\n", "ev": "e"}, 19, "channel name"),
        ({"id": "s", "op": "history", "ch": ""}, "s", "channel is required"),
        # other fields
        ({"id": 20, "op": "pub", "ch": "demo:a", "ev": ["x"]}, 20, ""),
        ({"id": 21, "op": "pub", "ch": "demo:a", "ev": 7}, 21, ""),
        ({"id": 22, "op": "connect", "token": 12}, 22, ""),
        ({"id": 23, "op": "refresh", "token": {"a": 1}}, 23, ""),
        ({"id": 24, "op": "refresh"}, 24, "token"),
        ({"id": 25, "op": "ping", "ch": "gtr"}, 25, ""),
        ({"id": 26, "op": "PING"}, 26, "unknown op"),
        ({"id": 27, "op": "sub\u0000"}, 27, "unknown op"),
    ],
)
def test_every_mistyped_field_is_a_bad_request(
    frame: dict[str, object], frame_id: object, message: str
) -> None:
    err = _bad(json.dumps(frame))
    assert getattr(err, "frame_id", None) == frame_id
    assert message in err.message


@pytest.mark.parametrize(
    "text",
    [
        b"",
        b" ",
        b"\xff\xfe",
        b'{"op":"ping"',
        b'{"op":"ping"}{"op":"ping"}',
        b'{"op":"ping"} x',
        b'{"op":"ping","id":NaN}',
        b'{"op":"ping","id":1e400}',
        b'{"op":"history","ch":"a","limit":Infinity}',
        b'"\\ud800"',
        '{"op":"ping","x":"\ud800"}'.encode("utf-8", "surrogatepass"),
        '{"op":"sub","ch":"\ud800"}',
        b"\x00",
        b"[" * 40,
        b"{" * 40,
        b'{"a":' * 40,
    ],
)
def test_garbage_is_a_bad_request(text: str | bytes) -> None:
    _bad(text)


def test_ids_in_the_signed_64_bit_range_are_echoed() -> None:
    for fid in (INT64_MAX, -(2**63), 0, "x" * 300, ""):
        err = _bad(json.dumps({"id": fid, "op": "nope"}))
        assert getattr(err, "frame_id", None) == fid


def test_a_valid_since_at_the_edges_of_the_range() -> None:
    cmd = frames.parse_command(
        json.dumps({"op": "sub", "ch": "gtr", "since": {"epoch": "", "offset": INT64_MAX}})
    )
    assert isinstance(cmd, frames.Sub)
    assert cmd.since == frames.Since("", INT64_MAX)


def test_pong_echoes_the_ping_id() -> None:
    assert json.loads(frames.encode_pong(7)) == {"id": 7, "op": "pong"}
    assert json.loads(frames.encode_pong("p")) == {"id": "p", "op": "pong"}
    assert json.loads(frames.encode_pong(None)) == {"op": "pong"}
