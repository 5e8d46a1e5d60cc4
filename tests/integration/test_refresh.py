"""``refresh`` over real sockets: the new token is the only authority. Every
subscription it no longer allows is dropped with an ``unsub`` push, its
publications stop, and its presence entry goes."""

from __future__ import annotations

from typing import Any

from relevo.server.app import RelevoServer
from tests.conftest import make_settings, token
from tests.helpers import RawWS
from tests.integration.test_websocket import connected, publish

SETTINGS = {
    "namespaces": {
        "t": {
            "subscribe": [{"channel": "t:{tenant}:*"}],
            "presence": [{"channel": "t:{tenant}:*"}],
            "join_leave": True,
        }
    }
}


async def frames_until_pong(ws: RawWS) -> list[dict[str, Any]]:
    """Every frame the server sends before it answers a ping sent now."""
    ws.send({"op": "ping"})
    out = []
    while (msg := await ws.recv()) != {"op": "pong"}:
        out.append(msg)
    return out


async def presence_event(ws: RawWS, user: str) -> str:
    """The next ``$join``/``$leave`` about ``user`` (the watcher's own are skipped)."""
    while True:
        msg = await ws.recv()
        if msg.get("ev") in ("$join", "$leave") and msg["data"]["user"] == user:
            return str(msg["ev"])


async def test_refresh_drops_what_the_new_token_no_longer_allows(server_factory: Any) -> None:
    server: RelevoServer = await server_factory(make_settings(**SETTINGS))
    watcher = await connected(server, token("7", (), tenant="acme"))
    assert "ok" in await watcher.request({"id": 1, "op": "sub", "ch": "t:acme:inbox"})
    ws = await connected(server, token("4", ("asesor",), tenant="acme"))
    for i, ch in enumerate(("asesor:4", "t:acme:inbox", "demo:lobby")):
        assert "ok" in await ws.request({"id": i, "op": "sub", "ch": ch}), ch
    assert await presence_event(watcher, "4") == "$join"

    ws.send({"id": 9, "op": "refresh", "token": token("4", (), tenant="globex")})
    pushes = []
    while "id" not in (msg := await ws.recv()):
        if msg.get("op") == "unsub":  # not a $join on demo:lobby
            pushes.append(msg)
    assert "ok" in msg, msg
    assert sorted(p["ch"] for p in pushes) == ["asesor:4", "t:acme:inbox"]
    for push in pushes:
        assert push["op"] == "unsub"
        assert push["code"] == "forbidden"
        assert push["message"]

    assert await presence_event(watcher, "4") == "$leave"
    presence = await watcher.request({"id": 2, "op": "presence", "ch": "t:acme:inbox"})
    assert [c["user"] for c in presence["ok"]["clients"].values()] == ["7"]

    await publish(server, "asesor:4", "CLIENT_IN_GESTION", {"id": 1})
    await publish(server, "t:acme:inbox", "message:new", {"id": 2})
    await publish(server, "demo:lobby", "still", {})
    seen = [m for m in await frames_until_pong(ws) if m.get("ev") != "$join"]
    assert [(m.get("ch"), m.get("ev")) for m in seen] == [("demo:lobby", "still")]
    # The dropped channels are free to subscribe again once a token allows it.
    again = await ws.request({"id": 10, "op": "sub", "ch": "t:globex:inbox"})
    assert "ok" in again
    for c in (ws, watcher):
        await c.close()


async def test_refresh_as_another_user_is_refused_and_keeps_the_identity(
    server_factory: Any,
) -> None:
    server: RelevoServer = await server_factory(make_settings(**SETTINGS))
    ws = await connected(server, token("4", ("asesor",), tenant="acme"))
    assert "ok" in await ws.request({"id": 1, "op": "sub", "ch": "asesor:4"})
    other = await ws.request({"id": 2, "op": "refresh", "token": token("5", ("gtr",))})
    assert other["err"]["code"] == "forbidden", other
    # Still user 4 with the old rights: its channel stays, GTR's is refused.
    gtr = await ws.request({"id": 3, "op": "sub", "ch": "gtr"})
    assert gtr["err"]["code"] == "forbidden"
    await publish(server, "asesor:4", "still", 1)
    assert [m["ev"] for m in await frames_until_pong(ws)] == ["still"]
    await ws.close()
