"""What the accounts store hands out, and the bounds on what it takes in.

:class:`Account` never carries the password hash. Roles are kept **per app**:
a mapping from an app name (``leads``, ``turnos``, ``cargue``, ``inbox``) to
its roles, where the key ``"*"`` holds roles valid in every app (``admin``).
A relevo JWT carries one flat ``roles`` list: :meth:`Account.roles_for` gives
the list for one app's pages, :meth:`Account.all_roles` the union of all.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from relevo.accounts.errors import InvalidAccount

__all__ = [
    "ALL_APPS",
    "AUDIT_EVENTS",
    "Account",
    "AuditEntry",
    "SessionInfo",
    "normalize_roles",
    "normalize_username",
]

ALL_APPS = "*"
"""The roles key for roles that hold in every app."""

AUDIT_EVENTS = frozenset(
    {
        "sign_in",
        "failure",
        "throttled",
        "sign_out",
        "password_changed",
        "disabled",
        "enabled",
        "created",
        "updated",
    }
)

_USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
_TENANT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}|")
MAX_DISPLAY_NAME = 100
MAX_APPS = 16
MAX_ROLES_PER_APP = 16


def normalize_username(raw: str) -> str:
    """The stored form of a username: NFKC, trimmed, case-folded; 1 to 64 of
    ``a-z 0-9 . _ @ -``, starting with a letter or digit. ``Ana`` and ``ana``
    are the same account."""
    if not isinstance(raw, str) or len(raw) > 256:
        raise InvalidAccount("a username has at most 64 characters")
    name = unicodedata.normalize("NFKC", raw).strip().casefold()
    if not _USERNAME.fullmatch(name):
        raise InvalidAccount(
            "a username has 1 to 64 of a-z, 0-9, '.', '_', '@', '-' and starts "
            "with a letter or digit"
        )
    return name


def check_display_name(raw: str) -> str:
    name = unicodedata.normalize("NFC", raw).strip() if isinstance(raw, str) else ""
    if not name or len(name) > MAX_DISPLAY_NAME:
        raise InvalidAccount(f"a display name has 1 to {MAX_DISPLAY_NAME} characters")
    if any(unicodedata.category(c).startswith("C") for c in name):
        raise InvalidAccount("a display name cannot hold control characters")
    return name


def check_tenant(raw: str) -> str:
    if not isinstance(raw, str) or not _TENANT.fullmatch(raw):
        raise InvalidAccount("a tenant has up to 64 of A-Z, a-z, 0-9, '.', '_', '-'")
    return raw


def normalize_roles(
    roles: Mapping[str, Iterable[str]] | Iterable[str],
) -> dict[str, tuple[str, ...]]:
    """Roles as stored: ``{app or "*": sorted roles}``. A plain list of roles
    means roles in every app (``["admin"]`` → ``{"*": ("admin",)}``)."""
    if isinstance(roles, str):
        raise InvalidAccount("roles are a list or a mapping of app to list")
    mapping: Mapping[str, Iterable[str]] = (
        roles if isinstance(roles, Mapping) else {ALL_APPS: roles}
    )
    if len(mapping) > MAX_APPS:
        raise InvalidAccount(f"roles for at most {MAX_APPS} apps")
    out: dict[str, tuple[str, ...]] = {}
    for app, names in mapping.items():
        if not isinstance(app, str) or not (app == ALL_APPS or _NAME.fullmatch(app)):
            raise InvalidAccount("an app name has 1 to 32 of a-z, 0-9, '_', '-'")
        if isinstance(names, str):
            raise InvalidAccount("an app's roles are a list")
        clean = sorted({str(n) for n in names})
        if len(clean) > MAX_ROLES_PER_APP:
            raise InvalidAccount(f"at most {MAX_ROLES_PER_APP} roles per app")
        for n in clean:
            if not _NAME.fullmatch(n):
                raise InvalidAccount("a role has 1 to 32 of a-z, 0-9, '_', '-'")
        if clean:
            out[app] = tuple(clean)
    return dict(sorted(out.items()))


def roles_to_json(roles: Mapping[str, tuple[str, ...]]) -> str:
    return json.dumps({k: list(v) for k, v in roles.items()}, sort_keys=True)


def roles_from_json(text: str) -> Mapping[str, tuple[str, ...]]:
    data: Any = json.loads(text) if text else {}
    if isinstance(data, list):
        data = {ALL_APPS: data}
    return MappingProxyType({str(k): tuple(str(r) for r in v) for k, v in data.items()})


@dataclass(frozen=True, slots=True)
class Account:
    """A person who signs in. No password hash here, by design."""

    id: int
    username: str
    display_name: str
    roles: Mapping[str, tuple[str, ...]] = field(hash=False)
    tenant: str
    active: bool
    must_change_password: bool
    created_at: float
    last_sign_in_at: float | None
    updated_at: float

    def roles_for(self, app: str) -> tuple[str, ...]:
        """The roles this account holds in ``app``: its own plus the ``"*"`` ones."""
        return tuple(sorted({*self.roles.get(ALL_APPS, ()), *self.roles.get(app, ())}))

    def all_roles(self) -> tuple[str, ...]:
        """Every role in every app, for a token valid across apps."""
        return tuple(sorted({r for names in self.roles.values() for r in names}))

    def has_role(self, role: str, app: str | None = None) -> bool:
        return role in (self.all_roles() if app is None else self.roles_for(app))


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """A signed-in browser session (its ``id`` is the token's SHA-256, never the token)."""

    id: str
    account_id: int
    created_at: float
    last_seen_at: float
    expires_at: float
    address: str
    user_agent: str


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: float
    username: str
    account_id: int | None
    address: str
    event: str
    detail: str
