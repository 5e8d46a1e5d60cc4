"""Writes and transitions on every database: one transaction each, history,
outbox, publication on every channel before and after, conflicts."""

from __future__ import annotations

import asyncio
import json

import pytest
import sqlalchemy as sa

from relevo.protocol.errors import Conflict, NotFound, PermissionDenied, ProtocolError
from relevo.records import Actor, Field, Kind, Transition
from relevo.records.schema import outbox

from .conftest import ALL, Db, Node, NodeFactory

GTR = Actor("g1", frozenset({"gtr"}))


async def _published(node: Node, channel: str) -> list[tuple[str, dict[str, object]]]:
    await node.records.wait_published()
    pubs, _ = await node.hub.history(channel, None, 100)
    return [(p.event, json.loads(p.data)) for p in pubs]


async def test_transition_publishes_on_old_and_new_channels(make_node: NodeFactory) -> None:
    node = await make_node()
    r = node.records
    lead = await r.create("lead", {"nombre": "Ana"}, by=GTR)
    lead = await r.transition("lead", lead.id, "assign", {"asesor_id": 4}, by=GTR)
    lead = await r.transition("lead", lead.id, "assign", {"asesor_id": 5}, by=GTR)
    assert lead.state == "derivado"
    assert lead["asesor_id"] == 5
    assert lead.version == 3

    gtr = await _published(node, "gtr")
    assert [e for e, _ in gtr] == ["lead.created", "CLIENT_REASSIGNED", "CLIENT_REASSIGNED"]
    ev, data = gtr[-1]
    assert data["kind"] == "lead"
    assert data["id"] == lead.id
    assert data["version"] == 3
    assert data["op"] == "upsert"
    assert data["transition"] == "assign"
    assert data["from"] == "derivado"
    assert data["to"] == "derivado"
    assert data["by"] == "g1"
    record = data["record"]
    assert isinstance(record, dict)
    assert record["asesor_id"] == 5
    assert record["state"] == "derivado"
    # The lead left asesor:4: its screen hears it, and asesor:5's hears it arrive.
    assert [d["version"] for _, d in await _published(node, "asesor:4")] == [2, 3]
    assert [d["version"] for _, d in await _published(node, "asesor:5")] == [3]


async def test_history_records_who_when_from_to(make_node: NodeFactory) -> None:
    node = await make_node()
    r = node.records
    lead = await r.create("lead", {"nombre": "Ana"}, by=GTR)
    await r.transition("lead", lead.id, "assign", {"asesor_id": 4}, by=GTR, reason="turno tarde")
    entries = await r.history("lead", lead.id)
    assert [(e.event, e.from_state, e.to_state, e.by) for e in entries] == [
        ("lead.created", None, "nuevo", "g1"),
        ("CLIENT_REASSIGNED", "nuevo", "derivado", "g1"),
    ]
    assert entries[1].reason == "turno tarde"
    assert entries[1].data["changes"]["asesor_id"] == 4  # type: ignore[index]


async def test_transition_rules(make_node: NodeFactory) -> None:
    r = (await make_node()).records
    lead = await r.create("lead", {"nombre": "Ana"}, by=GTR)
    asesor = Actor("4", frozenset({"asesor"}))
    with pytest.raises(PermissionDenied):
        await r.transition("lead", lead.id, "assign", {"asesor_id": 4}, by=asesor)
    with pytest.raises(Conflict, match="asesor_id is required"):
        await r.transition("lead", lead.id, "assign", {}, by=GTR)
    with pytest.raises(Conflict, match="needs derivado"):
        await r.transition("lead", lead.id, "open", by="system")
    with pytest.raises(ProtocolError, match="does not accept"):
        await r.transition("lead", lead.id, "assign", {"nombre": "x"}, by=GTR)
    with pytest.raises(NotFound):
        await r.transition("lead", lead.id, "fly", by=GTR)
    with pytest.raises(NotFound):
        await r.transition("lead", "999", "assign", {"asesor_id": 1}, by=GTR)
    assert (await r.get("lead", lead.id)).version == 1


