"""JSON responses, and the one shape of an error body:
``{"code", "message", "retry", ...extra}`` with the code's HTTP status."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.responses import Response

from relevo.protocol.errors import RelevoError

__all__ = ["error_response", "json_response"]

_json = msgspec.json.Encoder()


def json_response(body: Any, status: int = 200) -> Response:
    return Response(_json.encode(body), status_code=status, media_type="application/json")


def error_response(exc: RelevoError) -> Response:
    body: dict[str, Any] = {"code": str(exc.code), "message": exc.message, "retry": exc.retry}
    body.update(exc.extra)
    return json_response(body, exc.status)
