"""Liveness: the ping/pong sweep over this node's sessions (with the presence
refresh that rides on it) and each session's token-expiry timer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection

from relevo.broker.base import PresenceStore
from relevo.clock import Clock
from relevo.hub.fanout import Disconnector
from relevo.hub.permissions import Permissions
from relevo.hub.session import Session
from relevo.protocol.errors import DisconnectCode, Unavailable
from relevo.protocol.types import ClientInfo
from relevo.settings import Settings

__all__ = ["Liveness"]

log = logging.getLogger("relevo.hub")

_MAX_TIMER = 86400.0


class Liveness:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        presence: PresenceStore,
        permissions: Permissions,
        sessions: Collection[Session],
        disconnect: Disconnector,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.presence = presence
        self.permissions = permissions
        self.sessions = sessions  # the hub's own set, read at each sweep
        self.disconnect = disconnect
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._tick())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    # -- the sweep ------------------------------------------------------------------

    async def _tick(self) -> None:
        live = self.settings.liveness
        step = max(0.2, min(live.ping_interval, live.pong_timeout) / 4)
        while True:
            await self.clock.sleep(step)
            try:
                await self.sweep()
            except Exception:
                log.exception("liveness sweep failed")

    async def sweep(self) -> None:
        """Ping idle peers, close dead ones, refresh presence."""
        live = self.settings.liveness
        now = self.clock.monotonic()
        refresh: list[tuple[str, ClientInfo]] = []
        for session in list(self.sessions):
            if now - session.last_seen > live.ping_interval + live.pong_timeout:
                self.disconnect(session, DisconnectCode.NO_PONG, "no pong in time")
                continue
            if now - session.last_ping >= live.ping_interval:
                session.last_ping = now
                transport = session.transport
                if transport.framing.ping:
                    transport.write(transport.framing.ping)
            if session.identity.user and now - session.presence_refreshed >= live.presence_ttl / 3:
                session.presence_refreshed = now
                for ch in session.subs:
                    if self.permissions.join_leave(ch):
                        refresh.append((ch, session.info()))
        failed = 0
        for ch, info in refresh:
            try:
                await self.presence.add_presence(ch, info, live.presence_ttl)
            except Unavailable:
                failed += 1
        if failed:
            log.warning("presence refresh failed for %d entries: broker unavailable", failed)

    # -- token expiry -----------------------------------------------------------------

    def arm_expiry(self, session: Session) -> None:
        """(Re)start the timer that disconnects the session when its token expires."""
        self.disarm(session)
        exp = session.identity.expires
        if exp is None:
            return
        # Capped: a far-off exp re-arms later instead of overflowing the loop's timer.
        delay = min(_MAX_TIMER, max(0.0, exp + self.settings.auth.leeway - self.clock.now()))
        session.expire_handle = self.clock.call_later(delay, lambda: self._expire(session))

    def disarm(self, session: Session) -> None:
        if session.expire_handle is not None:
            session.expire_handle.cancel()
            session.expire_handle = None

    def _expire(self, session: Session) -> None:
        session.expire_handle = None
        exp = session.identity.expires
        if exp is not None and exp + self.settings.auth.leeway <= self.clock.now() + 0.001:
            self.disconnect(session, DisconnectCode.TOKEN_EXPIRED, "token expired; refresh it")
        else:
            self.arm_expiry(session)
