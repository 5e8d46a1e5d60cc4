"""Record ids: only the backend chooses them, and a chosen id never blocks
the sequence that numbers everyone else's records (issue 11, finding 5: a
GTR's ``{"id": "62"}`` made every later create answer 409)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from relevo.hub.auth import mint_token
from relevo.protocol.errors import ProtocolError
from relevo.records import SYSTEM, Actor, Records
from relevo.records import schema as s

from .conftest import API_KEY, SECRET, Db, NodeFactory, serve_records

GTR = {"Authorization": f"Bearer {mint_token(SECRET, 'g1', ['gtr'])}"}
API = {"X-API-Key": API_KEY}
BASE = "/api/records/lead"


def _lead(n: int | str) -> dict[str, Any]:
    return {"data": {"nombre": f"L{n}"}}


async def _taken_behind_its_back(records: Records, *ids: str) -> None:
    """Rows whose ids the sequence never saw (as a database written before
    the sequence went past chosen ids has them)."""
    async with records.transaction() as tx:
        k = tx.kind("lead")
        for rid in ids:
            await tx.write(k, None, {"nombre": f"old {rid}"}, k.initial, event="x", new_id=rid)
        seq = s.sequences.c
        await tx.conn.execute(sa.delete(s.sequences).where(seq.name == "id:lead"))


async def test_a_user_may_not_choose_an_id(http: httpx.AsyncClient) -> None:
    """The exact attack: refused with bad_request, and creating still works
    past the id the attacker named."""
    for chosen in ("3", 3):
        resp = await http.post(BASE, json={"id": chosen, **_lead("x")}, headers=GTR)
        assert (resp.status_code, resp.json()["code"]) == (400, "bad_request"), resp.text
        assert "id" in resp.json()["message"]
        assert "L" not in resp.text
    assert (await http.get(f"{BASE}/3", headers=API)).status_code == 404
    ids = []
    for n in range(5):
        resp = await http.post(BASE, json=_lead(n), headers=GTR)
        assert resp.status_code == 201, resp.text
        ids.append(resp.json()["id"])
    assert ids == ["1", "2", "3", "4", "5"]


async def test_a_user_may_not_choose_an_id_in_process_either(make_node: NodeFactory) -> None:
    r = (await make_node()).records
    with pytest.raises(ProtocolError, match="id"):
        await r.create("lead", {"nombre": "x"}, by=Actor("g1", frozenset({"gtr"})), id="9")
    assert (await r.create("lead", {"nombre": "y"}, by=SYSTEM, id="9")).id == "9"


async def test_an_id_the_backend_chose_never_blocks_creation(http: httpx.AsyncClient) -> None:
    """The API key may choose ids; the sequence then goes past a numeric one."""
    made = await http.post(BASE, json={"id": "3", **_lead("chosen")}, headers=API)
    assert made.status_code == 201, made.text
    ids = []
    for n in range(5):
        resp = await http.post(BASE, json=_lead(n), headers=GTR)
        assert resp.status_code == 201, resp.text
        ids.append(resp.json()["id"])
    assert "3" not in ids
    assert len(set(ids)) == 5
    again = await http.post(BASE, json={"id": "3", **_lead("again")}, headers=API)
    assert (again.status_code, again.json()["code"]) == (409, "conflict")


async def test_the_sequence_skips_ids_taken_behind_its_back(make_node: NodeFactory) -> None:
    r = (await make_node()).records
    await _taken_behind_its_back(r, "2", "3", "5")
    gtr = Actor("g1", frozenset({"gtr"}))
    made = await asyncio.gather(*(r.create("lead", {"nombre": f"L{n}"}, by=gtr) for n in range(20)))
    ids = [rec.id for rec in made]
    assert len(set(ids)) == 20
    assert not {"2", "3", "5"} & set(ids)
    assert len(await r.find("lead", {}, limit=100)) == 23


async def test_two_creators_racing_after_a_chosen_id(db: Db) -> None:
    """Two clients create at once after the backend took ids ahead of the
    sequence, and while it takes more: every user create succeeds with an id
    of its own; a chosen id already handed out is a conflict, nothing else."""
    async with serve_records(db) as (srv, records):
        await _taken_behind_its_back(records, "4", "9")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{srv.port}") as http:

            async def creator(name: str) -> list[str]:
                out = []
                for n in range(10):
                    resp = await http.post(BASE, json=_lead(f"{name}{n}"), headers=GTR)
                    assert resp.status_code == 201, resp.text
                    out.append(resp.json()["id"])
                return out

            async def backend() -> list[tuple[str, int]]:
                out = []
                for chosen in ("6", "12", "15", "30"):
                    resp = await http.post(BASE, json={"id": chosen, **_lead(chosen)}, headers=API)
                    assert resp.status_code in (201, 409), resp.text
                    out.append((chosen, resp.status_code))
                return out

            a, b, chosen = await asyncio.gather(creator("a"), creator("b"), backend())
        users = [*a, *b]
        assert len(set(users)) == 20
        kept = {c for c, status in chosen if status == 201}
        assert not set(users) & (kept | {"4", "9"})
        rows = await records.find("lead", {}, limit=100)
        assert sorted(r.id for r in rows) == sorted([*users, *kept, "4", "9"])
