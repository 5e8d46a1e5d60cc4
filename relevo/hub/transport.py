"""What the hub needs from a connection's transport: a byte sink and a way to
end it. WebSocket, SSE and the HTTP command endpoint implement it
(``relevo/transport/``, ``relevo/server/api.py``); the hub never knows which.

Formatting is not the transport's business either: the hub frames what it
writes with the transport's :class:`~relevo.protocol.framing.Framing`
(sans-I/O, in ``protocol/``), so the fan-out can frame a channel's frames
once and hand the same bytes to every transport sharing that framing.
"""

from __future__ import annotations

from typing import Protocol

from relevo.protocol.errors import Disconnect
from relevo.protocol.framing import Framing

__all__ = ["Transport"]


class Transport(Protocol):
    kind: str
    """``ws``, ``sse``, ``http``: a metrics label, shown on ``/api/info``."""
    remote: str
    """The peer's address, for the admin page and logs."""

    @property
    def framing(self) -> Framing:
        """How this transport's wire carries frames."""

    def write(self, data: bytes) -> None:
        """Write bytes already in :attr:`framing` (one frame or several,
        joined). Never blocks: a peer that does not drain is the transport's
        to notice, and to disconnect (``slow_consumer``) after the current
        pass of the event loop, never inside this call."""

    def close(self, disconnect: Disconnect) -> None:
        """Tell the client why (a ``disconnect`` frame), then close."""
