"""The frame decoder against arbitrary input: whatever arrives, ``parse_command``
returns a command or raises a ``bad_request`` — never another exception, never
``internal`` — and any id it echoes is the frame's own, valid id."""

from __future__ import annotations

import json
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relevo.protocol import frames
from relevo.protocol._depth import nests_deeper_than
from relevo.protocol.errors import ErrorCode, ProtocolError

FUZZ = settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

INT64 = 2**63

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=16,
)

_OPS = ["connect", "sub", "unsub", "pub", "history", "presence", "refresh", "ping"]
_FIELDS = ["id", "op", "ch", "ev", "data", "since", "limit", "token", "epoch", "offset"]
_channels = st.sampled_from(["gtr", "asesor:4", "demo:a", "", "a b", "x" * 256]) | st.text(
    max_size=12
)
_since = st.fixed_dictionaries(
    {"epoch": st.text(max_size=6) | json_values, "offset": st.integers() | json_values}
)
_field_values = {
    "id": st.integers() | st.text(max_size=8) | json_values,
    "op": st.sampled_from(_OPS) | json_values,
    "ch": _channels | json_values,
    "ev": st.text(max_size=8) | json_values,
    "data": json_values,
    "since": _since | json_values,
    "limit": st.integers() | json_values,
    "token": st.text(max_size=20) | json_values,
}
# Frames that look like commands, so the fuzz reaches every field's checks and
# not only "unknown op".
command_like = st.fixed_dictionaries(
    {"op": st.sampled_from(_OPS)},
    optional={name: _field_values.get(name, json_values) for name in _FIELDS if name != "op"},
)


def _valid_id(value: Any) -> bool:
    if isinstance(value, str):
        return True
    return isinstance(value, int) and not isinstance(value, bool) and -INT64 <= value < INT64


def outcome(text: str | bytes) -> frames.Command | ProtocolError:
    """The command, or the ProtocolError; any other exception fails the test."""
    try:
        return frames.parse_command(text)
    except ProtocolError as exc:
        return exc


def check(text: str | bytes, sent: Any = None) -> None:
    result = outcome(text)
    if isinstance(result, ProtocolError):
        assert result.code is ErrorCode.BAD_REQUEST
        assert result.message
        frame_id = getattr(result, "frame_id", None)
        if frame_id is not None:
            assert isinstance(sent, dict)
            assert frame_id == sent.get("id")
            assert _valid_id(frame_id)
        # The reply can always be encoded.
        assert json.loads(frames.encode_error(frame_id, result))["err"]["code"] == "bad_request"
        return
    assert isinstance(result, frames.Command)
    assert result.id is None or _valid_id(result.id)
    json.loads(frames.encode_ok(result.id, {}))
    json.loads(frames.encode_pong(result.id))


@FUZZ
@given(json_values)
def test_any_json_value(value: Any) -> None:
    check(json.dumps(value), value)


@FUZZ
@given(json_values, json_values)
def test_any_json_value_as_id_and_op(frame_id: Any, op: Any) -> None:
    frame = {"id": frame_id, "op": op}
    check(json.dumps(frame), frame)


@FUZZ
@given(command_like)
def test_command_shaped_objects(value: dict[str, Any]) -> None:
    check(json.dumps(value), value)
    check(json.dumps(value).encode(), value)


@FUZZ
@given(st.binary(max_size=300))
def test_any_bytes(data: bytes) -> None:
    check(data)


@FUZZ
@given(st.text(max_size=200))
def test_any_text_including_lone_surrogates(text: str) -> None:
    check(text)


@FUZZ
@given(json_values, st.integers(min_value=1, max_value=40))
def test_nesting_is_bounded_exactly(value: Any, extra: int) -> None:
    wrapped: Any = value
    for _ in range(extra):
        wrapped = [wrapped]
    text = json.dumps({"op": "pub", "ch": "demo:a", "ev": "e", "data": wrapped}).encode()
    depth = _depth(wrapped) + 1
    assert nests_deeper_than(text, frames.MAX_DEPTH) == (depth > frames.MAX_DEPTH)
    check(text, msgspec.json.decode(text))
    if depth > frames.MAX_DEPTH:
        refused = outcome(text)
        assert isinstance(refused, ProtocolError), f"a frame nested {depth} deep was accepted"
        assert "nested deeper than" in refused.message


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.sampled_from([b"[", b"{", b'{"a":', b"[1,", b'"["']), min_size=1),
    st.integers(1, 6000),
)
def test_nesting_far_past_the_recursion_limit(openers: list[bytes], depth: int) -> None:
    text = b"".join(openers[i % len(openers)] for i in range(depth))
    check(b'{"id":1,"op":"pub","ch":"demo:a","ev":"e","data":' + text)
    check(text + b"]" * depth)


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0
