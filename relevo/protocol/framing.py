"""How a transport's wire carries server frames, sans-I/O: JSON frames in,
the bytes to write out.

The hub hands every transport bytes already in that transport's framing. A
channel's pending frames are framed once per framing and the same bytes go
to every subscriber sharing it (docs/decisions/0004-write-coalescing.md):
every WebSocket connection shares :data:`WEBSOCKET`, while an SSE stream has
a framing of its own (:class:`relevo.protocol.sse.SSEFraming`), because its
event ids carry that stream's positions (docs/decisions/0002-sse-resume-ids.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from relevo.protocol import frames, ws
from relevo.protocol.frames import FrameId
from relevo.protocol.types import Publication, StreamPosition

__all__ = ["BARE", "WEBSOCKET", "Framing", "Outgoing"]

Outgoing = tuple[bytes, StreamPosition | None]
"""One frame of a channel's stream: its JSON, and the position a publication
moves the channel to (``None`` for a push, which has no offset)."""


class Framing(Protocol):
    ping: bytes
    """A keep-alive on this wire (empty when it has none)."""

    def frame(self, payload: bytes) -> bytes:
        """One frame outside any channel's stream: a reply, an error, an
        ``unsub`` or ``disconnect`` notice."""

    def channel(self, channel: str, frames: Sequence[Outgoing]) -> bytes:
        """Frames of ``channel``'s stream (publications and pushes), in order, joined."""

    def subscribed(
        self,
        frame_id: FrameId,
        channel: str,
        position: StreamPosition,
        recovered: bool | None,
        missed: list[Publication],
    ) -> bytes:
        """The reply to a subscribe, with the publications it recovered."""


class _WebSocketFraming:
    """Text frames; a subscribe's reply carries what it recovered (``missed``)."""

    __slots__ = ()

    ping = ws.PING_FRAME

    def frame(self, payload: bytes) -> bytes:
        return ws.text_frame(payload)

    def channel(self, channel: str, frames: Sequence[Outgoing]) -> bytes:
        if len(frames) == 1:
            return ws.text_frame(frames[0][0])
        return b"".join([ws.text_frame(payload) for payload, _ in frames])

    def subscribed(
        self,
        frame_id: FrameId,
        channel: str,
        position: StreamPosition,
        recovered: bool | None,
        missed: list[Publication],
    ) -> bytes:
        return ws.text_frame(
            frames.encode_ok(frame_id, frames.sub_result(position, recovered, missed))
        )


class _BareFraming:
    """The JSON itself, one frame per write: for a transport whose unit
    already delimits a frame (one HTTP response)."""

    __slots__ = ()

    ping = b""

    def frame(self, payload: bytes) -> bytes:
        return payload

    def channel(self, channel: str, frames: Sequence[Outgoing]) -> bytes:
        return b"\n".join([payload for payload, _ in frames])

    def subscribed(
        self,
        frame_id: FrameId,
        channel: str,
        position: StreamPosition,
        recovered: bool | None,
        missed: list[Publication],
    ) -> bytes:
        return frames.encode_ok(frame_id, frames.sub_result(position, recovered, missed))


WEBSOCKET: Framing = _WebSocketFraming()
BARE: Framing = _BareFraming()
