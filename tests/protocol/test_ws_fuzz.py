"""FrameParser under arbitrary input: every byte stream, cut anywhere, ends in
events or one WireError, never an exception, and what the parser holds stays
within its limits."""

from __future__ import annotations

import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from relevo.protocol import ws

MAX_SIZE = 200
MAX_FRAGMENTS = 8
#: What a parser may hold between two feeds: the message being assembled,
#: one control payload and part of one header.
BOUND = MAX_SIZE + 125 + 14

FUZZ = settings(max_examples=300, deadline=None)


def frame(
    opcode: int,
    payload: bytes,
    fin: bool = True,
    rsv: int = 0,
    masked: bool = True,
    mask: bytes = b"\x01\x02\x03\x04",
    wide: int = 0,
) -> bytes:
    """A client frame; ``wide`` forces the 16-bit (1) or 64-bit (2) length form."""
    b0 = (0x80 if fin else 0) | rsv << 4 | opcode
    n = len(payload)
    m = 0x80 if masked else 0
    if n < 126 and not wide:
        head = struct.pack("!BB", b0, m | n)
    elif n < 65536 and wide < 2:
        head = struct.pack("!BBH", b0, m | 126, n)
    else:
        head = struct.pack("!BBQ", b0, m | 127, n)
    if not masked:
        return head + payload
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in zip(points, points[1:], strict=False)]


def run(data: bytes, cuts: list[int]) -> list[ws.Event]:
    parser = ws.FrameParser(max_size=MAX_SIZE, max_fragments=MAX_FRAGMENTS)
    events: list[ws.Event] = []
    for piece in chunked(data, cuts):
        out = parser.feed(piece)
        assert parser.buffered <= BOUND
        if events and isinstance(events[-1], ws.WireError | ws.Close):
            assert out == [], "events after the end of the stream"
        events += out
    for event in events[:-1]:
        assert not isinstance(event, ws.WireError | ws.Close)
    for event in events:
        if isinstance(event, ws.Message):
            assert len(event.data) <= MAX_SIZE
            if not event.binary:
                event.data.decode("utf-8")
        if isinstance(event, ws.WireError):
            assert event.close_code in (ws.CLOSE_PROTOCOL_ERROR, ws.CLOSE_INVALID_DATA)
    return events


def shape(events: list[ws.Event]) -> list[object]:
    """Events with a WireError's wording dropped: where a stream is cut may
    change which check words the failure, never the failure or its code."""
    return [e.close_code if isinstance(e, ws.WireError) else e for e in events]


cuts = st.lists(st.integers(min_value=0, max_value=10_000), max_size=12)

# Frames with every header field drawn freely, valid or not.
any_frame = st.builds(
    frame,
    opcode=st.integers(min_value=0, max_value=15),
    payload=st.one_of(
        st.binary(max_size=140),
        st.text(max_size=40).map(str.encode),
        st.sampled_from([b"", b"\xf4\x90\x80\x80", b"\xed\xa0\x80", b"\xce", b"\x03\xe8ok"]),
    ),
    fin=st.booleans(),
    rsv=st.sampled_from([0, 0, 0, 0, 1, 2, 4, 7]),
    masked=st.booleans() | st.just(True),
    mask=st.binary(min_size=4, max_size=4),
    wide=st.sampled_from([0, 0, 0, 1, 2]),
)


@FUZZ
@given(data=st.binary(max_size=600), cuts=cuts)
def test_arbitrary_bytes_never_raise(data: bytes, cuts: list[int]) -> None:
    run(data, cuts)


@FUZZ
@given(frames=st.lists(any_frame, max_size=12), cuts=cuts)
def test_arbitrary_frames_never_raise_and_chunking_does_not_matter(
    frames: list[bytes], cuts: list[int]
) -> None:
    data = b"".join(frames)
    assert shape(run(data, cuts)) == shape(run(data, []))


@FUZZ
@given(frames=st.lists(any_frame, max_size=8), noise=st.binary(max_size=64), at=st.integers())
def test_corrupted_streams_never_raise(frames: list[bytes], noise: bytes, at: int) -> None:
    data = b"".join(frames)
    cut = at % (len(data) + 1)
    run(data[:cut] + noise + data[cut:], [cut, cut + len(noise)])


@st.composite
def conversation(draw: st.DrawFn) -> tuple[bytes, list[ws.Event]]:
    """Valid messages (text or binary, fragmented anyhow, pings between the
    fragments) and the events a conforming parser must give for them."""
    wire = b""
    expected: list[ws.Event] = []
    for _ in range(draw(st.integers(min_value=0, max_value=5))):
        binary = draw(st.booleans())
        body = draw(st.binary(max_size=MAX_SIZE)) if binary else draw(st.text(max_size=60)).encode()
        body = body[:MAX_SIZE]
        if not binary:
            body = body.decode("utf-8", "ignore").encode()
        n_frames = draw(st.integers(min_value=1, max_value=MAX_FRAGMENTS))
        cuts_in = sorted(draw(st.lists(st.integers(0, len(body)), max_size=n_frames - 1)))
        parts = [body[a:b] for a, b in zip([0, *cuts_in], [*cuts_in, len(body)], strict=True)]
        for i, part in enumerate(parts):
            opcode = (2 if binary else 1) if i == 0 else 0
            last = i == len(parts) - 1
            wire += frame(opcode, part, fin=last, wide=draw(st.sampled_from([0, 1, 2])))
            if last:
                expected.append(ws.Message(body, binary))
            if draw(st.booleans()):
                ping = draw(st.binary(max_size=125))
                wire += frame(9, ping)
                expected.append(ws.Ping(ping))
    if draw(st.booleans()):
        wire += frame(8, struct.pack("!H", 1000) + b"bye") + frame(1, b"after close")
        expected.append(ws.Close(1000, "bye"))
    return wire, expected


@FUZZ
@given(conv=conversation(), cuts=cuts)
def test_valid_conversations_parse_exactly(
    conv: tuple[bytes, list[ws.Event]], cuts: list[int]
) -> None:
    wire, expected = conv
    assert run(wire, cuts) == expected


@FUZZ
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=MAX_SIZE), min_size=1, max_size=20),
    cuts=cuts,
)
def test_oversize_messages_are_skipped_and_the_next_one_arrives(
    sizes: list[int], cuts: list[int]
) -> None:
    # One message in len(sizes) fragments, then a small message.
    wire = b"".join(
        frame(1 if i == 0 else 0, b"x" * n, fin=i == len(sizes) - 1) for i, n in enumerate(sizes)
    )
    wire += frame(1, b"next")
    events = run(wire, cuts)
    total = sum(sizes)
    if total <= MAX_SIZE and len(sizes) <= MAX_FRAGMENTS:
        assert events == [ws.Message(b"x" * total), ws.Message(b"next")]
    else:
        assert len(events) == 2
        assert isinstance(events[0], ws.Oversize)
        assert events[1] == ws.Message(b"next")
