"""Server-Sent Events transport, for clients where WebSocket is blocked.

``GET /sse?ch=a&ch=b`` (token in ``?token=`` or ``Authorization: Bearer``).
Every publication is an SSE event whose ``id`` holds the position of *every*
channel of the stream (``a=epoch:offset;b=epoch:offset``), so the browser's
automatic ``Last-Event-ID`` on reconnect resumes all channels without loss.
Control frames (errors, recovery results, presence pushes, disconnect) travel
as ``event: relevo`` with the same JSON the WebSocket would carry.

The browser never answers a ping on this transport, so liveness follows what
the kernel says: a stream is alive while its peer acknowledges what it is
sent (``relevo.transport._tcp``). One that stops acknowledging (a peer gone
without a FIN, or one that stopped reading) is closed after
``ping_interval + pong_timeout``, as a WebSocket without pongs is.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from relevo.hub.hub import Hub
from relevo.hub.session import Session
from relevo.protocol import frames
from relevo.protocol.errors import DisconnectCode, ProtocolError, RelevoError
from relevo.protocol.types import Publication, StreamPosition
from relevo.transport._tcp import AckWatch
from relevo.transport.frontdoor import TRANSPORT_EXTENSION
from relevo.transport.websocket import origin_allowed

__all__ = ["SSEConnection", "format_positions", "parse_positions", "sse_endpoint"]


def format_positions(positions: dict[str, StreamPosition]) -> str:
    return ";".join(f"{ch}={p.epoch}:{p.offset}" for ch, p in positions.items())


def parse_positions(value: str) -> dict[str, StreamPosition]:
    out: dict[str, StreamPosition] = {}
    for part in value.split(";"):
        if not part:
            continue
        ch, sep, pos = part.rpartition("=")
        epoch, sep2, offset = pos.rpartition(":")
        if not sep or not sep2 or not offset.isdigit():
            raise ProtocolError(f"malformed Last-Event-ID part {part!r}")
        out[ch] = StreamPosition(epoch, int(offset))
    return out


class SSEConnection:
    """Implements the hub's Transport interface over a streaming response."""

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
        self.positions: dict[str, StreamPosition] = {}
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

    def send(self, payload: bytes) -> None:
        self._push(b"event: relevo\ndata: " + payload + b"\n\n")

    def raw_writer(self) -> Callable[[bytes], None] | None:
        return None

    def deliver(self, pub: Publication, payload: bytes) -> None:
        self.positions[pub.channel] = StreamPosition(pub.epoch, pub.offset)
        event_id = format_positions(self.positions).encode()
        self._push(b"id: " + event_id + b"\ndata: " + payload + b"\n\n")

    def subscribed(
        self,
        frame_id: int | str | None,
        channel: str,
        position: StreamPosition,
        recovered: bool | None,
        missed: list[Publication],
    ) -> None:
        self.positions[channel] = position
        result = frames.sub_result(position, recovered, [])
        result["ch"] = channel
        self.send(frames.encode_ok(frame_id, result))
        for pub in missed:
            self.deliver(pub, frames.publication_json(pub))
        self.positions[channel] = position if not missed else missed[-1].position

    def ping(self) -> None:
        self._push(b": ping\n\n")
        self.stalled = self.acks is not None and not self.acks.keeping_up()
        if self.session is not None and not self.stalled:
            self.session.last_seen = self.hub.now()

    def close(self, code: str, reconnect: bool, message: str = "") -> None:
        self.send(frames.encode_disconnect(code, reconnect, message))
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
        yield b"retry: 1000\n\n"
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
    session = hub.open_session(conn)
    conn.session = session
    current: str | None = None
    try:
        positions = parse_positions(last_id) if last_id else {}
        if token:
            hub.authenticate(session, token)
        for ch in channels:
            current = ch
            frames.validate_channel(ch)
            await hub.subscribe(session, ch, positions.get(ch))
    except RelevoError as exc:
        hub.close_session(session)
        body = {"code": str(exc.code), "message": exc.message}
        if current is not None:
            body["channel"] = current
        return JSONResponse(body, status_code=exc.status)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(conn.stream(request), media_type="text/event-stream", headers=headers)
