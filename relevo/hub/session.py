"""One client connection as the hub sees it: identity, subscriptions, limits,
and the ordered queue of its commands. Transport-agnostic."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING, Protocol

from relevo.hub.auth import ANONYMOUS, Identity
from relevo.protocol.errors import RelevoError
from relevo.protocol.types import Publication, StreamPosition

if TYPE_CHECKING:
    from relevo.hub.hub import Hub

__all__ = ["InvalidState", "Session", "SessionState", "Transport"]


class Transport(Protocol):
    """What the hub needs from a connection's transport (WebSocket, SSE)."""

    kind: str
    remote: str

    def send(self, payload: bytes) -> None:
        """Write one JSON server frame."""

    def raw_writer(self) -> Callable[[bytes], None] | None:
        """A function writing pre-framed bytes (the fan-out fast path), if the
        transport has one; ``None`` makes the hub call :meth:`deliver` instead."""

    def deliver(self, pub: Publication, payload: bytes) -> None:
        """Write one publication (``payload`` is its JSON)."""

    def subscribed(
        self,
        frame_id: int | str | None,
        channel: str,
        position: StreamPosition,
        recovered: bool | None,
        missed: list[Publication],
    ) -> None:
        """Write the reply to a subscribe (and its missed publications)."""

    def ping(self) -> None:
        """Send a keep-alive."""

    def close(self, code: str, reconnect: bool, message: str = "") -> None:
        """Say why, then close."""


class SessionState(Enum):
    OPEN = "open"  # transport up, no connect yet (anonymous)
    CONNECTED = "connected"  # authenticated
    CLOSED = "closed"


class InvalidState(RelevoError):
    """An operation on a session in a state that does not allow it."""


_TRANSITIONS = {
    SessionState.OPEN: {SessionState.CONNECTED, SessionState.CLOSED},
    SessionState.CONNECTED: {SessionState.CLOSED},
    SessionState.CLOSED: set[SessionState](),
}


class Session:
    __slots__ = (
        "__weakref__",
        "client",
        "expire_handle",
        "hub",
        "identity",
        "last_ping",
        "last_seen",
        "pending",
        "presence_refreshed",
        "runner",
        "state",
        "strikes",
        "subs",
        "tokens",
        "tokens_at",
        "transport",
    )

    def __init__(self, hub: Hub, transport: Transport, client: str, now: float) -> None:
        self.hub = hub
        self.transport = transport
        self.client = client
        self.identity: Identity = ANONYMOUS
        self.state = SessionState.OPEN
        self.subs: set[str] = set()
        self.tokens = float(hub.settings.limits.command_burst)
        self.tokens_at = now
        self.strikes = 0
        self.last_seen = now
        self.last_ping = now
        self.presence_refreshed = now
        self.pending: deque[bytes] | None = None
        self.runner: asyncio.Task[None] | None = None
        self.expire_handle: asyncio.TimerHandle | None = None

    def __repr__(self) -> str:
        return f"<Session {self.client} user={self.identity.user!r} {self.state.value}>"

    @property
    def closed(self) -> bool:
        return self.state is SessionState.CLOSED

    def set_state(self, new: SessionState) -> None:
        if new not in _TRANSITIONS[self.state]:
            raise InvalidState(f"session cannot go from {self.state.value} to {new.value}")
        self.state = new

    def take_token(self, now: float) -> bool:
        """Token bucket: may this connection run one more command now?"""
        limits = self.hub.settings.limits
        self.tokens = min(
            float(limits.command_burst),
            self.tokens + (now - self.tokens_at) * limits.commands_per_second,
        )
        self.tokens_at = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True

    def receive(self, text: bytes) -> None:
        """A complete text frame from the client. Commands run one after the
        other, in arrival order; an idle session holds no task."""
        self.last_seen = self.hub.now()
        if self.pending is None:
            self.pending = deque()
        self.pending.append(text)
        if len(self.pending) > max(64, 2 * self.hub.settings.limits.command_burst):
            self.hub.flooded(self)
            return
        if self.runner is None:
            self.runner = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        try:
            while self.pending and not self.closed:
                await self.hub.handle_frame(self, self.pending.popleft())
        finally:
            self.runner = None
            self.pending = None
