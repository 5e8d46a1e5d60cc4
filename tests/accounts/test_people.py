"""The people API (relevo/accounts/people.py) on a real server with leads and
inbox mounted, called as every kind of caller: anonymous, a Bearer token
(even an admin's: only the session counts), a signed-in person who manages
nobody, the global admin, an inbox supervisor (their own tenant's inbox
people only), and from another Origin. Denials carry the bare error body."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from relevo.accounts import schema as s
from relevo.accounts.http import SignIn
from relevo.settings import AuthSettings, ServerSettings, Settings
from tests.apps.appserver import FAST, SECRET, WsClient, token
from tests.helpers import timeout

PASSWORD = "correct horse battery"
BARE = {"code", "message", "retry", "mensaje"}


class Srv:
    def __init__(self, server: Any, records: Any) -> None:
        self.server = server
        self.records = records
        self.sign_in: SignIn = server.app.state.sign_in

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.server.port}/ws"

    def client(self, **headers: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.url, timeout=timeout(10), headers={"Origin": self.url, **headers}
        )

    @contextlib.asynccontextmanager
    async def as_user(
        self, username: str, password: str = PASSWORD
    ) -> AsyncIterator[httpx.AsyncClient]:
        async with self.client() as http:
            body = {"username": username, "password": password}
            res = await http.post("/auth/login", json=body)
            assert res.status_code == 200, res.text
            yield http


@pytest.fixture
async def srv(tmp_path: Path) -> AsyncIterator[Srv]:
    from relevo.server.standalone import build_app_server

    settings = Settings(
        server=ServerSettings(host="127.0.0.1", port=0, log_level="warning"),
        auth=AuthSettings(secret=SECRET, api_key="people-test-key"),
        apps=("leads", "inbox"),
        demo=False,
    )
    server, records = build_app_server(
        settings, f"sqlite+aiosqlite:///{tmp_path / 'people.db'}", records_options=FAST
    )
    await server.start()
    out = Srv(server, records)
    accounts = out.sign_in.accounts
    people = [
        ("jefa", "La Jefa", {"*": ["admin"]}, ""),
        ("gabriela", "Gabriela Ríos", {"leads": ["gtr"]}, ""),
        ("sofia", "Sofía Andes", {"inbox": ["supervisor"]}, "andes"),
        ("pedro", "Pedro Andes", {"inbox": ["agente"]}, "andes"),
        ("tadmin", "Admin de Andes", {"*": ["admin"]}, "andes"),
        ("mixta", "Mixta Andes", {"inbox": ["agente"], "leads": ["asesor"]}, "andes"),
        ("carla", "Carla Acme", {"inbox": ["agente"]}, "acme"),
        ("nadie", "Sin Roles", {}, "andes"),
    ]
    for username, name, roles, tenant in people:
        await accounts.create(username, PASSWORD, display_name=name, roles=roles, tenant=tenant)
    try:
        yield out
    finally:
        await server.stop()


async def _id(srv: Srv, username: str) -> int:
    account = await srv.sign_in.accounts.get(username)
    assert account is not None
    return account.id


def _bare(res: httpx.Response, status: int, *, guard: bool = False) -> dict[str, Any]:
    assert res.status_code == status, (res.status_code, res.text)
    body: dict[str, Any] = res.json()
    assert set(body) <= BARE | {"password_change_required"}, body
    if not guard:  # the cross-site guard answers before any route
        assert res.headers["cache-control"] == "no-store"
    return body


def _calls(pid: int) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [
        ("GET", "/api/people", None),
        ("POST", "/api/people", {"username": "x1", "name": "X", "roles": {"leads": ["asesor"]}}),
        ("GET", "/api/people/audit", None),
        ("PATCH", f"/api/people/{pid}", {"name": "Otro"}),
        ("POST", f"/api/people/{pid}/password", {}),
        ("POST", f"/api/people/{pid}/deactivate", {}),
        ("POST", f"/api/people/{pid}/activate", {}),
    ]


async def test_anonymous_and_bearer_tokens_get_401(srv: Srv) -> None:
    pid = await _id(srv, "pedro")
    admin_jwt = token("jefa", ("admin",))
    async with srv.client() as anon, srv.client(Authorization=f"Bearer {admin_jwt}") as bearer:
        for method, path, body in _calls(pid):
            _bare(await anon.request(method, path, json=body), 401)
            _bare(await bearer.request(method, path, json=body), 401)
    assert (await srv.sign_in.accounts.get("pedro")).active  # type: ignore[union-attr]


async def test_a_person_who_manages_nobody_gets_403(srv: Srv) -> None:
    pid = await _id(srv, "pedro")
    for who in ("gabriela", "pedro"):
        async with srv.as_user(who) as http:
            for method, path, body in _calls(pid):
                body_ = _bare(await http.request(method, path, json=body), 403)
                assert body_["mensaje"] == "No tienes permiso para gestionar personas."
    assert await srv.sign_in.accounts.get("x1") is None


async def test_the_admin_creates_a_person_who_must_change_the_password(srv: Srv) -> None:
    async with srv.as_user("jefa") as admin:
        res = await admin.post(
            "/api/people",
            json={"username": " Luis ", "name": "Luis Gómez", "roles": {"leads": ["asesor"]}},
        )
        assert res.status_code == 201, res.text
        created = res.json()
        temp = created["temporary_password"]
        assert created["person"]["username"] == "luis"
        assert created["person"]["must_change_password"] is True
        listed = (await admin.get("/api/people")).json()
        names = [p["username"] for p in listed["people"]]
        assert names == sorted(names)
        assert "luis" in names
        assert "carla" in names
        assert listed["scope"]["tenant"] is None
        luis = next(p for p in listed["people"] if p["username"] == "luis")
        assert luis["last_sign_in_at"] is None
        assert temp not in (await admin.get("/api/people")).text

    async with srv.client() as anon:
        nobody = await anon.post("/auth/password", json={"current": temp, "new": "x" * 12})
        assert nobody.status_code == 401
        assert nobody.json()["mensaje"] == "Tu sesión terminó. Vuelve a entrar."
    async with srv.as_user("luis", temp) as luis_http:
        refused = _bare(await luis_http.get("/auth/token"), 403)
        assert refused["password_change_required"] is True
        wrong = await luis_http.post(
            "/auth/password", json={"current": "not it at all", "new": "luis new password"}
        )
        assert wrong.status_code == 403
        assert wrong.json()["mensaje"] == "La contraseña actual no es correcta."
        weak = await luis_http.post("/auth/password", json={"current": temp, "new": "short"})
        assert weak.status_code == 400
        assert weak.json()["field"] == "new"
        same = await luis_http.post("/auth/password", json={"current": temp, "new": temp})
        assert same.status_code == 400
        ok = await luis_http.post(
            "/auth/password", json={"current": temp, "new": "luis new password"}
        )
        assert ok.status_code == 200, ok.text
        assert ok.json()["home"] == "/leads/asesor"
        tok = await luis_http.get("/auth/token", params={"app": "leads"})
        assert tok.status_code == 200
        assert tok.json()["roles"] == ["asesor"]
    async with srv.as_user("jefa") as admin:
        listed = (await admin.get("/api/people")).json()["people"]
        luis = next(p for p in listed if p["username"] == "luis")
        assert luis["last_sign_in_at"] is not None
        assert luis["must_change_password"] is False
        audit = (await admin.get("/api/people/audit")).json()["entries"]
        events = [e["event"] for e in audit if e["username"] == "luis"]
        # checking the current password is not a second sign-in (a wrong one is a failure)
        assert events == ["password_changed", "failure", "sign_in", "created"]


async def test_refused_values(srv: Srv) -> None:
    async with srv.as_user("jefa") as admin:
        cases: list[tuple[dict[str, Any], int]] = [
            ({"username": "no spaces here", "name": "X", "roles": {"leads": ["asesor"]}}, 400),
            ({"username": "x" * 65, "name": "X", "roles": {"leads": ["asesor"]}}, 400),
            ({"username": "ok1", "name": "", "roles": {"leads": ["asesor"]}}, 400),
            ({"username": "ok1", "name": "X", "roles": {"leads": ["jefe"]}}, 400),
            ({"username": "ok1", "name": "X", "roles": {"turnos": ["operador"]}}, 400),
            ({"username": "ok1", "name": "X", "roles": {}}, 400),
            ({"username": "ok1", "name": "X", "roles": ["admin"]}, 400),
            (
                {"username": "ok1", "name": "X", "roles": {"leads": ["asesor"]}, "tenant": "a b"},
                400,
            ),
            ({"username": "gabriela", "name": "X", "roles": {"leads": ["asesor"]}}, 409),
        ]
        for body, status in cases:
            res = await admin.post("/api/people", json=body)
            assert res.status_code == status, (body, res.text)
            assert res.json()["mensaje"], body
        assert (
            await admin.post("/api/people", content=b"{" + b" " * 5000 + b"}")
        ).status_code == 413
        assert (await admin.get("/api/people/audit?limit=0")).status_code == 400
        assert (await admin.get("/api/people/audit?limit=x")).status_code == 400
        assert (await admin.post("/api/people/999999/password")).status_code == 404
        me = await _id(srv, "jefa")
        res = await admin.post(f"/api/people/{me}/deactivate")
        assert res.status_code == 409
        assert res.json()["mensaje"] == "No puedes desactivarte a ti mismo."
    assert await srv.sign_in.accounts.get("ok1") is None


async def test_reset_gives_a_temporary_password_and_ends_sessions(srv: Srv) -> None:
    async with srv.as_user("pedro") as pedro:
        assert (await pedro.get("/auth/token")).status_code == 200
        async with srv.as_user("jefa") as admin:
            res = await admin.post(f"/api/people/{await _id(srv, 'pedro')}/password")
            assert res.status_code == 200, res.text
            temp = res.json()["temporary_password"]
            assert res.json()["person"]["must_change_password"] is True
        assert (await pedro.get("/auth/token")).status_code == 401
    async with srv.client() as http:
        old = await http.post("/auth/login", json={"username": "pedro", "password": PASSWORD})
        assert old.status_code == 401
        new = await http.post("/auth/login", json={"username": "pedro", "password": temp})
        assert new.json()["must_change_password"] is True


async def test_deactivation_cuts_the_live_connection_at_once(srv: Srv) -> None:
    async with srv.as_user("pedro") as pedro:
        tok = (await pedro.get("/auth/token", params={"app": "inbox"})).json()["token"]
        ws = await WsClient.open(srv, tok)  # type: ignore[arg-type]
        try:
            async with srv.as_user("sofia") as sup:
                pid = await _id(srv, "pedro")
                res = await sup.post(f"/api/people/{pid}/deactivate")
                assert res.status_code == 200, res.text
                assert res.json()["person"]["active"] is False
                cut = await ws.wait(lambda f: f.get("op") == "disconnect")
                assert cut["code"] == "unauthorized"
                assert cut["reconnect"] is False
                assert (await pedro.get("/auth/token")).status_code == 401
                with pytest.raises(AssertionError):
                    await WsClient.open(srv, tok)  # type: ignore[arg-type]
                again = await pedro.post(
                    "/auth/login", json={"username": "pedro", "password": PASSWORD}
                )
                assert again.status_code == 401
                back = await sup.post(f"/api/people/{pid}/activate")
                assert back.json()["person"]["active"] is True
        finally:
            await ws.close()
    async with srv.as_user("pedro"):
        pass


async def test_a_supervisor_manages_only_their_tenants_inbox_people(srv: Srv) -> None:
    ids = {u: await _id(srv, u) for u in ("carla", "tadmin", "mixta", "gabriela", "jefa", "nadie")}
    async with srv.as_user("sofia") as sup:
        listed = (await sup.get("/api/people")).json()
        assert {p["username"] for p in listed["people"]} == {"sofia", "pedro"}
        assert listed["scope"] == {"tenant": "andes", "roles": {"inbox": ["agente", "supervisor"]}}
        # out of reach: another tenant, an admin of the tenant, mixed roles, no tenant
        for username, pid in ids.items():
            for method, path, body in _calls(pid)[3:]:
                denied = _bare(await sup.request(method, path, json=body), 404)
                assert username not in str(denied)
        res = await sup.post(
            "/api/people",
            json={"username": "nuevo", "name": "Nuevo", "roles": {"inbox": ["agente"]}},
        )
        assert res.status_code == 201, res.text
        assert res.json()["person"]["tenant"] == "andes"
        for body, status in [
            ({"roles": {"inbox": ["agente"]}, "tenant": "acme"}, 403),
            ({"roles": {"*": ["admin"]}}, 400),
            ({"roles": {"leads": ["gtr"]}}, 400),
            ({"roles": {"inbox": ["agente"], "leads": ["asesor"]}}, 400),
        ]:
            r = await sup.post("/api/people", json={"username": "otro", "name": "Otro", **body})
            assert r.status_code == status, (body, r.text)
        patch = await sup.patch(f"/api/people/{ids['carla']}", json={"roles": {"*": ["admin"]}})
        assert patch.status_code == 404
        own = await sup.patch(
            f"/api/people/{await _id(srv, 'pedro')}", json={"roles": {"*": ["admin"]}}
        )
        assert own.status_code == 400
        audit = (await sup.get("/api/people/audit")).json()["entries"]
        assert audit
        assert {e["username"] for e in audit} <= {"sofia", "pedro", "nuevo"}
    assert await srv.sign_in.accounts.get("otro") is None
    carla = await srv.sign_in.accounts.get("carla")
    assert carla is not None
    assert carla.active
    assert carla.roles == {"inbox": ("agente",)}


async def test_a_cookie_post_from_another_origin_is_refused(srv: Srv) -> None:
    async with srv.as_user("jefa") as admin:
        pid = await _id(srv, "pedro")
        evil = await admin.post(
            f"/api/people/{pid}/deactivate", headers={"Origin": "https://evil.example"}
        )
        _bare(evil, 403, guard=True)
    assert (await srv.sign_in.accounts.get("pedro")).active  # type: ignore[union-attr]


async def test_an_admin_with_a_temporary_password_must_change_it_first(srv: Srv) -> None:
    await srv.sign_in.accounts.set_password("jefa", "temporary pass 1", must_change=True)
    async with srv.as_user("jefa", "temporary pass 1") as admin:
        body = _bare(await admin.get("/api/people"), 403)
        assert body["password_change_required"] is True


async def test_no_password_or_hash_in_any_answer_or_log_line(
    srv: Srv, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    answers: list[str] = []
    temps: list[str] = []
    async with srv.as_user("jefa") as admin:
        created = await admin.post(
            "/api/people",
            json={
                "username": "rosa",
                "name": "Rosa",
                "roles": {"inbox": ["agente"]},
                "tenant": "t",
            },
        )
        temps.append(created.json()["temporary_password"])
        rid = created.json()["person"]["id"]
        reset = await admin.post(f"/api/people/{rid}/password")
        temps.append(reset.json()["temporary_password"])
        for res in (created, reset):  # the one answer that shows each, once
            answers.append(res.text.replace(res.json()["temporary_password"], "<shown once>"))
        async with srv.as_user("rosa", temps[1]) as rosa:
            answers.append(
                (
                    await rosa.post(
                        "/auth/password", json={"current": temps[1], "new": "rosa's new secret"}
                    )
                ).text
            )
            answers.append((await rosa.get("/auth/token")).text)
        for path in ("/api/people", "/api/people/audit?limit=500"):
            answers.append((await admin.get(path)).text)
        answers.append((await admin.patch(f"/api/people/{rid}", json={"name": "Rosa M."})).text)
        answers.append((await admin.post(f"/api/people/{rid}/deactivate")).text)
        answers.append((await admin.post(f"/api/people/{rid}/activate")).text)
    async with srv.records.store.read() as conn:
        hashes = [r.password_hash for r in (await conn.execute(sa.select(s.accounts))).all()]
    secrets_ = [*temps, PASSWORD, "rosa's new secret", *hashes]
    logs = "\n".join(r.getMessage() for r in caplog.records)
    for secret in secrets_:
        for text in [*answers, logs]:
            assert secret not in text
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert "$argon2" not in "".join(answers) + logs
