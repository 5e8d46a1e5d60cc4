"""The first protocol of every accepted connection.

A request for relevo's WebSocket path goes straight to relevo's protocol,
which parses the upgrade itself; anything else goes to uvicorn's HTTP
protocol, unchanged. Without it every WebSocket connection would first build
uvicorn's HTTP machinery (parser, flow control, address lookups, the upgrade
headers parsed, re-serialised and parsed again): about a fifth of the server's
CPU in a connect storm (relevo bench S4, docs/decisions/0001-hot-path.md).
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["FrontDoor", "front_door"]


class FrontDoor(asyncio.Protocol):
    """Reads the first bytes of a connection and hands it to the right protocol."""

    ws_class: type[asyncio.Protocol]
    http_class: type[asyncio.Protocol]
    #: ``b"GET /ws"``: a request line starting with it, then a space or ``?``,
    #: is for the WebSocket protocol.
    prefix: bytes = b"GET /ws"

    __slots__ = ("app_state", "buf", "config", "server_state", "transport")

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
        self.buf = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        if self.server_state is not None:
            self.server_state.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.server_state is not None:
            self.server_state.connections.discard(self)

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
        transport.set_protocol(protocol)
        protocol.connection_made(transport)
        protocol.data_received(data)


def front_door(
    ws_class: type[asyncio.Protocol], http_class: type[asyncio.Protocol], path: str
) -> type[FrontDoor]:
    """A front-door class for ``uvicorn.Config(http=...)``."""
    attrs = {
        "__slots__": (),
        "ws_class": ws_class,
        "http_class": http_class,
        "prefix": f"GET {path}".encode(),
    }
    return type("RelevoFrontDoor", (FrontDoor,), attrs)
