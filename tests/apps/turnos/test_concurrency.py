"""Must hold 3: 50 concurrent "call next" requests over 10 mesas, on SQLite
and on PostgreSQL — each turno is called at most once and none is skipped.

Five rounds; in each, every mesa gets five presses at the same instant (two
operators, a double click): exactly one per mesa wins, the ten winners get
ten different turnos, and together they are exactly the next ten in line
(priority first, then arrival). Then every mesa finishes its turno."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import httpx
import pytest

from relevo.records import Actor

from .conftest import CONFIG, OPERADOR, Db, StartTurnos, truncate

MESAS = [str(i) for i in range(1, 11)]
TRAMITES = ["consultas", "reclamos"]
CONCURRENT = {
    **CONFIG,
    "mesas": [
        {"id": m, "nombre": f"Mesa {m}", "area_id": "atencion", "tramites": TRAMITES} for m in MESAS
    ],
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database(request: pytest.FixtureRequest) -> Db | None:
    if request.param == "sqlite":
        return None
    from .conftest import PG_URL

    db = Db("postgres", PG_URL, request.getfixturevalue("pg_schema"))
    await truncate(db)
    return db


async def test_fifty_concurrent_calls_over_ten_mesas(
    start_turnos: StartTurnos, database: Db | None
) -> None:
    turnos = await start_turnos(db=database, config=CONCURRENT)
    rng = random.Random(7)
    issued: list[tuple[int, int, str]] = []  # (-prioridad, arrival, id)
    kiosk = Actor.trusted("kiosco")
    for i in range(60):
        prioridad = 1 if rng.random() < 0.2 else 0
        tramite = rng.choice(["consultas", "reclamos"])
        rec, _ = await turnos.turnero().emitir(tramite, by=kiosk, prioridad=prioridad)
        issued.append((-prioridad, i, rec.id))
    expected = [tid for _, _, tid in sorted(issued)]

    # The client drops idle connections well before uvicorn closes them (5 s):
    # on a busy machine a round can take that long, and a request sent on a
    # connection the server is closing fails with ReadError.
    limits = httpx.Limits(max_connections=60, max_keepalive_connections=60, keepalive_expiry=1.0)
    headers = {"Authorization": f"Bearer {OPERADOR}"}
    called: list[str] = []
    async with httpx.AsyncClient(base_url=turnos.url, limits=limits, headers=headers,
                                 timeout=30) as http:  # fmt: skip

        async def press(mesa: str) -> httpx.Response:
            return await http.post(f"/api/turnos/mesas/{mesa}/siguiente")

        for _round in range(5):
            presses = [m for m in MESAS for _ in range(5)]
            rng.shuffle(presses)
            results = await asyncio.gather(*(press(m) for m in presses))
            won: dict[str, dict[str, Any]] = {}
            for mesa, res in zip(presses, results, strict=True):
                if res.status_code == 200:
                    turno = res.json()["turno"]
                    assert turno is not None
                    assert mesa not in won, f"mesa {mesa} won twice"
                    assert turno["mesa_id"] == mesa
                    won[mesa] = turno
                else:
                    assert res.status_code == 409, res.text
                    assert res.json()["code"] == "conflict"
            assert sorted(won) == sorted(MESAS)
            called += [t["id"] for t in won.values()]
            for mesa, t in won.items():
                for accion in ("atender", "finalizar"):
                    res = await http.post(f"/api/turnos/turnos/{t['id']}/{accion}",
                                          json={"mesa_id": mesa})  # fmt: skip
                    assert res.status_code == 200, res.text

    assert len(called) == 50
    assert len(set(called)) == 50  # nobody called twice
    assert sorted(called, key=expected.index) == expected[:50]  # and nobody skipped
    for tid in called:
        history = await turnos.records.history("turno", tid)
        assert [h.transition for h in history].count("llamar") == 1
    waiting = await turnos.records.find("turno", {"state": "en_espera"})
    assert sorted(r.id for r in waiting) == sorted(expected[50:])
