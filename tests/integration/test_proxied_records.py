"""The records routes ask a namespace's subscribe proxy as `sub` does.

A namespace whose rules let every signed-in user subscribe, but which names
a ``subscribe_proxy``, leaves the last word to the app's backend. The
records routes over that namespace's channels must ask it too: otherwise
``GET /api/records/pedido/1`` shows a user the record the backend refused
them on the socket. The backend here is real (tests/integration/test_proxies.py's
Starlette app on a free port): it allows ``pedido:<user>`` only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from relevo.records import Field, Kind, Records, Transition
from relevo.server.app import RelevoServer
from tests.conftest import make_settings, token
from tests.integration.test_proxies import Backend, proxy_config
from tests.integration.test_proxies import backend as backend  # noqa: F401 (the fixture)
from tests.records.conftest import Db, serve_records

PEDIDO = Kind(
    "pedido",
    fields={"cliente": Field(str, required=True), "nota": Field(str, default="")},
    states={"abierto", "listo"},
    initial="abierto",
    transitions=[Transition("preparar", source={"abierto"}, target="listo")],
    channels=["pedido:{cliente}"],
    live={"cliente": "pedido:{cliente}"},
    indexed=["cliente"],
)


@pytest.fixture
async def served(backend: Backend, tmp_path: Path) -> AsyncIterator[tuple[RelevoServer, Records]]:
    db = Db("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'r.db'}")
    async with serve_records(db, [PEDIDO], make_settings(**proxy_config(backend.port))) as pair:
        yield pair


def _as(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(user)}"}


async def test_a_user_the_backend_refuses_reads_and_changes_nothing(
    served: tuple[RelevoServer, Records], backend: Backend
) -> None:
    srv, records = served
    ana = await records.create("pedido", {"cliente": "ana", "nota": "secreto de ana"}, by="system")
    base = f"http://127.0.0.1:{srv.port}/api/records/pedido"
    async with httpx.AsyncClient(timeout=10) as http:
        # ana: the rules and the backend both allow pedido:ana.
        assert (await http.get(f"{base}/{ana.id}", headers=_as("ana"))).status_code == 200
        listed = await http.get(base, params={"cliente": "ana"}, headers=_as("ana"))
        assert [r["id"] for r in listed.json()["rows"]] == [ana.id]

        # eve is signed in (the rules allow her) but the backend refuses pedido:ana.
        eve = _as("eve")
        denials = [
            await http.get(f"{base}/{ana.id}", headers=eve),
            await http.get(base, params={"cliente": "ana"}, headers=eve),
            await http.get(f"{base}/{ana.id}/history", headers=eve),
            await http.patch(f"{base}/{ana.id}", json={"nota": "mía"}, headers=eve),
            await http.post(f"{base}/{ana.id}/transitions/preparar", json={}, headers=eve),
            await http.post(f"{base}/{ana.id}/activity", headers=eve),
        ]
    for res in denials:
        assert res.status_code == 403, (res.request.method, res.request.url, res.text)
        assert res.json()["code"] == "forbidden"
        assert "secreto" not in res.text
    assert "pedido:ana" not in denials[0].text  # the record's channel names its data
    rec = await records.get("pedido", ana.id)
    assert (rec.state, rec["nota"], rec.version) == ("abierto", "secreto de ana", 1)
    asked = [body["user"] for path, _, body in backend.calls if path == "subscribe"]
    assert "eve" in asked


async def test_a_backend_that_cannot_answer_makes_the_read_unavailable(
    served: tuple[RelevoServer, Records], backend: Backend
) -> None:
    srv, records = served
    rec = await records.create("pedido", {"cliente": "ana"}, by="system")
    backend.gate.clear()  # the backend hangs: relevo gives up after the proxy's timeout
    async with httpx.AsyncClient(timeout=30) as http:
        res = await http.get(
            f"http://127.0.0.1:{srv.port}/api/records/pedido/{rec.id}", headers=_as("ana")
        )
    backend.gate.set()
    assert res.status_code == 503, res.text
    assert res.json()["code"] == "unavailable"
