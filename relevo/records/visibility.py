"""Who may see a record: the namespaces' rules, then the app's backend.

A user may read — and so change — a record when they may subscribe to one of
its channels. The namespaces' rules decide that synchronously (inside a
transaction, under the row lock). Where a channel's namespace names a
``subscribe_proxy``, the app's backend has the last word, as on ``sub``:
reads and HTTP changes ask it before anything is read or written
(:func:`visible`, :func:`ask_proxy`), outside any transaction, so no row lock
waits on an HTTP call. A denial never names the record's channel: the
name carries its data (``asesor:5``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from relevo.protocol.errors import PermissionDenied
from relevo.records.kinds import Kind
from relevo.records.model import Actor, Record

if TYPE_CHECKING:
    from relevo.hub.hub import Hub

__all__ = ["ask_proxy", "check_read", "check_visible", "visible"]


def check_read(hub: Hub | None, k: Kind, actor: Actor, channel: str) -> None:
    """The rules: may ``actor`` read ``k`` and subscribe to ``channel``?"""
    if actor.privileged:
        return
    if not actor.has_any(k.read_roles):
        raise PermissionDenied(f"user {actor.user} may not read {k.name}")
    if hub is not None:
        hub.permissions.check_subscribe(actor.identity(), channel)


def check_visible(hub: Hub | None, k: Kind, actor: Actor, rec: Record) -> None:
    """Refuse a record none of whose channels the rules let ``actor`` see.
    Reads and every change of an existing record go through it: what a user
    may not see, they may not change either (the reply would show it, and a
    known id is not a permission)."""
    if actor.privileged:
        return
    for ch in k.channels_of(rec) or [""]:
        try:
            check_read(hub, k, actor, ch)
            return
        except PermissionDenied:
            continue
    raise _denied(k, actor, rec)


def _denied(k: Kind, actor: Actor, rec: Record) -> PermissionDenied:
    return PermissionDenied(f"user {actor.user} may not read {k.name} {rec.id}")


async def ask_proxy(hub: Hub | None, actor: Actor, channel: str) -> None:
    """The app's backend, where ``channel``'s namespace names a subscribe
    proxy (``unavailable`` when it cannot answer, as on ``sub``)."""
    if hub is None or actor.privileged:
        return
    ns = hub.permissions.namespace(channel)
    if ns is not None and ns.subscribe_proxy:
        await hub.proxies.check_subscribe(ns.subscribe_proxy, actor.identity(), channel)


async def visible(hub: Hub | None, k: Kind, actor: Actor, rec: Record) -> None:
    """:func:`check_visible`, and the backend for the channel that passes."""
    if actor.privileged or hub is None or not asks_proxies(hub):
        check_visible(hub, k, actor, rec)
        return
    for ch in k.channels_of(rec) or [""]:
        try:
            check_read(hub, k, actor, ch)
            await ask_proxy(hub, actor, ch)
            return
        except PermissionDenied:
            continue
    raise _denied(k, actor, rec)


def asks_proxies(hub: Hub) -> bool:
    """Does any namespace leave the last word to a subscribe proxy?"""
    return any(ns.subscribe_proxy for ns in hub.settings.namespaces)
