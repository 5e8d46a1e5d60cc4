"""The one retry loop of the SDK and the apps' HTTP clients (relevo.client.retry)."""

from __future__ import annotations

import pytest

from relevo.client.retry import backoff, retry_after, retrying


class Flaky(Exception):
    def __init__(self, retry: bool = True, wait: float | None = None) -> None:
        super().__init__("flaky")
        self.retry = retry
        self.wait = wait


class Calls:
    """A call that raises ``errors`` in turn, then answers ``"ok"``."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.count = 0
        self.slept: list[float] = []

    async def __call__(self) -> str:
        self.count += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)

    async def run(self, delays: list[float]) -> str:
        return await retrying(
            self,
            delays,
            retryable=lambda exc: isinstance(exc, Flaky) and exc.retry,
            sleep=self.sleep,
            wait=lambda exc: exc.wait if isinstance(exc, Flaky) else None,
        )


def test_backoff_doubles_up_to_the_cap() -> None:
    assert list(backoff(5, 1.0, cap=5.0)) == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert list(backoff(0, 1.0)) == []
    for delay, full in zip(backoff(4, 0.5, jitter=True), [0.5, 1.0, 2.0, 4.0], strict=True):
        assert full / 2 <= delay <= full


async def test_retries_on_the_schedule_until_the_call_answers() -> None:
    calls = Calls(Flaky(), Flaky())
    assert await calls.run([0.1, 0.2, 0.4]) == "ok"
    assert (calls.count, calls.slept) == (3, [0.1, 0.2])


async def test_the_last_error_is_raised_when_the_schedule_is_spent() -> None:
    last = Flaky()
    calls = Calls(Flaky(), Flaky(), last)
    with pytest.raises(Flaky) as caught:
        await calls.run([0.1, 0.2])
    assert caught.value is last
    assert (calls.count, calls.slept) == (3, [0.1, 0.2])


async def test_an_error_not_to_retry_is_raised_at_once() -> None:
    calls = Calls(Flaky(retry=False))
    with pytest.raises(Flaky):
        await calls.run([0.1])
    calls = Calls(KeyError("boom"))
    with pytest.raises(KeyError):
        await calls.run([0.1])
    assert calls.slept == []


async def test_an_errors_own_wait_wins_over_the_schedule() -> None:
    calls = Calls(Flaky(wait=7.0), Flaky())
    assert await calls.run([0.1, 0.2]) == "ok"
    assert calls.slept == [7.0, 0.2]


def test_retry_after_reads_seconds_only() -> None:
    assert retry_after("3") == 3.0
    assert retry_after("1.5") == 1.5
    assert retry_after("9999") == 300.0
    assert retry_after("9999", cap=60) == 60.0
    assert retry_after("-4") == 0.0
    assert retry_after(None) is None
    assert retry_after("Wed, 21 Oct 2026 07:28:00 GMT") is None
