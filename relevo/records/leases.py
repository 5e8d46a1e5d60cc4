"""Leases: an exclusive, expiring claim on one record, with fencing tokens.

The lease lives on the record row itself (holder, expiry, and the last token
granted), so checking it costs no extra query on a write. Each grant takes
the next token; the counter never goes back, even after a release, so a
holder that stalled past its TTL presents an older token than the next
holder's and its write is refused (:class:`StaleFencingToken`).

Taking and giving up a lease bump the record's version and are announced
(``CLIENT_LOCKED`` / ``CLIENT_UNLOCKED`` by default) like any change, so the
lock shows on every screen; a heartbeat only moves the expiry and is silent.
Expiry is a durable timer (``$lease``), so an abandoned lease is released and
announced even if the node that granted it is gone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from relevo.protocol.errors import Locked, PermissionDenied, ProtocolError, StaleFencingToken
from relevo.records import schema as s
from relevo.records.kinds import LEASE_TIMER, Kind, LeasePolicy
from relevo.records.model import SYSTEM, Actor, Lease, Record

if TYPE_CHECKING:
    from relevo.records.tx import Transaction

__all__ = ["acquire", "expire", "heartbeat", "release", "release_all", "stale"]


def stale(rec: Record, token: int, held: Lease | None) -> StaleFencingToken:
    who = f"held by {held.holder}" if held is not None else "not held"
    return StaleFencingToken(
        f"fencing token {token} is stale: {rec.kind} {rec.id} is at token {rec.fence} ({who})",
        holder=held.holder if held is not None else None,
    )


def _policy(k: Kind) -> LeasePolicy:
    if k.lease is None:
        raise ProtocolError(f"{k.name} records cannot be leased")
    return k.lease


def _ttl(policy: LeasePolicy, ttl: float | None) -> float:
    if ttl is None:
        return policy.ttl
    if not 0 < ttl <= policy.max_ttl:
        raise ProtocolError(f"ttl must be between 0 and {policy.max_ttl} seconds")
    return ttl


async def acquire(
    tx: Transaction, kind: str, id: str, actor: Actor, ttl: float | None = None
) -> Lease:
    """Grant the lease to ``actor`` (or extend it if they hold it already)."""
    k = tx.kind(kind)
    policy = _policy(k)
    if not actor.has_any(policy.roles) or not actor.has_any(k.write_roles):
        raise PermissionDenied(f"user {actor.user} may not lock a {kind}")
    seconds = _ttl(policy, ttl)
    rec = await tx.get(kind, id, lock=True)
    tx.records.check_visible(k, actor, rec)
    held = rec.lease_held(tx.now)
    if held is not None and held.holder != actor.user:
        raise Locked(
            f"{kind} {id} is locked by {held.holder}",
            holder=held.holder,
            expires_at=held.expires_at,
        )
    if held is not None:
        return await _extend(tx, k, rec, held, actor, seconds)
    lease = Lease(actor.user, rec.fence + 1, tx.now + seconds)
    await tx.write(
        k, rec, rec.data, rec.state, actor,
        event=policy.locked_event, lease=lease, fence=lease.fencing_token,
    )  # fmt: skip
    await tx.arm_timer(kind, rec.id, LEASE_TIMER, lease.expires_at)
    return lease


async def heartbeat(
    tx: Transaction, kind: str, id: str, actor: Actor, token: int, ttl: float | None = None
) -> Lease:
    """Keep the lease: only its current holder, with the current token."""
    k = tx.kind(kind)
    seconds = _ttl(_policy(k), ttl)
    rec = await tx.get(kind, id, lock=True)
    tx.records.check_visible(k, actor, rec)
    held = rec.lease_held(tx.now)
    if held is None or token != rec.fence:
        raise stale(rec, token, held)
    if held.holder != actor.user and not actor.is_system:
        raise Locked(f"{kind} {id} is locked by {held.holder}", holder=held.holder)
    return await _extend(tx, k, rec, held, actor, seconds)


async def _extend(
    tx: Transaction, k: Kind, rec: Record, held: Lease, actor: Actor, seconds: float
) -> Lease:
    lease = Lease(held.holder, held.fencing_token, tx.now + seconds)
    r = s.records.c
    await tx.conn.execute(
        sa.update(s.records)
        .where(r.kind == k.name, r.id == rec.id)
        .values(lease_expires=lease.expires_at)
    )
    await tx.arm_timer(k.name, rec.id, LEASE_TIMER, lease.expires_at)
    await tx.touch(k.name, rec.id, by=actor)  # a heartbeat is activity (seed 001)
    return lease


async def release(
    tx: Transaction, kind: str, id: str, actor: Actor, token: int | None = None
) -> Record:
    """Give the lease up; the holder, or the server, may. Releasing a lease
    nobody holds is a no-op, so a retried release is harmless."""
    k = tx.kind(kind)
    policy = _policy(k)
    rec = await tx.get(kind, id, lock=True)
    tx.records.check_visible(k, actor, rec)
    held = rec.lease_held(tx.now)
    if token is not None and (token != rec.fence or held is None):
        raise stale(rec, token, held)
    if held is not None and held.holder != actor.user and not actor.is_system:
        raise Locked(f"{kind} {id} is locked by {held.holder}", holder=held.holder)
    if rec.lease is None:
        return rec
    reason = "released" if held is not None else "expired"
    return await tx.write(
        k, rec, rec.data, rec.state, actor, event=policy.unlocked_event, lease=None, reason=reason
    )


async def expire(tx: Transaction, kind: str, id: str) -> Record | None:
    """The ``$lease`` timer fired: release if the lease really ran out (a
    heartbeat or a release may have won the race)."""
    k = tx.kind(kind)
    policy = _policy(k)
    rec = await tx.get(kind, id, lock=True)
    if rec.lease is None or rec.lease.expires_at > tx.now:
        return None
    return await tx.write(
        k, rec, rec.data, rec.state, SYSTEM, event=policy.unlocked_event, lease=None,
        reason="expired",
    )  # fmt: skip


async def release_all(tx: Transaction, user: str) -> list[Record]:
    """Every lease ``user`` holds, released (a leave hook's usual job)."""
    r = s.records.c
    rows = (await tx.conn.execute(sa.select(r.kind, r.id).where(r.lease_holder == user))).all()
    out = []
    for kind, id in rows:
        if kind in tx.records.kinds:
            out.append(await release(tx, kind, id, SYSTEM))
    return out
