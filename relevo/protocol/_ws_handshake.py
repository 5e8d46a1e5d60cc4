"""The WebSocket opening handshake (RFC 6455 section 4), server side, sans-I/O.
Re-exported by :mod:`relevo.protocol.ws`."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from relevo.protocol.errors import ProtocolError

__all__ = [
    "HandshakeError",
    "HandshakeRequest",
    "accept_key",
    "handshake_response",
    "http_error",
    "parse_handshake",
]

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class HandshakeError(ProtocolError):
    """An upgrade request relevo refuses; ``status`` is the HTTP answer (400, 403, 426...)."""

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
