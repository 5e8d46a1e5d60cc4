"""Server-Sent Events framing, sans-I/O (docs/decisions/0002-sse-resume-ids.md).

Every publication is an event whose ``id`` holds the position of *every*
channel of the stream (``a=epoch:offset;b=epoch:offset``), so the browser's
``Last-Event-ID`` on reconnect resumes all of them. Everything else (replies,
errors, presence pushes, disconnects) is an ``event: relevo`` with the JSON a
WebSocket would carry, without an id, so it never moves the resume point.
"""

from __future__ import annotations

from collections.abc import Sequence

from relevo.protocol import frames
from relevo.protocol.errors import ProtocolError
from relevo.protocol.frames import FrameId
from relevo.protocol.framing import Outgoing
from relevo.protocol.types import Publication, StreamPosition

__all__ = ["PING", "RETRY", "SSEFraming", "format_positions", "parse_positions"]

#: A comment line: keeps proxies from timing the stream out.
PING = b": ping\n\n"
#: The first bytes of a stream: how long a browser waits before reconnecting.
RETRY = b"retry: 1000\n\n"


def format_positions(positions: dict[str, StreamPosition]) -> str:
    return ";".join(f"{ch}={p.epoch}:{p.offset}" for ch, p in positions.items())


def parse_positions(value: str) -> dict[str, StreamPosition]:
    out: dict[str, StreamPosition] = {}
    for part in value.split(";"):
        if not part:
            continue
        ch, sep, pos = part.rpartition("=")
        epoch, sep2, offset = pos.rpartition(":")
        if not sep or not sep2 or not offset.isdigit():
            raise ProtocolError(f"malformed Last-Event-ID part {part!r}")
        out[ch] = StreamPosition(epoch, int(offset))
    return out


class SSEFraming:
    """The framing of one stream: it remembers the stream's positions."""

    __slots__ = ("positions",)

    ping = PING

    def __init__(self) -> None:
        self.positions: dict[str, StreamPosition] = {}

    def frame(self, payload: bytes) -> bytes:
        return b"event: relevo\ndata: " + payload + b"\n\n"

    def _publication(self, channel: str, payload: bytes, position: StreamPosition) -> bytes:
        self.positions[channel] = position
        event_id = format_positions(self.positions).encode()
        return b"id: " + event_id + b"\ndata: " + payload + b"\n\n"

    def channel(self, channel: str, frames: Sequence[Outgoing]) -> bytes:
        return b"".join(
            [
                self.frame(payload)
                if position is None
                else self._publication(channel, payload, position)
                for payload, position in frames
            ]
        )

    def subscribed(
        self,
        frame_id: FrameId,
        channel: str,
        position: StreamPosition,
        recovered: bool | None,
        missed: list[Publication],
    ) -> bytes:
        # The reply names its channel (one request subscribes to several) and
        # the missed publications follow as events, so their ids carry them.
        self.positions[channel] = position
        result = frames.sub_result(position, recovered, [])
        result["ch"] = channel
        out = [self.frame(frames.encode_ok(frame_id, result))]
        out += [self._publication(channel, frames.publication_json(p), p.position) for p in missed]
        return b"".join(out)
