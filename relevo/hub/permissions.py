"""Namespaces and rules: default deny, roles, placeholders bound to claims."""

from __future__ import annotations

import re
from collections.abc import Iterable

from relevo.broker.base import HistoryOptions
from relevo.hub.auth import Identity
from relevo.protocol import frames
from relevo.protocol.errors import NotFound, PermissionDenied
from relevo.settings import NamespaceSettings, Rule

__all__ = ["Permissions", "namespace_of", "rule_allows"]

_PLACEHOLDER = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)\}")
_SAFE_VALUE = re.compile(r"[A-Za-z0-9_.@-]{1,128}")


def namespace_of(channel: str) -> str:
    return channel.split(":", 1)[0]


def _match_pattern(pattern: str, channel: str, identity: Identity) -> bool:
    parts: list[str] = []
    last = 0
    for m in _PLACEHOLDER.finditer(pattern):
        parts.append(pattern[last : m.start()])
        value = identity.claim(m.group(1))
        if not value or not _SAFE_VALUE.fullmatch(value):
            # A claim with ":" or "*" in it could reach into another user's or
            # tenant's channels ("acme:conv" inside "t:{tenant}:*"): never match.
            return False
        parts.append(value)
        last = m.end()
    parts.append(pattern[last:])
    expanded = "".join(parts)
    if expanded.endswith("*"):
        prefix = expanded[:-1]
        return channel.startswith(prefix) and len(channel) > len(prefix)
    return channel == expanded


def rule_allows(rule: Rule, identity: Identity, channel: str) -> bool:
    if identity.anonymous:
        if not rule.anonymous:
            return False
    elif rule.role and rule.role not in identity.roles:
        return False
    return not rule.channel or _match_pattern(rule.channel, channel, identity)


def _server_only_regex(pattern: str) -> re.Pattern[str]:
    """``t:*:inbox`` → a regex where each ``*`` is one or more characters
    (``:`` included: a value of ``a:b`` must not slip past the pattern)."""
    return re.compile(".+".join(re.escape(part) for part in pattern.split("*")))


class Permissions:
    def __init__(self, namespaces: tuple[NamespaceSettings, ...]) -> None:
        self._namespaces = {ns.name: ns for ns in namespaces}
        self._options = {
            ns.name: HistoryOptions(size=ns.history_size, ttl=ns.history_ttl) for ns in namespaces
        }
        self._default_options = HistoryOptions()
        #: Channel patterns only the server publishes on, by namespace ("" for
        #: patterns whose namespace itself is a wildcard).
        self._server_only: dict[str, dict[str, re.Pattern[str]]] = {}

    def reserve_for_server(self, patterns: Iterable[str]) -> None:
        """Channels matching any of ``patterns`` (``*``: one or more
        characters) refuse every client publish, whatever the namespace's
        rules say. The records layer reserves the channels its kinds publish
        on: a client event there would pass for a record change."""
        for pattern in patterns:
            head = pattern.split(":", 1)[0]
            key = "" if "*" in head else head
            self._server_only.setdefault(key, {})[pattern] = _server_only_regex(pattern)

    def server_only(self, channel: str) -> bool:
        for key in (namespace_of(channel), ""):
            for regex in self._server_only.get(key, {}).values():
                if regex.fullmatch(channel):
                    return True
        return False

    def check_publishable(self, channel: str, *, known: bool = True) -> None:
        """Refuse a channel no client could ever receive: a typo in a backend
        must fail loudly, not be stored and lost. ``known=False`` checks only
        the name (the records relay: a kind's channels were checked when it
        was registered, and refusing a committed row would wedge the outbox)."""
        frames.validate_channel(channel)
        if known and self.namespace(channel) is None:
            ns = namespace_of(channel)
            raise NotFound(
                f"unknown namespace {ns}: no [namespaces.{ns}] is configured, "
                f"so nobody could subscribe to {channel}"
            )

    def namespace(self, channel: str) -> NamespaceSettings | None:
        return self._namespaces.get(namespace_of(channel))

    def history_options(self, channel: str) -> HistoryOptions:
        return self._options.get(namespace_of(channel), self._default_options)

    def join_leave(self, channel: str) -> bool:
        ns = self.namespace(channel)
        return ns is not None and ns.join_leave

    def _check(self, action: str, identity: Identity, channel: str) -> None:
        ns = self.namespace(channel)
        if ns is None:
            raise PermissionDenied(f"channel {channel!r} is in no configured namespace")
        rules: tuple[Rule, ...] = getattr(ns, action)
        if any(rule_allows(r, identity, channel) for r in rules):
            return
        who = "anonymous" if identity.anonymous else f"user {identity.user}"
        roles = ",".join(sorted(identity.roles)) or "no role"
        raise PermissionDenied(f"{who} ({roles}) may not {action} to {channel}")

    def check_subscribe(self, identity: Identity, channel: str) -> None:
        self._check("subscribe", identity, channel)

    def check_publish(self, identity: Identity, channel: str) -> None:
        if self.server_only(channel):
            raise PermissionDenied(f"{channel} carries records: only the server publishes there")
        self._check("publish", identity, channel)

    def check_presence(self, identity: Identity, channel: str) -> None:
        self._check("presence", identity, channel)
