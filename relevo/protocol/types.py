"""The data model of delivery and recovery: publications and stream positions."""

from __future__ import annotations

import msgspec

__all__ = ["ClientInfo", "Publication", "StreamPosition"]


class StreamPosition(msgspec.Struct, frozen=True):
    """Where a channel's stream stands: ``offset`` of the last publication in ``epoch``.

    The epoch changes whenever the channel's history is lost (restart of a memory
    broker, a Redis stream that vanished), so an offset is meaningful only with it.
    """

    epoch: str
    offset: int


class Publication(msgspec.Struct, frozen=True):
    """One message on a channel. ``data`` is already-encoded JSON, kept as bytes
    so the fan-out path never decodes and re-encodes a payload."""

    channel: str
    offset: int
    event: str
    data: bytes
    ts: int  # milliseconds since the epoch
    epoch: str = ""

    @property
    def position(self) -> StreamPosition:
        return StreamPosition(self.epoch, self.offset)


class ClientInfo(msgspec.Struct, frozen=True):
    """One connection as presence reports it."""

    client: str
    user: str
    info: dict[str, object] = {}
