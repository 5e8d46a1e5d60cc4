"""Framings, bytes out: what each transport's wire carries for the frames the
hub hands it (sans-I/O, no sockets)."""

from __future__ import annotations

import msgspec

from relevo.protocol import frames, ws
from relevo.protocol.framing import BARE, WEBSOCKET
from relevo.protocol.sse import PING, SSEFraming, format_positions, parse_positions
from relevo.protocol.types import Publication, StreamPosition


def _pub(channel: str, offset: int, epoch: str = "e1") -> Publication:
    return Publication(channel, offset, "ev", b'{"n":%d}' % offset, 1000 + offset, epoch)


def _outgoing(pub: Publication) -> tuple[bytes, StreamPosition]:
    return frames.publication_json(pub), pub.position


def _sse_events(data: bytes) -> list[dict[str, str]]:
    events = []
    for block in data.decode().split("\n\n"):
        if block:
            fields = dict(line.split(": ", 1) for line in block.split("\n"))
            events.append(fields)
    return events


def test_websocket_frames_each_frame_once_and_joins_a_batch() -> None:
    one = _outgoing(_pub("gtr", 1))
    two = _outgoing(_pub("gtr", 2))
    assert WEBSOCKET.channel("gtr", [one]) == ws.text_frame(one[0])
    assert WEBSOCKET.channel("gtr", [one, two]) == ws.text_frame(one[0]) + ws.text_frame(two[0])
    assert WEBSOCKET.frame(b"{}") == ws.text_frame(b"{}")
    assert WEBSOCKET.ping == ws.PING_FRAME


def test_websocket_subscribe_reply_carries_what_it_recovered() -> None:
    missed = [_pub("gtr", 2), _pub("gtr", 3)]
    wire = WEBSOCKET.subscribed(7, "gtr", StreamPosition("e1", 3), True, missed)
    body = frames.encode_ok(7, frames.sub_result(StreamPosition("e1", 3), True, missed))
    assert wire == ws.text_frame(body)
    reply = msgspec.json.decode(body)
    assert [p["off"] for p in reply["ok"]["missed"]] == [2, 3]


def test_sse_ids_carry_every_channel_of_the_stream() -> None:
    sse = SSEFraming()
    sse.subscribed(None, "gtr", StreamPosition("e1", 4), None, [])
    sse.subscribed(None, "asesor:4", StreamPosition("e2", 0), None, [])
    events = _sse_events(sse.channel("asesor:4", [_outgoing(_pub("asesor:4", 1, "e2"))]))
    assert len(events) == 1
    assert parse_positions(events[0]["id"]) == {
        "gtr": StreamPosition("e1", 4),
        "asesor:4": StreamPosition("e2", 1),
    }
    assert msgspec.json.decode(events[0]["data"])["off"] == 1


def test_sse_pushes_and_replies_carry_no_id_and_never_move_the_resume_point() -> None:
    sse = SSEFraming()
    sse.subscribed(None, "room", StreamPosition("e1", 1), None, [])
    push = frames.encode_push("room", "$join", {"user": "4"})
    data = sse.channel("room", [(push, None), _outgoing(_pub("room", 2)), (push, None)])
    events = _sse_events(data)
    assert [e.get("event") for e in events] == ["relevo", None, "relevo"]
    assert "id" not in events[0]
    assert "id" not in events[2]
    assert events[1]["id"] == "room=e1:2"
    assert sse.positions == {"room": StreamPosition("e1", 2)}
    assert _sse_events(sse.frame(b'{"id":1,"ok":{}}')) == [
        {"event": "relevo", "data": '{"id":1,"ok":{}}'}
    ]
    assert sse.ping == PING


def test_sse_subscribe_reply_names_its_channel_and_missed_publications_follow_as_events() -> None:
    sse = SSEFraming()
    missed = [_pub("gtr", 5), _pub("gtr", 6)]
    events = _sse_events(sse.subscribed(3, "gtr", StreamPosition("e1", 6), True, missed))
    reply = msgspec.json.decode(events[0]["data"])
    assert reply == {
        "id": 3,
        "ok": {"epoch": "e1", "offset": 6, "recovered": True, "missed": [], "ch": "gtr"},
    }
    assert [e["id"] for e in events[1:]] == ["gtr=e1:5", "gtr=e1:6"]
    assert sse.positions == {"gtr": StreamPosition("e1", 6)}


def test_sse_framings_are_per_stream() -> None:
    a, b = SSEFraming(), SSEFraming()
    a.channel("gtr", [_outgoing(_pub("gtr", 9))])
    assert b.positions == {}
    assert hash(a) != hash(b)  # the fan-out groups subscribers by framing


def test_positions_round_trip_through_last_event_id() -> None:
    positions = {"gtr": StreamPosition("e1", 57), "t:acme:inbox": StreamPosition("x:y", 3)}
    assert parse_positions(format_positions(positions)) == positions


def test_bare_is_the_json_itself() -> None:
    assert BARE.frame(b'{"ok":{}}') == b'{"ok":{}}'
    assert BARE.ping == b""
