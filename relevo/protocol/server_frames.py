"""Server frames as a client reads them (the Python SDK; the other half of
:mod:`relevo.protocol.frames`, which encodes them and parses commands).

:func:`parse_server_frame` turns the text of one server frame into one of the
typed frames below, or raises :class:`ProtocolError` when it is none of them.
"""

from __future__ import annotations

from typing import Any

import msgspec

from relevo.protocol.errors import ProtocolError
from relevo.protocol.frames import ErrorBody, FrameId, PublicationFrame

__all__ = [
    "DisconnectFrame",
    "ErrorReply",
    "PongFrame",
    "PushFrame",
    "Reply",
    "ServerFrame",
    "SubResult",
    "UnsubFrame",
    "parse_server_frame",
]


class Reply(msgspec.Struct, frozen=True):
    """``{"id":..,"ok":..}``: a command succeeded; ``ok`` is its result, undecoded."""

    id: FrameId
    ok: msgspec.Raw

    def result(self, kind: Any = Any) -> Any:
        """``ok`` decoded, as ``kind`` (a msgspec type) when given."""
        return msgspec.json.decode(self.ok, type=kind)


class ErrorReply(msgspec.Struct, frozen=True):
    id: FrameId
    err: ErrorBody


class PushFrame(msgspec.Struct, frozen=True):
    """A push without an offset (presence ``$join`` / ``$leave``)."""

    ch: str
    ev: str
    data: msgspec.Raw


class DisconnectFrame(msgspec.Struct, frozen=True):
    code: str
    reconnect: bool
    message: str = ""


class UnsubFrame(msgspec.Struct, frozen=True):
    """The server ended a subscription (a refreshed token no longer allows it)."""

    ch: str
    code: str
    message: str = ""


class PongFrame(msgspec.Struct, frozen=True):
    id: FrameId = None


class SubResult(msgspec.Struct, frozen=True):
    """The result of a ``sub``: where the channel stands, and with ``since``
    whether what was missed could be replayed (then ``missed`` holds it)."""

    epoch: str
    offset: int
    recovered: bool | None = None
    missed: list[PublicationFrame] = []


ServerFrame = (
    Reply | ErrorReply | PublicationFrame | PushFrame | DisconnectFrame | UnsubFrame | PongFrame
)


_ABSENT = msgspec.Raw(b"")


class _Any(msgspec.Struct, frozen=True):
    """Every field a server frame may carry: one decode, then sorted by kind."""

    id: FrameId = None
    ok: msgspec.Raw = _ABSENT  # a Raw cannot be optional: empty means absent
    err: ErrorBody | None = None
    op: str | None = None
    ch: str | None = None
    off: int | None = None
    ev: str | None = None
    data: msgspec.Raw = _ABSENT
    ts: int | None = None
    code: str | None = None
    reconnect: bool | None = None
    message: str = ""


_decoder = msgspec.json.Decoder(_Any)


def parse_server_frame(text: bytes | str) -> ServerFrame:
    try:
        f = _decoder.decode(text)
    except msgspec.DecodeError as exc:
        raise ProtocolError(f"not a server frame: {exc}") from None
    if f.err is not None:
        return ErrorReply(f.id, f.err)
    if len(f.ok):
        return Reply(f.id, f.ok)
    if f.op == "pong":
        return PongFrame(f.id)
    if f.op == "disconnect" and f.code is not None and f.reconnect is not None:
        return DisconnectFrame(f.code, f.reconnect, f.message)
    if f.op == "unsub" and f.ch is not None and f.code is not None:
        return UnsubFrame(f.ch, f.code, f.message)
    if f.op is None and f.ch is not None and f.ev is not None:
        data = f.data if len(f.data) else msgspec.Raw(b"null")
        if f.off is None:
            return PushFrame(f.ch, f.ev, data)
        if f.ts is not None:
            return PublicationFrame(f.ch, f.off, f.ev, data, f.ts)
    raise ProtocolError("not a server frame relevo knows")
