"""The channels records are announced on belong to the server: a client
publish there would pass for a record change (a forged version that makes
every screen drop the real updates as stale). Registering a kind reserves its
channels in the hub's permissions, whatever the namespaces' rules say."""

from __future__ import annotations

import logging
import string
from collections.abc import Iterable

from relevo.hub.permissions import Permissions
from relevo.records.kinds import Kind

__all__ = ["channel_patterns", "reserve_record_channels"]

log = logging.getLogger("relevo.records")


def channel_patterns(kind: Kind) -> list[str]:
    """``t:{tenant}:conv:{conversation_id}`` → ``t:*:conv:*``: each field of a
    channel template becomes ``*`` (one or more characters)."""
    out: list[str] = []
    for spec in kind.channels:
        if not isinstance(spec, str):
            continue
        parts = string.Formatter().parse(spec)
        out.append("".join(text + ("*" if name is not None else "") for text, name, _, _ in parts))
    return out


def reserve_record_channels(permissions: Permissions, kinds: Iterable[Kind]) -> None:
    for kind in kinds:
        permissions.reserve_for_server(channel_patterns(kind))
        if any(not isinstance(spec, str) for spec in kind.channels):
            # A function names these channels only when a record exists.
            log.warning(
                "kind %s announces records on channels a function computes: relevo cannot "
                "reserve them for the server, so give their namespaces no publish rules",
                kind.name,
            )
