"""Wire protocol v1, sans-I/O: client frames in, server frame bytes out."""

from relevo.protocol.errors import DisconnectCode, ErrorCode, RelevoError
from relevo.protocol.types import ClientInfo, Publication, StreamPosition

__all__ = [
    "ClientInfo",
    "DisconnectCode",
    "ErrorCode",
    "Publication",
    "RelevoError",
    "StreamPosition",
]
