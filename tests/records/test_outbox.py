"""The transactional outbox: a committed change is always announced, even if
the process dies between commit and publish; a rolled-back one never is."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from relevo.records import schema as s

from .conftest import Db, NodeFactory
from .shared_broker import SharedNodes, shared_nodes

__all__ = ["shared_nodes"]  # a fixture used here

CHILD = Path(__file__).with_name("crash_child.py")


async def _pending(node_records: object) -> int:
    store = node_records.store  # type: ignore[attr-defined]
    async with store.read() as conn:
        q = sa.select(sa.func.count()).where(s.outbox.c.sent_at.is_(None))
        return int((await conn.execute(q.select_from(s.outbox))).scalar_one())


async def test_killed_between_commit_and_publish_is_published_after_restart(
    db: Db, make_node: NodeFactory
) -> None:
    first = await make_node()
    lead = await first.records.create("lead", {"nombre": "Ana"}, by="system")
    await first.records.wait_published()
    await first.records.close()

    env = {**os.environ, "RELEVO_RECORDS_FAULT": "after_commit"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(CHILD), db.url, db.schema or "", lead.id,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == -signal.SIGKILL, (out, err)
    assert b"survived" not in out

    # Committed, not published: the row is there, the outbox row is pending.
    restarted = await make_node(start=False)
    assert (await restarted.records.get("lead", lead.id)).state == "derivado"
    assert await _pending(restarted.records) == 1

    await restarted.records.start()  # the relay drains what was pending at start
    await restarted.records.wait_published()
    pubs, _ = await restarted.hub.history("gtr", None, 10)
    assert [p.event for p in pubs] == ["CLIENT_REASSIGNED"]
    data = json.loads(pubs[0].data)
    assert data["id"] == lead.id
    assert data["version"] == 2
    assert data["to"] == "derivado"
    assert await _pending(restarted.records) == 0


@pytest.mark.redis
async def test_killed_between_publish_and_mark_is_still_published_once(
    db: Db, shared_nodes: SharedNodes
) -> None:
    first = await shared_nodes.node()
    lead = await first.records.create("lead", {"nombre": "Ana"}, by="system")
    await first.records.wait_published()
    await first.records.close()

    env = {**os.environ, "RELEVO_RECORDS_FAULT": "after_publish"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(CHILD), db.url, db.schema or "", lead.id, shared_nodes.url,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == -signal.SIGKILL, (out, err)
    assert b"survived" not in out

    # Published, not marked sent: whoever relays next publishes it again.
    restarted = await shared_nodes.node(start=False)
    assert await _pending(restarted.records) == 1
    before, _ = await restarted.hub.history("gtr", None, 10)
    assert [p.event for p in before][-1] == "CLIENT_REASSIGNED"

    await restarted.records.start()  # the relay drains what was pending at start
    await restarted.records.wait_published()
    assert await _pending(restarted.records) == 0
    after, _ = await restarted.hub.history("gtr", None, 10)
    assert after == before  # the repeat stored nothing: one event, one offset


async def test_custom_events_go_through_the_outbox(make_node: NodeFactory) -> None:
    node = await make_node()
    async with node.records.transaction() as tx:
        msg = await tx.create("message", {"tenant": "acme", "body": "hola"}, by="bot")
        await tx.emit(["t:acme:stats"], "stats_actualizadas", {"mensajes": 1})
    await node.records.wait_published()
    pubs, _ = await node.hub.history("t:acme:stats", None, 10)
    assert [(p.event, json.loads(p.data)) for p in pubs] == [
        ("stats_actualizadas", {"mensajes": 1})
    ]
    inbox, _ = await node.hub.history("t:acme:inbox", None, 10)
    assert [json.loads(p.data)["id"] for p in inbox] == [msg.id]


async def test_relay_publishes_rows_committed_by_another_node(make_node: NodeFactory) -> None:
    relay_node = await make_node()
    writer = await make_node(start=False)  # commits, never publishes itself
    await writer.records.create("check", {"vendedor_id": "1", "producto": "pan"}, by="system")

    async def published() -> bool:
        pubs, _ = await relay_node.hub.history("cargue:1", None, 10)
        return len(pubs) == 1

    deadline = asyncio.get_running_loop().time() + 5
    while not await published():
        assert asyncio.get_running_loop().time() < deadline, "not published by the slow poll"
        await asyncio.sleep(0.05)


async def test_an_event_for_an_invalid_channel_is_refused_at_emit(make_node: NodeFactory) -> None:
    from relevo.protocol.errors import ProtocolError

    node = await make_node()
    with pytest.raises(ProtocolError):
        async with node.records.transaction() as tx:
            await tx.emit(["no such channel!"], "x", {})


async def test_a_row_that_can_never_be_published_does_not_hold_up_the_rest(
    make_node: NodeFactory,
) -> None:
    """A kind whose channel function renders an impossible channel name: its
    row is dropped with an error logged, and the rows behind it go out."""
    from relevo.records.kinds import Field, Kind

    poison = Kind("poison", fields={"x": Field(str)}, channels=[lambda rec: ["bad channel!"]])
    node = await make_node(start=False)
    node.records.register(poison)
    await node.records.start()
    await node.records.create("poison", {"x": "1"}, by="system")
    await node.records.create("check", {"vendedor_id": "1", "producto": "pan"}, by="system")
    await asyncio.wait_for(node.records.wait_published(), 10)
    pubs, _ = await node.hub.history("cargue:1", None, 10)
    assert len(pubs) == 1
