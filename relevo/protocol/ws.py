"""RFC 6455 WebSocket framing, sans-I/O.

Server side only: parse the opening handshake (in ``_ws_handshake``), parse
masked client frames (fragmentation, control frames, UTF-8, close codes, size
limits), and encode unmasked server frames. The fan-out path calls
:func:`text_frame` once per publication and writes the resulting bytes to
every subscriber.
"""

from __future__ import annotations

import codecs
import struct
from dataclasses import dataclass, field
from enum import IntEnum

from relevo.protocol._ws_handshake import (
    HandshakeError,
    HandshakeRequest,
    accept_key,
    handshake_response,
    http_error,
    parse_handshake,
)

__all__ = [
    "CLOSE_GOING_AWAY",
    "CLOSE_INVALID_DATA",
    "CLOSE_NORMAL",
    "CLOSE_NO_STATUS",
    "CLOSE_POLICY",
    "CLOSE_PROTOCOL_ERROR",
    "Close",
    "Event",
    "FrameParser",
    "HandshakeError",
    "HandshakeRequest",
    "Message",
    "Opcode",
    "Oversize",
    "Ping",
    "Pong",
    "WireError",
    "accept_key",
    "binary_frame",
    "close_frame",
    "handshake_response",
    "http_error",
    "parse_handshake",
    "text_frame",
    "valid_close_code",
]

CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_NO_STATUS = 1005  # reported when a Close frame has no code; never sent
CLOSE_INVALID_DATA = 1007
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009


class Opcode(IntEnum):
    CONT = 0x0
    TEXT = 0x1
    BINARY = 0x2
    CLOSE = 0x8
    PING = 0x9
    PONG = 0xA


# -- frames -------------------------------------------------------------------


def _frame(opcode: int, payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        return bytes((0x80 | opcode, n)) + payload
    if n < 65536:
        return struct.pack("!BBH", 0x80 | opcode, 126, n) + payload
    return struct.pack("!BBQ", 0x80 | opcode, 127, n) + payload


def text_frame(payload: bytes) -> bytes:
    """The complete bytes of an unmasked, unfragmented text frame."""
    return _frame(Opcode.TEXT, payload)


def binary_frame(payload: bytes) -> bytes:
    """The complete bytes of an unmasked, unfragmented binary frame."""
    return _frame(Opcode.BINARY, payload)


def close_frame(code: int = CLOSE_NORMAL, reason: str = "") -> bytes:
    # A control frame carries at most 125 bytes: the code and 123 of reason,
    # cut on a code point so the peer never gets invalid UTF-8 from us.
    text = reason.encode()[:123].decode("utf-8", "ignore").encode()
    return _frame(Opcode.CLOSE, struct.pack("!H", code) + text)


PING_FRAME = _frame(Opcode.PING, b"")


def pong_frame(payload: bytes) -> bytes:
    return _frame(Opcode.PONG, payload)


#: Codes a peer may put in a Close frame: RFC 6455 section 7.4.1 and the IANA
#: registry (1012-1014), plus 3000-4999 for libraries and applications.
#: 1004-1006 and 1015 are reserved for reporting and never go on the wire.
_SENDABLE_CLOSE_CODES = frozenset(
    {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014}
)


def valid_close_code(code: int) -> bool:
    return code in _SENDABLE_CLOSE_CODES or 3000 <= code <= 4999


@dataclass(slots=True)
class Message:
    """A complete text (or binary) message; a text message is valid UTF-8."""

    data: bytes
    binary: bool = False


@dataclass(slots=True)
class Ping:
    data: bytes


@dataclass(slots=True)
class Pong:
    data: bytes


@dataclass(slots=True)
class Close:
    """The peer's Close frame; ``code`` is 1005 when it carried none."""

    code: int
    reason: str


@dataclass(slots=True)
class Oversize:
    """A message over a limit (``size`` bytes, or ``frames`` fragments): its
    bytes are skipped and the stream goes on with the next message."""

    size: int
    frames: int = 0


@dataclass(slots=True)
class WireError:
    """A violation of RFC 6455: the connection must be failed with
    ``close_code`` (1002, or 1007 for text that is not UTF-8)."""

    reason: str
    close_code: int = CLOSE_PROTOCOL_ERROR


Event = Message | Ping | Pong | Close | Oversize | WireError


def unmask(data: bytes, mask: bytes) -> bytes:
    n = len(data)
    if n == 0:
        return b""
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "little") ^ int.from_bytes(key, "little")).to_bytes(n, "little")


