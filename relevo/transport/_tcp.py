"""Whether a TCP peer takes what it is sent, as the kernel knows it.

A server cannot tell a peer that vanished without a FIN (a laptop closed, a
NAT entry dropped) from a quiet one by writing to it: the kernel accepts the
bytes and retransmits them for a quarter of an hour. It can tell by asking
whether the peer acknowledged them.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import Any

__all__ = ["AckWatch"]

try:
    import fcntl
    import termios

    _SIOCOUTQ: int | None = termios.TIOCOUTQ  # same request number as SIOCOUTQ on Linux
except (ImportError, AttributeError):  # not Linux
    _SIOCOUTQ = None

_TCP_INFO: int | None = getattr(socket, "TCP_INFO", None)
# struct tcp_info (linux/tcp.h): u64 tcpi_bytes_acked at byte 120, since Linux 4.2.
_BYTES_ACKED = struct.Struct("=Q")
_BYTES_ACKED_AT = 120


def _send_queue(sock: Any) -> int | None:
    """Bytes in the kernel's send queue: not yet sent, or sent and not acknowledged."""
    if _SIOCOUTQ is None:
        return None
    try:
        out = fcntl.ioctl(sock.fileno(), _SIOCOUTQ, b"\0\0\0\0")
    except (OSError, ValueError):
        return None
    return int(struct.unpack("=i", out)[0])


def _bytes_acked(sock: Any) -> int | None:
    if _TCP_INFO is None:
        return None
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, _TCP_INFO, 256)
    except (OSError, ValueError):
        return None
    if len(info) < _BYTES_ACKED_AT + _BYTES_ACKED.size:
        return None  # a kernel older than 4.2
    return int(_BYTES_ACKED.unpack_from(info, _BYTES_ACKED_AT)[0])


class AckWatch:
    """Asked once per liveness period: is the peer keeping up?

    Yes when nothing written to it is outstanding, or when it acknowledged
    more since the last time we asked. Where the kernel cannot say (not
    Linux, or before 4.2), only the transport's own buffer is looked at: a
    peer that stops reading is still caught once the kernel's buffer is full.
    """

    __slots__ = ("acked", "transport")

    def __init__(self, transport: asyncio.WriteTransport) -> None:
        self.transport = transport
        self.acked = -1

    def keeping_up(self) -> bool:
        buffered = self.transport.get_write_buffer_size()
        sock = self.transport.get_extra_info("socket")
        queued = None if sock is None else _send_queue(sock)
        if queued is None:
            return buffered == 0
        acked = _bytes_acked(sock)
        if acked is None:
            return buffered == 0
        progressed = acked > self.acked
        self.acked = acked
        return (buffered == 0 and queued == 0) or progressed
