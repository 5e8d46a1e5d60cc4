"""The one request-body reader: a body is never read past its cap.

A ``Content-Length`` over the cap is refused before a byte of the body is
read; a chunked body is streamed and cut off as soon as it passes the cap.
Either way the answer is ``413 too_large`` and the server has held at most
``limit`` bytes of it (uvicorn stops reading the socket while the app does
not consume, so nothing else buffers the rest)."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec
from starlette.requests import Request

from relevo.protocol.errors import ErrorCode, ProtocolError, RelevoError

__all__ = ["DEFAULT_LIMIT", "TooLarge", "read_body", "read_json", "read_struct"]

DEFAULT_LIMIT = 65_536
#: JSON nested deeper than this is refused before msgspec recurses into it.
MAX_DEPTH = 64

T = TypeVar("T")
_decode_object = msgspec.json.Decoder(dict[str, Any])
_struct_decoders: dict[type[Any], msgspec.json.Decoder[Any]] = {}


class TooLarge(RelevoError):
    code = ErrorCode.TOO_LARGE
    status = 413


async def read_body(request: Request, limit: int = DEFAULT_LIMIT) -> bytes:
    """The raw body, at most ``limit`` bytes, else :class:`TooLarge`."""
    announced = request.headers.get("content-length")
    if announced is not None:
        if not announced.isdigit():
            raise ProtocolError("Content-Length must be a number of bytes")
        if int(announced) > limit:
            raise TooLarge(f"body over {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise TooLarge(f"body over {limit} bytes")
    return bytes(body)


def _too_deep(raw: bytes) -> bool:
    if raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:
        return False
    # A cheap upper bound of the nesting: brackets inside strings count too,
    # which only ever over-counts, so a legit body near the limit may be
    # refused but a deep one never gets through.
    depth = 0
    for byte in raw:
        if byte in b"[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif byte in b"]}":
            depth -= 1
    return False


def _decode(raw: bytes, decoder: Any, what: str) -> Any:
    if _too_deep(raw):
        raise ProtocolError(f"the body is nested deeper than {MAX_DEPTH} levels")
    try:
        return decoder.decode(raw)
    except (msgspec.DecodeError, RecursionError) as exc:
        raise ProtocolError(f"the body must be {what}: {exc}") from None


async def read_json(request: Request, limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
    """The body as a JSON object, at most ``limit`` bytes (empty body: ``{}``)."""
    raw = await read_body(request, limit)
    if not raw.strip():
        return {}
    result: dict[str, Any] = _decode(raw, _decode_object, "a JSON object")
    return result


async def read_struct(request: Request, cls: type[T], limit: int = DEFAULT_LIMIT) -> T:
    """The body decoded as ``cls`` (a msgspec Struct), at most ``limit`` bytes."""
    raw = await read_body(request, limit)
    decoder = _struct_decoders.get(cls)
    if decoder is None:
        decoder = _struct_decoders[cls] = msgspec.json.Decoder(cls)
    result: T = _decode(raw, decoder, "valid JSON")
    return result
