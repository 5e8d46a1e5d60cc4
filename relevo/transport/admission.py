"""Who gets a connection, and how long it may take to say what it wants.

Every accepted socket is counted before a byte of it is read: per client
address (``limits.max_connections_per_ip``; trusted proxies exempt, as they
carry many clients) and per node (``limits.max_connections``, by default sized
from the open-file limit, so that descriptors remain for the database, the
broker and health checks). A connection over a cap is not dropped silently: it
gets a short grace to send its request line, then a 429 or 503 with a stable
code and ``Retry-After`` — except ``GET /healthz``, which gets the health
answer, because a node that is full is not a node to restart.

Checks happen here, at the socket, because an HTTP framework sees a request
only once its head has arrived: a client that never sends one would hold its
descriptor forever (issue 11, finding 3).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import typing
from dataclasses import dataclass
from typing import Any

from relevo import __version__
from relevo.protocol.errors import ErrorCode
from relevo.settings import LimitSettings

__all__ = [
    "ADDRESS_FULL",
    "NODE_FULL",
    "ConnectionGate",
    "Refusal",
    "RefusedConnection",
    "connection_budget",
    "peer_host",
    "timeout_response",
]

#: Seconds a connection over a cap may take to send its request line. Short:
#: a real client sends it at once, and each one waiting holds a descriptor.
REFUSAL_GRACE = 2.0
_MAX_REQUEST_LINE = 8192
_RETRY_AFTER = 5


@dataclass(frozen=True, slots=True)
class Refusal:
    status: int
    reason: str
    code: ErrorCode
    message: str


ADDRESS_FULL = Refusal(
    429, "Too Many Requests", ErrorCode.LIMIT_EXCEEDED, "too many connections from this address"
)
NODE_FULL = Refusal(
    503, "Service Unavailable", ErrorCode.UNAVAILABLE, "the server is at its connection limit"
)


def connection_budget(limits: LimitSettings) -> int:
    """The node's connection cap: ``max_connections``, or when 0 the open-file
    limit less a tenth of it (at least 32); 0 when the process has no limit."""
    if limits.max_connections:
        return limits.max_connections
    try:
        import resource
    except ImportError:  # not a Unix: no limit to derive from
        return 0
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 0
    return max(1, soft - max(32, soft // 10))


class _Addresses:
    """``server.trusted_proxies``: addresses, networks, or "*"."""

    def __init__(self, entries: tuple[str, ...]) -> None:
        self.any = "*" in entries
        self.exact = frozenset(e for e in entries if "/" not in e)
        self.networks = [ipaddress.ip_network(e, strict=False) for e in entries if "/" in e]

    def __contains__(self, host: str) -> bool:
        if self.any or host in self.exact:
            return True
        if not self.networks:
            return False
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.networks)


class ConnectionGate:
    """Counts open connections, per node and per client address."""

    def __init__(self, limits: LimitSettings, trusted_proxies: tuple[str, ...] = ()) -> None:
        self.max_total = connection_budget(limits)
        self.max_per_address = limits.max_connections_per_ip
        self.trusted = _Addresses(trusted_proxies)
        self.total = 0
        self.per_address: dict[str, int] = {}
        # Keyed by transport: the protocol that sees the connection end may not
        # be the one that admitted it (the front door hands connections over).
        self._holders: dict[object, str | None] = {}

    def admit(self, transport: object, host: str) -> Refusal | None:
        """Count the connection in, or say why not."""
        if self.max_total and self.total >= self.max_total:
            return NODE_FULL
        key: str | None = None
        if self.max_per_address and host and host not in self.trusted:
            key = host
            count = self.per_address.get(key, 0)
            if count >= self.max_per_address:
                return ADDRESS_FULL
            self.per_address[key] = count + 1
        self.total += 1
        self._holders[transport] = key
        return None

    def release(self, transport: object) -> None:
        """The connection is gone; safe to call more than once."""
        if transport not in self._holders:
            return
        key = self._holders.pop(transport)
        self.total -= 1
        if key is not None:
            left = self.per_address[key] - 1
            if left:
                self.per_address[key] = left
            else:
                del self.per_address[key]


def peer_host(transport: asyncio.BaseTransport) -> str:
    peer = transport.get_extra_info("peername")
    if not isinstance(peer, tuple) or not peer:
        return ""  # a Unix socket: no address to count
    host = str(peer[0])
    # On a dual-stack socket IPv4 peers appear as ::ffff:a.b.c.d; count (and
    # match trusted_proxies against) the address people write.
    return host[7:] if host.startswith("::ffff:") and "." in host else host


def _response(status: int, reason: str, body: bytes, extra: str = "") -> bytes:
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nx-content-type-options: nosniff\r\n"
        f"{extra}connection: close\r\n\r\n"
    )
    return head.encode() + body


def _error_body(code: ErrorCode, message: str, retry: bool) -> bytes:
    return json.dumps({"code": str(code), "message": message, "retry": retry}).encode()


def timeout_response(seconds: float) -> bytes:
    """The 408 for a request head that did not arrive in time."""
    message = f"the request head did not arrive within {seconds:g} s"
    return _response(408, "Request Timeout", _error_body(ErrorCode.BAD_REQUEST, message, True))


def _refusal_response(refusal: Refusal) -> bytes:
    body = _error_body(refusal.code, refusal.message, True)
    return _response(refusal.status, refusal.reason, body, f"retry-after: {_RETRY_AFTER}\r\n")


# The same body as the app's /healthz route: this one answers when the caps
# keep a request from reaching the app.
_HEALTHY = _response(
    200, "OK", json.dumps({"status": "ok", "version": __version__}, separators=(",", ":")).encode()
)


class RefusedConnection(asyncio.Protocol):
    """A connection over a cap: reads its request line, answers, closes."""

    def __init__(self, refusal: Refusal, server_state: Any, grace: float) -> None:
        self.refusal = refusal
        self.server_state = server_state
        self.grace = grace
        self.transport: asyncio.Transport | None = None
        self.buf = b""
        self.answered = False
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = typing.cast(asyncio.Transport, transport)
        if self.server_state is not None:
            self.server_state.connections.add(self)
        self.timer = asyncio.get_running_loop().call_later(self.grace, self._grace_over)

    def data_received(self, data: bytes) -> None:
        if self.answered:
            return  # what follows the request line is read only to be dropped
        self.buf += data
        if b"\r\n" in self.buf or len(self.buf) > _MAX_REQUEST_LINE:
            self._answer()

    def eof_received(self) -> bool | None:
        return None  # closes the transport once the answer is flushed

    def connection_lost(self, exc: Exception | None) -> None:
        if self.server_state is not None:
            self.server_state.connections.discard(self)
        if self.timer is not None:
            self.timer.cancel()

    def shutdown(self) -> None:
        """Called by uvicorn when the server stops."""
        if self.transport is not None:
            self.transport.close()

    def _answer(self) -> None:
        transport = self.transport
        assert transport is not None
        self.answered = True
        line = self.buf.split(b"\r\n", 1)[0].split(b" ")
        healthz = len(line) == 3 and line[0] == b"GET" and line[1].split(b"?")[0] == b"/healthz"
        transport.write(_HEALTHY if healthz else _refusal_response(self.refusal))
        # Closing with the client's headers unread would send a reset, which
        # can destroy the answer before the client reads it: half-close, keep
        # reading until the client closes or the grace is over.
        if transport.can_write_eof():
            transport.write_eof()
        else:
            transport.close()

    def _grace_over(self) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if not self.answered and self.buf:
            transport.write(_refusal_response(self.refusal))
        transport.close()