async def test_plain_records_update_with_optimistic_version(make_node: NodeFactory) -> None:
    node = await make_node()
    r = node.records
    vendedor = Actor("v7", frozenset({"vendedor"}))
    row = await r.create("check", {"vendedor_id": "7", "producto": "pan"}, by="system")
    assert row.state is None
    row = await r.update("check", row.id, {"v": True}, by=vendedor, version=1)
    assert row["v"] is True
    assert row.version == 2
    with pytest.raises(Conflict, match="version 2, not 1"):
        await r.update("check", row.id, {"v": False}, by=vendedor, version=1)
    with pytest.raises(PermissionDenied, match="check.d"):
        await r.update("check", row.id, {"d": True}, by=vendedor)
    unchanged = await r.update("check", row.id, {"v": True}, by=vendedor)
    assert unchanged.version == 2
    gone = await r.delete("check", row.id, by="system")
    events = await _published(node, "cargue:7")
    assert [e for e, _ in events] == ["check.created", "check.updated", "check.deleted"]
    assert events[-1][1]["op"] == "delete"
    assert events[-1][1]["version"] == gone.version == 3


async def test_failed_transaction_writes_and_publishes_nothing(make_node: NodeFactory) -> None:
    node = await make_node()
    r = node.records
    lead = await r.create("lead", {"nombre": "Ana"}, by=GTR)

    async def failing() -> None:
        async with r.transaction() as tx:
            await tx.transition("lead", lead.id, "assign", {"asesor_id": 4}, by=GTR)
            await tx.emit(["gtr"], "custom", {"x": 1})
            raise RuntimeError("app code failed after the write")

    with pytest.raises(RuntimeError):
        await failing()
    assert (await r.get("lead", lead.id)).state == "nuevo"
    assert [e for e, _ in await _published(node, "gtr")] == ["lead.created"]
    assert [e.event for e in await r.history("lead", lead.id)] == ["lead.created"]


async def test_a_write_at_a_stale_version_is_refused_whole(make_node: NodeFactory) -> None:
    """The write path updates the row only at the version it read; when the
    row has moved on (a writer that skipped the row lock), nothing of the
    change is written: no row, no history, no outbox row, no publication —
    on PostgreSQL, where the three are one statement, as on the others."""
    node = await make_node()
    r = node.records
    lead = await r.create("lead", {"nombre": "Ana"}, by=GTR)
    await r.transition("lead", lead.id, "assign", {"asesor_id": 4}, by=GTR)
    k = r.kind("lead")
    for target in ("derivado", "nuevo"):  # a transition's write, with and without channels moving
        with pytest.raises(Conflict, match="changed concurrently"):
            async with r.transaction() as tx:
                await tx.write(k, lead, {**lead.data, "asesor_id": 9}, target, GTR, event="X")
    now = await r.get("lead", lead.id)
    assert (now.version, now["asesor_id"]) == (2, 4)
    assert [e.event for e in await r.history("lead", lead.id)] == [
        "lead.created",
        "CLIENT_REASSIGNED",
    ]
    assert [e for e, _ in await _published(node, "gtr")] == ["lead.created", "CLIENT_REASSIGNED"]
    assert await _published(node, "asesor:9") == []


async def test_a_kind_without_channels_writes_history_and_no_outbox(
    make_node: NodeFactory,
) -> None:
    note = Kind(
        "note",
        fields={"text": Field(str, default="")},
        states={"open", "done"},
        initial="open",
        transitions=[Transition("finish", source={"open"}, target="done")],
    )
    node = await make_node(kinds=[*ALL, note])
    r = node.records
    n = await r.create("note", {"text": "a"}, by="system")
    await r.transition("note", n.id, "finish", by="system")
    with pytest.raises(Conflict, match="changed concurrently"):
        async with r.transaction() as tx:
            await tx.write(r.kind("note"), n, n.data, "done", event="X")
    assert [(e.event, e.to_state) for e in await r.history("note", n.id)] == [
        ("note.created", "open"),
        ("FINISH", "done"),
    ]
    async with r.store.read() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(outbox))).scalar() == 0


@pytest.mark.parametrize(
    "db",
    [
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mysql", marks=pytest.mark.mysql),
    ],
    indirect=True,
)
async def test_a_change_is_stamped_once_its_row_lock_is_held(
    make_node: NodeFactory, db: Db
) -> None:
    """A transaction that began first but got the record's row lock second
    writes the later version: its ``updated_at`` and history time must not
    read earlier than the version before it (nor a lease be judged by the
    time before the wait). SQLite takes a transaction's time after its one
    writer lock, so only the row-locking databases can show it."""
    r = (await make_node()).records
    lead = await r.create("lead", {"nombre": "Ana"}, by=GTR)
    async with r.transaction() as slow:
        fast = await r.transition("lead", lead.id, "assign", {"asesor_id": 4}, by=GTR)
        late = await slow.transition("lead", lead.id, "assign", {"asesor_id": 5}, by=GTR)
    assert (fast.version, late.version) == (2, 3)
    assert late.updated_at >= fast.updated_at
    times = [e.at for e in await r.history("lead", lead.id)]
    assert times == sorted(times)


