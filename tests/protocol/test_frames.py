"""Wire protocol v1 without sockets: every client frame shape and error code."""

from __future__ import annotations

import json

import msgspec
import pytest

from relevo.protocol import frames
from relevo.protocol.errors import ErrorCode, LimitExceeded, ProtocolError, RelevoError
from relevo.protocol.types import Publication, StreamPosition


def test_parses_every_op() -> None:
    assert frames.parse_command(b'{"op":"ping"}') == frames.Ping()
    cmd = frames.parse_command(b'{"id":1,"op":"connect","token":"t"}')
    assert cmd == frames.Connect(id=1, token="t")
    sub = frames.parse_command(
        b'{"id":"a","op":"sub","ch":"gtr","since":{"epoch":"e1","offset":41}}'
    )
    assert isinstance(sub, frames.Sub)
    assert sub.id == "a"
    assert sub.since == frames.Since("e1", 41)
    assert frames.parse_command(b'{"id":3,"op":"unsub","ch":"gtr"}') == frames.Unsub(id=3, ch="gtr")
    pub = frames.parse_command(
        b'{"id":4,"op":"pub","ch":"room:1","ev":"typing","data":{"a":[1,2]}}'
    )
    assert isinstance(pub, frames.Pub)
    assert json.loads(bytes(pub.data)) == {"a": [1, 2]}
    hist = frames.parse_command(b'{"id":5,"op":"history","ch":"gtr","limit":10}')
    assert isinstance(hist, frames.History)
    assert hist.limit == 10
    assert frames.parse_command(b'{"id":6,"op":"presence","ch":"room:1"}') == frames.Presence(
        id=6, ch="room:1"
    )
    assert frames.parse_command(b'{"id":7,"op":"refresh","token":"x"}') == frames.Refresh(
        id=7, token="x"
    )


@pytest.mark.parametrize(
    ("text", "message", "frame_id"),
    [
        (b"not json", "frame is not valid JSON", None),
        (b"[1,2]", "frame must be a JSON object", None),
        (b'{"id":3}', "missing field op", 3),
        (b'{"id":4,"op":"nope"}', "unknown op 'nope'", 4),
        (b'{"id":5,"op":7}', "op must be a string", 5),
        (b'{"id":6,"op":"sub"}', "channel is required", 6),
        (b'{"id":7,"op":"sub","ch":5}', "invalid sub frame", 7),
        (b'{"id":8,"op":"sub","ch":"a b"}', "channel name may use only", 8),
        (b'{"id":9,"op":"sub","ch":"gtr","extra":1}', "invalid sub frame", 9),
        (b'{"id":10,"op":"history","ch":"gtr","limit":-1}', "limit must be between", 10),
        (b'{"id":11,"op":"pub","ch":"gtr"}', "ev (event name) is required", 11),
        (b'{"id":12,"op":"sub","ch":"gtr","since":{"epoch":"e"}}', "invalid sub frame", 12),
        (b'{"id":true,"op":"ping"}', "invalid ping frame", None),
        (b'{"op":"sub","ch":"' + b"x" * 300 + b'"}', "longer than 255", None),
    ],
)
def test_bad_frames_raise_bad_request_with_the_frame_id(
    text: bytes, message: str, frame_id: object
) -> None:
    with pytest.raises(ProtocolError) as info:
        frames.parse_command(text)
    assert info.value.code is ErrorCode.BAD_REQUEST
    assert message in info.value.message
    assert getattr(info.value, "frame_id", None) == frame_id


def test_publication_is_encoded_with_raw_data_untouched() -> None:
    pub = Publication("gtr", 58, "CLIENT_IN_GESTION", b'{"clienteId":4}', 1767225600123, "e1")
    assert json.loads(frames.publication_json(pub)) == {
        "ch": "gtr",
        "off": 58,
        "ev": "CLIENT_IN_GESTION",
        "data": {"clienteId": 4},
        "ts": 1767225600123,
    }


def test_replies_echo_the_id() -> None:
    assert json.loads(frames.encode_ok(1, {"a": 1})) == {"id": 1, "ok": {"a": 1}}
    assert json.loads(frames.encode_ok(None, {})) == {"ok": {}}
    err = json.loads(frames.encode_error("x", ProtocolError("bad")))
    assert err == {"id": "x", "err": {"code": "bad_request", "message": "bad", "retry": False}}


@pytest.mark.parametrize("code", list(ErrorCode))
def test_every_error_code_is_encodable(code: ErrorCode) -> None:
    body = json.loads(frames.encode_error(2, RelevoError("m", code=code)))["err"]
    assert body["code"] == code.value
    assert body["retry"] == (
        code in {ErrorCode.RATE_LIMITED, ErrorCode.UNAVAILABLE, ErrorCode.INTERNAL}
    )


def test_error_classes_carry_their_codes() -> None:
    assert LimitExceeded("x").code is ErrorCode.LIMIT_EXCEEDED
    assert RelevoError("big", code=ErrorCode.TOO_LARGE).status == 413
    assert LimitExceeded("x", code=ErrorCode.RATE_LIMITED).status == 429
    assert LimitExceeded("x", code=ErrorCode.RATE_LIMITED).code is ErrorCode.RATE_LIMITED


def test_sub_result_with_and_without_recovery() -> None:
    pos = StreamPosition("e1", 57)
    assert frames.sub_result(pos, None, []) == {"epoch": "e1", "offset": 57}
    pub = Publication("gtr", 57, "x", b"1", 5, "e1")
    result = msgspec.json.decode(msgspec.json.encode(frames.sub_result(pos, True, [pub])))
    assert result["recovered"] is True
    assert result["missed"] == [{"ch": "gtr", "off": 57, "ev": "x", "data": 1, "ts": 5}]


def test_disconnect_and_push_frames() -> None:
    assert json.loads(frames.encode_disconnect("token_expired", True, "m")) == {
        "op": "disconnect",
        "code": "token_expired",
        "reconnect": True,
        "message": "m",
    }
    push = json.loads(frames.encode_push("room:1", "$join", msgspec.Raw(b'{"user":"4"}')))
    assert push == {"ch": "room:1", "ev": "$join", "data": {"user": "4"}}
