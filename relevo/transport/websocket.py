"""WebSocket transport: an asyncio protocol that uvicorn hands upgraded
connections to. It pumps bytes between the socket and the hub, nothing more.

Why not ASGI: an ASGI ``send()`` per subscriber per publication costs an
await, a dict and a framing per write; the fan-out path writes one pre-built
frame with ``transport.write`` instead (see docs/decisions/0001-hot-path.md).
"""

from __future__ import annotations

import asyncio
import logging
import typing
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from relevo.hub.hub import Hub
from relevo.hub.session import Session
from relevo.protocol import frames, ws
from relevo.protocol.errors import (
    Disconnect,
    DisconnectCode,
    ErrorCode,
    ProtocolError,
    RelevoError,
)
from relevo.protocol.framing import WEBSOCKET, Framing

__all__ = ["WebSocketConnection", "origin_allowed", "websocket_protocol"]

log = logging.getLogger("relevo.ws")

_ABORT_AFTER = 5.0  # seconds a closing socket may take to flush before it is cut


def origin_allowed(origin: str | None, host: str | None, allowed: tuple[str, ...]) -> bool:
    """No Origin (not a browser), the server's own origin, or a listed one."""
    if origin is None:
        return True
    if "*" in allowed or origin in allowed:
        return True
    if host is None:
        return False
    return origin.split("://", 1)[-1] == host