async def test_concurrent_conflicting_transitions_one_wins(make_node: NodeFactory) -> None:
    r = (await make_node()).records
    turno = await r.create("turno", {"area": "A"}, by="kiosk")

    async def call(mesa: str) -> str:
        try:
            await r.transition("turno", turno.id, "call", {"mesa": mesa}, by="system", version=1)
        except Conflict:
            return "conflict"
        return "won"

    results = await asyncio.gather(*(call(f"m{i}") for i in range(4)))
    assert sorted(results) == ["conflict", "conflict", "conflict", "won"]
    # Without a version the loser is refused by the state machine: still a conflict.
    a, b = await asyncio.gather(
        r.transition("turno", turno.id, "attend", by="system"),
        r.transition("turno", turno.id, "attend", by="system"),
        return_exceptions=True,
    )
    assert sorted(type(x).__name__ for x in (a, b)) == ["Conflict", "Record"]


async def test_claim_next_never_gives_two_operators_the_same_turno(
    make_node: NodeFactory,
) -> None:
    r = (await make_node()).records
    for prioridad in (0, 1, 0, 1):
        await r.create("turno", {"area": "A", "prioridad": prioridad}, by="kiosk")
    claimed = asyncio.Event()

    async def call_next(mesa: str, hold: bool) -> str | None:
        async with r.transaction() as tx:
            t = await tx.claim_next(
                "turno", {"area": "A", "state": "espera"}, order_by=["-prioridad"]
            )
            if t is None:
                return None
            if hold:
                claimed.set()
                await asyncio.sleep(0.3)
            await tx.transition("turno", t.id, "call", {"mesa": mesa}, by="system")
            return t.id

    async def second() -> str | None:
        await claimed.wait()
        return await call_next("m2", hold=False)

    first_id, second_id = await asyncio.gather(call_next("m1", hold=True), second())
    # Priority first, then arrival: turnos 2 and 4 have prioridad 1.
    assert {first_id, second_id} == {"2", "4"}
    assert first_id == "2"


async def test_sequences_are_unique_under_concurrency(make_node: NodeFactory) -> None:
    r = (await make_node()).records
    values = await asyncio.gather(*(r.next_sequence("turno:2026-01-01:A") for _ in range(20)))
    assert sorted(values) == list(range(1, 21))
    async with r.transaction() as tx:
        n = await tx.next_sequence("turno:2026-01-01:A")
        numero = f"A-{n:03d}"
        t = await tx.create("turno", {"area": "A", "numero": numero}, by="kiosk")
    assert (await r.get("turno", t.id))["numero"] == "A-021"


async def test_find_filters_indexed_and_plain_fields(make_node: NodeFactory) -> None:
    r = (await make_node()).records
    for i in range(6):
        await r.create("check", {"vendedor_id": str(i % 2), "producto": f"p{i}"}, by="system")
    assert [c["producto"] for c in await r.find("check", {"vendedor_id": "1"})] == [
        "p1", "p3", "p5",
    ]  # fmt: skip
    assert [c.id for c in await r.find("check", {"producto": ["p2", "p3"]})] == ["3", "4"]
    assert len(await r.find("check", {"id": ["1", "2"], "vendedor_id": "0"})) == 1


async def test_duplicate_id_is_a_conflict_and_ids_default_to_a_sequence(
    make_node: NodeFactory,
) -> None:
    r = (await make_node()).records
    first = await r.create("check", {"vendedor_id": "1", "producto": "a"}, by="system")
    second = await r.create("check", {"vendedor_id": "1", "producto": "b"}, by="system")
    assert (first.id, second.id) == ("1", "2")
    await r.create("check", {"vendedor_id": "1", "producto": "c"}, by="system", id="x-1")
    with pytest.raises(Conflict):
        await r.create("check", {"vendedor_id": "1", "producto": "d"}, by="system", id="x-1")
    with pytest.raises(ProtocolError, match="required"):
        await r.create("check", {"vendedor_id": "1"}, by="system")
