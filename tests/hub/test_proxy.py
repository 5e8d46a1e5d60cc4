"""The proxy policy with an injected backend and a virtual clock: what each
answer becomes, how long it is kept, and how many are kept."""

from __future__ import annotations

import json
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, Counter

from relevo.hub.auth import Identity
from relevo.hub.proxy import Forwarded, Proxies, parse_connect
from relevo.protocol.errors import AuthError, PermissionDenied, Unavailable
from relevo.settings import ProxySettings


class FakeBackend:
    def __init__(self, answer: Any = None) -> None:
        self.answer = answer or (lambda body: (200, b'{"allow": true}'))
        self.calls: list[tuple[str, dict[str, Any], Forwarded]] = []
        self.closed = False

    async def post(
        self, url: str, body: bytes, headers: Forwarded, timeout: float
    ) -> tuple[int, bytes]:
        self.calls.append((url, json.loads(body), headers))
        status, data = self.answer(json.loads(body))
        return status, data

    async def aclose(self) -> None:
        self.closed = True


class Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


def proxies(
    backend: FakeBackend | None, clock: Clock, wall: Clock | None = None, **over: Any
) -> Proxies:
    counter = Counter("answers", "", ["proxy", "answer"], registry=CollectorRegistry())
    settings = [
        ProxySettings(name="connect", url="http://b/c", forward_cookies=("sid",)),
        ProxySettings(name="perms", url="http://b/s", **over),
    ]
    if wall is None:
        return Proxies(tuple(settings), backend, clock, counter)
    return Proxies(tuple(settings), backend, clock, counter, wall=wall)


ANA = Identity(user="ana", roles=frozenset({"v"}), tenant="acme")


async def test_answers_expire_with_the_clock() -> None:
    clock, backend = Clock(), FakeBackend()
    p = proxies(backend, clock, cache_ttl=5)
    await p.check_subscribe("perms", ANA, "pedido:1")
    clock.now += 4.9
    await p.check_subscribe("perms", ANA, "pedido:1")
    assert len(backend.calls) == 1
    clock.now += 0.2
    await p.check_subscribe("perms", ANA, "pedido:1")
    assert len(backend.calls) == 2


async def test_cache_keeps_at_most_cache_size_answers() -> None:
    clock, backend = Clock(), FakeBackend()
    p = proxies(backend, clock, cache_size=2)
    for ch in ("a:1", "a:2", "a:3", "a:1"):  # a:1 was the oldest: it went
        await p.check_subscribe("perms", ANA, ch)
    assert [c[1]["channel"] for c in backend.calls] == ["a:1", "a:2", "a:3", "a:1"]
    await p.check_subscribe("perms", ANA, "a:3")  # still kept
    assert len(backend.calls) == 4


async def test_zero_ttl_asks_every_time() -> None:
    clock = Clock()
    backend = FakeBackend(lambda body: (403, b""))
    p = proxies(backend, clock, cache_ttl=0)
    for _ in range(2):
        with pytest.raises(PermissionDenied):
            await p.check_subscribe("perms", ANA, "a:1")
    assert len(backend.calls) == 2


async def test_without_a_client_the_answer_is_unavailable() -> None:
    p = proxies(None, Clock())
    with pytest.raises(Unavailable):
        await p.check_subscribe("perms", ANA, "a:1")


async def test_connect_forwards_only_what_is_allowed_and_refusal_is_unauthorized() -> None:
    backend = FakeBackend(lambda body: (401, b""))
    p = proxies(backend, Clock())
    fwd = p.forwarded({"cookie": "a=1; sid=s1, sid=s2; b=2", "x-other": "no"})
    assert fwd == (("cookie", "sid=s1"),)
    assert p.forwarded({"cookie": "a=1"}) == ()
    with pytest.raises(AuthError):
        await p.connect(fwd)
    with pytest.raises(AuthError):
        await p.connect(())  # nothing to ask with
    assert len(backend.calls) == 1


async def test_a_connect_answers_expiry_is_read_on_the_hubs_clock() -> None:
    """``expire_at`` is a time of day: it is compared with the hub's wall
    clock (virtual in tests), not the machine's, like a token's ``exp``."""
    wall = Clock()  # the hub's wall clock reads 100
    backend = FakeBackend(lambda body: (200, b'{"allow": true, "user": "a", "expire_at": 150}'))
    p = proxies(backend, Clock(), wall=wall, cache_ttl=0)
    fwd = p.forwarded({"cookie": "sid=s1"})
    assert (await p.connect(fwd)).user == "a"
    wall.now = 200.0  # past expire_at: asked again, and the answer is refused as stale
    with pytest.raises(Unavailable):
        await p.connect(fwd)


async def test_close_closes_the_client() -> None:
    backend = FakeBackend()
    p = proxies(backend, Clock())
    await p.close()
    assert backend.closed
    assert p.backend is None


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, b""),
        (302, b""),
        (200, b"not json"),
        (200, b"[]"),
        (200, b'{"allow": "yes"}'),
        (200, b'{"allow": true}'),
        (200, b'{"allow": true, "user": ""}'),
        (200, b'{"allow": true, "user": "a", "roles": "x,y", "claims": []}'),
        (200, b'{"allow": true, "user": "a", "roles": [1]}'),
        (200, b'{"allow": true, "user": "a", "tenant": 5}'),
        (200, b'{"allow": true, "user": "a", "expire_at": "soon"}'),
    ],
)
def test_invalid_connect_answers(status: int, body: bytes) -> None:
    from relevo.hub.proxy import _Invalid

    with pytest.raises(_Invalid):
        parse_connect(status, body)


def test_connect_answer_with_claims() -> None:
    body = b'{"allow": true, "user": "a", "roles": ["r"], "tenant": "t", "claims": {"vendor": 7}}'
    identity = parse_connect(200, body)
    assert identity is not None
    assert (identity.user, identity.roles, identity.tenant) == ("a", frozenset({"r"}), "t")
    assert identity.claim("vendor") == "7"
    assert parse_connect(200, b'{"allow": false, "user": "a"}') is None
    assert parse_connect(403, b"") is None
