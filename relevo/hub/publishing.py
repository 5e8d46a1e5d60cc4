"""A client's ``pub`` commands: checked, published, answered — without
holding up the commands queued behind them.

A session runs its commands one after the other. On the memory broker a
publish never waits, but on Redis it waits a round trip, so a client that
publishes fast (a backend over WebSocket, a bridge) got at most one
publication per round trip plus two loop passes, and fell behind at ~2,000 a
second. When more commands are queued behind a ``pub`` (or earlier ones are
still out), it is started and the runner goes on: the broker receives the
publishes in the order they were sent (it batches those of one loop pass
into one pipeline), so their offsets keep the client's order, and their
replies go out in that order too. Any other command first waits for the
publishes still out, so every reply keeps the order of its command.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from relevo.hub.permissions import Permissions
from relevo.hub.session import Session
from relevo.protocol import frames
from relevo.protocol.errors import ErrorCode, LimitExceeded, RelevoError
from relevo.protocol.types import Publication
from relevo.settings import Settings

__all__ = ["AHEAD_LIMIT", "ClientPublishes"]

log = logging.getLogger("relevo.hub")

AHEAD_LIMIT = 64
"""Publishes one session may have out at once; the next one waits for room."""

Publish = Callable[..., Awaitable[Publication]]
SendError = Callable[[Session, frames.FrameId, RelevoError], None]


class ClientPublishes:
    def __init__(
        self, settings: Settings, permissions: Permissions, publish: Publish, error: SendError
    ) -> None:
        self.limits = settings.limits
        self.permissions = permissions
        self.publish = publish
        self.send_error = error

    async def run(self, session: Session, cmd: frames.Pub) -> None:
        """Check and publish ``cmd``, and answer it (see the module's docstring)."""
        self.permissions.check_publish(session.identity, cmd.ch)
        data = bytes(cmd.data)
        if len(data) > self.limits.max_publish_bytes:
            raise LimitExceeded("data is too large", code=ErrorCode.TOO_LARGE)
        if not (session.pending or session.ahead):
            pub = await self.publish(cmd.ch, cmd.ev, data, source="client")
            session.send(frames.encode_ok(cmd.id, {"epoch": pub.epoch, "offset": pub.offset}))
            return
        await session.ahead_room(AHEAD_LIMIT)
        session.run_ahead(self._ahead(session, cmd.id, cmd.ch, cmd.ev, data))

    async def _ahead(
        self, session: Session, frame_id: frames.FrameId, channel: str, event: str, data: bytes
    ) -> None:
        try:
            pub = await self.publish(channel, event, data, source="client")
        except RelevoError as exc:
            self.send_error(session, frame_id, exc)
        except Exception:
            log.exception("internal error publishing for %s", session.client)
            self.send_error(session, frame_id, RelevoError("internal error"))
        else:
            session.send(frames.encode_ok(frame_id, {"epoch": pub.epoch, "offset": pub.offset}))
