"""Sign-in throttling on an injected clock: increasing delays per username
and per address, shared by two nodes through the database."""

from __future__ import annotations

import asyncio

import pytest

from relevo.accounts import Accounts, SignInFailed, SignInThrottled, ThrottlePolicy
from relevo.clock import VirtualClock

from .conftest import PASSWORD, AccountsFactory

POLICY = ThrottlePolicy(account_free=5, address_free=12, base_delay=1.0, max_delay=900.0)
WRONG = "not the password"


async def _fail(accounts: Accounts, user: str = "ana", address: str = "10.0.0.1") -> None:
    with pytest.raises(SignInFailed):
        await accounts.authenticate(user, WRONG, address=address)


async def _throttled(accounts: Accounts, user: str = "ana", address: str = "10.0.0.1") -> int:
    with pytest.raises(SignInThrottled) as info:
        await accounts.authenticate(user, PASSWORD, address=address)
    assert info.value.extra == {"retry_after": info.value.retry_after}
    return info.value.retry_after


@pytest.fixture
async def accounts(make_accounts: AccountsFactory) -> Accounts:
    acc: Accounts = make_accounts(throttle=POLICY)
    await acc.create("ana", PASSWORD, display_name="Ana", roles=["gtr"])
    return acc


async def test_delays_double_after_five_failures_up_to_the_cap(
    accounts: Accounts, clock: VirtualClock
) -> None:
    for _ in range(5):
        await _fail(accounts)
    waits = []
    for _ in range(12):
        wait = await _throttled(accounts)  # even the right password waits
        waits.append(wait)
        clock.advance(wait)
        await _fail(accounts)
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]


async def test_throttled_attempts_are_not_counted(accounts: Accounts, clock: VirtualClock) -> None:
    for _ in range(5):
        await _fail(accounts)
    for _ in range(10):
        assert await _throttled(accounts) == 1
    clock.advance(1)
    assert (await accounts.authenticate("ana", PASSWORD, address="10.0.0.1")).username == "ana"
    events = [e.event for e in await accounts.audit_log(20)]
    assert events.count("throttled") == 10


async def test_a_success_starts_the_username_over(accounts: Accounts, clock: VirtualClock) -> None:
    for _ in range(4):
        await _fail(accounts)
    await accounts.authenticate("ana", PASSWORD, address="10.0.0.1")
    for _ in range(5):
        await _fail(accounts)
    assert await _throttled(accounts) == 1


async def test_an_unknown_username_is_throttled_like_a_known_one(
    accounts: Accounts, clock: VirtualClock
) -> None:
    for user in ("ana", "nadie"):
        for _ in range(5):
            await _fail(accounts, user)
        assert await _throttled(accounts, user) == 1


async def test_one_address_trying_many_usernames(accounts: Accounts, clock: VirtualClock) -> None:
    for i in range(12):
        await _fail(accounts, f"user{i}")
    assert await _throttled(accounts, "another") == 1
    assert await _throttled(accounts, "ana") == 1
    # Ana from her own address is not held up by the attacker's.
    assert (await accounts.authenticate("ana", PASSWORD, address="10.0.0.2")).username == "ana"


async def test_failures_are_forgotten_after_an_hour(
    accounts: Accounts, clock: VirtualClock
) -> None:
    for _ in range(5):
        await _fail(accounts)
    clock.advance(3601)
    for _ in range(5):
        await _fail(accounts)
    assert await _throttled(accounts) == 1


async def test_two_nodes_share_the_counters(
    accounts: Accounts, make_accounts: AccountsFactory
) -> None:
    other: Accounts = make_accounts(throttle=POLICY)
    for i in range(5):
        await _fail(accounts if i % 2 else other)
    assert await _throttled(other) == 1
    assert await _throttled(accounts) == 1


async def test_parallel_guesses_are_all_counted(accounts: Accounts) -> None:
    async def attempt() -> str:
        try:
            await accounts.authenticate("ana", WRONG, address="10.0.0.1")
        except SignInFailed:
            return "failed"
        except SignInThrottled:
            return "throttled"
        return "signed in"

    results = await asyncio.gather(*(attempt() for _ in range(20)))
    assert results.count("failed") == 5
    assert results.count("throttled") == 15


async def test_an_admin_can_clear_a_username(accounts: Accounts) -> None:
    for _ in range(5):
        await _fail(accounts)
    await accounts.clear_throttle("ana")
    assert (await accounts.authenticate("ana", PASSWORD, address="10.0.0.9")).username == "ana"


def test_the_default_policy() -> None:
    p = ThrottlePolicy()
    assert [p.delay(n, p.account_free) for n in range(4, 8)] == [0, 1, 2, 4]
    assert p.delay(10_000, p.account_free) == 900
    assert p.address_free > p.account_free
