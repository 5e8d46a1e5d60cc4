"""Who is on the other end: JWT verification into an :class:`Identity`."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt

from relevo.clock import Clock, SystemClock
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
    def __init__(self, settings: AuthSettings, clock: Clock | None = None) -> None:
        self._settings = settings
        self._clock: Clock = clock or SystemClock()
        self._algorithms = list(settings.algorithms)
        self._keys: dict[str, Any] = {}
        if settings.secret:
            self._keys["HS"] = settings.secret
        #: sid -> when its tokens have all expired (epoch seconds): sign-in
        #: sessions that were ended (signed out, account deactivated).
        self._ended: dict[str, float] = {}
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
        required = ["sub", "exp"] if self._settings.require_exp else ["sub"]
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=self._settings.audience or None,
                issuer=self._settings.issuer or None,
                leeway=self._settings.leeway,
                # exp is checked below: PyJWT takes "9999999999" (a string) as a
                # number, and an identity with no numeric expiry would never expire.
                options={"require": required, "verify_exp": False},
            )
        except jwt.PyJWTError as exc:
            raise AuthError(f"invalid token: {exc}") from None
        identity = identity_from_claims(claims)
        sid = claims.get("sid")
        if isinstance(sid, str) and sid in self._ended:
            raise AuthError("the session of this token has ended; sign in again")
        now = self._clock.now()
        if identity.expires is not None and identity.expires <= now - self._settings.leeway:
            raise TokenExpired("token has expired")
        return identity

    def end_sessions(self, sids: Iterable[str], until: float) -> None:
        """Refuse every token whose ``sid`` claim is one of ``sids``, until
        ``until`` (epoch seconds: when the last token minted from them has
        expired; after that ``exp`` refuses them anyway)."""
        now = self._clock.now()
        for sid in sids:
            self._ended[sid] = max(until, self._ended.get(sid, 0.0))
        for sid in [s for s, t in self._ended.items() if t <= now]:
            del self._ended[sid]

    def ended_count(self) -> int:
        return len(self._ended)


#: Longest ``sub`` accepted: it keys the hub's user index and every log line.
MAX_SUBJECT = 255


def identity_from_claims(claims: dict[str, Any]) -> Identity:
    sub = claims.get("sub")
    if not isinstance(sub, str) or not 0 < len(sub) <= MAX_SUBJECT:
        # An empty sub would be an authenticated anonymous user: refuse it.
        raise AuthError(f"claim sub must be a string of 1 to {MAX_SUBJECT} characters")
    roles = claims.get("roles") or []
    if isinstance(roles, str):
        roles = [roles]
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise AuthError("claim roles must be a list of strings")
    exp = claims.get("exp")
    if exp is not None and (
        isinstance(exp, bool) or not isinstance(exp, int | float) or not math.isfinite(exp)
    ):
        raise AuthError("claim exp must be a number (seconds since the epoch)")
    return Identity(
        user=sub,
        roles=frozenset(roles),
        tenant=str(claims.get("tenant") or ""),
        expires=None if exp is None else int(exp),
        claims=claims,
    )


def mint_token(
    secret: str,
    user: str,
    roles: list[str] | tuple[str, ...] = (),
    tenant: str = "",
    ttl: float = 3600.0,
    extra: dict[str, Any] | None = None,
    clock: Clock | None = None,
) -> str:
    """An HS256 token for development and tests. It always expires: a token
    that lives forever cannot be taken back."""
    if not ttl > 0:
        raise ValueError(f"ttl must be positive, got {ttl!r}")
    now = int((clock or SystemClock()).now())
    claims: dict[str, Any] = {"sub": user, "roles": list(roles), "iat": now}
    claims["exp"] = now + max(1, int(ttl))
    if tenant:
        claims["tenant"] = tenant
    if extra:
        claims.update(extra)
    return jwt.encode(claims, secret, algorithm="HS256")
