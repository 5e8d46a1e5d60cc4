"""The connection gate's arithmetic, without sockets (the behaviour over real
sockets is in tests/integration/test_conn_limits.py)."""

from __future__ import annotations

import resource

import pytest

from relevo.settings import LimitSettings
from relevo.transport.admission import (
    ADDRESS_FULL,
    NODE_FULL,
    ConnectionGate,
    connection_budget,
    peer_host,
)


class FakeTransport:
    def __init__(self, peer: object) -> None:
        self.peer = peer

    def get_extra_info(self, name: str) -> object:
        return self.peer if name == "peername" else None


def test_per_address_and_node_caps_and_release() -> None:
    gate = ConnectionGate(LimitSettings(max_connections=3, max_connections_per_ip=2))
    a1, a2, a3, b1, c1 = (object() for _ in range(5))
    assert gate.admit(a1, "10.0.0.1") is None
    assert gate.admit(a2, "10.0.0.1") is None
    assert gate.admit(a3, "10.0.0.1") is ADDRESS_FULL
    assert gate.admit(b1, "10.0.0.2") is None
    assert gate.admit(c1, "10.0.0.3") is NODE_FULL
    gate.release(a1)
    gate.release(a1)  # twice is once
    assert (gate.total, gate.per_address) == (2, {"10.0.0.1": 1, "10.0.0.2": 1})
    assert gate.admit(a3, "10.0.0.1") is None
    for t in (a2, a3, b1):
        gate.release(t)
    assert (gate.total, gate.per_address) == (0, {})


def test_trusted_proxies_are_not_capped_per_address() -> None:
    limits = LimitSettings(max_connections=100, max_connections_per_ip=1)
    gate = ConnectionGate(limits, ("127.0.0.1", "10.1.0.0/16"))
    for host in ("127.0.0.1", "127.0.0.1", "10.1.2.3", "10.1.2.3"):
        assert gate.admit(object(), host) is None
    assert gate.admit(object(), "10.2.0.1") is None
    assert gate.admit(object(), "10.2.0.1") is ADDRESS_FULL
    assert gate.total == 5
    open_gate = ConnectionGate(limits, ("*",))
    assert all(open_gate.admit(object(), "192.0.2.1") is None for _ in range(3))


@pytest.mark.parametrize(
    ("peer", "host"),
    [
        (("192.0.2.7", 4000), "192.0.2.7"),
        (("::ffff:192.0.2.7", 4000, 0, 0), "192.0.2.7"),
        (("2001:db8::1", 4000, 0, 0), "2001:db8::1"),
        ("/run/relevo.sock", ""),
        (None, ""),
    ],
)
def test_peer_host(peer: object, host: str) -> None:
    assert peer_host(FakeTransport(peer)) == host  # type: ignore[arg-type]


def test_the_node_budget_comes_from_the_open_file_limit_unless_set() -> None:
    assert connection_budget(LimitSettings(max_connections=7)) == 7
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    expected = 0 if soft == resource.RLIM_INFINITY else soft - max(32, soft // 10)
    assert connection_budget(LimitSettings()) == expected
