"""Accounts: people, sign-in, sessions, audit; on every database."""

from __future__ import annotations

import dataclasses

import pytest
import sqlalchemy as sa

from relevo.accounts import (
    Account,
    AccountExists,
    AccountNotFound,
    Accounts,
    InvalidAccount,
    SignInFailed,
    WeakPassword,
)
from relevo.accounts import schema as s
from relevo.records.clock import MockClock

from .conftest import PASSWORD


async def _ana(accounts: Accounts) -> Account:
    return await accounts.create(
        "Ana", PASSWORD, display_name="Ana Pérez", roles={"leads": ["gtr"]}
    )


async def test_create_and_get_case_insensitively(accounts: Accounts) -> None:
    ana = await accounts.create(
        " Ana.Perez ",
        PASSWORD,
        display_name="Ana Pérez",
        roles={"leads": ["gtr", "asesor"], "*": ["admin"]},
        tenant="acme",
    )
    assert ana.username == "ana.perez"
    assert ana.active
    assert not ana.must_change_password
    assert ana.roles_for("leads") == ("admin", "asesor", "gtr")
    assert ana.roles_for("turnos") == ("admin",)
    assert ana.all_roles() == ("admin", "asesor", "gtr")
    assert await accounts.get("ANA.PEREZ") == ana
    assert await accounts.get_by_id(ana.id) == ana
    assert await accounts.get("nobody") is None
    assert await accounts.get("not a valid name!") is None
    assert "password_hash" not in {f.name for f in dataclasses.fields(ana)}
    assert PASSWORD not in repr(ana)


async def test_a_taken_username_is_refused_whatever_its_case(accounts: Accounts) -> None:
    await _ana(accounts)
    with pytest.raises(AccountExists):
        await accounts.create("ANA", PASSWORD, display_name="Otra", roles=["admin"])


@pytest.mark.parametrize(
    "username", ["", " ", "-ana", "ana perez", "a" * 65, "ana:x", "ana/..", "ñandú"]
)
async def test_usernames_outside_the_charset_are_refused(accounts: Accounts, username: str) -> None:
    with pytest.raises(InvalidAccount):
        await accounts.create(username, PASSWORD, display_name="X", roles=[])


@pytest.mark.parametrize(
    "kw",
    [
        {"display_name": ""},
        {"display_name": "x" * 101},
        {"display_name": "a\nb"},
        {"roles": {"leads": ["GTR"]}},
        {"roles": {"le ads": ["gtr"]}},
        {"roles": "admin"},
        {"roles": [f"r{i}" for i in range(17)]},
        {"tenant": "a:b"},
        {"tenant": "x" * 65},
    ],
)
async def test_bounds_on_names_roles_and_tenants(accounts: Accounts, kw: dict[str, object]) -> None:
    args: dict[str, object] = {"display_name": "Ana", "roles": ["admin"], **kw}
    with pytest.raises(InvalidAccount):
        await accounts.create("ana", PASSWORD, **args)


@pytest.mark.parametrize("password", ["short", "ana", " " * 12, "x" * 1025, "ñ" * 513])
async def test_weak_passwords_are_refused_without_being_echoed(
    accounts: Accounts, password: str
) -> None:
    with pytest.raises(WeakPassword) as info:
        await accounts.create("ana", password, display_name="Ana", roles=[])
    assert password.strip() not in str(info.value) or not password.strip()
    await accounts.create("bob", "bob" * 3 + "xyz", display_name="Bob", roles=[])
    with pytest.raises(WeakPassword):
        await accounts.create("carlos12345", "CARLOS12345", display_name="C", roles=[])


async def test_list_by_tenant_and_update(accounts: Accounts) -> None:
    await accounts.create("zoe", PASSWORD, display_name="Zoe", roles=["agente"], tenant="t1")
    await accounts.create("ana", PASSWORD, display_name="Ana", roles=["agente"], tenant="t1")
    await accounts.create("bob", PASSWORD, display_name="Bob", roles=["agente"], tenant="t2")
    assert [a.username for a in await accounts.list()] == ["ana", "bob", "zoe"]
    assert [a.username for a in await accounts.list(tenant="t1")] == ["ana", "zoe"]
    bob = await accounts.update("bob", display_name="Roberto", roles={"inbox": ["supervisor"]})
    assert bob.display_name == "Roberto"
    assert bob.roles_for("inbox") == ("supervisor",)
    assert bob.tenant == "t2"
    with pytest.raises(AccountNotFound):
        await accounts.update("nadie", display_name="X")


async def test_sign_in_with_the_right_password(accounts: Accounts, clock: MockClock) -> None:
    await _ana(accounts)
    clock.advance(10)
    ana = await accounts.authenticate("ANA", PASSWORD, address="10.0.0.1")
    assert ana.username == "ana"
    assert ana.last_sign_in_at == clock.now()
    log = await accounts.audit_log(10)
    assert [e.event for e in log] == ["sign_in", "created"]
    assert log[0].address == "10.0.0.1"
    assert log[0].account_id == ana.id


async def test_unknown_user_wrong_password_and_disabled_fail_the_same(
    accounts: Accounts,
) -> None:
    await _ana(accounts)
    await accounts.create("bob", PASSWORD, display_name="Bob", roles=[])
    await accounts.set_active("bob", False)
    errors = []
    for user, password in [("nadie", PASSWORD), ("ana", "wrong password!"), ("bob", PASSWORD)]:
        with pytest.raises(SignInFailed) as info:
            await accounts.authenticate(user, password, address="10.0.0.1")
        errors.append((type(info.value), str(info.value), info.value.code, info.value.extra))
    assert errors[0] == errors[1] == errors[2]
    details = [e.detail for e in await accounts.audit_log(3)]
    assert details == ["disabled", "wrong_password", "unknown_user"]


