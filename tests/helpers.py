"""Test helpers: a raw WebSocket client that does only what a test tells it
(no automatic pong, reads only when asked), timeouts scaled by one env var."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
import tempfile
from pathlib import Path
from typing import Any

from relevo.settings import LivenessSettings

SCALE = float(os.environ.get("RELEVO_TEST_TIMEOUT_SCALE", "1"))

#: Where browser tests save their screenshots: a temporary folder, so a test
#: run leaves the tree clean; ``RELEVO_SCREENSHOTS=docs/img scripts/test``
#: refreshes the pictures in the docs.
SCREENSHOTS = Path(
    os.environ.get("RELEVO_SCREENSHOTS") or Path(tempfile.gettempdir()) / "relevo-screenshots"
).resolve()
SCREENSHOTS.mkdir(parents=True, exist_ok=True)


def timeout(seconds: float) -> float:
    return seconds * SCALE


def ws_frame(
    opcode: int, payload: bytes = b"", fin: bool = True, masked: bool = True, rsv: int = 0
) -> bytes:
    """One RFC 6455 frame as a client sends it (masked unless told not to),
    built independently of relevo's codec."""
    b0 = (0x80 if fin else 0) | rsv << 4 | opcode
    n = len(payload)
    mbit = 0x80 if masked else 0
    if n < 126:
        head = struct.pack("!BB", b0, mbit | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, mbit | 126, n)
    else:
        head = struct.pack("!BBQ", b0, mbit | 127, n)
    if not masked:
        return head + payload
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class RawWS:
    """A minimal RFC 6455 client over a plain socket, written independently of
    relevo's codec so tests do not check the codec against itself."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(
        cls, port: int, path: str = "/ws", headers: dict[str, str] | None = None, rcvbuf: int = 0
    ) -> RawWS:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        reader, writer = await asyncio.open_connection(sock=sock)
        key = base64.b64encode(os.urandom(16)).decode()
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        writer.write(
            (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                f"Sec-WebSocket-Version: 13\r\n{extra}\r\n"
            ).encode()
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout(5))
        if not head.startswith(b"HTTP/1.1 101"):
            writer.close()
            raise ConnectionRefusedError(head.split(b"\r\n", 1)[0].decode())
        return cls(reader, writer)

    def send_frame(
        self, opcode: int, payload: bytes, fin: bool = True, masked: bool = True
    ) -> None:
        self.writer.write(ws_frame(opcode, payload, fin=fin, masked=masked))

    def send(self, obj: Any) -> None:
        text = obj if isinstance(obj, str | bytes) else json.dumps(obj)
        self.send_frame(0x1, text.encode() if isinstance(text, str) else text)

    async def recv_frame(self, wait: float = 5.0) -> tuple[int, bytes]:
        async def read() -> tuple[int, bytes]:
            b0, b1 = await self.reader.readexactly(2)
            n = b1 & 0x7F
            if n == 126:
                (n,) = struct.unpack("!H", await self.reader.readexactly(2))
            elif n == 127:
                (n,) = struct.unpack("!Q", await self.reader.readexactly(8))
            return b0 & 0x0F, await self.reader.readexactly(n)

        return await asyncio.wait_for(read(), timeout(wait))

    async def recv(self, wait: float = 5.0) -> dict[str, Any]:
        """The next JSON text frame (control frames are skipped, pings unanswered)."""
        while True:
            opcode, payload = await self.recv_frame(wait)
            if opcode == 0x1:
                result: dict[str, Any] = json.loads(payload)
                return result
            if opcode == 0x8:
                raise ConnectionError(f"closed: {payload[2:].decode(errors='replace')}")

    async def request(self, obj: dict[str, Any], wait: float = 5.0) -> dict[str, Any]:
        """Send a command and return the reply with the same id (skipping others)."""
        self.send(obj)
        while True:
            msg = await self.recv(wait)
            if msg.get("id") == obj.get("id"):
                return msg

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except (ConnectionError, OSError):
            pass


def missing_service(reason: str) -> None:
    """A real part (Chromium, PostgreSQL, MariaDB) is not there. On a
    developer's machine the test is skipped with the reason; under CI
    (``CI`` set, as .ci/run has it) that is a failure: CI must never pass
    by not running what it was meant to run."""
    import pytest

    if os.environ.get("CI"):
        pytest.fail(f"{reason} — CI must provide it (see .ci/run)")
    pytest.skip(reason)


#: Browser contexts of the flow tests skip the page's CSP: Playwright's
#: ``wait_for_function`` runs its predicate with ``eval`` inside the page,
#: which ``script-src 'self'`` forbids. The pages themselves run under the
#: real policy in tests/browser/test_csp.py.
BROWSER_CONTEXT: dict[str, bool] = {"bypass_csp": True}


#: Liveness for a server on a virtual clock: a jump of minutes is time in which
#: no ping was sent nor answered, and the sweep would take every connection for dead.
STILL = LivenessSettings(ping_interval=86_400.0, pong_timeout=86_400.0, presence_ttl=86_400.0)
