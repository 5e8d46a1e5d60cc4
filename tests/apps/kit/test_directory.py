"""The apps' directories come from the accounts (relevo/apps/kit/directory.py):
a person created or changed on the people screen appears, changes or goes
inactive in the leads directory, the cargue users and the inbox agents at
once; accounts added from the command line while the server was down are
there after its next start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from relevo.accounts.http import SignIn
from relevo.apps import leads
from relevo.apps.kit.directory import Directory, sync_accounts
from relevo.protocol.errors import NotFound
from relevo.records import Records
from relevo.server.app import RelevoServer
from relevo.server.standalone import build_app_server
from relevo.settings import AuthSettings, ServerSettings, Settings
from tests.apps.appserver import FAST, SECRET, bearer, token
from tests.helpers import timeout

PASSWORD = "correct horse battery"


async def _server(db: Path) -> tuple[RelevoServer, Records]:
    settings = Settings(
        server=ServerSettings(host="127.0.0.1", port=0, log_level="warning"),
        auth=AuthSettings(secret=SECRET, api_key="directory-test-key"),
        apps=("leads", "cargue", "inbox", "turnos"),
        demo=False,
    )
    server, records = build_app_server(settings, f"sqlite+aiosqlite:///{db}", records_options=FAST)
    await server.start()
    return server, records


async def _entry(records: Records, kind: str, rid: str) -> dict[str, Any] | None:
    try:
        record = await records.get(kind, rid)
    except NotFound:
        return None
    return {k: record.get(k) for k in ("nombre", "rol", "activo", "tenant") if k in record.data}


def test_an_entry_is_the_first_role_held() -> None:
    from relevo.accounts.model import Account

    def account(roles: dict[str, tuple[str, ...]], tenant: str = "") -> Account:
        return Account(1, "x", "X", roles, tenant, True, False, 0.0, None, 0.0)

    leads = Directory("leads_user", ("asesor", "gtr", "admin"))
    inbox = Directory("inbox_agent", ("supervisor", "agente"), tenant=True)
    assert leads.entry("leads", account({"leads": ("gtr", "asesor")})) == {
        "nombre": "X",
        "rol": "asesor",
        "activo": True,
    }
    assert leads.entry("leads", account({"*": ("admin",)}))["rol"] == "admin"  # type: ignore[index]
    assert leads.entry("leads", account({"turnos": ("operador",)})) is None
    assert inbox.entry("inbox", account({"inbox": ("agente",)})) is None  # no tenant
    assert inbox.entry("inbox", account({"inbox": ("agente",)}, "andes")) == {
        "nombre": "X",
        "rol": "agente",
        "activo": True,
        "tenant": "andes",
    }


async def test_people_changes_reach_the_directories(tmp_path: Path) -> None:
    db = tmp_path / "dir.db"
    server, records = await _server(db)
    try:
        sign_in: SignIn = server.app.state.sign_in
        await sign_in.accounts.create("jefa", PASSWORD, display_name="La Jefa", roles=["admin"])
        # added "from the command line" while this server runs: not yet synced
        await sign_in.accounts.create(
            "cli1", PASSWORD, display_name="Desde la consola", roles={"leads": ["asesor"]}
        )
        url = f"http://127.0.0.1:{server.port}"
        async with httpx.AsyncClient(
            base_url=url, timeout=timeout(10), headers={"Origin": url}
        ) as http:
            res = await http.post("/auth/login", json={"username": "jefa", "password": PASSWORD})
            assert res.status_code == 200, res.text
            marta = (
                await http.post(
                    "/api/people",
                    json={
                        "username": "marta",
                        "name": "Marta Ríos",
                        "roles": {"leads": ["asesor"]},
                    },
                )
            ).json()["person"]
            pablo = (
                await http.post(
                    "/api/people",
                    json={
                        "username": "pablo",
                        "name": "Pablo Agente",
                        "roles": {"inbox": ["agente"]},
                        "tenant": "andes",
                    },
                )
            ).json()["person"]
            assert await _entry(records, "leads_user", "marta") == {
                "nombre": "Marta Ríos",
                "rol": "asesor",
                "activo": True,
            }
            assert await _entry(records, "inbox_agent", "pablo") == {
                "nombre": "Pablo Agente",
                "rol": "agente",
                "activo": True,
                "tenant": "andes",
            }
            assert await _entry(records, "inbox_agent", "marta") is None
            # the GTR's screen lists her among the asesores
            gtr = bearer(token("g1", ("gtr",)))
            users = (await http.get("/api/leads/users", headers=gtr)).json()
            assert "marta" in str(users)

            # she moves to cargue: inactive in leads, a vendor in cargue
            res = await http.patch(
                f"/api/people/{marta['id']}",
                json={"name": "Marta R.", "roles": {"cargue": ["vendedor"]}},
            )
            assert res.status_code == 200, res.text
            assert (await _entry(records, "leads_user", "marta"))["activo"] is False  # type: ignore[index]
            assert await _entry(records, "cargue_user", "marta") == {
                "nombre": "Marta R.",
                "rol": "vendedor",
                "activo": True,
            }
            # deactivated and back
            await http.post(f"/api/people/{pablo['id']}/deactivate")
            assert (await _entry(records, "inbox_agent", "pablo"))["activo"] is False  # type: ignore[index]
            await http.post(f"/api/people/{pablo['id']}/activate")
            assert (await _entry(records, "inbox_agent", "pablo"))["activo"] is True  # type: ignore[index]
        assert await _entry(records, "leads_user", "cli1") is None
    finally:
        await server.stop()

    # the next start picks up what the command line added
    server, records = await _server(db)
    try:
        people = server.app.state.people
        accounts = await people.sign_in.accounts.list()
        # and a reconcile with nothing to change writes nothing
        assert await sync_accounts(records, "leads", leads.DIRECTORY, accounts) == 0
        assert await _entry(records, "leads_user", "cli1") == {
            "nombre": "Desde la consola",
            "rol": "asesor",
            "activo": True,
        }
        assert (await _entry(records, "leads_user", "marta"))["activo"] is False  # type: ignore[index]
    finally:
        await server.stop()
