"""Who is on the other end: JWT verification into an :class:`Identity`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt

from relevo.protocol.errors import AuthError, ErrorCode
from relevo.settings import AuthSettings

__all__ = ["ANONYMOUS", "Identity", "TokenVerifier", "mint_token"]


@dataclass(frozen=True, slots=True)
class Identity:
    user: str
    roles: frozenset[str] = frozenset()
    tenant: str = ""
    expires: int | None = None
    claims: dict[str, Any] = field(default_factory=dict)

    @property
    def anonymous(self) -> bool:
        return not self.user

    def claim(self, name: str) -> str | None:
        if name == "user":
            return self.user or None
        if name == "tenant":
            return self.tenant or None
        value = self.claims.get(name)
        return None if value is None or isinstance(value, dict | list) else str(value)


ANONYMOUS = Identity(user="")


class TokenExpired(AuthError):
    code = ErrorCode.TOKEN_EXPIRED


class TokenVerifier:
    def __init__(self, settings: AuthSettings) -> None:
        self._settings = settings
        self._algorithms = list(settings.algorithms)
        self._keys: dict[str, Any] = {}
        if settings.secret:
            self._keys["HS"] = settings.secret
        if settings.public_key:
            pem = settings.public_key
            if not pem.lstrip().startswith("-----"):
                pem = Path(pem).read_text()
            self._keys["RS"] = self._keys["ES"] = self._keys["PS"] = pem

    def verify(self, token: str) -> Identity:
        if not token:
            raise AuthError("token is required")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthError("token is not a JWT") from None
        alg = str(header.get("alg", ""))
        if alg not in self._algorithms:
            raise AuthError(f"token algorithm {alg or 'none'} is not accepted")
        key = self._keys.get(alg[:2])
        if key is None:
            raise AuthError(f"no key configured for {alg}")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=self._settings.audience or None,
                issuer=self._settings.issuer or None,
                leeway=self._settings.leeway,
                options={"require": ["sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenExpired("token has expired") from None
        except jwt.PyJWTError as exc:
            raise AuthError(f"invalid token: {exc}") from None
        return identity_from_claims(claims)


def identity_from_claims(claims: dict[str, Any]) -> Identity:
    roles = claims.get("roles") or []
    if isinstance(roles, str):
        roles = [roles]
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise AuthError("claim roles must be a list of strings")
    exp = claims.get("exp")
    return Identity(
        user=str(claims["sub"]),
        roles=frozenset(roles),
        tenant=str(claims.get("tenant") or ""),
        expires=int(exp) if isinstance(exp, int | float) else None,
        claims=claims,
    )


def mint_token(
    secret: str,
    user: str,
    roles: list[str] | tuple[str, ...] = (),
    tenant: str = "",
    ttl: float = 3600.0,
    extra: dict[str, Any] | None = None,
) -> str:
    """An HS256 token for development and tests."""
    now = int(time.time())
    claims: dict[str, Any] = {"sub": user, "roles": list(roles), "iat": now}
    if ttl > 0:
        claims["exp"] = now + int(ttl)
    if tenant:
        claims["tenant"] = tenant
    if extra:
        claims.update(extra)
    return jwt.encode(claims, secret, algorithm="HS256")
