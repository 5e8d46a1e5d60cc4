"""Stable error codes and the single exception root of relevo.

Exception tree::

    RelevoError                 carries a stable ``code``, a message and ``retry``
    ├── ProtocolError           a client frame that cannot be understood
    ├── AuthError               missing / forged / expired credentials
    ├── PermissionDenied        authenticated, but not allowed
    ├── LimitExceeded           a configured limit or rate was hit
    ├── NotFound                the thing asked for does not exist
    ├── Conflict                a concurrent change won (records layer)
    ├── Locked                  another user holds the record's lease (records layer)
    │   └── StaleFencingToken   a write presented a fencing token a newer grant replaced
    └── Unavailable             a backing service (broker, database) is down

Every error sent to a client is ``{"id": n, "err": {"code": ..., "message": ...}}``;
a disconnect says whether the client should reconnect.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = [
    "AuthError",
    "Conflict",
    "Disconnect",
    "DisconnectCode",
    "ErrorCode",
    "LimitExceeded",
    "Locked",
    "NotFound",
    "PermissionDenied",
    "ProtocolError",
    "RelevoError",
    "StaleFencingToken",
    "Unavailable",
]


class ErrorCode(StrEnum):
    BAD_REQUEST = "bad_request"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    TOO_LARGE = "too_large"
    RATE_LIMITED = "rate_limited"
    LIMIT_EXCEEDED = "limit_exceeded"
    SLOW_CONSUMER = "slow_consumer"
    TOKEN_EXPIRED = "token_expired"
    UNAVAILABLE = "unavailable"
    INTERNAL = "internal"
    CONFLICT = "conflict"
    LOCKED = "locked"


#: The HTTP status that goes with each code.
HTTP_STATUS = {
    ErrorCode.BAD_REQUEST: 400,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.TOO_LARGE: 413,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.LIMIT_EXCEEDED: 429,
    ErrorCode.SLOW_CONSUMER: 429,
    ErrorCode.TOKEN_EXPIRED: 401,
    ErrorCode.UNAVAILABLE: 503,
    ErrorCode.INTERNAL: 500,
    ErrorCode.CONFLICT: 409,
    ErrorCode.LOCKED: 423,
}

#: Codes a client may retry the same request after (possibly after a delay).
RETRYABLE = frozenset({ErrorCode.RATE_LIMITED, ErrorCode.UNAVAILABLE, ErrorCode.INTERNAL})


class DisconnectCode(StrEnum):
    """Why the server closed a connection; ``RECONNECT`` says whether to come back."""

    TOKEN_EXPIRED = "token_expired"
    SLOW_CONSUMER = "slow_consumer"
    UNAUTHORIZED = "unauthorized"
    FORCED = "forced"
    SHUTDOWN = "shutdown"
    NO_PONG = "no_pong"
    PROTOCOL = "bad_request"
    RATE_LIMITED = "rate_limited"
    RESUBSCRIBE = "resubscribe"


RECONNECT = {
    DisconnectCode.TOKEN_EXPIRED: True,
    DisconnectCode.SLOW_CONSUMER: True,
    DisconnectCode.UNAUTHORIZED: False,
    DisconnectCode.FORCED: False,
    DisconnectCode.SHUTDOWN: True,
    DisconnectCode.NO_PONG: True,
    DisconnectCode.PROTOCOL: False,
    DisconnectCode.RATE_LIMITED: True,
    DisconnectCode.RESUBSCRIBE: True,
}


@dataclass(frozen=True, slots=True)
class Disconnect:
    """Why the server ends a connection, and whether the client should come back.
    ``code`` is a :class:`DisconnectCode`, or an :class:`ErrorCode` for a
    connection refused before it had a session (a bad token in the URL)."""

    code: str
    reconnect: bool
    message: str = ""

    @classmethod
    def of(cls, code: DisconnectCode, message: str = "") -> Disconnect:
        return cls(str(code), RECONNECT[code], message)


class RelevoError(Exception):
    """Root of every error relevo raises on purpose."""

    code: ErrorCode = ErrorCode.INTERNAL
    status: int = 500
    extra: dict[str, Any]
    """Fields added to the error body beside code/message/retry (``holder``,
    a Spanish ``mensaje``, the ``field`` at fault): never record data on a denial."""
    frame_id: int | str | None
    """The ``id`` of the client frame being answered, when it could be read."""

    def __init__(
        self,
        message: str,
        *,
        code: ErrorCode | None = None,
        extra: Mapping[str, Any] | None = None,
        frame_id: int | str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.extra = dict(extra or {})
        self.frame_id = frame_id
        if code is not None:
            self.code = code
            self.status = HTTP_STATUS.get(code, self.status)

    @property
    def retry(self) -> bool:
        return self.code in RETRYABLE


class ProtocolError(RelevoError):
    code = ErrorCode.BAD_REQUEST
    status = 400


class AuthError(RelevoError):
    code = ErrorCode.UNAUTHORIZED
    status = 401


class PermissionDenied(RelevoError):
    code = ErrorCode.FORBIDDEN
    status = 403


class LimitExceeded(RelevoError):
    code = ErrorCode.LIMIT_EXCEEDED
    status = 429


class NotFound(RelevoError):
    code = ErrorCode.NOT_FOUND
    status = 404


class Conflict(RelevoError):
    code = ErrorCode.CONFLICT
    status = 409


class Locked(RelevoError):
    """The record is leased to someone else; ``holder`` says who (``None`` when
    the lease the caller relied on has expired and nobody holds it now)."""

    code = ErrorCode.LOCKED
    status = 423

    def __init__(self, message: str, *, holder: str | None, expires_at: float | None = None):
        super().__init__(message, extra={"holder": holder})
        self.holder = holder
        if expires_at is not None:
            self.extra["expires_at"] = expires_at


class StaleFencingToken(Locked):
    """A write carried a fencing token older than the record's current grant:
    its writer stalled past its lease, and someone else may have written since."""


class Unavailable(RelevoError):
    code = ErrorCode.UNAVAILABLE
    status = 503
