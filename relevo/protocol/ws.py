"""RFC 6455 WebSocket framing, sans-I/O.

Server side only: parse the opening handshake, parse masked client frames
(fragmentation, control frames, size limits), and encode unmasked server
frames. The fan-out path calls :func:`text_frame` once per publication and
writes the resulting bytes to every subscriber.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from dataclasses import dataclass, field
from enum import IntEnum

__all__ = [
    "CLOSE_GOING_AWAY",
    "CLOSE_NORMAL",
    "CLOSE_POLICY",
    "CLOSE_PROTOCOL_ERROR",
    "Close",
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
    "close_frame",
    "handshake_response",
    "parse_handshake",
    "text_frame",
]

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009


class Opcode(IntEnum):
    CONT = 0x0
    TEXT = 0x1
    BINARY = 0x2
    CLOSE = 0x8
    PING = 0x9
    PONG = 0xA


# -- handshake ----------------------------------------------------------------


class HandshakeError(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(slots=True)
class HandshakeRequest:
    path: str
    query: str
    headers: dict[str, str]
    key: str

    @property
    def origin(self) -> str | None:
        return self.headers.get("origin")


def parse_handshake(data: bytes) -> tuple[HandshakeRequest, bytes] | None:
    """Parse an HTTP Upgrade request. Returns ``None`` until the header block is
    complete; then the request and any bytes that followed it."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        if len(data) > 16384:
            raise HandshakeError(431, "request headers too large")
        return None
    head, rest = data[:end], data[end + 4 :]
    lines = head.decode("latin-1").split("\r\n")
    try:
        method, target, _version = lines[0].split(" ", 2)
    except ValueError:
        raise HandshakeError(400, "malformed request line") from None
    if method != "GET":
        raise HandshakeError(405, "WebSocket handshake must be a GET")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise HandshakeError(400, "malformed header line")
        name = name.strip().lower()
        value = value.strip()
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    if headers.get("upgrade", "").lower() != "websocket":
        raise HandshakeError(400, "missing Upgrade: websocket")
    if "upgrade" not in headers.get("connection", "").lower():
        raise HandshakeError(400, "missing Connection: upgrade")
    if headers.get("sec-websocket-version") != "13":
        raise HandshakeError(426, "only WebSocket version 13 is supported")
    key = headers.get("sec-websocket-key", "")
    try:
        if len(base64.b64decode(key, validate=True)) != 16:
            raise ValueError
    except ValueError:
        raise HandshakeError(400, "invalid Sec-WebSocket-Key") from None
    path, _, query = target.partition("?")
    return HandshakeRequest(path, query, headers, key), rest


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1(key.encode() + _GUID).digest()).decode()


def handshake_response(key: str) -> bytes:
    return (
        b"HTTP/1.1 101 Switching Protocols\r\n"
        b"Upgrade: websocket\r\n"
        b"Connection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept_key(key).encode() + b"\r\n\r\n"
    )


def http_error(status: int, reason: str) -> bytes:
    body = reason.encode()
    return (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body


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


def close_frame(code: int = CLOSE_NORMAL, reason: str = "") -> bytes:
    return _frame(Opcode.CLOSE, struct.pack("!H", code) + reason.encode()[:120])


PING_FRAME = _frame(Opcode.PING, b"")


def pong_frame(payload: bytes) -> bytes:
    return _frame(Opcode.PONG, payload)


@dataclass(slots=True)
class Message:
    """A complete text (or binary) message."""

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
    code: int
    reason: str


@dataclass(slots=True)
class Oversize:
    """A message over the size limit; its bytes were skipped, the stream goes on."""

    size: int


@dataclass(slots=True)
class WireError:
    """A framing violation: the connection must be closed with ``close_code``."""

    reason: str
    close_code: int = CLOSE_PROTOCOL_ERROR


Event = Message | Ping | Pong | Close | Oversize | WireError


def unmask(data: bytes, mask: bytes) -> bytes:
    n = len(data)
    if n == 0:
        return b""
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "little") ^ int.from_bytes(key, "little")).to_bytes(n, "little")


