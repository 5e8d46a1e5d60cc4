"""Fields declared ``public=False`` never reach a user: not in a record, a
reply to a change, a live query, a publication — nor in a record's history
(issue 11, finding 6). The backend (API key) reads the whole record."""

from __future__ import annotations

import json
from typing import Any

import httpx

from relevo.apps.inbox.kinds import all_kinds as inbox_kinds
from relevo.apps.leads.kinds import user_kind
from relevo.apps.turnos.kinds import turno_kind
from relevo.hub.auth import mint_token
from relevo.records import SYSTEM

from .conftest import API_KEY, SECRET, Db, serve_records

SECRET_DNI = "DNI-40-111-222"
GTR = {"Authorization": f"Bearer {mint_token(SECRET, 'g1', ['gtr'])}"}
A4 = {"Authorization": f"Bearer {mint_token(SECRET, '4', ['asesor'])}"}
API = {"X-API-Key": API_KEY}


async def _ok(resp: httpx.Response, status: int = 200) -> Any:
    assert resp.status_code == status, resp.text
    return resp.json()


async def test_a_private_field_reaches_no_user_by_any_path(db: Db) -> None:
    async with (
        serve_records(db) as (srv, records),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{srv.port}") as http,
    ):
        base = "/api/records/lead"
        replies: list[Any] = []
        body = {"data": {"nombre": "Ana", "documento": SECRET_DNI}}
        lead = await _ok(await http.post(base, json=body, headers=GTR), 201)
        replies.append(lead)
        url = f"{base}/{lead['id']}"
        replies.append(await _ok(await http.patch(url, json={"data": {"documento": "x"}},
                                                  headers=GTR)))  # fmt: skip
        replies.append(await _ok(await http.patch(url, json={"data": {"documento": SECRET_DNI}},
                                                  headers=GTR)))  # fmt: skip
        replies.append(
            await _ok(
                await http.post(
                    f"{url}/transitions/assign", json={"data": {"asesor_id": 4}}, headers=GTR
                )
            )
        )
        lease = await _ok(await http.post(f"{url}/lease", headers=A4))
        token = lease["fencing_token"]
        replies.append(await _ok(await http.post(
            f"{url}/transitions/note", json={"data": {"documento": SECRET_DNI, "nota": "ok"},
                                             "fencing_token": token}, headers=A4,
        )))  # fmt: skip
        replies.append(
            await _ok(
                await http.request(
                    "DELETE", f"{url}/lease", json={"fencing_token": token}, headers=A4
                )
            )
        )
        replies.append(await _ok(await http.get(url, headers=GTR)))
        replies.append(await _ok(await http.get(url, headers=A4)))
        replies.append(await _ok(await http.get(base, headers=GTR)))
        replies.append(await _ok(await http.get(base, params={"asesor_id": "4"}, headers=A4)))
        for reply in replies:
            assert SECRET_DNI not in json.dumps(reply), reply
            assert "documento" not in json.dumps(reply), reply

        history = await _ok(await http.get(f"{url}/history", headers=GTR))
        assert len(history["entries"]) == 7
        assert SECRET_DNI not in json.dumps(history), history
        assert "documento" not in json.dumps(history), history
        # What is public stays in the history.
        assert history["entries"][0]["data"]["changes"]["nombre"] == "Ana"
        assert history["entries"][5]["data"]["input"] == {"nota": "ok"}

        await records.wait_published()
        for channel in ("gtr", "asesor:4"):
            pubs, _ = await srv.hub.history(channel, None, 100)
            assert pubs
            for pub in pubs:
                assert SECRET_DNI not in pub.data.decode()

        # The backend holding the API key reads the whole record.
        full = await _ok(await http.get(url, headers=API))
        assert full["documento"] == SECRET_DNI
        assert SECRET_DNI in json.dumps(await _ok(await http.get(f"{url}/history", headers=API)))


async def test_the_apps_private_fields_stay_out_of_history(db: Db) -> None:
    """The exact findings: ``leads_user.email``, ``inbox_bulk.destinatarios``
    and a turno's ``persona_nombre`` through ``/history``."""
    kinds = [user_kind(), *inbox_kinds(), turno_kind(60.0)]
    async with (
        serve_records(db, kinds) as (srv, records),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{srv.port}") as http,
    ):
        email = "ana.secreta@example.com"
        user = await records.create(
            "leads_user", {"nombre": "Ana", "rol": "asesor", "email": email}, by=SYSTEM, id="4"
        )
        await records.update("leads_user", user.id, {"email": "otra." + email}, by=SYSTEM)
        phone = "+51911222333"
        bulk = await records.create(
            "inbox_bulk",
            {"tenant": "acme", "nombre": "Promo", "texto": "2x1", "destinatarios": [phone]},
            by=SYSTEM,
        )
        name = "Persona Secreta"
        turno = await records.create(
            "turno",
            {"numero_visible": "A-001", "numero": 1, "fecha": "2026-01-01",
             "tramite_id": "consultas", "area_id": "atencion", "persona_nombre": name},
            by=SYSTEM,
        )  # fmt: skip
        await records.transition(
            "turno", turno.id, "actualizar", {"persona_nombre": name + " II"}, by=SYSTEM
        )
        agent = mint_token(SECRET, "7", ["agente"], tenant="acme")
        operador = mint_token(SECRET, "op1", ["operador"])
        cases = [
            ("leads_user", user.id, GTR, email),
            ("inbox_bulk", bulk.id, {"Authorization": f"Bearer {agent}"}, phone),
            ("turno", turno.id, {"Authorization": f"Bearer {operador}"}, "Secreta"),
        ]
        for kind, rid, headers, secret in cases:
            history = await _ok(await http.get(f"/api/records/{kind}/{rid}/history",
                                               headers=headers))  # fmt: skip
            assert history["entries"], kind
            assert secret not in json.dumps(history), history
            record = await _ok(await http.get(f"/api/records/{kind}/{rid}", headers=headers))
            assert secret not in json.dumps(record), record
        # The backend reads the recipients it has to send to (docs/apps/inbox.md).
        full = await _ok(await http.get(f"/api/records/inbox_bulk/{bulk.id}", headers=API))
        assert full["destinatarios"] == [phone]


async def test_a_user_cannot_probe_a_private_field_with_a_filter(db: Db) -> None:
    # ?documento=… would tell a GTR which lead has a given DNI without ever
    # showing the field: a user's query may not filter on what it cannot see.
    async with (
        serve_records(db) as (srv, _),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{srv.port}") as http,
    ):
        base = "/api/records/lead"
        await _ok(
            await http.post(
                base, json={"data": {"nombre": "Ana", "documento": SECRET_DNI}}, headers=GTR
            ),
            201,
        )
        for probe in (SECRET_DNI, "DNI-nobody"):
            resp = await http.get(base, params={"documento": probe}, headers=GTR)
            assert resp.status_code == 400, resp.text
            assert resp.json()["code"] == "bad_request"
            assert SECRET_DNI not in resp.text
            assert "Ana" not in resp.text
        # The backend may: it reads the whole record anyway.
        rows = (await _ok(await http.get(base, params={"documento": SECRET_DNI}, headers=API)))[
            "rows"
        ]
        assert [r["nombre"] for r in rows] == ["Ana"]
