"""Fields declared ``secret=True`` (a third party's credentials) are stored
but returned by no path, not even to the backend with the API key: not in a
record, a list, a reply to a change, or a history entry. Private fields
(``public=False``) still reach the backend."""

from __future__ import annotations

import httpx

from relevo.records import SYSTEM, Field, Kind

from .conftest import API_KEY, Db, serve_records

TOKEN = "EAAG-very-secret-credential-9876"
API = {"X-API-Key": API_KEY}


def _kind() -> Kind:
    return Kind(
        "credential",
        fields={
            "owner": Field(str, required=True),
            "note": Field(str, public=False),
            "token": Field(str, public=False, secret=True),
        },
        indexed=["owner"],
        read_roles={"system"},
        write_roles={"system"},
    )


async def test_a_secret_field_is_stored_and_returned_by_no_path(db: Db) -> None:
    async with (
        serve_records(db, [_kind()]) as (srv, records),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{srv.port}") as http,
    ):
        body = {"id": "acme", "data": {"owner": "acme", "note": "private", "token": TOKEN}}
        created = await http.post("/api/records/credential", json=body, headers=API)
        assert created.status_code == 201, created.text
        update = {"data": {"token": TOKEN + "-2"}}
        changed = await http.patch("/api/records/credential/acme", json=update, headers=API)
        answers = [
            created,
            changed,
            await http.get("/api/records/credential/acme", headers=API),
            await http.get("/api/records/credential/acme/history", headers=API),
        ]
        for res in answers:
            assert res.status_code in (200, 201), res.text
            assert TOKEN not in res.text
        assert "private" in answers[2].text  # private, not secret: the backend reads it
        history = answers[3].json()
        assert history, history
        # stored all the same: the app's code reads it
        rec = await records.get("credential", "acme")
        assert rec.get("token") == TOKEN + "-2"
        assert records.kind("credential").full(rec).get("token") is None
        # nor does the history table keep it: only that it changed
        entries = await records.history("credential", "acme")
        assert TOKEN not in str([e.data for e in entries])
        assert entries[-1].data["changes"]["token"] == "••••"
        assert SYSTEM.is_system
