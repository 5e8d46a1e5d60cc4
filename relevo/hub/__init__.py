"""Sessions, channel index, fan-out, permissions, presence, limits."""

from relevo.hub.auth import Identity, TokenVerifier, mint_token
from relevo.hub.hub import Hub
from relevo.hub.session import Session, Transport

__all__ = ["Hub", "Identity", "Session", "TokenVerifier", "Transport", "mint_token"]
