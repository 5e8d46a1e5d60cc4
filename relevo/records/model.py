"""The values the records layer hands out: records, actors, leases, history.

A :class:`Record` is immutable: a write returns a new one with a higher
``version``, which is what lets browsers drop a delta they already have.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

from relevo.hub.auth import Identity

__all__ = ["SYSTEM", "Actor", "HistoryEntry", "Lease", "Record", "Snapshot"]


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a change. ``privileged`` actors pass every role check: the
    backend with the API key, timers, and app code that names a user with a
    plain string (``by="4"``), which is trusted because it runs in-process.

    ``system`` marks the server itself (:data:`SYSTEM`): a principal of its
    own, never derived from a user id, so a token whose ``sub`` is
    ``"system"`` (or ``"api"``) is just a user with that name."""

    user: str
    roles: frozenset[str] = frozenset()
    tenant: str = ""
    claims: Mapping[str, Any] = field(default_factory=dict)
    privileged: bool = False
    system: bool = False

    @classmethod
    def from_identity(cls, identity: Identity) -> Actor:
        return cls(identity.user, identity.roles, identity.tenant, identity.claims)

    @classmethod
    def trusted(cls, user: str) -> Actor:
        return cls(user, privileged=True)

    @property
    def is_system(self) -> bool:
        """The server itself (API key, timers, leave hooks): not bound by leases."""
        return self.system

    def has_any(self, roles: AbstractSet[str]) -> bool:
        return not roles or self.privileged or bool(roles & self.roles)

    def identity(self) -> Identity:
        return Identity(self.user, self.roles, self.tenant, None, dict(self.claims))


SYSTEM = Actor("system", privileged=True, system=True)


@dataclass(frozen=True, slots=True)
class Lease:
    holder: str
    fencing_token: int
    expires_at: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "holder": self.holder,
            "fencing_token": self.fencing_token,
            "expires_at": self.expires_at,
        }


@dataclass(frozen=True, slots=True)
class Record:
    kind: str
    id: str
    version: int
    state: str | None
    data: Mapping[str, Any]
    created_at: float
    updated_at: float
    lease: Lease | None = None
    fence: int = 0
    """The last fencing token granted on this record (kept after release)."""

    def __getitem__(self, name: str) -> Any:
        return self.get(name)

    def get(self, name: str, default: Any = None) -> Any:
        if name == "id":
            return self.id
        if name == "state":
            return self.state
        if name == "version":
            return self.version
        return self.data.get(name, default)

    def lease_held(self, now: float) -> Lease | None:
        lease = self.lease
        return lease if lease is not None and lease.expires_at > now else None


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    seq: int
    kind: str
    record_id: str
    version: int
    event: str
    transition: str | None
    from_state: str | None
    to_state: str | None
    by: str
    reason: str | None
    data: Mapping[str, Any]
    at: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "version": self.version,
            "event": self.event,
            "transition": self.transition,
            "from": self.from_state,
            "to": self.to_state,
            "by": self.by,
            "reason": self.reason,
            "data": dict(self.data),
            "at": int(self.at * 1000),
        }


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A live query's answer: the rows, and the channel position read before them."""

    kind: str
    channel: str
    epoch: str
    offset: int
    rows: list[dict[str, Any]]
    more: bool = False
    total: int | None = None
    """How many records match (also those past the limit); None when the
    filter has non-indexed fields and counting would mean reading them all."""
    where: dict[str, list[Any]] = field(default_factory=dict)
    """The filter as the server read it: each field's accepted values, typed
    (``{"prioridad": [1]}`` for ``?prioridad=01``). A client decides whether a
    changed record still belongs by this — equal to one of the values — and
    never by its own reading of the query string."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "channel": self.channel,
            "epoch": self.epoch,
            "offset": self.offset,
            "rows": self.rows,
            "more": self.more,
            "total": self.total,
            "where": self.where,
        }
