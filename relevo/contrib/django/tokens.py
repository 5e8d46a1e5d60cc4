"""From a Django user to a relevo JWT: ``sub`` (the user's pk unless
``RELEVO_CLAIMS`` says otherwise), ``roles`` from the user's groups,
``tenant``, any extra claims, and an ``exp`` ``RELEVO_TOKEN_TTL`` seconds on."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import jwt
from django.core.exceptions import ImproperlyConfigured, PermissionDenied

from relevo.contrib.django.conf import RelevoConf, conf

__all__ = ["RESERVED_CLAIMS", "claims_for", "mint_for"]

#: Claims the settings own; ``RELEVO_CLAIMS`` may not set them.
RESERVED_CLAIMS = frozenset({"roles", "tenant", "exp", "iat", "nbf", "aud", "iss"})


def _roles(user: Any, c: RelevoConf) -> list[str]:
    if callable(c.roles):
        found = c.roles(user)
    else:
        mapping: Mapping[str, Any] = c.roles
        found = []
        for group in user.groups.values_list("name", flat=True):
            role = mapping.get(group)
            found.extend([role] if isinstance(role, str) else list(role or ()))
    roles = sorted({str(r) for r in found if r})
    return roles


def claims_for(user: Any) -> dict[str, Any]:
    """The claims of ``user``'s token; ``PermissionDenied`` when relevo is not
    for them (inactive, or no role while ``RELEVO_ALLOW_NO_ROLE`` is off, or
    a mapping callable that raised it)."""
    c = conf()
    if not getattr(user, "is_authenticated", False):
        raise PermissionDenied("not signed in")
    if not getattr(user, "is_active", True):
        raise PermissionDenied("inactive user")
    roles = _roles(user, c)
    if not roles and not c.allow_no_role:
        raise PermissionDenied("no relevo role for this user")
    claims: dict[str, Any] = {"sub": str(user.pk), "roles": roles}
    tenant = c.tenant(user) if callable(c.tenant) else c.tenant
    if tenant:
        claims["tenant"] = str(tenant)
    if c.claims is not None:
        extra = c.claims(user) or {}
        clash = RESERVED_CLAIMS & set(extra)
        if clash:
            raise ImproperlyConfigured(f"RELEVO_CLAIMS may not set {sorted(clash)}")
        claims.update(extra)
    if not isinstance(claims["sub"], str) or not 0 < len(claims["sub"]) <= 255:
        raise ImproperlyConfigured("the sub claim must be a string of 1 to 255 characters")
    return claims


def mint_for(user: Any, *, now: float | None = None) -> tuple[str, int]:
    """A signed token for ``user`` and its expiry (seconds since the epoch)."""
    c = conf()
    key = c.signing_key()
    if not key:
        raise ImproperlyConfigured(
            "RELEVO_TOKEN_SECRET (HS256) or RELEVO_TOKEN_PRIVATE_KEY is needed to mint tokens"
        )
    claims = claims_for(user)
    issued = int(time.time() if now is None else now)
    claims["iat"] = issued
    claims["exp"] = issued + c.token_ttl
    if c.token_audience:
        claims["aud"] = c.token_audience
    if c.token_issuer:
        claims["iss"] = c.token_issuer
    return jwt.encode(claims, key, algorithm=c.token_algorithm), claims["exp"]
