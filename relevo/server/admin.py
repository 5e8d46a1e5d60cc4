"""The admin API behind ``/static/admin.html``: what this node is doing.

Everything is read from the hub of the app (``request.app.state.hub``); the
page polls :func:`overview` every 2 s and computes rates from successive
samples of the counters, using the server's ``now`` so its own timer jitter
does not skew them.

Auth: the server API key, or a Bearer JWT whose ``roles`` include ``admin``.

Recent errors come from ``hub.recent_errors``, the hub's bounded ring of the
errors it sent and the disconnects it made; totals per code come from the
``relevo_errors_total`` / ``relevo_disconnects_total`` counters.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from relevo import __version__
from relevo.hub.hub import Hub
from relevo.protocol import frames
from relevo.protocol.errors import (
    AuthError,
    DisconnectCode,
    NotFound,
    PermissionDenied,
    ProtocolError,
    RelevoError,
    Unavailable,
)
from relevo.server.api import read_api_body
from relevo.web import error_response, json_response, require_api_key

__all__ = ["ADMIN_ROLE", "ErrorRecord", "admin_routes", "require_admin"]

ADMIN_ROLE = "admin"
RECENT_ERRORS = 100
PRESENCE_CHANNELS = 200  # presence is counted for at most this many channels per poll
PRESENCE_TIMEOUT = 1.0


@dataclass(frozen=True, slots=True)
class ErrorRecord:
    """One error sent to a client, or one disconnect, as the admin page lists it."""

    ts: float  # seconds since the epoch
    code: str
    kind: str  # "error" (an error frame) | "disconnect"
    message: str = ""
    client: str = ""
    user: str = ""


def require_admin(request: Request) -> str:
    """Who is asking: ``"api-key"`` or the admin token's user. Raises
    :class:`AuthError` (401) or :class:`PermissionDenied` (403)."""
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        hub: Hub = request.app.state.hub
        identity = hub.verifier.verify(auth[7:].strip())
        if ADMIN_ROLE not in identity.roles:
            raise PermissionDenied(f"the token of {identity.user!r} lacks the {ADMIN_ROLE} role")
        return identity.user
    try:
        require_api_key(request)
    except AuthError:
        raise AuthError(
            "the API key (Authorization: apikey <key>) or a Bearer token "
            f"with the {ADMIN_ROLE} role is required"
        ) from None
    return "api-key"


Handler = Callable[[Request], Awaitable[Response]]


def _admin(handler: Handler) -> Handler:
    async def wrapper(request: Request) -> Response:
        try:
            require_admin(request)
            response = await handler(request)
        except RelevoError as exc:
            response = error_response(exc)
        response.headers["Cache-Control"] = "no-store"
        return response

    wrapper.__name__ = handler.__name__
    wrapper.__doc__ = handler.__doc__
    return wrapper


# -- counters ---------------------------------------------------------------------


def _counters(hub: Hub) -> dict[str, Any]:
    """The hub's Prometheus samples, grouped for the page."""
    out: dict[str, Any] = {
        "publications": 0.0,
        "deliveries": 0.0,
        "published": {},
        "errors": {},
        "disconnects": {},
        "connections": {},
        "subscriptions": 0.0,
    }
    for family in hub.metrics.registry.collect():
        for sample in family.samples:
            name: str = sample.name
            labels: dict[str, str] = sample.labels
            value = float(sample.value)
            if name == "relevo_publications_total":
                out["publications"] = value
            elif name == "relevo_deliveries_total":
                out["deliveries"] = value
            elif name == "relevo_published_total":
                out["published"][labels.get("source", "")] = value
            elif name == "relevo_errors_total":
                out["errors"][labels.get("code", "")] = value
            elif name == "relevo_disconnects_total":
                out["disconnects"][labels.get("code", "")] = value
            elif name == "relevo_connections":
                out["connections"][labels.get("transport", "")] = value
            elif name == "relevo_subscriptions":
                out["subscriptions"] = value
    return out


def _recent_errors(hub: Hub) -> list[ErrorRecord]:
    """The hub's ring of recent errors, oldest first. Disconnects are recorded
    there with the code ``disconnect:<code>``."""
    out = []
    for entry in list(hub.recent_errors)[-RECENT_ERRORS:]:
        code = str(entry.get("code", ""))
        kind = "error"
        if code.startswith("disconnect:"):
            kind, code = "disconnect", code[len("disconnect:") :]
        out.append(
            ErrorRecord(
                ts=float(entry.get("ts", 0.0)),
                code=code,
                kind=kind,
                message=str(entry.get("message", "")),
                client=str(entry.get("client", "")),
                user=str(entry.get("user", "")),
            )
        )
    return out


