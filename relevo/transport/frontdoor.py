"""The first protocol of every accepted connection.

It counts the connection against the caps (``relevo.transport.admission``),
starts the request-head deadline, then reads the first bytes: a request for
relevo's WebSocket path goes straight to relevo's protocol, which parses the
upgrade itself; anything else goes to uvicorn's HTTP protocol. Without it
every WebSocket connection would first build uvicorn's HTTP machinery (parser,
flow control, address lookups, the upgrade headers parsed, re-serialised and
parsed again): about a fifth of the server's CPU in a connect storm (relevo
bench S4, docs/decisions/0001-hot-path.md).

The protocols it hands over to are subclasses that give the connection's slot
back when it ends, and answer the deadline: uvicorn has no deadline before a
request's head is complete (its keep-alive timeout runs only between
requests), so without one a client sending half a request holds its socket
for ever.
"""

from __future__ import annotations

import asyncio
import typing
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from relevo.settings import LimitSettings
from relevo.transport.admission import (
    REFUSAL_GRACE,
    ConnectionGate,
    RefusedConnection,
    peer_host,
    timeout_response,
)

__all__ = ["FrontDoor", "front_door"]

#: Where an HTTP request's ASGI scope carries its transport, for the SSE
#: endpoint to see whether the peer takes what it is sent.
TRANSPORT_EXTENSION = "relevo.transport"


def _head_deadline_passed(transport: asyncio.Transport) -> None:
    if transport.is_closing():
        return
    handler = getattr(transport.get_protocol(), "head_deadline_passed", None)
    if handler is not None:
        handler()


class FrontDoor(asyncio.Protocol):
    """Reads the first bytes of a connection and hands it to the right protocol."""

    ws_class: ClassVar[type[asyncio.Protocol]]
    http_class: ClassVar[type[asyncio.Protocol]]
    gate: ClassVar[ConnectionGate]
    handshake_timeout: ClassVar[float]
    #: ``b"GET /ws"``: a request line starting with it, then a space or ``?``,
    #: is for the WebSocket protocol.
    prefix: ClassVar[bytes] = b"GET /ws"

    __slots__ = ("app_state", "buf", "config", "deadline", "server_state", "transport")

    def __init__(
        self,
        config: Any = None,
        server_state: Any = None,
        app_state: Any = None,
        _loop: asyncio.AbstractEventLoop | None = None,  # uvicorn passes it; unused
    ) -> None:
        self.config = config
        self.server_state = server_state
        self.app_state = app_state
        self.transport: asyncio.Transport | None = None
        self.deadline: asyncio.TimerHandle | None = None
        self.buf = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but behave as one.
        self.transport = typing.cast(asyncio.Transport, transport)
        refusal = self.gate.admit(transport, peer_host(transport))
        if refusal is not None:
            grace = min(REFUSAL_GRACE, self.handshake_timeout)
            refused = RefusedConnection(refusal, self.server_state, grace)
            transport.set_protocol(refused)
            refused.connection_made(transport)
            return
        if self.server_state is not None:
            self.server_state.connections.add(self)
        self.deadline = asyncio.get_running_loop().call_later(
            self.handshake_timeout, _head_deadline_passed, self.transport
        )

    def connection_lost(self, exc: Exception | None) -> None:
        if self.server_state is not None:
            self.server_state.connections.discard(self)
        if self.deadline is not None:
            self.deadline.cancel()
        if self.transport is not None:
            self.gate.release(self.transport)

    def data_received(self, data: bytes) -> None:
        if self.buf:
            data = self.buf + data
            self.buf = b""
        prefix = self.prefix
        n = len(prefix)
        if len(data) <= n:
            if prefix.startswith(data):
                self.buf = data  # too short to tell yet
                return
            self._hand_over(self.http_class, data)
        elif data.startswith(prefix) and data[n : n + 1] in (b" ", b"?"):
            self._hand_over(self.ws_class, data)
        else:
            self._hand_over(self.http_class, data)

    def eof_received(self) -> bool | None:
        return None  # closes the transport

    def head_deadline_passed(self) -> None:
        assert self.transport is not None
        if self.buf:
            self.transport.write(timeout_response(self.handshake_timeout))
        self.transport.close()

    def shutdown(self) -> None:
        """Called by uvicorn when the server stops."""
        if self.transport is not None:
            self.transport.close()

    def _hand_over(self, cls: type[asyncio.Protocol], data: bytes) -> None:
        transport = self.transport
        assert transport is not None
        if self.server_state is not None:
            self.server_state.connections.discard(self)
        protocol = cls(  # type: ignore[call-arg]
            config=self.config, server_state=self.server_state, app_state=self.app_state
        )
        protocol.head_deadline = self.deadline  # type: ignore[attr-defined]
        transport.set_protocol(protocol)
        protocol.connection_made(transport)
        protocol.data_received(data)


