"""A closed connection is freed at once, not at the next full garbage
collection: the soak (``relevo bench soak``) found a session <-> transport
cycle that kept every closed connection's objects until a full collection,
which under steady churn never came soon enough (RSS +8 % a minute)."""

from __future__ import annotations

import asyncio
import gc
import weakref

from relevo.hub.hub import Hub
from relevo.server.app import RelevoServer
from tests.helpers import timeout
from tests.integration.test_websocket import connected


async def _until_no_sessions(hub: Hub) -> None:
    """Until the server has seen every close (it may take a loop pass or two)."""
    for _ in range(int(timeout(10) / 0.02)):
        if not hub.sessions:
            break
        await asyncio.sleep(0.02)
    assert not hub.sessions


async def test_a_closed_websocket_session_is_freed_without_a_gc(server: RelevoServer) -> None:
    hub = server.hub
    gc.collect()
    gc.disable()
    try:
        refs = []
        for _ in range(5):
            ws = await connected(server)
            (session,) = [s for s in hub.sessions if weakref.ref(s) not in refs]
            refs.append(weakref.ref(session))
            del session
            await ws.close()
        await _until_no_sessions(hub)
        await asyncio.sleep(0.05)
        alive = [r for r in refs if r() is not None]
        assert not alive, f"{len(alive)} closed sessions still held (a reference cycle)"
    finally:
        gc.enable()


async def test_a_closed_sse_session_is_freed_without_a_gc(server: RelevoServer) -> None:
    import httpx

    hub = server.hub
    gc.collect()
    gc.disable()
    try:
        refs = []
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
            for _ in range(3):
                async with http.stream("GET", "/sse", params={"ch": "demo:gc"}) as resp:
                    async for _line in resp.aiter_lines():
                        break  # the stream is open
                    (session,) = hub.sessions
                    refs.append(weakref.ref(session))
                    del session
                await _until_no_sessions(hub)
        await asyncio.sleep(0.05)
        alive = [r for r in refs if r() is not None]
        assert not alive, f"{len(alive)} closed SSE sessions still held (a reference cycle)"
    finally:
        gc.enable()


async def test_an_open_websocket_holds_no_handshake_timer(server: RelevoServer) -> None:
    """The handshake deadline ends with the handshake: a node of 10,000 idle
    connections must not keep 10,000 timers (three objects each for the
    collector to walk) that all fire, for nothing, a few seconds later."""
    hub = server.hub

    def timers() -> int:
        return sum(
            1 for o in gc.get_objects() if type(o).__name__ == "TimerHandle" and not o.cancelled()
        )

    before = timers()
    sockets = [await connected(server) for _ in range(50)]
    for i, ws in enumerate(sockets):
        assert "ok" in await ws.request({"id": 1, "op": "sub", "ch": f"demo:t{i % 5}"})
    assert len(hub.sessions) == 50
    assert timers() - before < 10
    for ws in sockets:
        await ws.close()
    await _until_no_sessions(hub)
