"""Leave hooks: at least once, after a grace, also when the node died."""

from __future__ import annotations

from relevo.clock import VirtualClock

from .conftest import Node, NodeFactory


async def test_hook_runs_once_after_the_grace(make_node: NodeFactory) -> None:
    clock = VirtualClock()
    node = await make_node(clock=clock, start=False)
    tracker = node.records.leaves
    calls: list[str] = []

    async def hook(user: str) -> None:
        calls.append(user)

    node.records.on_leave(hook)
    online = {"4"}
    tracker.online_users = lambda: set(online)
    await tracker.tick()
    online.clear()
    await tracker.user_left("4")
    clock.advance(0.5)
    await tracker.tick()
    assert calls == []  # still within the grace (1 s)
    clock.advance(1)
    await tracker.tick()
    await tracker.tick()
    assert calls == ["4"]


async def two_nodes(make_node: NodeFactory) -> tuple[VirtualClock, Node, Node, list[str]]:
    """Nodes a and b on one clock, each running a hook that notes who left."""
    clock = VirtualClock()
    a = await make_node(clock=clock, start=False, node="a")
    b = await make_node(clock=clock, start=False, node="b")
    calls: list[str] = []

    async def hook(user: str) -> None:
        calls.append(user)

    a.records.on_leave(hook)
    b.records.on_leave(hook)
    return clock, a, b, calls


async def test_no_hook_when_the_user_is_back_in_time(make_node: NodeFactory) -> None:
    clock, a, b, calls = await two_nodes(make_node)
    a.records.leaves.online_users = set
    b.records.leaves.online_users = lambda: {"4"}  # the reload landed on node b
    await a.records.leaves.user_left("4")
    await b.records.leaves.tick()
    clock.advance(2)
    await a.records.leaves.tick()
    await b.records.leaves.tick()
    assert calls == []


async def test_a_reconnect_counts_before_the_other_nodes_heartbeat(
    make_node: NodeFactory,
) -> None:
    """The reload lands on node b, whose heartbeat has not run since: b's join
    listener recorded the connection, so a's due leave finds the user back."""
    clock, a, b, calls = await two_nodes(make_node)
    a.records.leaves.online_users = set
    b.records.leaves.online_users = set  # b's own view has not caught up
    await a.records.leaves.tick()
    await b.records.leaves.tick()
    await a.records.leaves.user_left("4")
    await b.records.leaves.user_joined("4")
    clock.advance(1.5)  # past the grace (1 s), before b's next heartbeat
    await a.records.leaves.tick()
    assert calls == []


async def test_a_dead_nodes_users_get_their_hook_elsewhere(make_node: NodeFactory) -> None:
    clock = VirtualClock()
    a = await make_node(clock=clock, start=False, node="a")
    b = await make_node(clock=clock, start=False, node="b")
    calls: list[tuple[str, str]] = []

    async def hook_b(user: str) -> None:
        calls.append(("b", user))

    b.records.on_leave(hook_b)
    a.records.leaves.online_users = lambda: {"4", "7"}
    b.records.leaves.online_users = lambda: {"9"}
    await a.records.leaves.tick()
    await b.records.leaves.tick()
    # Node a dies: no leave listener ever runs there, its heartbeat stops.
    clock.advance(1.9)
    await b.records.leaves.tick()
    assert calls == []
    clock.advance(0.5)  # past node_timeout (2 s)
    await b.records.leaves.tick()
    assert sorted(calls) == [("b", "4"), ("b", "7")]
    await b.records.leaves.tick()
    assert len(calls) == 2


async def test_a_failed_hook_is_retried(make_node: NodeFactory) -> None:
    clock = VirtualClock()
    node = await make_node(clock=clock, start=False)
    tracker = node.records.leaves
    tracker.claim_ttl = 5
    attempts: list[str] = []

    async def flaky(user: str) -> None:
        attempts.append(user)
        if len(attempts) == 1:
            raise RuntimeError("database hiccup")

    node.records.on_leave(flaky)
    await tracker.user_left("4")
    clock.advance(1.1)
    await tracker.tick()
    assert attempts == ["4"]
    clock.advance(1)
    await tracker.tick()
    assert attempts == ["4"]  # claimed by the failed attempt until claim_ttl
    clock.advance(5)
    await tracker.tick()
    assert attempts == ["4", "4"]
    clock.advance(10)
    await tracker.tick()
    assert attempts == ["4", "4"]
