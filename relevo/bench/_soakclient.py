"""The soak's clients: a minimal RFC 6455 client on ``asyncio.Protocol``.

Thousands of connections on a 2-core machine leave no CPU for a general
WebSocket library: here an idle connection holds no task, a publication costs
one buffer scan, and an abrupt drop is ``transport.abort()`` (a TCP reset, as
when a phone loses its network). Each client connects, authenticates with the
``connect`` op, subscribes to a few channels, publishes when told to, and is
dropped by the load (a clean close handshake or an abort). Whatever it meets
that a healthy run would not — a refused handshake, an ``err`` reply, a
server-initiated close, a connection lost before it was dropped — is counted
by kind in :class:`Tally`, never ignored.
"""

from __future__ import annotations

import asyncio
import base64
import enum
import json
import os
import random
import struct
from collections import Counter
from dataclasses import dataclass, field

__all__ = ["ClientPlan", "Pool", "SoakClient", "Tally"]

_TEXT, _CLOSE, _PING, _PONG = 0x1, 0x8, 0x9, 0xA
_CONNECT_ID = 1
_FIRST_PUB_ID = 100  # ids 2.. are the subscriptions


def _client_frame(opcode: int, payload: bytes) -> bytes:
    """A masked frame: a client must mask (RFC 6455 §5.3), with a fresh key."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    key = os.urandom(4)
    stream = (key * (n // 4 + 1))[:n]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big")
    return head + key + masked


def _command(**fields: object) -> bytes:
    return _client_frame(_TEXT, json.dumps(fields, separators=(",", ":")).encode())


@dataclass
class Tally:
    """What the load did and what it met."""

    opened: int = 0  # TCP connections made
    ready: int = 0  # connected, authenticated and subscribed
    dropped_clean: int = 0
    dropped_abort: int = 0
    publishes_sent: int = 0
    publishes_acked: int = 0
    deliveries: int = 0
    errors: Counter[str] = field(default_factory=Counter)

    def error(self, kind: str) -> None:
        self.errors[kind] += 1


@dataclass(frozen=True)
class ClientPlan:
    """Where a client connects and what it subscribes to."""

    host: str
    port: int
    token: str
    channels: tuple[str, ...]
    setup_timeout: float = 15.0  # handshake + connect + subs, else an error
    close_timeout: float = 10.0  # a clean close the server never completes is an error


class _State(enum.Enum):
    HANDSHAKE = "handshake"
    SETTING_UP = "setting_up"
    READY = "ready"
    CLOSING = "closing"  # we sent a close frame
    ABORTED = "aborted"  # we reset it
    CLOSED = "closed"


class Pool:
    """Every client with an open connection, and those that are ready in a
    list for picking one at random in O(1)."""

    def __init__(self, tally: Tally, rng: random.Random) -> None:
        self.tally = tally
        self.rng = rng
        self.live: set[SoakClient] = set()
        self._items: list[SoakClient] = []
        self._index: dict[SoakClient, int] = {}

    def __len__(self) -> int:
        return len(self._items)

    def add(self, client: SoakClient) -> None:
        self._index[client] = len(self._items)
        self._items.append(client)

    def discard(self, client: SoakClient) -> None:
        at = self._index.pop(client, None)
        if at is None:
            return
        last = self._items.pop()
        if last is not client:
            self._items[at] = last
            self._index[last] = at

    def pick(self) -> SoakClient | None:
        return self.rng.choice(self._items) if self._items else None

    def abort_all(self) -> None:
        for client in list(self.live):
            client.abort()


class SoakClient(asyncio.Protocol):
    """One WebSocket connection of the soak."""

    def __init__(self, plan: ClientPlan, pool: Pool) -> None:
        self.plan = plan
        self.pool = pool
        self.tally = pool.tally
        self.state = _State.HANDSHAKE
        self.settled: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._subs_pending = len(plan.channels)
        self._next_pub = _FIRST_PUB_ID
        self._timer: asyncio.TimerHandle | None = None

    # -- asyncio.Protocol ------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.tally.opened += 1
        self.pool.live.add(self)
        self._timer = asyncio.get_running_loop().call_later(
            self.plan.setup_timeout, self._expired, "setup_timeout"
        )
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write(
            f"GET /ws HTTP/1.1\r\nHost: {self.plan.host}:{self.plan.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if self.state is _State.HANDSHAKE and not self._handshake():
            return
        self._frames()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.state not in (_State.CLOSING, _State.ABORTED, _State.CLOSED):
            self.tally.error("lost_before_ready" if self._setting_up() else "lost")
        elif self.state is _State.CLOSING:
            self._cancel_timer()
        self.state = _State.CLOSED
        self.pool.discard(self)
        self.pool.live.discard(self)
        self._settle(False)

    # -- what the load asks ----------------------------------------------------

    def publish(self) -> None:
        if self.state is not _State.READY or self.transport is None:
            return
        channel = self.pool.rng.choice(self.plan.channels)
        pid, self._next_pub = self._next_pub, self._next_pub + 1
        data = {"n": pid, "pad": "x" * 64}
        self.transport.write(_command(id=pid, op="pub", ch=channel, ev="soak", data=data))
        self.tally.publishes_sent += 1

    def drop(self, clean: bool) -> None:
        if self.state is not _State.READY or self.transport is None:
            return
        self.pool.discard(self)
        if clean:
            self.tally.dropped_clean += 1
            self.state = _State.CLOSING
            self.transport.write(_client_frame(_CLOSE, struct.pack("!H", 1000)))
            self._timer = asyncio.get_running_loop().call_later(
                self.plan.close_timeout, self._expired, "close_timeout"
            )
        else:
            self.tally.dropped_abort += 1
            self.state = _State.ABORTED
            self.transport.abort()

    def abort(self) -> None:
        """End of the run: reset it whatever its state."""
        if self.transport is not None and self.state is not _State.CLOSED:
            self.state = _State.ABORTED
            self._cancel_timer()
            self.transport.abort()

    # -- internals -------------------------------------------------------------

    def _setting_up(self) -> bool:
        return self.state in (_State.HANDSHAKE, _State.SETTING_UP)

    def _handshake(self) -> bool:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = bytes(self._buffer[:end])
        del self._buffer[: end + 4]
        if not head.startswith(b"HTTP/1.1 101"):
            status = head.split(b"\r\n", 1)[0].decode(errors="replace")
            self._fail("handshake:" + " ".join(status.split()[1:2]))
            return False
        self.state = _State.SETTING_UP
        assert self.transport is not None
        frames = [_command(id=_CONNECT_ID, op="connect", token=self.plan.token)]
        frames += [_command(id=2 + i, op="sub", ch=ch) for i, ch in enumerate(self.plan.channels)]
        self.transport.write(b"".join(frames))
        return True

    def _frames(self) -> None:
        buf = self._buffer
        while len(buf) >= 2 and self.state is not _State.CLOSED:
            length, at = buf[1] & 0x7F, 2
            if length == 126:
                if len(buf) < 4:
                    return
                length, at = int.from_bytes(buf[2:4], "big"), 4
            elif length == 127:
                if len(buf) < 10:
                    return
                length, at = int.from_bytes(buf[2:10], "big"), 10
            if len(buf) < at + length:
                return
            opcode = buf[0] & 0x0F
            payload = bytes(buf[at : at + length])
            del buf[: at + length]
            self._frame(opcode, payload)

    def _frame(self, opcode: int, payload: bytes) -> None:
        if opcode == _TEXT:
            self._text(payload)
        elif opcode == _PING:
            if self.transport is not None and self.state is not _State.ABORTED:
                self.transport.write(_client_frame(_PONG, payload))
        elif opcode == _CLOSE:
            self._closed_by_server(payload)
        elif opcode != _PONG:
            self.tally.error(f"opcode_{opcode:#x}")

    def _text(self, payload: bytes) -> None:
        # publications are nearly every frame: recognise them without decoding
        if payload.startswith(b'{"ch"') and b'"off":' in payload:
            self.tally.deliveries += 1
            return
        msg = json.loads(payload)
        if "id" in msg:
            self._reply(msg)
        elif msg.get("op") in ("disconnect", "unsub"):
            self.tally.error(f"{msg['op']}:{msg.get('code')}")
        elif msg.get("op") != "pong":
            self.tally.error("unexpected_frame")

    def _reply(self, msg: dict[str, object]) -> None:
        rid, err = msg["id"], msg.get("err")
        assert isinstance(rid, int)
        what = "connect" if rid == _CONNECT_ID else "sub" if rid < _FIRST_PUB_ID else "pub"
        if isinstance(err, dict):
            self.tally.error(f"{what}:{err.get('code')}")
            if what != "pub":
                self._fail(None)
            return
        if what == "pub":
            self.tally.publishes_acked += 1
        elif what == "sub":
            self._subs_pending -= 1
            if self._subs_pending == 0 and self.state is _State.SETTING_UP:
                self.state = _State.READY
                self._cancel_timer()
                self.tally.ready += 1
                self.pool.add(self)
                self._settle(True)

    def _closed_by_server(self, payload: bytes) -> None:
        if self.state is _State.CLOSING:
            self._cancel_timer()
        else:
            code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            self.tally.error(f"server_close:{code}")
            self.pool.discard(self)
            if self.transport is not None:
                self.transport.write(_client_frame(_CLOSE, payload[:2]))
        self.state = _State.CLOSED
        if self.transport is not None:
            self.transport.close()
        self._settle(False)

    def _expired(self, kind: str) -> None:
        self._timer = None
        self._fail(kind)

    def _fail(self, kind: str | None) -> None:
        if kind is not None:
            self.tally.error(kind)
        self.pool.discard(self)
        self.abort()
        self._settle(False)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _settle(self, ready: bool) -> None:
        if not self.settled.done():
            self.settled.set_result(ready)
