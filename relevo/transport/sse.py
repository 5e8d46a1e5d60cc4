"""Server-Sent Events transport, for clients where WebSocket is blocked.

``GET /sse?ch=a&ch=b`` (token in ``?token=`` or ``Authorization: Bearer``).
The events' format, and the ``Last-Event-ID`` that resumes every channel of
the stream, are :mod:`relevo.protocol.sse`'s; this module pumps them out.

The browser never answers a ping on this transport, so liveness follows what
the kernel says: a stream is alive while its peer acknowledges what it is
sent (``relevo.transport._tcp``), asked at each keep-alive. One that stops
acknowledging (a peer gone without a FIN, or one that stopped reading) is
closed after ``ping_interval + pong_timeout``, as a WebSocket without pongs is.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from relevo.hub.hub import Hub
from relevo.hub.session import Session
from relevo.protocol import frames
from relevo.protocol.errors import Disconnect, DisconnectCode, RelevoError
from relevo.protocol.sse import PING, RETRY, SSEFraming, parse_positions
from relevo.transport._tcp import AckWatch
from relevo.transport.frontdoor import TRANSPORT_EXTENSION
from relevo.transport.websocket import origin_allowed

__all__ = ["SSEConnection", "sse_endpoint"]


class SSEConnection:
    """The hub's :class:`~relevo.hub.transport.Transport` over a streaming response."""

    kind = "sse"

    def __init__(self, hub: Hub, remote: str, transport: asyncio.Transport | None = None) -> None:
        self.hub = hub
        self.remote = remote
        #: The socket's transport, when the server exposes it (relevo's front
        #: door does): liveness then follows the peer's acknowledgements.
        self.transport = transport
        self.acks = AckWatch(transport) if transport is not None else None
        self.stalled = False
        self.finished = False
        self.framing = SSEFraming()  # this stream's own: its ids carry its positions
        self.queue: deque[bytes] = deque()
        self.queued_bytes = 0
        self.wakeup = asyncio.Event()
        self.closed = False
        self.session: Session | None = None

    def _push(self, chunk: bytes) -> None:
        if self.closed:
            return
        self.queue.append(chunk)
        self.queued_bytes += len(chunk)
        self.wakeup.set()
        if self.queued_bytes > self.hub.settings.limits.max_outbound_bytes and self.session:
            session = self.session
            asyncio.get_running_loop().call_soon(
                self.hub.disconnect,
                session,
                DisconnectCode.SLOW_CONSUMER,
                "not reading fast enough",
            )

    def write(self, data: bytes) -> None:
        self._push(data)
        if data == PING:
            self._check_peer()

    def _check_peer(self) -> None:
        """A keep-alive is when to ask the kernel whether the peer takes what
        it is sent: the browser never answers, so that is its sign of life."""
        self.stalled = self.acks is not None and not self.acks.keeping_up()
        if self.session is not None and not self.stalled:
            self.session.last_seen = self.hub.now()

    def close(self, disconnect: Disconnect) -> None:
        code, reconnect, message = disconnect.code, disconnect.reconnect, disconnect.message
        self._push(self.framing.frame(frames.encode_disconnect(code, reconnect, message)))
        self.closed = True
        self.wakeup.set()
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if self.stalled:
            transport.abort()  # nothing gets through, the disconnect event neither
        else:
            # The stream may be stuck writing to a peer that stopped reading
            # since the last ping: it gets one pong_timeout to flush.
            grace = self.hub.settings.liveness.pong_timeout
            asyncio.get_running_loop().call_later(grace, self._abort_unless_finished)

    def _abort_unless_finished(self) -> None:
        if not self.finished and self.transport is not None:
            self.transport.abort()

    async def stream(self, request: Request) -> AsyncIterator[bytes]:
        yield RETRY
        try:
            while True:
                while self.queue:
                    chunk = self.queue.popleft()
                    self.queued_bytes -= len(chunk)
                    yield chunk
                if self.closed:
                    return
                self.wakeup.clear()
                try:
                    await asyncio.wait_for(self.wakeup.wait(), 5.0)
                except TimeoutError:
                    if await request.is_disconnected():
                        return
        finally:
            self.closed = True
            self.finished = True
            if self.session is not None:
                self.hub.close_session(self.session)
                # The session points back at this connection: break the cycle,
                # or every closed stream waits for a full garbage collection.
                self.session = None


async def sse_endpoint(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    origin = request.headers.get("origin")
    if not origin_allowed(origin, request.headers.get("host"), hub.settings.server.allowed_origins):
        message = f"origin {origin} is not allowed"
        return JSONResponse({"code": "forbidden", "message": message}, 403)
    channels = request.query_params.getlist("ch")
    if not channels:
        return JSONResponse({"code": "bad_request", "message": "at least one ch is required"}, 400)
    token = request.query_params.get("token", "")
    auth = request.headers.get("authorization", "")
    if not token and auth.lower().startswith("bearer "):
        token = auth[7:].strip()
    last_id = request.headers.get("last-event-id") or request.query_params.get("last_event_id", "")
    client = request.client
    extensions: dict[str, Any] = request.scope.get("extensions") or {}
    conn = SSEConnection(
        hub, f"{client.host}:{client.port}" if client else "", extensions.get(TRANSPORT_EXTENSION)
    )
    session = hub.open_session(conn, request.headers)
    conn.session = session
    current: str | None = None
    try:
        positions = parse_positions(last_id) if last_id else {}
        if token:
            await hub.admit(session, token)
        elif hub.can_connect_by_proxy(session):
            # No connect frame on this transport: the stream's request is it.
            await hub.connect_by_proxy(session)
        for ch in channels:
            current = ch
            frames.validate_channel(ch)
            await hub.subscribe(session, ch, positions.get(ch))
    except RelevoError as exc:
        hub.close_session(session)
        conn.session = None
        body = {"code": str(exc.code), "message": exc.message}
        if current is not None:
            body["channel"] = current
        return JSONResponse(body, status_code=exc.status)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(conn.stream(request), media_type="text/event-stream", headers=headers)
