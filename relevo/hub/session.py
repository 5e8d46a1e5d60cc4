"""One client connection as the hub sees it: identity, subscriptions, limits,
and the ordered queue of its commands. Transport-agnostic; it knows of the
hub only the :class:`SessionContext` it was opened with."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from enum import Enum
from typing import Any

from relevo.clock import Cancellable
from relevo.hub.auth import ANONYMOUS, Identity
from relevo.hub.transport import Transport
from relevo.protocol.errors import RelevoError
from relevo.protocol.types import ClientInfo
from relevo.settings import LimitSettings

__all__ = ["InvalidState", "Session", "SessionContext", "SessionState"]


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


@dataclass(frozen=True, slots=True)
class SessionContext:
    """What a session needs from the hub that opened it (one for all its sessions)."""

    limits: LimitSettings
    clock: Callable[[], float]
    run: Callable[[Session, bytes], Awaitable[None]]
    """Run one command frame of the session, reply included."""
    flooded: Callable[[Session], None]
    """The session queued more commands than it may: disconnect it."""


class Session:
    __slots__ = (
        "__weakref__",
        "ahead",
        "client",
        "context",
        "expire_handle",
        "forwarded",
        "identity",
        "last_ping",
        "last_seen",
        "pending",
        "presence_refreshed",
        "runner",
        "state",
        "strikes",
        "subs",
        "subscribing",
        "tokens",
        "tokens_at",
        "transport",
    )

    def __init__(
        self, context: SessionContext, transport: Transport, client: str, now: float
    ) -> None:
        self.context = context
        self.transport = transport
        self.client = client
        self.identity: Identity = ANONYMOUS
        self.state = SessionState.OPEN
        self.subs: set[str] = set()
        #: Each subscribe in flight, by channel: its own token, so an
        #: unsubscribe (and a new subscribe) meanwhile is seen when it ends.
        self.subscribing: dict[str, object] = {}
        self.tokens = float(context.limits.command_burst)
        self.tokens_at = now
        self.strikes = 0
        self.last_seen = now
        self.last_ping = now
        self.presence_refreshed = now
        self.pending: deque[bytes] | None = None
        self.runner: asyncio.Task[None] | None = None
        #: Publishes started without waiting for each other (relevo.hub.publishing).
        self.ahead: set[asyncio.Task[None]] | None = None
        self.expire_handle: Cancellable | None = None
        #: What of the client's request the connect proxy may be sent
        #: (allow-listed headers and cookies; empty without a connect proxy).
        self.forwarded: tuple[tuple[str, str], ...] = ()

    def __repr__(self) -> str:
        return f"<Session {self.client} user={self.identity.user!r} {self.state.value}>"

    @property
    def closed(self) -> bool:
        return self.state is SessionState.CLOSED

    def set_state(self, new: SessionState) -> None:
        if new not in _TRANSITIONS[self.state]:
            raise InvalidState(f"session cannot go from {self.state.value} to {new.value}")
        self.state = new

    def send(self, payload: bytes) -> None:
        """Write one JSON frame outside any channel's stream (a reply, an
        error); a closed session's transport is written no more."""
        if not self.closed:
            transport = self.transport
            transport.write(transport.framing.frame(payload))

    def info(self) -> ClientInfo:
        """This connection as presence lists it."""
        return ClientInfo(self.client, self.identity.user, {"transport": self.transport.kind})

    def take_token(self, now: float) -> bool:
        """Token bucket: may this connection run one more command now?"""
        limits = self.context.limits
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
        self.last_seen = self.context.clock()
        if self.pending is None:
            self.pending = deque()
        self.pending.append(text)
        if len(self.pending) > max(64, 2 * self.context.limits.command_burst):
            self.context.flooded(self)
            return
        if self.runner is None:
            self.runner = asyncio.get_running_loop().create_task(self._run())

    def run_ahead(self, coro: Coroutine[Any, Any, None]) -> None:
        """Start ``coro`` (a publish and its reply) and let the runner go on."""
        if self.ahead is None:
            self.ahead = set()
        task = asyncio.get_running_loop().create_task(coro)
        self.ahead.add(task)
        task.add_done_callback(self.ahead.discard)

    async def ahead_room(self, limit: int) -> None:
        while self.ahead is not None and len(self.ahead) >= limit:
            await asyncio.wait(self.ahead, return_when=asyncio.FIRST_COMPLETED)

    async def drain_ahead(self) -> None:
        """Wait for the publishes still out: the next reply must come after theirs."""
        if self.ahead:
            await asyncio.wait(self.ahead)

    async def _run(self) -> None:
        try:
            while self.pending and not self.closed:
                await self.context.run(self, self.pending.popleft())
        finally:
            self.runner = None
            self.pending = None
