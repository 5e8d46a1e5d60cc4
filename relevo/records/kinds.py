"""Kinds: what an app declares about its records, checked when declared.

A kind names its fields, optionally a state machine (states, an initial
state, named transitions), timers, a lease policy, and the channels each
record's changes go to. The store needs no DDL per kind: records share one
table, and the fields a kind filters on most are copied to indexed columns.

Mistakes in a declaration (a transition to an undeclared state, a timer whose
transition cannot leave one of its states, a live channel no record publishes
on) raise :class:`KindError` at import time, not in front of an operator.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from relevo.protocol.errors import ProtocolError, RelevoError
from relevo.protocol.frames import validate_channel
from relevo.records.fields import Field

if TYPE_CHECKING:
    from relevo.records.model import Actor, Record

__all__ = [
    "NOW",
    "Context",
    "Field",
    "Kind",
    "KindError",
    "LeasePolicy",
    "Timer",
    "Transition",
]

_TYPES: tuple[type, ...] = (str, int, float, bool, dict, list)
_RESERVED = frozenset({"id", "state", "version", "lease", "created_at", "updated_at", "limit"})


class KindError(RelevoError, ValueError):
    """A kind declaration that cannot work (raised when the app is loaded)."""


class _Now:
    """Sentinel for ``updates``: the write's time in milliseconds."""

    def __repr__(self) -> str:
        return "NOW"


NOW: Any = _Now()


@dataclass(frozen=True, slots=True)
class Context:
    """What guards and computed updates see."""

    record: Record
    data: Mapping[str, Any]
    actor: Actor
    now: float


Guard = Callable[[Context], "bool | str | None"]
ChannelSpec = str | Callable[["Record"], Iterable[str]]


@dataclass(frozen=True, slots=True)
class Transition:
    name: str
    source: AbstractSet[str] | str
    """States it may start from; ``"*"`` means any."""
    target: str | None = None
    """State it ends in; ``None`` keeps the current one."""
    roles: AbstractSet[str] = frozenset()
    """Roles allowed to run it; empty: anyone allowed to write the kind."""
    guard: Guard | None = None
    """Returns False or a message to refuse (``conflict``); may raise PermissionDenied."""
    updates: Mapping[str, Any] = field(default_factory=dict)
    """Field values to set: constants, ``NOW``, or callables of the :class:`Context`."""
    accepts: AbstractSet[str] = frozenset()
    """Fields the caller's ``data`` may set."""
    event: str = ""
    """Event name published; default: the transition name upper-cased."""
    requires_lease: bool = False
    """The caller must hold the record's lease (the server itself is exempt)."""
    release_lease: bool = False
    """Releasing the lease is part of the transition."""

    @property
    def event_name(self) -> str:
        return self.event or self.name.upper()

    def allowed_from(self, state: str | None) -> bool:
        return self.source == "*" or (state is not None and state in self.source)


@dataclass(frozen=True, slots=True)
class Timer:
    """``after`` seconds in ``in_states`` without activity → run ``transition``.

    The deadline is (re)armed when the record enters one of the states, when
    the ``activity_by`` field changes (a lead goes to another asesor), and on
    activity by the user that field names. Leaving the states disarms it."""

    after: float
    in_states: AbstractSet[str]
    transition: str
    activity_by: str | None = None
    name: str = ""

    @property
    def timer_name(self) -> str:
        return self.name or self.transition


@dataclass(frozen=True, slots=True)
class LeasePolicy:
    ttl: float = 60.0
    """Seconds a grant lasts unless renewed by heartbeat."""
    max_ttl: float = 600.0
    """Longest TTL a caller may ask for."""
    locked_event: str = "CLIENT_LOCKED"
    unlocked_event: str = "CLIENT_UNLOCKED"
    roles: AbstractSet[str] = frozenset()
    """Roles that may take the lease; empty: whoever may write the kind."""


LEASE_TIMER = "$lease"
"""The name of the timer that ends a lease."""


def _fmt_fields(template: str) -> list[str]:
    return [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]


def _format(template: str, values: Mapping[str, Any]) -> str | None:
    out: dict[str, str] = {}
    for name in _fmt_fields(template):
        value = values.get(name)
        if value is None or value == "":
            return None
        out[name] = str(value).lower() if isinstance(value, bool) else str(value)
    return template.format_map(out)