class _Counted(asyncio.Protocol):
    """Gives the connection's slot back when it ends; the deadline it was handed
    is answered by ``head_deadline_passed``."""

    gate: ClassVar[ConnectionGate]
    handshake_timeout: ClassVar[float]
    head_deadline: asyncio.TimerHandle | None = None
    transport: Any

    def connection_lost(self, exc: Exception | None) -> None:
        if self.head_deadline is not None:
            self.head_deadline.cancel()
        self.gate.release(self.transport)
        super().connection_lost(exc)

    def _time_out(self) -> None:
        self.transport.write(timeout_response(self.handshake_timeout))
        self.transport.close()


class _CountedWebSocket(_Counted):
    session: Any

    def upgraded(self) -> None:
        # The deadline was for the handshake: an open connection keeps no timer
        # (10,000 idle connections would hold 10,000, all firing for nothing).
        if self.head_deadline is not None:
            self.head_deadline.cancel()
            self.head_deadline = None

    def head_deadline_passed(self) -> None:
        if self.session is None:  # the upgrade never completed
            self._time_out()


class _CountedHttp(_Counted, HttpToolsProtocol):
    ws_class: ClassVar[type[asyncio.Protocol]]
    head_pending = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # An upgrade on a keep-alive connection stays counted and deadlined.
        self.ws_protocol_class = self.ws_class

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.scope["extensions"] = {TRANSPORT_EXTENSION: self.transport}
        self.head_pending = True
        if self.head_deadline is None:  # a later request on a keep-alive connection
            self.head_deadline = self.loop.call_later(
                self.handshake_timeout, _head_deadline_passed, self.transport
            )

    def on_headers_complete(self) -> None:
        self.head_pending = False
        if self.head_deadline is not None:
            self.head_deadline.cancel()
            self.head_deadline = None
        super().on_headers_complete()

    def head_deadline_passed(self) -> None:
        self.head_deadline = None
        if not self.head_pending:
            return
        if self.cycle is not None and not self.cycle.response_complete:
            self.transport.close()  # a 408 now would land inside the response in progress
        else:
            self._time_out()


def front_door(
    ws_class: type[asyncio.Protocol],
    path: str,
    limits: LimitSettings | None = None,
    trusted_proxies: tuple[str, ...] = (),
) -> type[FrontDoor]:
    """A front-door class for ``uvicorn.Config(http=...)``, with its own
    connection counts (one per server)."""
    limits = limits or LimitSettings()
    shared = {
        "gate": ConnectionGate(limits, trusted_proxies),
        "handshake_timeout": limits.handshake_timeout,
    }
    counted_ws = type(f"Counted{ws_class.__name__}", (_CountedWebSocket, ws_class), shared)
    counted_http = type("CountedHttp", (_CountedHttp,), {**shared, "ws_class": counted_ws})
    attrs = {
        "__slots__": (),
        "ws_class": counted_ws,
        "http_class": counted_http,
        "prefix": f"GET {path}".encode(),
        **shared,
    }
    return type("RelevoFrontDoor", (FrontDoor,), attrs)
