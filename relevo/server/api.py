"""The server HTTP API: publish, broadcast, history, presence, disconnect.

Authenticated with the API key (``Authorization: apikey <key>`` or
``X-API-Key``), compared in constant time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from relevo.broker.base import check_idempotency_key
from relevo.hub.hub import Hub
from relevo.protocol import frames
from relevo.protocol.errors import Disconnect, ErrorCode, ProtocolError, RelevoError
from relevo.protocol.framing import BARE
from relevo.protocol.types import StreamPosition
from relevo.web import error_response, json_response, read_body, read_struct, require_api_key

__all__ = ["api_routes", "read_api_body"]


Handler = Callable[[Request], Awaitable[Response]]


def guarded(handler: Handler) -> Handler:
    async def wrapper(request: Request) -> Response:
        try:
            require_api_key(request)
            return await handler(request)
        except RelevoError as exc:
            return error_response(exc)

    wrapper.__name__ = handler.__name__
    wrapper.__doc__ = handler.__doc__
    return wrapper


class PublishBody(msgspec.Struct, forbid_unknown_fields=True):
    channel: str
    event: str
    data: msgspec.Raw = msgspec.Raw(b"null")
    idempotency_key: str | None = None


class BroadcastBody(msgspec.Struct, forbid_unknown_fields=True):
    channels: list[str]
    event: str
    data: msgspec.Raw = msgspec.Raw(b"null")
    idempotency_key: str | None = None  # the same key on every channel


class DisconnectBody(msgspec.Struct, forbid_unknown_fields=True):
    user: str


async def read_api_body(request: Request, cls: type[Any]) -> Any:
    """A server-API body: room for one publication's data and its envelope."""
    limit = request.app.state.hub.settings.limits.max_publish_bytes + 4096
    return await read_struct(request, cls, limit)


def _hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


def _check_data(hub: Hub, data: msgspec.Raw) -> bytes:
    raw = bytes(data)
    if len(raw) > hub.settings.limits.max_publish_bytes:
        raise RelevoError("data is too large", code=ErrorCode.TOO_LARGE)
    return raw


async def publish(request: Request) -> Response:
    """Publish one event to one channel; returns its epoch and offset."""
    body: PublishBody = await read_api_body(request, PublishBody)
    hub = _hub(request)
    if not body.event:
        raise ProtocolError("event is required")
    if body.idempotency_key is not None:
        check_idempotency_key(body.idempotency_key)
    data = _check_data(hub, body.data)
    pub = await hub.publish(body.channel, body.event, data, idempotency_key=body.idempotency_key)
    return json_response({"channel": pub.channel, "epoch": pub.epoch, "offset": pub.offset})


async def broadcast(request: Request) -> Response:
    """Publish the same event to many channels."""
    body: BroadcastBody = await read_api_body(request, BroadcastBody)
    hub = _hub(request)
    if not body.channels:
        raise ProtocolError("channels must not be empty")
    for ch in body.channels:
        hub.permissions.check_publishable(ch)  # all of them before publishing to any
    if body.idempotency_key is not None:
        check_idempotency_key(body.idempotency_key)
    data = _check_data(hub, body.data)
    results = []
    for ch in body.channels:
        pub = await hub.publish(ch, body.event, data, idempotency_key=body.idempotency_key)
        results.append({"channel": ch, "epoch": pub.epoch, "offset": pub.offset})
    return json_response({"results": results})


async def history(request: Request) -> Response:
    """A channel's retained publications (after ``since_epoch``/``since_offset``)."""
    hub = _hub(request)
    channel = request.path_params["channel"]
    q = request.query_params
    since = None
    try:
        limit = int(q.get("limit", "100"))
        if "since_offset" in q:
            since = StreamPosition(q.get("since_epoch", ""), int(q["since_offset"]))
    except ValueError:
        raise ProtocolError("limit and since_offset must be integers") from None
    if not 0 <= limit <= 10_000:
        raise ProtocolError("limit must be between 0 and 10000")
    pubs, pos = await hub.history(channel, since, limit)
    return json_response(frames.history_result(pos, pubs))


async def presence(request: Request) -> Response:
    """Who is subscribed to a channel, across all nodes."""
    hub = _hub(request)
    channel = frames.validate_channel(request.path_params["channel"])
    clients = await hub.presence(channel)
    return json_response(frames.presence_result(clients))


async def disconnect(request: Request) -> Response:
    """Close every connection of a user, on every node."""
    body: DisconnectBody = await read_api_body(request, DisconnectBody)
    await _hub(request).disconnect_user(body.user)
    return json_response({})


async def info(request: Request) -> Response:
    """This node: connections, channels and subscriber counts."""
    hub = _hub(request)
    channels = {ch: hub.subscriber_count(ch) for ch in hub.channel_names()}
    sessions = [
        {
            "client": s.client,
            "user": s.identity.user,
            "transport": s.transport.kind,
            "remote": s.transport.remote,
            "channels": sorted(s.subs),
        }
        for s in hub.sessions
    ]
    return json_response({"node": hub.node, "connections": sessions, "channels": channels})


class _Replies:
    """A transport that only collects replies: one HTTP request, one frame."""

    kind = "http"
    remote = ""
    framing = BARE  # the response body is the frame itself

    def __init__(self) -> None:
        self.frames: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.frames.append(data)

    def close(self, disconnect: Disconnect) -> None:
        pass  # the response ends the exchange: nothing stays open to close


_STATELESS_OPS = (frames.Pub, frames.History, frames.Presence, frames.Ping)


async def command(request: Request) -> Response:
    """Run one stateless client frame (pub, history, presence, ping) over HTTP,
    as the user of the Bearer token (or anonymously): what an SSE client uses
    for what it cannot send on its one-way stream. Answers like the WebSocket."""
    hub = _hub(request)
    try:
        raw = await read_body(request, hub.settings.limits.max_frame_bytes)
    except RelevoError as exc:
        return Response(frames.encode_error(None, exc), exc.status, media_type="application/json")
    replies = _Replies()
    session = hub.open_session(replies, request.headers)
    try:
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            hub.authenticate(session, auth[7:].strip())
        elif hub.can_connect_by_proxy(session):
            await hub.connect_by_proxy(session)
        cmd = frames.parse_command(raw)
        if not isinstance(cmd, _STATELESS_OPS):
            err = ProtocolError("only pub, history, presence and ping run over HTTP")
            err.frame_id = cmd.id
            raise err
    except RelevoError as exc:
        hub.close_session(session)
        frame_id = exc.frame_id
        return Response(
            frames.encode_error(frame_id, exc), exc.status, media_type="application/json"
        )
    try:
        await hub.handle_frame(session, raw)
    finally:
        hub.close_session(session)
    body = replies.frames[-1] if replies.frames else b"{}"
    return Response(body, media_type="application/json")


def api_routes() -> list[Route]:
    return [
        Route("/api/command", command, methods=["POST"]),
        Route("/api/publish", guarded(publish), methods=["POST"]),
        Route("/api/broadcast", guarded(broadcast), methods=["POST"]),
        Route("/api/history/{channel:path}", guarded(history), methods=["GET"]),
        Route("/api/presence/{channel:path}", guarded(presence), methods=["GET"]),
        Route("/api/disconnect", guarded(disconnect), methods=["POST"]),
        Route("/api/info", guarded(info), methods=["GET"]),
    ]
