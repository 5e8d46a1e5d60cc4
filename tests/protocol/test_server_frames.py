"""The client's half of the wire format: what the server encodes, the SDK
parses back; what the SDK encodes, the server parses. One definition, checked
from both ends."""

from __future__ import annotations

import msgspec
import pytest

from relevo.protocol import frames
from relevo.protocol.errors import PermissionDenied, ProtocolError
from relevo.protocol.server_frames import (
    DisconnectFrame,
    ErrorReply,
    PongFrame,
    PushFrame,
    Reply,
    SubResult,
    UnsubFrame,
    parse_server_frame,
)
from relevo.protocol.types import Publication, StreamPosition

PUB = Publication("gtr", 4, "CLIENT_IN_GESTION", b'{"id":4}', 1767225600123, "e1")


def test_every_server_frame_parses_to_its_kind() -> None:
    reply = parse_server_frame(frames.encode_ok(2, {"epoch": "e1", "offset": 57}))
    assert isinstance(reply, Reply)
    assert reply.id == 2
    assert reply.result() == {"epoch": "e1", "offset": 57}

    error = parse_server_frame(frames.encode_error(3, PermissionDenied("no")))
    assert isinstance(error, ErrorReply)
    assert (error.id, error.err.code, error.err.message) == (3, "forbidden", "no")

    pub = parse_server_frame(frames.publication_json(PUB))
    assert pub == frames.PublicationFrame(
        "gtr", 4, "CLIENT_IN_GESTION", msgspec.Raw(b'{"id":4}'), PUB.ts
    )

    push = parse_server_frame(frames.encode_push("room:1", "$join", {"user": "4"}))
    assert isinstance(push, PushFrame)
    assert (push.ch, push.ev, msgspec.json.decode(push.data)) == ("room:1", "$join", {"user": "4"})

    bye = parse_server_frame(frames.encode_disconnect("token_expired", True, "refresh it"))
    assert bye == DisconnectFrame("token_expired", True, "refresh it")
    assert parse_server_frame(frames.encode_pong(None)) == PongFrame(None)
    assert parse_server_frame(frames.encode_pong(9)) == PongFrame(9)
    unsub = b'{"op":"unsub","ch":"gtr","code":"forbidden","message":"gone"}'
    assert parse_server_frame(unsub) == UnsubFrame("gtr", "forbidden", "gone")


def test_a_sub_reply_decodes_with_its_missed_publications() -> None:
    body = frames.sub_result(StreamPosition("e1", 4), True, [PUB])
    reply = parse_server_frame(frames.encode_ok(1, body))
    assert isinstance(reply, Reply)
    result = reply.result(SubResult)
    assert (result.epoch, result.offset, result.recovered) == ("e1", 4, True)
    assert [p.off for p in result.missed] == [4]
    plain = parse_server_frame(frames.encode_ok(1, frames.sub_result(PUB.position, None, [])))
    assert isinstance(plain, Reply)
    assert plain.result(SubResult) == SubResult("e1", 4)


@pytest.mark.parametrize(
    "text", [b"", b"[]", b"{}", b'{"op":"pong","id":[]}', b'{"ch":"a"}', b"not json"]
)
def test_what_is_no_server_frame_is_a_protocol_error(text: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse_server_frame(text)


@pytest.mark.parametrize(
    "cmd",
    [
        frames.Connect(id=1, token="t"),
        frames.Sub(id=2, ch="gtr"),
        frames.Sub(id=3, ch="gtr", since=frames.Since("e1", 41)),
        frames.Unsub(id="x", ch="gtr"),
        frames.Pub(id=4, ch="room:1", ev="typing", data=msgspec.Raw(b'{"a":1}')),
        frames.History(id=5, ch="gtr", limit=10),
        frames.Presence(id=6, ch="room:1"),
        frames.Refresh(id=7, token="t2"),
        frames.Ping(),
    ],
)
def test_commands_the_sdk_encodes_are_what_the_server_parses(cmd: frames.Command) -> None:
    encoded = frames.encode_command(cmd)
    assert b"null" not in encoded  # defaults are left out, as a person would write it
    parsed = frames.parse_command(encoded)
    assert type(parsed) is type(cmd)
    assert frames.encode_command(parsed) == encoded
