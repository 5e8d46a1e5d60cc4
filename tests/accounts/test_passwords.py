"""argon2id with OWASP's parameters, rehash on verify, the policy, the dummy
hash; and the same answer and time for an unknown user and a wrong password."""

from __future__ import annotations

import logging
import statistics
import time

import pytest

from relevo.accounts import Accounts, HashParameters, Passwords, SignInFailed, check_policy
from relevo.accounts.passwords import MAX_PASSWORD_BYTES

from .conftest import FAST_HASH, NO_THROTTLE, PASSWORD, AccountsFactory


async def test_defaults_are_owasps_argon2id() -> None:
    params = HashParameters()
    assert params.memory_kib >= 19 * 1024
    assert params.time_cost >= 2
    assert params.parallelism >= 1
    h = await Passwords().hash(PASSWORD)
    assert h.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


async def test_hash_and_verify() -> None:
    pw = Passwords(FAST_HASH)
    h = await pw.hash(PASSWORD)
    assert PASSWORD not in h
    assert h != await pw.hash(PASSWORD)  # salted
    assert await pw.verify(h, PASSWORD) == (True, None)
    assert await pw.verify(h, PASSWORD + "x") == (False, None)
    assert await pw.verify(None, PASSWORD) == (False, None)
    assert await pw.verify("not a hash", PASSWORD) == (False, None)
    assert await pw.verify(h, "x" * (MAX_PASSWORD_BYTES + 1)) == (False, None)


async def test_a_hash_with_old_parameters_is_replaced_on_sign_in(
    make_accounts: AccountsFactory,
) -> None:
    old = HashParameters(memory_kib=128, time_cost=1, parallelism=1)
    first: Accounts = make_accounts(passwords=Passwords(old))
    await first.create("ana", PASSWORD, display_name="Ana", roles=[])
    assert (await Passwords(FAST_HASH).verify(await _hash(first), PASSWORD))[1] is not None
    second: Accounts = make_accounts(passwords=Passwords(FAST_HASH))
    await second.authenticate("ana", PASSWORD, address="")
    stored = await _hash(second)
    assert "m=256,t=1,p=1" in stored
    assert await Passwords(FAST_HASH).verify(stored, PASSWORD) == (True, None)


async def _hash(accounts: Accounts) -> str:
    import sqlalchemy as sa

    from relevo.accounts import schema as s

    async with accounts.store.read() as conn:
        value: str = (await conn.execute(sa.select(s.accounts.c.password_hash))).scalar_one()
    return value


def test_the_policy_allows_long_passphrases_in_any_script() -> None:
    check_policy("contraseña larga de verdad")
    check_policy("пароль-достаточно-длинный")
    check_policy("x" * MAX_PASSWORD_BYTES)


@pytest.mark.slow
async def test_unknown_user_and_wrong_password_take_about_the_same_time(
    make_accounts: AccountsFactory,
) -> None:
    """Medians of interleaved attempts with the real parameters; the tolerance
    (a factor of 2) is far wider than load noise and far narrower than the
    gap a skipped hash would open (a hash is most of an attempt)."""
    accounts: Accounts = make_accounts(passwords=Passwords(), throttle=NO_THROTTLE)
    await accounts.create("ana", PASSWORD, display_name="Ana", roles=[])
    unknown: list[float] = []
    wrong: list[float] = []
    for i in range(21):
        for user, into in (("nadie", unknown), ("ana", wrong))[:: 1 if i % 2 else -1]:
            start = time.perf_counter()
            with pytest.raises(SignInFailed):
                await accounts.authenticate(user, "wrong password!", address="10.0.0.1")
            into.append(time.perf_counter() - start)
    ratio = statistics.median(unknown) / statistics.median(wrong)
    assert 0.5 <= ratio <= 2.0, (ratio, statistics.median(unknown), statistics.median(wrong))


async def test_no_password_or_hash_in_any_log_line(
    make_accounts: AccountsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    accounts: Accounts = make_accounts()
    new_password = "another long password"
    ana = await accounts.create("ana", PASSWORD, display_name="Ana", roles=["admin"])
    await accounts.authenticate("ana", PASSWORD, address="10.0.0.1")
    with pytest.raises(SignInFailed):
        await accounts.authenticate("ana", new_password, address="10.0.0.1")
    with pytest.raises(SignInFailed):
        await accounts.authenticate(PASSWORD, PASSWORD, address="10.0.0.1")
    token = await accounts.start_session(ana, address="10.0.0.1", user_agent="ua", ttl=60)
    await accounts.session(token)
    first_hash = await _hash(accounts)
    await accounts.set_password("ana", new_password, must_change=True)
    await accounts.authenticate("ana", new_password, address="10.0.0.1")
    second_hash = await _hash(accounts)
    await accounts.end_session(token)
    text = (
        "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)
        + "\n"
        + repr(await accounts.audit_log(100))
        + repr(await accounts.list())
    )
    salt_and_digest = first_hash.split("$")[-1]
    for secret in (PASSWORD, new_password, first_hash, second_hash, salt_and_digest, token):
        assert secret not in text