class Kind:
    """A declared kind of record. See ``docs/records.md`` for a full example."""

    def __init__(
        self,
        name: str,
        *,
        fields: Mapping[str, Field],
        states: Iterable[str] = (),
        initial: str | None = None,
        transitions: Iterable[Transition] = (),
        timers: Iterable[Timer] = (),
        channels: Iterable[ChannelSpec] = (),
        live: Mapping[str, str] | None = None,
        indexed: Iterable[str] = (),
        read_roles: Iterable[str] = (),
        write_roles: Iterable[str] = (),
        lease: LeasePolicy | None = None,
    ) -> None:
        if not name.isidentifier() or len(name) > 64:
            raise KindError(f"kind name {name!r} must be an identifier of up to 64 characters")
        self.name = name
        self.fields = dict(fields)
        self.states = frozenset(states)
        self.initial = initial
        self.transitions = {t.name: t for t in transitions}
        self.timers = tuple(timers)
        self.channels = tuple(channels)
        self.live = dict(live if live is not None else {})
        self.read_roles = frozenset(read_roles)
        self.write_roles = frozenset(write_roles)
        self.lease = lease
        self.slots = self._assign_slots(tuple(indexed))
        self._validate()

    # -- declaration checks ---------------------------------------------------

    def _assign_slots(self, indexed: tuple[str, ...]) -> dict[str, str]:
        slots: dict[str, str] = {}
        text, num = iter(("s1", "s2", "s3", "s4")), iter(("n1", "n2"))
        for name in indexed:
            f = self.fields.get(name)
            if f is None:
                raise KindError(f"{self.name}: indexed field {name} is not declared")
            pool = num if f.type in (int, bool) else text if f.type is str else None
            if pool is None:
                raise KindError(f"{self.name}: only str, int and bool fields can be indexed")
            slot = next(pool, None)
            if slot is None:
                raise KindError(f"{self.name}: at most 4 str and 2 int/bool indexed fields")
            slots[name] = slot
        return slots

    def _validate(self) -> None:
        n = self.name
        for fname, f in self.fields.items():
            if fname in _RESERVED or not fname.isidentifier():
                raise KindError(f"{n}: {fname!r} cannot be a field name")
            if f.type not in _TYPES:
                raise KindError(
                    f"{n}.{fname}: type must be one of str, int, float, bool, dict, list"
                )
        if self.states:
            if self.initial not in self.states:
                raise KindError(f"{n}: initial state {self.initial!r} is not one of its states")
        elif self.initial is not None or self.transitions or self.timers:
            raise KindError(f"{n}: initial state, transitions and timers need states")
        for t in self.transitions.values():
            bad = set() if t.source == "*" else set(t.source) - self.states
            if t.target is not None and t.target not in self.states:
                bad.add(t.target)
            if bad:
                raise KindError(f"{n}.{t.name}: unknown states {sorted(bad)}")
            unknown = (set(t.updates) | set(t.accepts)) - set(self.fields)
            if unknown:
                raise KindError(f"{n}.{t.name}: unknown fields {sorted(unknown)}")
            if (t.requires_lease or t.release_lease) and self.lease is None:
                raise KindError(f"{n}.{t.name}: uses the lease but the kind declares none")
        names = set()
        for timer in self.timers:
            tr = self.transitions.get(timer.transition)
            if tr is None:
                raise KindError(f"{n}: timer runs unknown transition {timer.transition}")
            if not timer.in_states <= self.states or not all(
                tr.allowed_from(s) for s in timer.in_states
            ):
                raise KindError(f"{n}: timer states must all allow transition {tr.name}")
            if timer.activity_by is not None and timer.activity_by not in self.fields:
                raise KindError(f"{n}: timer activity_by {timer.activity_by} is not a field")
            if timer.timer_name in names or timer.timer_name == LEASE_TIMER:
                raise KindError(f"{n}: two timers named {timer.timer_name}")
            names.add(timer.timer_name)
        templates = {c for c in self.channels if isinstance(c, str)}
        known = set(self.fields) | {"id", "state"}
        for tpl in templates:
            missing = set(_fmt_fields(tpl)) - known
            if missing:
                raise KindError(f"{n}: channel {tpl} uses unknown fields {sorted(missing)}")
        for key, tpl in self.live.items():
            keys = self.live_key_fields(key)
            if not set(keys) <= known or set(_fmt_fields(tpl)) != set(keys):
                raise KindError(f"{n}: live channel {tpl} must use exactly the fields {key!r}")
            if all(isinstance(c, str) for c in self.channels) and tpl not in templates:
                raise KindError(f"{n}: live channel {tpl} is not one of the kind's channels")

    @staticmethod
    def live_key_fields(key: str) -> tuple[str, ...]:
        return tuple(sorted(k.strip() for k in key.split(",") if k.strip()))

    # -- runtime --------------------------------------------------------------

    @property
    def has_states(self) -> bool:
        return bool(self.states)

    def transition(self, name: str) -> Transition:
        t = self.transitions.get(name)
        if t is None:
            raise KeyError(name)
        return t

    def clean(self, data: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
        """Validated field values; unknown fields and wrong types raise ValueError."""
        out: dict[str, Any] = {}
        for key, value in data.items():
            f = self.fields.get(key)
            if f is None:
                raise ValueError(f"{self.name} has no field {key}")
            out[key] = f.check(key, value)
        if not partial:
            for key, f in self.fields.items():
                if out.get(key) is None and key not in out:
                    out[key] = f.default
                if f.required and out.get(key) is None:
                    raise ValueError(f"field {key} is required")
        return out

    def channels_of(self, record: Record) -> list[str]:
        values: dict[str, Any] = {**record.data, "id": record.id, "state": record.state}
        out: list[str] = []
        for spec in self.channels:
            if isinstance(spec, str):
                ch = _format(spec, values)
                if ch is not None and ch not in out:
                    out.append(ch)
            else:
                out.extend(c for c in spec(record) if c not in out)
        return out

    def check_channels(self, record: Record) -> None:
        """Refuse values that render an invalid channel name (``cargue:{vendedor_id}``
        with a space in the id): such a change could never be published, and
        its outbox row would hold up every row behind it."""
        values: dict[str, Any] = {**record.data, "id": record.id, "state": record.state}
        for spec in self.channels:
            if not isinstance(spec, str):
                continue
            ch = _format(spec, values)
            if ch is None:
                continue
            try:
                validate_channel(ch)
            except ProtocolError as exc:
                names = ", ".join(_fmt_fields(spec))
                raise ValueError(f"field {names} gives an invalid channel name: {exc}") from None

    def live_channel(self, filters: Mapping[str, Any]) -> tuple[str, str]:
        """The channel a filter's rows are announced on, and the key it matched.

        Among the declared keys whose fields the filter pins to one value, the
        most specific wins: ``asesor_id=4&state=derivado`` → ``asesor:4``."""
        best: tuple[int, str, str] | None = None
        for key, tpl in self.live.items():
            fields = self.live_key_fields(key)
            if all(f in filters and not isinstance(filters[f], list) for f in fields):
                ch = _format(tpl, filters)
                if ch is not None and (best is None or len(fields) > best[0]):
                    best = (len(fields), ch, key)
        if best is None:
            keys = ", ".join(repr(k) for k in self.live) or "none"
            raise ValueError(f"{self.name}: a live query must filter on one of: {keys}")
        return best[1], best[2]

    def public(self, record: Record) -> dict[str, Any]:
        """What users see of a record (answers, live queries, publications):
        its public fields and its metadata."""
        out: dict[str, Any] = {
            k: record.data.get(k) for k, f in self.fields.items() if f.public and not f.secret
        }
        return self._with_meta(out, record)

    def full(self, record: Record) -> dict[str, Any]:
        """Every field, private ones included (secret ones not): for the
        backend, never a browser."""
        out = {k: record.data.get(k) for k, f in self.fields.items() if not f.secret}
        return self._with_meta(out, record)

    def public_fields(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The entries of ``values`` that name public fields; the rest dropped
        (a history entry's input and changes)."""
        return {
            k: v
            for k, v in values.items()
            if k in self.fields and self.fields[k].public and not self.fields[k].secret
        }

    def redacted(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """``values`` with each secret field's value replaced by ``"••••"``
        (what a history entry keeps of a credential: that it changed)."""
        return {
            k: "••••" if k in self.fields and self.fields[k].secret and v is not None else v
            for k, v in values.items()
        }

    def known_fields(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The entries of ``values`` the backend may see: all but secret fields."""
        return {k: v for k, v in values.items() if not (k in self.fields and self.fields[k].secret)}

    def _with_meta(self, out: dict[str, Any], record: Record) -> dict[str, Any]:
        out["id"] = record.id
        out["version"] = record.version
        out["state"] = record.state
        if self.lease is not None:
            out["lease"] = None if record.lease is None else record.lease.as_dict()
        out["created_at"] = int(record.created_at * 1000)
        out["updated_at"] = int(record.updated_at * 1000)
        return out

    def __repr__(self) -> str:
        return f"Kind({self.name!r})"