_MAX_HEADER = 14  # 2 bytes, an 8-byte length, a 4-byte mask


@dataclass(slots=True)
class FrameParser:
    """Feed bytes from a client, get events out.

    Payload bytes are consumed as they arrive, so what the parser holds is
    bounded whatever the input: part of one header, one control payload
    (125 bytes) and the message being assembled (``max_size``). Text is
    checked for UTF-8 as it arrives, so a bad byte fails the connection at
    once, not when the message ends. After a :class:`Close` or a
    :class:`WireError` the parser ignores everything.
    """

    max_size: int = 65536
    #: Frames one message may span: empty continuation frames cost nothing
    #: in size, so they are counted instead.
    max_fragments: int = 1024
    _head: bytes = b""  # an incomplete frame header
    # The frame whose payload is being read.
    _in_frame: bool = False
    _opcode: int = 0
    _fin: bool = True
    _mask: bytes = b""
    _left: int = 0  # payload bytes still to come
    _seen: int = 0  # payload bytes already read (where the mask cycle is)
    _control: bytearray = field(default_factory=bytearray)
    # The message being assembled, from its first frame to the one with FIN.
    _in_message: bool = False
    _binary: bool = False
    _dropping: bool = False  # over a limit: its frames are skipped
    _size: int = 0
    _frames: int = 0
    _data: bytearray = field(default_factory=bytearray)
    _utf8: codecs.IncrementalDecoder | None = None
    _whole: bytes | None = None  # a message that came in one piece
    _dead: bool = False

    @property
    def buffered(self) -> int:
        """Bytes held between two calls to :meth:`feed`."""
        return len(self._head) + len(self._control) + len(self._data)

    def feed(self, data: bytes) -> list[Event]:
        events: list[Event] = []
        if self._dead:
            return events
        if self._head:
            data = self._head + data
            self._head = b""
        pos = 0
        n = len(data)
        while not self._dead:
            if not self._in_frame:
                end = self._header(data, pos, events)
                if end < 0:
                    if not self._dead:
                        self._head = data[pos:]
                    break
                pos = end
            if self._left:
                if pos == n:
                    break
                take = min(self._left, n - pos)
                self._payload(data[pos : pos + take], events)
                pos += take
                self._left -= take
                self._seen += take
                if self._left:
                    continue
            if not self._dead:
                self._end_frame(events)
        return events

    def _header(self, data: bytes, pos: int, events: list[Event]) -> int:
        """Read one frame header at ``pos``: where its payload starts, or -1
        (incomplete, or a violation that was reported)."""
        n = len(data) - pos
        if n < 2:
            return -1
        b0 = data[pos]
        b1 = data[pos + 1]
        if b0 & 0x70:
            return self._fail(events, "reserved bits set (no extension was negotiated)")
        if not b1 & 0x80:
            return self._fail(events, "client frames must be masked")
        opcode = b0 & 0x0F
        fin = bool(b0 & 0x80)
        length = b1 & 0x7F
        head = 2
        if length == 126:
            if n < 4:
                return -1
            length = struct.unpack_from("!H", data, pos + 2)[0]
            head = 4
        elif length == 127:
            if n < 10:
                return -1
            length = struct.unpack_from("!Q", data, pos + 2)[0]
            head = 10
            if length >> 63:
                return self._fail(events, "frame length with the most significant bit set")
        if opcode >= 0x8:
            if opcode > Opcode.PONG:
                return self._fail(events, f"reserved control opcode {opcode:#x}")
            if not fin:
                return self._fail(events, "fragmented control frame")
            if length > 125:
                return self._fail(events, "control frame payload over 125 bytes")
        elif opcode == Opcode.CONT:
            if not self._in_message:
                return self._fail(events, "continuation frame without a message")
        elif opcode in (Opcode.TEXT, Opcode.BINARY):
            if self._in_message:
                return self._fail(events, "new message inside a fragmented one")
        else:
            return self._fail(events, f"reserved data opcode {opcode:#x}")
        if n < head + 4:
            return -1
        if opcode < 0x8:
            self._start_data(opcode, length, events)
        self._in_frame = True
        self._opcode = opcode
        self._fin = fin
        self._mask = bytes(data[pos + head : pos + head + 4])
        self._left = length
        self._seen = 0
        return pos + head + 4

    def _start_data(self, opcode: int, length: int, events: list[Event]) -> None:
        if opcode != Opcode.CONT:
            self._in_message = True
            self._binary = opcode == Opcode.BINARY
            self._dropping = False
            self._size = 0
            self._frames = 0
            self._utf8 = None
        self._size += length
        self._frames += 1
        if self._dropping:
            return
        over_size = self._size > self.max_size
        if over_size or self._frames > self.max_fragments:
            # Report once, skip the rest of the message, keep the connection.
            self._dropping = True
            self._data = bytearray()
            self._utf8 = None
            events.append(Oversize(self._size, 0 if over_size else self._frames))

    def _payload(self, chunk: bytes, events: list[Event]) -> None:
        opcode = self._opcode
        if opcode < 0x8 and self._dropping:
            return
        offset = self._seen & 3
        mask = self._mask[offset:] + self._mask[:offset] if offset else self._mask
        chunk = unmask(chunk, mask)
        if opcode >= 0x8:
            self._control += chunk
        elif opcode != Opcode.CONT and self._fin and len(chunk) == self._left and not self._seen:
            # A whole message in one piece, the usual case: no copy, one check.
            if not self._binary and not _is_utf8(chunk):
                self._fail(events, "text message is not valid UTF-8", CLOSE_INVALID_DATA)
                return
            self._whole = chunk
        else:
            if not self._binary:
                if self._utf8 is None:
                    self._utf8 = codecs.getincrementaldecoder("utf-8")()
                try:
                    self._utf8.decode(chunk)
                except UnicodeDecodeError:
                    self._fail(events, "text message is not valid UTF-8", CLOSE_INVALID_DATA)
                    return
            self._data += chunk

    def _end_frame(self, events: list[Event]) -> None:
        self._in_frame = False
        opcode = self._opcode
        if opcode >= 0x8:
            payload = bytes(self._control)
            self._control.clear()
            if opcode == Opcode.PING:
                events.append(Ping(payload))
            elif opcode == Opcode.PONG:
                events.append(Pong(payload))
            else:
                close = _parse_close(payload)
                if isinstance(close, WireError):
                    self._fail(events, close.reason, close.close_code)
                else:
                    events.append(close)
                    self._dead = True
            return
        if not self._fin:
            return
        self._in_message = False
        if self._dropping:
            self._dropping = False
            return
        if self._whole is not None:
            events.append(Message(self._whole, self._binary))
            self._whole = None
            return
        if self._utf8 is not None:
            try:
                self._utf8.decode(b"", True)
            except UnicodeDecodeError:
                self._fail(events, "text message ends inside a UTF-8 sequence", CLOSE_INVALID_DATA)
                return
            self._utf8 = None
        events.append(Message(bytes(self._data), self._binary))
        self._data = bytearray()

    def _fail(self, events: list[Event], reason: str, code: int = CLOSE_PROTOCOL_ERROR) -> int:
        self._dead = True
        self._head = b""
        self._data = bytearray()
        self._control.clear()
        self._utf8 = None
        self._whole = None
        events.append(WireError(reason, code))
        return -1


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _parse_close(payload: bytes) -> Close | WireError:
    if not payload:
        return Close(CLOSE_NO_STATUS, "")
    if len(payload) == 1:
        return WireError("close frame with a 1-byte payload")
    code = struct.unpack_from("!H", payload)[0]
    if not valid_close_code(code):
        return WireError(f"invalid close code {code}")
    try:
        reason = payload[2:].decode("utf-8")
    except UnicodeDecodeError:
        return WireError("close reason is not valid UTF-8")
    return Close(code, reason)
