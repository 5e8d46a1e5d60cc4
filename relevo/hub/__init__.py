"""Sessions, channel index, fan-out, permissions, presence, liveness.

``Hub`` (hub.py) is the facade; ``fanout``, ``subscriptions`` and
``liveness`` hold its parts; ``Transport`` is what it needs of a connection;
``Background`` runs fire-and-forget tasks (the hub's, and the apps').
"""

from relevo.hub._tasks import Background
from relevo.hub.auth import Identity, TokenVerifier, mint_token
from relevo.hub.hub import Hub
from relevo.hub.session import Session
from relevo.hub.transport import Transport

__all__ = ["Background", "Hub", "Identity", "Session", "TokenVerifier", "Transport", "mint_token"]