async def test_a_password_typed_as_username_is_not_kept_in_the_audit(accounts: Accounts) -> None:
    with pytest.raises(SignInFailed):
        await accounts.authenticate("my secret pass!", "x", address="10.0.0.1")
    (entry,) = await accounts.audit_log(1)
    assert entry.username == "(invalid)"


async def test_sessions_store_only_the_tokens_hash(accounts: Accounts, clock: MockClock) -> None:
    ana = await _ana(accounts)
    token = await accounts.start_session(ana, address="10.0.0.1", user_agent="UA" * 300, ttl=3600)
    assert len(token) >= 43
    found = await accounts.session(token)
    assert found is not None
    account, info = found
    assert account == ana
    assert info.account_id == account.id
    assert len(info.user_agent) == 255
    assert token not in info.id
    async with accounts.store.read() as conn:
        rows = (await conn.execute(sa.select(s.sessions))).all()
    assert all(token not in str(tuple(r)) for r in rows)
    assert await accounts.session(token + "x") is None
    assert await accounts.session("") is None
    assert await accounts.session("x" * 10_000) is None


async def test_sessions_expire_and_touch_at_most_once_a_minute(
    accounts: Accounts, clock: MockClock
) -> None:
    ana = await _ana(accounts)
    token = await accounts.start_session(ana, address="", user_agent="", ttl=600)
    start = clock.now()
    clock.advance(30)
    found = await accounts.session(token)
    assert found is not None
    assert found[1].last_seen_at == start
    clock.advance(31)
    found = await accounts.session(token)
    assert found is not None
    assert found[1].last_seen_at == start + 61
    clock.advance(600)
    assert await accounts.session(token) is None


async def test_sign_out_and_disable_end_sessions(accounts: Accounts) -> None:
    ana = await _ana(accounts)
    t1 = await accounts.start_session(ana, address="", user_agent="", ttl=600)
    t2 = await accounts.start_session(ana, address="", user_agent="", ttl=600)
    t3 = await accounts.start_session(ana, address="", user_agent="", ttl=600)
    sid = await accounts.end_session(t1)
    assert sid is not None
    assert await accounts.session(t1) is None
    assert await accounts.end_session(t1) is None
    assert len(await accounts.sessions_of(ana.id)) == 2
    ended = await accounts.set_active("ana", False)
    assert len(ended) == 2
    assert await accounts.session(t2) is None
    assert await accounts.session(t3) is None
    await accounts.set_active("ana", True)
    assert await accounts.session(t2) is None  # ended stays ended
    t4 = await accounts.start_session(ana, address="", user_agent="", ttl=600)
    assert await accounts.session(t4) is not None
    assert await accounts.end_sessions(ana.id) == [(await _sid(t4))]


async def _sid(token: str) -> str:
    import hashlib

    return hashlib.sha256(token.encode()).hexdigest()


async def test_a_disabled_accounts_open_session_is_refused(accounts: Accounts) -> None:
    ana = await _ana(accounts)
    token = await accounts.start_session(ana, address="", user_agent="", ttl=600)
    async with accounts.store.write() as conn:  # disabled behind the store's back
        await conn.execute(sa.update(s.accounts).values(active=False))
    assert await accounts.session(token) is None


async def test_set_password_ends_other_sessions_and_can_require_a_change(
    accounts: Accounts,
) -> None:
    ana = await _ana(accounts)
    keep = await accounts.start_session(ana, address="", user_agent="", ttl=600)
    other = await accounts.start_session(ana, address="", user_agent="", ttl=600)
    ended = await accounts.set_password(
        "ana", "a new password 1", keep_session=keep, must_change=True
    )
    assert ended == [await _sid(other)]
    assert await accounts.session(keep) is not None
    with pytest.raises(SignInFailed):
        await accounts.authenticate("ana", PASSWORD, address="")
    ana2 = await accounts.authenticate("ana", "a new password 1", address="")
    assert ana2.must_change_password
    with pytest.raises(AccountNotFound):
        await accounts.set_password("nadie", "a new password 1")


async def test_audit_log_by_tenant(accounts: Accounts) -> None:
    await accounts.create("ana", PASSWORD, display_name="Ana", roles=[], tenant="t1")
    await accounts.create("bob", PASSWORD, display_name="Bob", roles=[], tenant="t2")
    await accounts.authenticate("bob", PASSWORD, address="")
    with pytest.raises(SignInFailed):
        await accounts.authenticate("nadie", PASSWORD, address="")
    assert [(e.username, e.event) for e in await accounts.audit_log(10, tenant="t1")] == [
        ("ana", "created")
    ]
    assert len(await accounts.audit_log(10)) == 4
    assert len(await accounts.audit_log(2)) == 2
    await accounts.audit("sign_out", username="ana", detail="x" * 1000)
    assert len((await accounts.audit_log(1))[0].detail) == 255
    with pytest.raises(InvalidAccount):
        await accounts.audit("made_up")


async def test_accounts_are_hashable_and_immutable(accounts: Accounts) -> None:
    ana = await _ana(accounts)
    assert ana in {ana}
    with pytest.raises(TypeError):
        ana.roles["leads"] = ("admin",)  # type: ignore[index]