class WebSocketConnection(asyncio.Protocol):
    """One WebSocket connection: handshake, frames in, frames out. The hub's
    :class:`~relevo.hub.transport.Transport`."""

    hub: Hub
    path = "/ws"
    kind = "ws"
    framing: Framing = WEBSOCKET
    #: The socket's own ``write`` once connected: the fan-out calls it for
    #: every delivery, so no Python frame of ours sits in between. The hub
    #: writes only to open sessions, and a session is closed before the
    #: Close frame goes out (:meth:`_close_transport`).
    write: Callable[[bytes], None]

    def __init__(
        self,
        config: Any = None,
        server_state: Any = None,
        app_state: Any = None,
        _loop: Any = None,
    ) -> None:
        self.server_state = server_state
        self.transport: asyncio.Transport | None = None
        self.session: Session | None = None
        self.parser = ws.FrameParser(max_size=self.hub.settings.limits.max_frame_bytes)
        self.handshake_buf = b""
        self.remote = ""
        self.ending = False  # no more input is read: a Close is on its way
        self.closing = False  # the Close frame is written: nothing more may be

    # -- asyncio.Protocol ---------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but behave as one.
        self.transport = typing.cast(asyncio.Transport, transport)
        self.write = self.transport.write
        peer = self.transport.get_extra_info("peername")
        self.remote = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else ""
        if self.server_state is not None:
            self.server_state.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.server_state is not None:
            self.server_state.connections.discard(self)
        if self.session is not None:
            self.hub.close_session(self.session)
            # The session points back at this transport: break the cycle, or
            # every closed connection waits for a full garbage collection.
            self.session = None

    def data_received(self, data: bytes) -> None:
        session = self.session
        if session is None:
            self._handshake(data)
            return
        if self.ending:
            return  # a Close was received or sent: the rest is discarded
        session.last_seen = self.hub.now()
        for event in self.parser.feed(data):
            if isinstance(event, ws.Message):
                if event.binary:
                    self.binary_received(event.data)
                else:
                    session.receive(event.data)
            elif isinstance(event, ws.Ping):
                self.transport.write(ws.pong_frame(event.data))  # type: ignore[union-attr]
            elif isinstance(event, ws.Pong):
                pass  # last_seen already moved
            elif isinstance(event, ws.Oversize):
                self._error(self._too_large(event))
            elif isinstance(event, ws.Close):
                # Echo the peer's code (RFC 6455 section 5.5.1); no code is answered with 1000.
                code = ws.CLOSE_NORMAL if event.code == ws.CLOSE_NO_STATUS else event.code
                self._end(ws.close_frame(code))
            else:
                protocol = str(DisconnectCode.PROTOCOL)
                self.hub.metrics.child(self.hub.metrics.disconnects, protocol).inc()
                log.debug("failing %s: %s", self.remote, event.reason)
                self._end(ws.close_frame(event.close_code, event.reason))
            if self.ending:
                return

    def binary_received(self, data: bytes) -> None:
        """A binary message: relevo's protocol is JSON text, so it is refused
        (an error, the connection stays)."""
        self._error(ProtocolError("binary frames are not supported; send JSON text"))

    def eof_received(self) -> bool | None:
        return None  # the peer is done: close our side too

    def pause_writing(self) -> None:
        # The socket is not draining and its buffer passed max_outbound_bytes.
        # Never write more to it: disconnect after the current fan-out loop.
        if self.session is not None and not self.closing:
            asyncio.get_running_loop().call_soon(self._slow_consumer)

    def resume_writing(self) -> None:
        pass

    def shutdown(self) -> None:
        """Called by uvicorn when the server stops."""
        if self.session is not None:
            self.hub.disconnect(self.session, DisconnectCode.SHUTDOWN, "server is restarting")
        elif self.transport is not None:
            self.transport.close()

    # -- handshake ------------------------------------------------------------------

    def _handshake(self, data: bytes) -> None:
        assert self.transport is not None
        self.handshake_buf += data
        try:
            parsed = ws.parse_handshake(self.handshake_buf)
            if parsed is None:
                return
            request, rest = parsed
            if request.path != self.path:
                raise ws.HandshakeError(404, "Not Found")
            settings = self.hub.settings
            if not origin_allowed(
                request.origin, request.headers.get("host"), settings.server.allowed_origins
            ):
                raise ws.HandshakeError(403, "Origin not allowed")
            limit = settings.limits.max_connections
            if limit and len(self.hub.sessions) >= limit:
                raise ws.HandshakeError(503, "Too many connections")
        except ws.HandshakeError as exc:
            self.transport.write(ws.http_error(exc.status, exc.reason))
            self.transport.close()
            return
        self.handshake_buf = b""
        self.transport.set_write_buffer_limits(high=self.hub.settings.limits.max_outbound_bytes)
        self.transport.write(ws.handshake_response(request.key))
        self.session = self.hub.open_session(self, request.headers)
        self.upgraded()
        token = parse_qs(request.query).get("token", [""])[0] if request.query else ""
        if token:
            try:
                self.hub.authenticate(self.session, token)
            except RelevoError as exc:
                self.hub.metrics.child(self.hub.metrics.errors, str(exc.code)).inc()
                expired = exc.code is ErrorCode.TOKEN_EXPIRED
                self.close(Disconnect(str(exc.code), expired, exc.message))
                return
        if rest:
            self.data_received(rest)

    def upgraded(self) -> None:
        """The handshake is done (the front door ends its deadline here)."""

    # -- hub Transport interface ------------------------------------------------------

    def close(self, disconnect: Disconnect) -> None:
        """An application-level disconnect: a JSON ``disconnect`` frame says
        why, then a Close frame (1001 if the client should come back, 1008
        otherwise)."""
        if self.closing or self.transport is None:
            return
        code, reconnect = disconnect.code, disconnect.reconnect
        frame = ws.text_frame(frames.encode_disconnect(code, reconnect, disconnect.message))
        close_code = ws.CLOSE_GOING_AWAY if reconnect else ws.CLOSE_POLICY
        self._close_transport(frame + ws.close_frame(close_code, code))

    # -- internals ----------------------------------------------------------------------

    def _error(self, exc: RelevoError) -> None:
        if self.session is not None:
            self.hub.send_error(self.session, None, exc)

    def _slow_consumer(self) -> None:
        if self.session is not None:
            self.hub.disconnect(
                self.session, DisconnectCode.SLOW_CONSUMER, "not reading fast enough"
            )

    def _too_large(self, event: ws.Oversize) -> RelevoError:
        if event.frames:
            limit = self.parser.max_fragments
            message = f"message in {event.frames} frames is over the {limit}-frame limit"
        else:
            limit = self.parser.max_size
            message = f"message of {event.size} bytes is over the {limit}-byte limit"
        return RelevoError(message, code=ErrorCode.TOO_LARGE)

    def _end(self, last: bytes) -> None:
        """Stop reading; once the commands already received have their
        replies, send ``last`` (a Close frame) and close. A valid command that
        came in the same read as a Close or a protocol error is still owed its
        reply (Autobahn 4.1.3, 7.1.1)."""
        self.ending = True
        runner = self.session.runner if self.session is not None else None
        if runner is None or runner.done():
            self._close_transport(last)
            return
        # A command stuck on a slow store must not keep the socket forever.
        timer = asyncio.get_running_loop().call_later(_ABORT_AFTER, self._close_transport, last)

        def answered(_: object) -> None:
            timer.cancel()
            self._close_transport(last)

        runner.add_done_callback(answered)

    def _close_transport(self, last: bytes) -> None:
        transport = self.transport
        if transport is None or self.closing:
            return
        self.closing = True
        self.ending = True
        if self.session is not None:
            # Nothing more may be written after the Close: leave every channel now.
            self.hub.close_session(self.session)
        if transport.is_closing():
            return
        transport.write(last)
        if transport.can_write_eof():
            # Half-close and read on until the peer's EOF: closing a socket with
            # unread input makes the kernel answer with a reset, which can
            # destroy the Close frame before the peer reads it.
            transport.write_eof()
        else:
            transport.close()
        # A peer that never reads, or never closes, would keep the socket forever.
        asyncio.get_running_loop().call_later(_ABORT_AFTER, transport.abort)


def websocket_protocol(hub: Hub, path: str = "/ws") -> type[WebSocketConnection]:
    """A protocol class bound to ``hub``, for ``uvicorn.Config(ws=...)``."""
    return type("RelevoWebSocket", (WebSocketConnection,), {"hub": hub, "path": path})
