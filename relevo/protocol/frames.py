"""Wire protocol v1, sans-I/O: parse client frames, encode server frames.

Nothing here does I/O or imports asyncio. ``parse_command`` turns the text of
one frame into a typed command or raises :class:`ProtocolError`; the
``encode_*`` functions build the exact bytes of a server frame.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from relevo.protocol._depth import nests_deeper_than
from relevo.protocol.errors import ErrorCode, ProtocolError, RelevoError
from relevo.protocol.types import ClientInfo, Publication, StreamPosition

__all__ = [
    "CHANNEL_MAX",
    "MAX_DEPTH",
    "Command",
    "Connect",
    "ErrorBody",
    "History",
    "Ping",
    "Presence",
    "Pub",
    "PublicationFrame",
    "Refresh",
    "Since",
    "Sub",
    "Unsub",
    "encode_command",
    "encode_disconnect",
    "encode_error",
    "encode_ok",
    "encode_pong",
    "encode_publication",
    "encode_push",
    "parse_command",
    "publication_json",
    "validate_channel",
]

CHANNEL_MAX = 255
_CHANNEL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-:.@$")

#: How deeply a frame may nest arrays and objects, the frame itself included.
MAX_DEPTH = 32

# Integers travel through Redis and SQL as signed 64-bit values; a larger one
# is a bad frame, not an overflow deep inside a backend.
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
Int64 = Annotated[int, msgspec.Meta(ge=_INT64_MIN, le=_INT64_MAX)]
Offset = Annotated[int, msgspec.Meta(ge=0, le=_INT64_MAX)]

FrameId = int | str | None


class Since(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    epoch: str
    offset: Offset


class _Base(
    msgspec.Struct, frozen=True, tag_field="op", forbid_unknown_fields=True, omit_defaults=True
):
    id: Int64 | str | None = None


class Connect(_Base, tag="connect", frozen=True):
    token: str | None = None


class Sub(_Base, tag="sub", frozen=True):
    ch: str = ""
    since: Since | None = None


class Unsub(_Base, tag="unsub", frozen=True):
    ch: str = ""


class Pub(_Base, tag="pub", frozen=True):
    ch: str = ""
    ev: str = ""
    data: msgspec.Raw = msgspec.Raw(b"null")


class History(_Base, tag="history", frozen=True):
    ch: str = ""
    since: Since | None = None
    limit: int = 100


class Presence(_Base, tag="presence", frozen=True):
    ch: str = ""


class Refresh(_Base, tag="refresh", frozen=True, kw_only=True):
    token: str


class Ping(_Base, tag="ping", frozen=True):
    pass


Command = Connect | Sub | Unsub | Pub | History | Presence | Refresh | Ping

_decoder = msgspec.json.Decoder(Command)
_loose = msgspec.json.Decoder()
_encoder = msgspec.json.Encoder()

_CHANNEL_OPS = (Sub, Unsub, Pub, History, Presence)


def encode_command(cmd: Command) -> bytes:
    """The bytes of a client frame (what the Python SDK sends)."""
    return _encoder.encode(cmd)


def validate_channel(ch: str) -> str:
    if not ch:
        raise ProtocolError("channel is required")
    if len(ch) > CHANNEL_MAX:
        raise ProtocolError(f"channel name longer than {CHANNEL_MAX} characters")
    if not _CHANNEL_CHARS.issuperset(ch):
        raise ProtocolError("channel name may use only letters, digits and _ - : . @ $")
    return ch


def parse_command(text: str | bytes) -> Command:
    """Parse one client frame. Every failure is a :class:`ProtocolError`
    (``bad_request``) carrying the frame's ``id``, when one could be read and is
    itself valid, in ``frame_id`` so the reply can echo it."""
    if isinstance(text, str):
        try:
            text = text.encode()
        except UnicodeEncodeError:  # lone surrogates: no UTF-8 text has them
            raise _refused("frame is not valid UTF-8", None) from None
    if nests_deeper_than(text, MAX_DEPTH):
        raise _refused(f"frame nested deeper than {MAX_DEPTH} levels", None)
    try:
        cmd: Command = _decoder.decode(text)
    except msgspec.DecodeError as exc:
        obj = _loosely(text)
        raise _refused(_describe(obj, exc), _salvage_id(obj)) from None
    except RecursionError:  # unreachable past the depth check; kept as a backstop
        raise _refused(f"frame nested deeper than {MAX_DEPTH} levels", None) from None
    if isinstance(cmd, _CHANNEL_OPS):
        try:
            validate_channel(cmd.ch)
        except ProtocolError as exc:
            exc.frame_id = cmd.id
            raise
    if isinstance(cmd, History) and not 0 <= cmd.limit <= 10_000:
        raise _refused("limit must be between 0 and 10000", cmd.id)
    if isinstance(cmd, Pub) and not cmd.ev:
        raise _refused("ev (event name) is required", cmd.id)
    return cmd


def _refused(message: str, frame_id: FrameId) -> ProtocolError:
    err = ProtocolError(message)
    err.frame_id = frame_id
    return err


_NOT_JSON = object()


def _loosely(text: bytes) -> Any:
    """The frame as plain JSON values (or ``_NOT_JSON``), to say what is wrong
    with it and to find its id; only on the error path."""
    try:
        return _loose.decode(text)
    except (msgspec.DecodeError, RecursionError):
        return _NOT_JSON


def _describe(obj: Any, exc: msgspec.DecodeError) -> str:
    if obj is _NOT_JSON:
        return "frame is not valid JSON"
    if not isinstance(obj, dict):
        return "frame must be a JSON object"
    if "op" not in obj:
        return "missing field op"
    op = obj["op"]
    if not isinstance(op, str):
        return "op must be a string"
    if op not in _OPS:
        return f"unknown op {op!r}"
    return f"invalid {op} frame: {exc}"


_OPS = frozenset({"connect", "sub", "unsub", "pub", "history", "presence", "refresh", "ping"})


def _salvage_id(obj: Any) -> FrameId:
    fid = obj.get("id") if isinstance(obj, dict) else None
    if isinstance(fid, str):
        return fid
    if isinstance(fid, int) and not isinstance(fid, bool) and _INT64_MIN <= fid <= _INT64_MAX:
        return fid
    return None


# -- server frames -----------------------------------------------------------


class PublicationFrame(msgspec.Struct, frozen=True):
    """A publication as it travels to clients."""

    ch: str
    off: int
    ev: str
    data: msgspec.Raw
    ts: int


def publication_json(pub: Publication) -> bytes:
    """The JSON object of a publication as it travels to clients."""
    return _encoder.encode(
        PublicationFrame(pub.channel, pub.offset, pub.event, msgspec.Raw(pub.data), pub.ts)
    )


def _publication_obj(pub: Publication) -> PublicationFrame:
    return PublicationFrame(pub.channel, pub.offset, pub.event, msgspec.Raw(pub.data), pub.ts)


encode_publication = publication_json


class _Push(msgspec.Struct, omit_defaults=True):
    ch: str
    ev: str
    data: Any


def encode_push(channel: str, event: str, data: Any) -> bytes:
    """A push without an offset (presence ``$join`` / ``$leave``): not part of history."""
    return _encoder.encode(_Push(channel, event, data))


class _Ok(msgspec.Struct, omit_defaults=False):
    id: FrameId
    ok: Any


class _OkNoId(msgspec.Struct):
    ok: Any


def encode_ok(frame_id: FrameId, result: Any) -> bytes:
    if frame_id is None:
        return _encoder.encode(_OkNoId(result))
    return _encoder.encode(_Ok(frame_id, result))


class ErrorBody(msgspec.Struct, frozen=True, omit_defaults=True):
    code: str
    message: str
    retry: bool
    extra: dict[str, Any] | None = None


class _Err(msgspec.Struct):
    id: FrameId
    err: ErrorBody


class _ErrNoId(msgspec.Struct):
    err: ErrorBody


def encode_error(frame_id: FrameId, error: RelevoError) -> bytes:
    extra = error.extra or None
    body = ErrorBody(str(error.code), error.message, error.retry, extra)
    if frame_id is None:
        return _encoder.encode(_ErrNoId(body))
    return _encoder.encode(_Err(frame_id, body))


class _Disconnect(msgspec.Struct):
    op: Literal["disconnect"]
    code: str
    reconnect: bool
    message: str = ""


def encode_disconnect(code: str, reconnect: bool, message: str = "") -> bytes:
    return _encoder.encode(_Disconnect("disconnect", code, reconnect, message))


PONG = b'{"op":"pong"}'


class _Pong(msgspec.Struct):
    id: FrameId
    op: Literal["pong"] = "pong"


def encode_pong(frame_id: FrameId) -> bytes:
    """The answer to a ``ping``, echoing its id like every other reply."""
    if frame_id is None:
        return PONG
    return _encoder.encode(_Pong(frame_id))


def sub_result(
    position: StreamPosition, recovered: bool | None, missed: list[Publication]
) -> dict[str, Any]:
    result: dict[str, Any] = {"epoch": position.epoch, "offset": position.offset}
    if recovered is not None:
        result["recovered"] = recovered
        result["missed"] = [_publication_obj(p) for p in missed]
    return result


def history_result(position: StreamPosition, pubs: list[Publication]) -> dict[str, Any]:
    return {
        "epoch": position.epoch,
        "offset": position.offset,
        "publications": [_publication_obj(p) for p in pubs],
    }


def presence_result(clients: list[ClientInfo]) -> dict[str, Any]:
    return {"clients": {c.client: {"user": c.user, "info": c.info} for c in clients}}


def error_code(name: str) -> ErrorCode:
    return ErrorCode(name)
