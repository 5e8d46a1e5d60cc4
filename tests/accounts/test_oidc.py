"""Single sign-on against a real OpenID Connect provider started by the test
(oidc-provider-mock: authorization code + PKCE, signed ID tokens, a nonce):
a person signs in through it in Chromium and lands on their role's screen;
the flow's state, the account link and the role mapping hold against a
stranger replaying or forging a callback, a provider that lets people pick
their username, a person with no mapped group, and a disabled account."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from oidc_provider_mock import User, run_server_in_thread
from playwright.async_api import expect

from relevo.accounts.http import SignIn
from relevo.settings import OidcSettings
from tests.apps.browsing import DESK, Contexts, contexts  # noqa: F401
from tests.web.fullserver import FullServer, full_settings, start_full_server

PEOPLE = [
    User(sub="sub-laura", claims={"preferred_username": "laura", "name": "Laura Gómez",
                                  "groups": ["ventas"]}),
    User(sub="sub-ramon", claims={"preferred_username": "ramon", "name": "Ramón Caja",
                                  "groups": ["cajas", "otros"]}),
    User(sub="sub-nadie", claims={"preferred_username": "nadie", "name": "Sin Grupo",
                                  "groups": ["otros"]}),
    # A provider that lets people choose their username: one picks "admin".
    User(sub="sub-intruso", claims={"preferred_username": "admin", "name": "Intruso",
                                    "groups": ["ventas"]}),
]  # fmt: skip


@pytest.fixture
def provider() -> Iterator[str]:
    with run_server_in_thread(require_nonce=True, user_claims=PEOPLE) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
async def full(tmp_path: Path, provider: str) -> AsyncIterator[FullServer]:
    base = full_settings(demo=False)
    oidc = OidcSettings(
        issuer=provider,
        client_id="relevo",
        client_secret="relevo-client-secret",
        label="Entrar con Ejemplo S.A.",
        roles={"ventas": ("leads:gtr",), "cajas": ("turnos:operador",)},
    )
    settings = dataclasses.replace(base, auth=dataclasses.replace(base.auth, oidc=oidc))
    srv = await start_full_server(tmp_path / "oidc.db", settings=settings)
    sign_in: SignIn = srv.server.app.state.sign_in
    await sign_in.accounts.create(
        "admin", "una clave larga 2026", display_name="La Admin", roles=["admin"]
    )
    try:
        yield srv
    finally:
        await srv.stop()


async def through_provider(client: httpx.AsyncClient, full: FullServer, sub: str) -> httpx.Response:
    """Start at relevo, choose ``sub`` on the provider's form (as a person
    does), follow the redirect back: relevo's answer to the callback."""
    start = await client.get(full.url + "/auth/oidc/start")
    assert start.status_code == 303, start.text
    authorize = start.headers["location"]
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["nonce"]
    assert query["state"]
    chosen = await client.post(authorize, data={"sub": sub})
    assert chosen.status_code == 302, chosen.text
    return await client.get(chosen.headers["location"])


def error_of(resp: httpx.Response) -> str:
    assert resp.status_code == 303
    location = resp.headers["location"]
    assert location.startswith("/login?"), location
    return parse_qs(urlsplit(location).query)["error"][0]


async def test_a_person_signs_in_through_the_provider_and_lands_on_their_screen(
    full: FullServer,
    contexts: Contexts,  # noqa: F811
) -> None:
    _, page = await contexts.page(**DESK)
    await page.goto(full.url + "/login")
    sso = page.locator("#login-sso")
    await expect(sso).to_have_text("Entrar con Ejemplo S.A.")
    await sso.click()
    await page.locator('button[name="sub"][value="sub-laura"]').click()  # the provider's page
    await page.wait_for_url("**/leads/gtr")
    await expect(page.locator("header.topbar")).to_contain_text("Laura Gómez")
    status = await page.evaluate("fetch('/auth/token').then((r) => r.status)")
    assert status == 200
    sign_in: SignIn = full.server.app.state.sign_in
    laura = await sign_in.accounts.get("laura")
    assert laura is not None
    assert laura.roles_for("leads") == ("gtr",)
    log = await sign_in.accounts.audit_log(limit=5)
    assert any(e.event == "sign_in" and e.detail == "oidc" for e in log)
    # the leads directory knows her at once (the GTR's screens list her)
    entry = await full.records.get("leads_user", "laura")
    assert entry.get("nombre") == "Laura Gómez"
    assert entry.get("rol") == "gtr"


async def test_the_same_person_is_the_same_account_and_gets_the_roles_of_today(
    full: FullServer, provider: str
) -> None:
    sign_in: SignIn = full.server.app.state.sign_in
    async with httpx.AsyncClient() as client:
        resp = await through_provider(client, full, "sub-ramon")
        assert resp.headers["location"] == "/turnos/operador"
    first = await sign_in.accounts.get("ramon")
    assert first is not None
    # The provider moves Ramón to sales: his roles follow at the next sign-in.
    async with httpx.AsyncClient() as admin:
        await admin.put(f"{provider}/users/sub-ramon", json={
            "preferred_username": "ramon", "name": "Ramón Caja", "groups": ["ventas"],
        })  # fmt: skip
    async with httpx.AsyncClient() as client:
        resp = await through_provider(client, full, "sub-ramon")
        assert resp.headers["location"] == "/leads/gtr"
        assert resp.cookies  # a session
    again = await sign_in.accounts.get("ramon")
    assert again is not None
    assert again.id == first.id
    assert dict(again.roles) == {"leads": ("gtr",)}