# -- handlers -----------------------------------------------------------------------


def _safe_url(url: str) -> str:
    """A broker URL without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


async def _presence_count(hub: Hub, channel: str) -> int | None:
    try:
        return len(await asyncio.wait_for(hub.presence(channel), PRESENCE_TIMEOUT))
    except (RelevoError, TimeoutError, OSError):
        return None


async def overview(request: Request) -> Response:
    """Connections, channels, counters and recent errors of this node."""
    hub: Hub = request.app.state.hub
    now = hub.clock.now()
    mono = hub.now()
    sessions = sorted(hub.sessions, key=lambda s: s.client)
    connections: list[dict[str, Any]] = [
        {
            "client": s.client,
            "user": s.identity.user,
            "roles": sorted(s.identity.roles),
            "tenant": s.identity.tenant,
            "transport": s.transport.kind,
            "remote": s.transport.remote,
            "state": s.state.value,
            "channels": sorted(s.subs),
            "idle": round(max(0.0, mono - s.last_seen), 1),
        }
        for s in sessions
    ]
    names = sorted(hub.channel_names())
    tracked = [ch for ch in names if hub.permissions.join_leave(ch)][:PRESENCE_CHANNELS]
    counts = await asyncio.gather(*(_presence_count(hub, ch) for ch in tracked))
    presence = dict(zip(tracked, counts, strict=True))
    channels = [
        {
            "name": ch,
            "subscribers": hub.subscriber_count(ch),
            "presence": presence.get(ch),
            "tracked": hub.permissions.join_leave(ch),
        }
        for ch in names
    ]
    counters = _counters(hub)
    body = {
        "node": hub.node,
        "version": __version__,
        "now": now,
        "broker": _safe_url(hub.settings.broker.url),
        "totals": {
            "connections": len(connections),
            "users": len({c["user"] for c in connections if c["user"]}),
            "channels": len(channels),
            "subscriptions": sum(len(c["channels"]) for c in connections),
        },
        "counters": counters,
        "connections": connections,
        "channels": channels,
        "recent_errors": [_record(e) for e in _recent_errors(hub)],
    }
    return json_response(body)


def _record(e: ErrorRecord) -> dict[str, Any]:
    return {
        "ts": e.ts,
        "code": e.code,
        "kind": e.kind,
        "message": e.message,
        "client": e.client,
        "user": e.user,
    }


async def presence(request: Request) -> Response:
    """Who is in a channel (presence is tracked where the namespace has join_leave)."""
    hub: Hub = request.app.state.hub
    channel = frames.validate_channel(request.path_params["channel"])
    if not hub.permissions.join_leave(channel):
        return json_response({"channel": channel, "tracked": False, "clients": []})
    try:
        clients = await asyncio.wait_for(hub.presence(channel), 5.0)
    except TimeoutError:
        raise Unavailable("presence did not answer in time") from None
    return json_response(
        {
            "channel": channel,
            "tracked": True,
            "clients": [{"client": c.client, "user": c.user, "info": c.info} for c in clients],
        }
    )


class DisconnectBody(msgspec.Struct, forbid_unknown_fields=True):
    client: str = ""
    user: str = ""


async def disconnect(request: Request) -> Response:
    """Close one connection of this node (``client``) or every connection of a
    user on every node (``user``)."""
    body: DisconnectBody = await read_api_body(request, DisconnectBody)
    hub: Hub = request.app.state.hub
    if bool(body.client) == bool(body.user):
        raise ProtocolError("give exactly one of client or user")
    if body.user:
        await hub.disconnect_user(body.user)
        return json_response({"user": body.user})
    for session in hub.sessions:
        if session.client == body.client:
            hub.disconnect(session, DisconnectCode.FORCED, "disconnected by an administrator")
            return json_response({"client": body.client})
    raise NotFound(f"no connection {body.client!r} on this node")


def admin_routes() -> list[Route]:
    return [
        Route("/api/admin/overview", _admin(overview), methods=["GET"]),
        Route("/api/admin/presence/{channel:path}", _admin(presence), methods=["GET"]),
        Route("/api/admin/disconnect", _admin(disconnect), methods=["POST"]),
    ]