@dataclass(slots=True)
class FrameParser:
    """Feed bytes from a client, get events out. Keeps only what it must."""

    max_size: int = 65536
    _buf: bytearray = field(default_factory=bytearray)
    _parts: list[bytes] | None = None
    _parts_len: int = 0
    _parts_binary: bool = False
    _skip: int = 0  # bytes of an oversize frame still to discard
    _skip_fin: bool = True
    _dropping: bool = False  # inside an oversize fragmented message
    _dead: bool = False

    def feed(self, data: bytes) -> list[Event]:
        if self._dead:
            return []
        events: list[Event] = []
        if self._skip:
            cut = min(self._skip, len(data))
            self._skip -= cut
            data = data[cut:]
            if self._skip == 0 and self._skip_fin:
                self._dropping = False
        if not data:
            return events
        buf = self._buf
        buf += data
        pos = 0
        n = len(buf)
        while n - pos >= 2:
            b0 = buf[pos]
            b1 = buf[pos + 1]
            fin = b0 & 0x80
            if b0 & 0x70:
                return self._fail(events, "reserved bits set (no extension was negotiated)")
            opcode = b0 & 0x0F
            if not b1 & 0x80:
                return self._fail(events, "client frames must be masked")
            length = b1 & 0x7F
            head = 2
            if length == 126:
                if n - pos < 4:
                    break
                length = struct.unpack_from("!H", buf, pos + 2)[0]
                head = 4
            elif length == 127:
                if n - pos < 10:
                    break
                length = struct.unpack_from("!Q", buf, pos + 2)[0]
                head = 10
            if opcode >= 0x8:
                if length > 125 or not fin:
                    return self._fail(events, "invalid control frame")
            elif opcode not in (0x0, 0x1, 0x2):
                return self._fail(events, f"unknown opcode {opcode}")
            if opcode < 0x8 and (
                length + (self._parts_len if opcode == 0 else 0) > self.max_size
                or self._dropping
                and opcode == 0
            ):
                # Over the limit: report once, skip its bytes, keep the connection.
                if opcode != 0 and self._parts is not None:
                    return self._fail(events, "new message inside a fragmented one")
                if not self._dropping:
                    events.append(Oversize(length + self._parts_len))
                self._parts = None
                self._parts_len = 0
                self._dropping = not fin
                whole = head + 4 + length
                if n - pos >= whole:
                    pos += whole
                    continue
                self._skip = whole - (n - pos)
                self._skip_fin = bool(fin)
                pos = n
                break
            if n - pos < head + 4 + length:
                break
            mask = bytes(buf[pos + head : pos + head + 4])
            start = pos + head + 4
            payload = unmask(bytes(buf[start : start + length]), mask)
            pos = start + length
            if opcode == Opcode.PING:
                events.append(Ping(payload))
            elif opcode == Opcode.PONG:
                events.append(Pong(payload))
            elif opcode == Opcode.CLOSE:
                events.append(_parse_close(payload))
                self._dead = True
                break
            elif opcode == Opcode.CONT:
                if self._parts is None:
                    return self._fail(events, "continuation frame without a message")
                self._parts.append(payload)
                self._parts_len += length
                if fin:
                    events.append(Message(b"".join(self._parts), self._parts_binary))
                    self._parts = None
                    self._parts_len = 0
            else:
                if self._parts is not None:
                    return self._fail(events, "new message inside a fragmented one")
                if fin:
                    events.append(Message(payload, opcode == Opcode.BINARY))
                else:
                    self._parts = [payload]
                    self._parts_len = length
                    self._parts_binary = opcode == Opcode.BINARY
        del buf[:pos]
        return events

    def _fail(self, events: list[Event], reason: str) -> list[Event]:
        self._dead = True
        self._buf.clear()
        events.append(WireError(reason))
        return events


def _parse_close(payload: bytes) -> Close:
    if len(payload) >= 2:
        code = struct.unpack_from("!H", payload)[0]
        return Close(code, payload[2:].decode("utf-8", "replace"))
    return Close(1005, "")