async def test_a_username_chosen_at_the_provider_never_takes_over_a_local_account(
    full: FullServer,
) -> None:
    sign_in: SignIn = full.server.app.state.sign_in
    async with httpx.AsyncClient() as client:
        resp = await through_provider(client, full, "sub-intruso")
        assert resp.headers["location"] == "/leads/gtr"
        token = (await client.get(full.url + "/auth/token")).json()
    assert token["user"]["username"].startswith("admin-")  # an account of its own
    assert token["roles"] == ["gtr"]
    admin = await sign_in.accounts.get("admin")
    assert admin is not None
    assert dict(admin.roles) == {"*": ("admin",)}


async def test_nobody_without_a_mapped_group_gets_in(full: FullServer) -> None:
    async with httpx.AsyncClient() as client:
        resp = await through_provider(client, full, "sub-nadie")
        assert error_of(resp) == "oidc_no_roles"
        assert (await client.get(full.url + "/auth/token")).status_code == 401
    sign_in: SignIn = full.server.app.state.sign_in
    assert await sign_in.accounts.get("nadie") is None
    log = await sign_in.accounts.audit_log(limit=5)
    assert any(e.event == "failure" and "no group" in e.detail for e in log)


async def test_a_disabled_account_is_refused(full: FullServer) -> None:
    sign_in: SignIn = full.server.app.state.sign_in
    async with httpx.AsyncClient() as client:
        await through_provider(client, full, "sub-laura")
    await sign_in.deactivate("laura")
    async with httpx.AsyncClient() as client:
        resp = await through_provider(client, full, "sub-laura")
        assert error_of(resp) == "oidc_disabled"
        assert (await client.get(full.url + "/auth/token")).status_code == 401


async def test_a_callback_without_its_flow_or_with_another_state_is_refused(
    full: FullServer,
) -> None:
    async with httpx.AsyncClient() as client:
        start = await client.get(full.url + "/auth/oidc/start")
        authorize = start.headers["location"]
        chosen = await client.post(authorize, data={"sub": "sub-laura"})
        callback = chosen.headers["location"]
        # Another browser (no flow cookie) replaying the callback: refused.
        async with httpx.AsyncClient() as stranger:
            assert error_of(await stranger.get(callback)) == "oidc_state"
            stranger.cookies.set("relevo_oidc", "e30.AAAA")  # "{}" with a made-up MAC
            assert error_of(await stranger.get(callback)) == "oidc_state"
            assert (await stranger.get(full.url + "/auth/token")).status_code == 401
        # The right browser, the state altered: refused, and the flow is spent.
        tampered = callback.replace("state=", "state=x")
        assert error_of(await client.get(tampered)) == "oidc_state"
        assert error_of(await client.get(callback)) == "oidc_state"
        assert (await client.get(full.url + "/auth/token")).status_code == 401


async def test_a_denial_at_the_provider_and_a_provider_that_is_down(
    full: FullServer, tmp_path: Path
) -> None:
    async with httpx.AsyncClient() as client:
        start = await client.get(full.url + "/auth/oidc/start")
        denied = await client.post(start.headers["location"], data={"action": "deny"})
        assert error_of(await client.get(denied.headers["location"])) == "oidc_denied"
    base = full_settings(demo=False)
    down = OidcSettings(issuer="http://127.0.0.1:9", client_id="relevo", timeout=2.0)
    settings = dataclasses.replace(base, auth=dataclasses.replace(base.auth, oidc=down))
    other = await start_full_server(tmp_path / "down.db", settings=settings)
    try:
        async with httpx.AsyncClient() as client:
            resp = await client.get(other.url + "/auth/oidc/start")
            assert error_of(resp) == "oidc_unavailable"
            methods = (await client.get(other.url + "/auth/methods")).json()
            assert methods == {"password": True, "oidc": {"label": down.label}}
    finally:
        await other.stop()


def test_roles_are_checked_when_the_server_starts() -> None:
    from relevo.accounts.oidc import role_map
    from relevo.settings import ConfigError

    assert role_map(OidcSettings(roles={"a": ("leads:gtr", "*:admin")})) == {
        "a": {"leads": ("gtr",), "*": ("admin",)}
    }
    with pytest.raises(ConfigError, match="app:role"):
        role_map(OidcSettings(roles={"a": ("gtr",)}))


async def test_keys_rotated_at_the_provider_are_read_again(full: FullServer) -> None:
    from joserfc.jwk import KeySet

    oidc = full.server.app.state.oidc
    async with httpx.AsyncClient() as client:
        await through_provider(client, full, "sub-laura")  # discovery and keys cached
    assert oidc._provider is not None
    # What a rotation looks like from here: the cached keys no longer sign anything.
    oidc._provider.keys = KeySet.generate_key_set("RSA", 2048, count=1)
    async with httpx.AsyncClient() as client:
        resp = await through_provider(client, full, "sub-laura")
        assert resp.headers["location"] == "/leads/gtr"
