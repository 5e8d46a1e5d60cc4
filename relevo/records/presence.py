"""Leave hooks: tell the app, at least once and within a bound, that a user's
last connection is gone — also when the node that held it died.

Each node records which users it has connected (``relevo_connections``: at
once through the hub's join listener, and re-synced every heartbeat) and
heartbeats its row in ``relevo_nodes``. When the hub says a user's last
connection on this node went, a *pending leave* is written, due after a
short grace (a page reload reconnects within it, maybe on another node). When
it falls due, whichever node claims it checks the user is connected on no
live node, runs the hooks, and deletes it; a node that dies mid-hook leaves a
claim that expires and is taken again. A node whose heartbeat stops is reaped
by the others: each of its users gets a pending leave.

Bound: ``leave_grace + heartbeat`` after a disconnect on a live node;
``node_timeout + heartbeat`` after a node died.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from relevo.clock import Clock
from relevo.records import schema as s
from relevo.records.store import DbConn

if TYPE_CHECKING:
    from relevo.records.service import Records

__all__ = ["LeaveHook", "LeaveTracker"]

log = logging.getLogger("relevo.records.presence")

LeaveHook = Callable[[str], Awaitable[Any]]


class LeaveTracker:
    def __init__(
        self,
        records: Records,
        node: str,
        online_users: Callable[[], set[str]],
        clock: Clock,
        *,
        heartbeat: float = 2.0,
        node_timeout: float = 10.0,
        grace: float = 3.0,
        claim_ttl: float = 30.0,
    ) -> None:
        self.records = records
        self.store = records.store
        self.node = node
        self.online_users = online_users
        self.clock = clock
        self.heartbeat = heartbeat
        self.node_timeout = node_timeout
        self.grace = grace
        self.claim_ttl = claim_ttl
        self.hooks: list[LeaveHook] = []
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="leave-tracker")

    async def close(self, *, graceful: bool = True) -> None:
        """Stop; with ``graceful``, hand this node's users over as pending leaves
        (the connections close with the server)."""
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        if graceful:
            try:
                await self._reap(self.node, self.clock.now() + self.grace)
            except Exception:
                log.exception("could not hand over this node's users")

    async def user_joined(self, user: str) -> None:
        """The hub's join listener: record the connection now rather than at
        the next heartbeat, so a pending leave that falls due on any node sees
        the user is back (a reload that lands on another node within the
        grace must not run the hooks)."""
        if self._closed:
            return
        values = {"node": self.node, "user_id": user, "since": self.clock.now()}
        async with self.store.write() as conn:
            await conn.execute(self.store.upsert(s.connections, ["since"]), values)

    async def user_left(self, user: str) -> None:
        """The hub's leave listener: ``user`` has no connection left on this node."""
        if self._closed:
            return
        now = self.clock.now()
        c, lv = s.connections.c, s.leaves
        async with self.store.write() as conn:
            await conn.execute(
                sa.delete(s.connections).where(c.node == self.node, c.user_id == user)
            )
            values = {"user_id": user, "due_at": now + self.grace, "claimed_by": None,
                      "claimed_until": None}  # fmt: skip
            await conn.execute(
                self.store.upsert(lv, ["due_at", "claimed_by", "claimed_until"]), values
            )

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("leave tracker tick failed")
            await self.clock.sleep(self.heartbeat)

    async def tick(self) -> None:
        await self._beat()
        await self._reap_dead()
        await self._run_due()

    async def _beat(self) -> None:
        now = self.clock.now()
        users = {u for u in self.online_users() if u}
        c = s.connections.c
        async with self.store.write() as conn:
            values = {"node": self.node, "started_at": now, "heartbeat_at": now}
            await conn.execute(self.store.upsert(s.nodes, ["heartbeat_at"]), values)
            have = set(
                (await conn.execute(sa.select(c.user_id).where(c.node == self.node))).scalars()
            )
            if users - have:
                await conn.execute(
                    sa.insert(s.connections),
                    [{"node": self.node, "user_id": u, "since": now} for u in users - have],
                )
            gone = have - users
            if gone:
                # Normally the hub's listener removed them; if it did not run,
                # they still get their leave.
                await conn.execute(
                    sa.delete(s.connections).where(c.node == self.node, c.user_id.in_(gone))
                )
                for u in gone:
                    await self._pending(conn, u, now + self.grace)

    async def _pending(self, conn: DbConn, user: str, due: float) -> None:
        values = {"user_id": user, "due_at": due, "claimed_by": None, "claimed_until": None}
        await conn.execute(
            self.store.upsert(s.leaves, ["due_at", "claimed_by", "claimed_until"]), values
        )

    async def _reap_dead(self) -> None:
        n = s.nodes.c
        horizon = self.clock.now() - self.node_timeout
        async with self.store.read() as conn:
            dead = list(
                (
                    await conn.execute(
                        sa.select(n.node).where(n.heartbeat_at < horizon, n.node != self.node)
                    )
                ).scalars()
            )
        for node in dead:
            log.info("node %s stopped heartbeating; running its users' leave hooks", node)
            await self._reap(node, self.clock.now())

    async def _reap(self, node: str, due: float) -> None:
        c, n = s.connections.c, s.nodes.c
        async with self.store.write() as conn:
            stmt = sa.select(n.node).where(n.node == node)
            if (await conn.execute(self.store.locked(stmt, skip=True))).first() is None:
                return  # another node is reaping it
            users = list((await conn.execute(sa.select(c.user_id).where(c.node == node))).scalars())
            for u in users:
                await self._pending(conn, u, due)
            await conn.execute(sa.delete(s.connections).where(c.node == node))
            await conn.execute(sa.delete(s.nodes).where(n.node == node))

    async def _run_due(self) -> None:
        now = self.clock.now()
        lv, c, n = s.leaves.c, s.connections.c, s.nodes.c
        claimed: list[str] = []
        async with self.store.write() as conn:
            stmt = (
                sa.select(lv.user_id)
                .where(
                    lv.due_at <= now,
                    sa.or_(lv.claimed_until.is_(None), lv.claimed_until < now),
                )
                .order_by(lv.due_at)
                .limit(100)
            )
            users = list((await conn.execute(self.store.locked(stmt, skip=True))).scalars())
            if not users:
                return
            live = sa.select(n.node).where(n.heartbeat_at >= now - self.node_timeout)
            back = set(
                (
                    await conn.execute(
                        sa.select(c.user_id).where(c.user_id.in_(users), c.node.in_(live))
                    )
                ).scalars()
            )
            back |= set(users) & self.online_users()
            if back:
                await conn.execute(sa.delete(s.leaves).where(lv.user_id.in_(back)))
            claimed = [u for u in users if u not in back]
            if claimed:
                await conn.execute(
                    sa.update(s.leaves)
                    .where(lv.user_id.in_(claimed))
                    .values(claimed_by=self.node, claimed_until=now + self.claim_ttl)
                )
        for user in claimed:
            if await self._run_hooks(user):
                async with self.store.write() as conn:
                    await conn.execute(
                        sa.delete(s.leaves).where(lv.user_id == user, lv.claimed_by == self.node)
                    )

    async def _run_hooks(self, user: str) -> bool:
        ok = True
        for hook in self.hooks:
            try:
                await hook(user)
            except Exception:
                ok = False
                log.exception("leave hook %r failed for user %s; will retry", hook, user)
        return ok
