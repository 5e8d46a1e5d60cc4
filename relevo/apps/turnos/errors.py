"""The turnero's errors: relevo's stable codes, plus a Spanish ``mensaje``.

The API speaks English (``message``); the screens show ``mensaje`` as is, so
an operator reads "La Mesa 9 no existe" rather than a code. Each class is a
subclass of the records/protocol error with the same code and HTTP status::

    NoExiste(NotFound)          404 not_found
    NoPermitido(Conflict)       409 conflict      a state that does not allow it
    Ocupada(Locked)             423 locked        the mesa is open by another operator
    Invalido(ProtocolError)     400 bad_request
    SinPermiso(PermissionDenied) 403 forbidden
    Limitado(LimitExceeded)     429 rate_limited  (retry after ``retry_after`` s)
"""

from __future__ import annotations

from typing import Any

from relevo.protocol.errors import (
    Conflict,
    ErrorCode,
    LimitExceeded,
    Locked,
    NotFound,
    PermissionDenied,
    ProtocolError,
)

__all__ = ["Invalido", "Limitado", "NoExiste", "NoPermitido", "Ocupada", "SinPermiso"]


class _Mensaje:
    extra: dict[str, Any]

    def _set(self, mensaje: str, extra: dict[str, Any]) -> None:
        self.mensaje = mensaje
        self.extra = {"mensaje": mensaje, **extra}


class NoExiste(NotFound, _Mensaje):
    def __init__(self, message: str, mensaje: str, **extra: Any) -> None:
        super().__init__(message)
        self._set(mensaje, extra)


class NoPermitido(Conflict, _Mensaje):
    def __init__(self, message: str, mensaje: str, **extra: Any) -> None:
        super().__init__(message)
        self._set(mensaje, extra)


class Ocupada(Locked, _Mensaje):
    def __init__(self, message: str, mensaje: str, *, holder: str) -> None:
        super().__init__(message, holder=holder)
        self._set(mensaje, {"holder": holder})


class Invalido(ProtocolError, _Mensaje):
    def __init__(self, message: str, mensaje: str, **extra: Any) -> None:
        super().__init__(message)
        self._set(mensaje, extra)


class SinPermiso(PermissionDenied, _Mensaje):
    def __init__(self, message: str, mensaje: str, **extra: Any) -> None:
        super().__init__(message)
        self._set(mensaje, extra)


class Limitado(LimitExceeded, _Mensaje):
    code = ErrorCode.RATE_LIMITED

    def __init__(self, message: str, mensaje: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self._set(mensaje, {"retry_after": round(retry_after, 1)})
