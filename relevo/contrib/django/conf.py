"""The integration's settings: read once from ``django.conf.settings`` into a
frozen dataclass, checked, and read again when a test overrides one
(``setting_changed``).

=========================  ======================================================
``RELEVO_URL``             the relevo server, e.g. ``https://rt.example.com``
``RELEVO_API_KEY``         its ``auth.api_key`` (publishing)
``RELEVO_TOKEN_SECRET``    its ``auth.secret``: tokens are HS256 (32+ characters)
``RELEVO_TOKEN_PRIVATE_KEY``  PEM text or path: tokens are ``RELEVO_TOKEN_ALGORITHM``
                           (RS256 by default) and relevo holds the public key
``RELEVO_TOKEN_TTL``       seconds a token lives (300)
``RELEVO_ROLES``           dict ``group name -> role or [roles]``, or the dotted
                           path of ``f(user) -> list[str]``
``RELEVO_TENANT``          a constant, or the dotted path of ``f(user) -> str``
``RELEVO_CLAIMS``          dotted path of ``f(user) -> dict`` (extra claims)
=========================  ======================================================

See docs/django.md for the rest.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

__all__ = ["RelevoConf", "conf"]

#: relevo refuses a shorter HS256 secret at start; a Django project that used
#: one would mint tokens that no relevo server accepts.
MIN_SECRET = 32

RolesMap = Mapping[str, str | list[str] | tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class RelevoConf:
    url: str = ""
    """The relevo server's base URL (``RELEVO_URL``); pages load ``/relevo.js`` from it."""
    api_key: str = ""
    """The server API key (``RELEVO_API_KEY``), for publishing."""
    token_secret: str = ""
    """HS256 secret shared with relevo's ``auth.secret`` (``RELEVO_TOKEN_SECRET``)."""
    token_private_key: str = ""
    """PEM private key text (``RELEVO_TOKEN_PRIVATE_KEY``; a path is read)."""
    token_algorithm: str = "HS256"
    """``HS256`` with a secret; ``RS256`` (default with a key), ``ES256``, ``PS256``."""
    token_ttl: int = 300
    """Seconds a minted token lives; ``relevo.js`` asks for a new one before then."""
    token_audience: str = ""
    """``aud`` claim, when relevo's ``auth.audience`` is set."""
    token_issuer: str = ""
    """``iss`` claim, when relevo's ``auth.issuer`` is set."""
    roles: RolesMap | Callable[[Any], list[str]] = field(default_factory=dict)
    """Group name → role(s), or ``f(user) -> roles``."""
    tenant: str | Callable[[Any], str] = ""
    """A constant tenant, or ``f(user) -> tenant``."""
    claims: Callable[[Any], dict[str, Any]] | None = None
    """``f(user) -> dict`` of extra claims a namespace rule may reference."""
    allow_no_role: bool = False
    """Mint tokens for users that map to no role (default: 403 for them)."""
    timeout: float = 5.0
    """Seconds one HTTP call to relevo may take."""
    retries: int = 3
    """Retries of one publish (each reuses the publish's idempotency key)."""
    publish_workers: int = 1
    """Threads publishing ``publish_on_commit`` calls; 1 keeps them in order."""

    def signing_key(self) -> str:
        if self.token_algorithm.startswith("HS"):
            return self.token_secret
        return self.token_private_key


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def _callable_or(value: Any, name: str) -> Any:
    """A dotted path names a callable; anything else is kept as it is."""
    if isinstance(value, str) and "." in value and not value.startswith("."):
        try:
            return import_string(value)
        except ImportError as exc:
            raise ImproperlyConfigured(f"{name}: cannot import {value!r}: {exc}") from None
    return value


def _read_key(value: str) -> str:
    if value and not value.lstrip().startswith("-----"):
        return Path(value).read_text()
    return value


def _load() -> RelevoConf:
    url = str(_setting("RELEVO_URL", "")).rstrip("/")
    secret = str(_setting("RELEVO_TOKEN_SECRET", ""))
    private_key = _read_key(str(_setting("RELEVO_TOKEN_PRIVATE_KEY", "")))
    algorithm = str(_setting("RELEVO_TOKEN_ALGORITHM", "RS256" if private_key else "HS256"))
    if algorithm[:2] not in ("HS", "RS", "ES", "PS"):
        raise ImproperlyConfigured(f"RELEVO_TOKEN_ALGORITHM: {algorithm!r} is not a JWT algorithm")
    if algorithm.startswith("HS") and secret and len(secret) < MIN_SECRET:
        raise ImproperlyConfigured(
            f"RELEVO_TOKEN_SECRET: at least {MIN_SECRET} characters (relevo refuses shorter)"
        )
    ttl = int(_setting("RELEVO_TOKEN_TTL", 300))
    if ttl <= 0:
        raise ImproperlyConfigured("RELEVO_TOKEN_TTL: must be positive")
    roles = _callable_or(_setting("RELEVO_ROLES", {}), "RELEVO_ROLES")
    if not (callable(roles) or isinstance(roles, Mapping)):
        raise ImproperlyConfigured("RELEVO_ROLES: a dict group -> role(s), or a callable path")
    tenant = _callable_or(_setting("RELEVO_TENANT", ""), "RELEVO_TENANT")
    claims = _callable_or(_setting("RELEVO_CLAIMS", None), "RELEVO_CLAIMS")
    if claims is not None and not callable(claims):
        raise ImproperlyConfigured("RELEVO_CLAIMS: the dotted path of f(user) -> dict")
    workers = int(_setting("RELEVO_PUBLISH_WORKERS", 1))
    if workers < 1:
        raise ImproperlyConfigured("RELEVO_PUBLISH_WORKERS: at least 1")
    return RelevoConf(
        url=url,
        api_key=str(_setting("RELEVO_API_KEY", "")),
        token_secret=secret,
        token_private_key=private_key,
        token_algorithm=algorithm,
        token_ttl=ttl,
        token_audience=str(_setting("RELEVO_TOKEN_AUDIENCE", "")),
        token_issuer=str(_setting("RELEVO_TOKEN_ISSUER", "")),
        roles=roles,
        tenant=tenant,
        claims=claims,
        allow_no_role=bool(_setting("RELEVO_ALLOW_NO_ROLE", False)),
        timeout=float(_setting("RELEVO_TIMEOUT", 5.0)),
        retries=int(_setting("RELEVO_RETRIES", 3)),
        publish_workers=workers,
    )


@functools.cache
def conf() -> RelevoConf:
    """The settings in force (read on first use, so a bad one fails there)."""
    return _load()


def _changed(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("RELEVO_"):
        conf.cache_clear()
        for hook in _on_change:
            hook()


#: Called after a ``RELEVO_*`` setting changed (the shared client is rebuilt).
_on_change: list[Callable[[], None]] = []

setting_changed.connect(_changed, dispatch_uid="relevo.contrib.django.conf")
