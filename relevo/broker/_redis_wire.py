"""What relevo keeps in Redis and sends through it: key names and messages.

Key layout, one hash tag per channel so every key a script touches lives in
one Redis Cluster slot::

    {<prefix>.ch.<channel>}.m    hash: e = epoch, o = last offset, g = replication id of the
                                 server that wrote them (expires meta_ttl after use)
    {<prefix>.ch.<channel>}.s    stream: id "<offset>-0", fields t = ts (ms), p = message
    {<prefix>.ch.<channel>}.pr   hash: client -> packed ClientInfo   (presence)
    {<prefix>.ch.<channel>}.px   zset: client -> deadline (ms)        (presence expiry)
    {<prefix>.ch.<channel>}.i.<key>  string "offset:epoch:ts" of the publication that
                                 used idempotency key <key> (expires after the window)
    {<prefix>.ch.<channel>}.p    pub/sub channel of the relevo channel
    <prefix>.nodes               pub/sub channel every node listens to ("$" channels)

A message is one msgpack array, the same bytes in the stream and on pub/sub:
``[0, channel, offset, epoch, ts, event, data]`` for a publication and
``[1, channel, event, data]`` for a push. The publish script fills in offset,
epoch and ts (only Redis knows them) between a head and a tail that Python
packed, so a payload is never decoded and re-encoded on its way through.
"""

from __future__ import annotations

import msgspec

from relevo.protocol.errors import RelevoError, Unavailable
from relevo.protocol.types import ClientInfo, Publication

__all__ = [
    "Keys",
    "decode_client",
    "decode_message",
    "encode_client",
    "is_node_wide",
    "publication_parts",
    "push_message",
    "translate",
]

_PUB_HEAD = b"\x97\x00"  # fixarray(7), tag 0
_PUSH_HEAD = b"\x94\x01"  # fixarray(4), tag 1


class _Pub(msgspec.Struct, array_like=True, tag=0, frozen=True):
    channel: str
    offset: int
    epoch: str
    ts: int
    event: str
    data: bytes


class Push(msgspec.Struct, array_like=True, tag=1, frozen=True):
    channel: str
    event: str
    data: bytes


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(_Pub | Push)
_client_decoder = msgspec.msgpack.Decoder(ClientInfo)


def is_node_wide(channel: str) -> bool:
    """``$`` channels (the hub's ``$control``) reach every node, subscribed or not."""
    return channel.startswith("$")


class Keys:
    """Key and pub/sub names of one relevo deployment (``prefix``)."""

    __slots__ = ("nodes", "prefix")

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.nodes = f"{prefix}.nodes".encode()

    def _tag(self, channel: str) -> str:
        return f"{{{self.prefix}.ch.{channel}}}"

    def meta(self, channel: str) -> str:
        return self._tag(channel) + ".m"

    def stream(self, channel: str) -> str:
        return self._tag(channel) + ".s"

    def presence(self, channel: str) -> str:
        return self._tag(channel) + ".pr"

    def presence_deadlines(self, channel: str) -> str:
        return self._tag(channel) + ".px"

    def idempotency(self, channel: str, key: str) -> str:
        # After the hash tag, so braces in ``key`` cannot move the slot.
        return f"{self._tag(channel)}.i.{key}"

    def pubsub(self, channel: str) -> bytes:
        """Where ``channel``'s messages travel between nodes."""
        if is_node_wide(channel):
            return self.nodes
        return (self._tag(channel) + ".p").encode()


def publication_parts(channel: str, event: str, data: bytes) -> tuple[bytes, bytes]:
    """Head and tail of a publication message; the script packs the middle."""
    head = _PUB_HEAD + _encoder.encode(channel)
    tail = _encoder.encode(event) + _encoder.encode(data)
    return head, tail


def push_message(channel: str, event: str, data: bytes) -> bytes:
    return _encoder.encode(Push(channel, event, data))


def decode_message(raw: bytes) -> Publication | Push:
    msg = _decoder.decode(raw)
    if isinstance(msg, Push):
        return msg
    return Publication(msg.channel, msg.offset, msg.event, msg.data, msg.ts, msg.epoch)


def encode_client(info: ClientInfo) -> bytes:
    return _encoder.encode(info)


def decode_client(raw: bytes) -> ClientInfo:
    return _client_decoder.decode(raw)


def translate(exc: Exception, url: str) -> RelevoError:
    """A redis-py error as relevo's: ``unavailable`` (retry later) when Redis is
    down, slow or refusing writes for a while; ``internal`` for what is a bug."""
    import redis.exceptions as rex

    text = str(exc) or type(exc).__name__
    transient = (rex.OutOfMemoryError, rex.ReadOnlyError, rex.TryAgainError, rex.ClusterDownError)
    if (
        isinstance(exc, rex.ResponseError)
        and not isinstance(exc, transient)
        and not text.startswith("BUSY")
    ):
        return RelevoError(f"redis refused a command: {text}")
    return Unavailable(f"redis at {url} is unavailable: {text}")
