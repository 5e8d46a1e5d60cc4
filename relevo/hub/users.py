"""Who is connected on this node, by user: the index of named sessions, the
listeners of a user's first and last connection, and the disconnects that
cross nodes (a user disconnected by the API, sign-in sessions ended) through
the broker's control channel."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

import msgspec

from relevo.broker.base import Broker
from relevo.clock import Clock
from relevo.hub._tasks import Background
from relevo.hub.auth import Identity, TokenVerifier
from relevo.hub.fanout import CONTROL_CHANNEL
from relevo.hub.session import Session
from relevo.protocol.errors import DisconnectCode

__all__ = ["ENDED_SESSION_MEMORY", "UserListener", "Users"]

UserListener = Callable[[str], Awaitable[None] | None]
#: How long ended sign-in sessions are remembered when the caller does not
#: say when their tokens expire (the longest token a session mints, and more).
ENDED_SESSION_MEMORY = 3600.0

Disconnect = Callable[[Session, DisconnectCode, str], None]


class Users:
    def __init__(
        self,
        broker: Broker,
        verifier: TokenVerifier,
        clock: Clock,
        background: Background,
        disconnect: Disconnect,
    ) -> None:
        self.broker = broker
        self.verifier = verifier
        self.clock = clock
        self.background = background
        self.disconnect = disconnect
        self.sessions: dict[str, set[Session]] = {}
        self.join_listeners: list[UserListener] = []
        self.leave_listeners: list[UserListener] = []
        self._json = msgspec.json.Encoder()

    def online(self, user: str) -> bool:
        return bool(self.sessions.get(user))

    def add(self, session: Session, user: str) -> None:
        """``session`` is now ``user``'s; the first one calls the join listeners."""
        sessions = self.sessions.setdefault(user, set())
        first = not sessions
        sessions.add(session)
        if first:
            self._notify(self.join_listeners, user)

    def remove(self, session: Session, user: str) -> None:
        """``session`` of ``user`` closed; the last one calls the leave listeners."""
        sessions = self.sessions.get(user)
        if sessions is None:
            return
        sessions.discard(session)
        if not sessions:
            del self.sessions[user]
            self._notify(self.leave_listeners, user)

    def _notify(self, listeners: list[UserListener], user: str) -> None:
        for listener in listeners:
            result = listener(user)
            if result is not None:
                self.background.spawn(result)

    # -- disconnects across nodes ----------------------------------------------

    async def disconnect_user(self, user: str) -> None:
        """Close every connection of ``user`` on every node."""
        await self.broker.publish_push(
            CONTROL_CHANNEL, "disconnect", self._json.encode({"user": user})
        )

    async def end_sessions(
        self, sids: Iterable[str], tokens_expire_by: float | None = None
    ) -> None:
        """End sign-in sessions on every node: their tokens (``sid`` claim)
        are refused from now until ``tokens_expire_by`` (epoch seconds), and
        every connection opened with one is cut (``unauthorized``, no
        reconnect). Applied here at once, then on the other nodes through
        the broker's control channel."""
        ended = sorted(set(sids))
        if not ended:
            return
        until = tokens_expire_by or self.clock.now() + ENDED_SESSION_MEMORY
        self._end_sessions(ended, until)
        await self.broker.publish_push(
            CONTROL_CHANNEL, "end_sessions", self._json.encode({"sids": ended, "until": until})
        )

    def _end_sessions(self, sids: list[str], until: float) -> None:
        self.verifier.end_sessions(sids, until)
        ended = set(sids)
        self.disconnect_where(
            lambda identity: identity.claims.get("sid") in ended,
            DisconnectCode.UNAUTHORIZED,
            "the session has ended; sign in again",
        )

    def disconnect_where(
        self, predicate: Callable[[Identity], bool], code: DisconnectCode, message: str
    ) -> int:
        """Disconnect this node's sessions whose identity ``predicate``
        accepts; how many."""
        cut = 0
        for sessions in list(self.sessions.values()):
            for session in list(sessions):
                if predicate(session.identity):
                    self.disconnect(session, code, message)
                    cut += 1
        return cut

    def on_control(self, event: str, data: bytes) -> None:
        """A control message from any node (this one included)."""
        if event == "disconnect":
            user = msgspec.json.decode(data).get("user")
            for session in list(self.sessions.get(str(user), ())):
                self.disconnect(session, DisconnectCode.FORCED, "disconnected by the server")
        elif event == "end_sessions":
            body = msgspec.json.decode(data)
            sids = body.get("sids") if isinstance(body, dict) else None
            until = body.get("until") if isinstance(body, dict) else None
            if isinstance(sids, list) and isinstance(until, int | float):
                self._end_sessions([str(s) for s in sids], float(until))
