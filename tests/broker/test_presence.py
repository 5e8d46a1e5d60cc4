"""The PresenceStore contract: every implementation (memory; Redis against the
real server) passes these."""

from __future__ import annotations

import asyncio

from relevo.protocol.types import ClientInfo
from tests.broker.broker_fixtures import PresenceEnv


def _clients(infos: list[ClientInfo]) -> set[tuple[str, str]]:
    return {(i.client, i.user) for i in infos}


async def test_add_list_remove(presence_env: PresenceEnv) -> None:
    store = presence_env.store
    a = ClientInfo("c1", "4", {"transport": "ws"})
    b = ClientInfo("c2", "7", {"transport": "sse"})
    await store.add_presence("room", a, 60.0)
    await store.add_presence("room", b, 60.0)
    await store.add_presence("room", a, 60.0)  # a refresh, not a second entry
    infos = await store.presence("room")
    assert sorted(infos, key=lambda i: i.client) == [a, b]
    await store.remove_presence("room", "c1")
    await store.remove_presence("room", "nobody")
    await store.remove_presence("nowhere", "c2")
    assert await store.presence("room") == [b]
    assert await store.presence("empty") == []


async def test_the_last_remove_leaves_an_empty_channel(presence_env: PresenceEnv) -> None:
    store = presence_env.store
    await store.add_presence("room", ClientInfo("c1", "4"), 60.0)
    await store.remove_presence("room", "c1")
    assert await store.presence("room") == []
    await store.add_presence("room", ClientInfo("c1", "4"), 60.0)  # and it can come back
    assert _clients(await store.presence("room")) == {("c1", "4")}


async def test_channels_are_separate(presence_env: PresenceEnv) -> None:
    store = presence_env.store
    await store.add_presence("a", ClientInfo("c1", "4"), 60.0)
    await store.add_presence("b", ClientInfo("c2", "7"), 60.0)
    await store.remove_presence("a", "c2")  # not in a: b keeps it
    assert _clients(await store.presence("a")) == {("c1", "4")}
    assert _clients(await store.presence("b")) == {("c2", "7")}


async def test_a_refresh_replaces_the_entry_info(presence_env: PresenceEnv) -> None:
    store = presence_env.store
    await store.add_presence("room", ClientInfo("c1", "4", {"transport": "ws"}), 60.0)
    await store.add_presence("room", ClientInfo("c1", "4", {"transport": "sse"}), 60.0)
    assert await store.presence("room") == [ClientInfo("c1", "4", {"transport": "sse"})]


async def test_entries_expire_unless_refreshed(presence_env: PresenceEnv) -> None:
    store = presence_env.store
    await store.add_presence("room", ClientInfo("dead", "1"), 0.5)
    await store.add_presence("room", ClientInfo("kept", "2"), 0.5)
    await store.add_presence("room", ClientInfo("long", "3"), 60.0)
    await presence_env.advance(0.3)
    await store.add_presence("room", ClientInfo("kept", "2"), 0.5)
    await presence_env.advance(0.35)
    assert _clients(await store.presence("room")) == {("kept", "2"), ("long", "3")}


async def test_every_node_sees_every_node_entries(presence_env: PresenceEnv) -> None:
    one, other = presence_env.store, presence_env.other
    await asyncio.gather(
        one.add_presence("room", ClientInfo("a-1", "4"), 60.0),
        other.add_presence("room", ClientInfo("b-1", "7"), 60.0),
    )
    expected = {("a-1", "4"), ("b-1", "7")}
    assert _clients(await one.presence("room")) == expected
    assert _clients(await other.presence("room")) == expected
    await other.remove_presence("room", "a-1")  # a node may remove another's entry
    assert _clients(await one.presence("room")) == {("b-1", "7")}
