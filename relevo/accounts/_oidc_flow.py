"""The single sign-on flow's cookie: ``state``, ``nonce``, the PKCE verifier
and where to go next, as URL-safe JSON with an HMAC-SHA256 over it (the key
derived from ``auth.secret``), so any node can finish a flow another began
and nobody can forge or alter one. It expires on its own ``exp``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

__all__ = ["b64", "seal", "unseal"]

MAX_SEALED = 4096


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def seal(key: bytes, flow: dict[str, Any]) -> str:
    body = b64(json.dumps(flow, separators=(",", ":")).encode())
    return f"{body}.{b64(hmac.new(key, body.encode(), hashlib.sha256).digest())}"


def unseal(key: bytes, sealed: str, *, now: float) -> dict[str, Any] | None:
    """The flow, or ``None`` if it is missing, forged, altered or expired."""
    if not sealed or len(sealed) > MAX_SEALED or "." not in sealed:
        return None
    body, mac = sealed.rsplit(".", 1)
    want = b64(hmac.new(key, body.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(mac.encode(), want.encode()):
        return None
    try:
        flow = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except ValueError:
        return None
    if not isinstance(flow, dict) or int(flow.get("exp", 0)) < now:
        return None
    return flow
