"""Errors the apps raise: relevo's stable codes and English ``message``, plus
``mensaje``, the Spanish sentence a screen shows as is, and any fields the
pages read (``field``, ``holder``, ``retry_after``...)::

    {"code": "conflict", "message": "item 7 is pendiente; d needs v first",
     "retry": false, "mensaje": "El vendedor aún no marcó V en este producto."}

Each helper returns the records/protocol error of that code, so the HTTP
status and ``retry`` come from it:

    bad_request    ProtocolError     400
    forbidden      PermissionDenied  403
    not_found      NotFound          404
    conflict       Conflict          409  a state that does not allow it
    locked         Locked            423  ``holder`` has it
    rate_limited   LimitExceeded     429  ``retry_after`` seconds
"""

from __future__ import annotations

from typing import Any, TypeVar

from relevo.protocol.errors import (
    Conflict,
    ErrorCode,
    LimitExceeded,
    Locked,
    NotFound,
    PermissionDenied,
    ProtocolError,
    RelevoError,
)

__all__ = [
    "bad_request",
    "conflict",
    "forbidden",
    "locked",
    "not_found",
    "rate_limited",
    "with_extra",
]

E = TypeVar("E", bound=RelevoError)


def with_extra(exc: E, mensaje: str | None = None, **extra: Any) -> E:
    """``exc`` with fields added to its error body (``mensaje`` among them
    when given); fields it had already stay unless named again."""
    merged: dict[str, Any] = dict(exc.extra)
    if mensaje is not None:
        merged["mensaje"] = mensaje
    merged.update(extra)
    exc.extra = merged
    return exc


def bad_request(message: str, mensaje: str | None = None, **extra: Any) -> ProtocolError:
    return with_extra(ProtocolError(message), mensaje, **extra)


def forbidden(message: str, mensaje: str | None = None, **extra: Any) -> PermissionDenied:
    return with_extra(PermissionDenied(message), mensaje, **extra)


def not_found(message: str, mensaje: str | None = None, **extra: Any) -> NotFound:
    return with_extra(NotFound(message), mensaje, **extra)


def conflict(message: str, mensaje: str | None = None, **extra: Any) -> Conflict:
    return with_extra(Conflict(message), mensaje, **extra)


def locked(message: str, mensaje: str, *, holder: str) -> Locked:
    return with_extra(Locked(message, holder=holder), mensaje)


def rate_limited(message: str, mensaje: str, retry_after: float) -> LimitExceeded:
    """Answered with ``Retry-After`` (whole seconds, at least 1)."""
    exc = LimitExceeded(message, code=ErrorCode.RATE_LIMITED)
    return with_extra(exc, mensaje, retry_after=round(retry_after, 1))
