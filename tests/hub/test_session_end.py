"""Ending a sign-in session: every connection opened with a token of that
session (its ``sid`` claim) is cut at once, and the session's tokens are
refused from then on — on connect, on refresh and over HTTP."""

from __future__ import annotations

import time
from typing import Any

import pytest

from relevo.hub.auth import Identity, TokenVerifier, mint_token
from relevo.protocol.errors import AuthError
from relevo.server.app import RelevoServer
from relevo.settings import AuthSettings
from tests.conftest import SECRET
from tests.helpers import RawWS


def sid_token(user: str, sid: str, ttl: float = 300) -> str:
    return mint_token(SECRET, user, ("gtr",), ttl=ttl, extra={"sid": sid})


async def until_disconnect(ws: RawWS) -> dict[str, Any]:
    while True:
        msg = await ws.recv(10)
        if msg.get("op") == "disconnect":
            return msg


def test_an_ended_sid_is_refused_by_the_verifier() -> None:
    verifier = TokenVerifier(AuthSettings(secret=SECRET))
    live, ended = sid_token("ana", "s-live"), sid_token("ana", "s-ended")
    verifier.end_sessions(["s-ended"], time.time() + 600)
    assert verifier.verify(live).user == "ana"
    with pytest.raises(AuthError) as info:
        verifier.verify(ended)
    assert "ended" in info.value.message
    # A token without a sid (an external IdP's) is not affected.
    assert verifier.verify(mint_token(SECRET, "ana")).user == "ana"


def test_ended_sids_are_forgotten_once_their_tokens_have_expired() -> None:
    verifier = TokenVerifier(AuthSettings(secret=SECRET))
    verifier.end_sessions(["old"], time.time() - 1)
    verifier.end_sessions(["new"], time.time() + 600)
    assert verifier.ended_count() == 1


async def test_ending_a_session_cuts_its_connections_only(server: RelevoServer) -> None:
    ended = await RawWS.connect(server.port)
    other = await RawWS.connect(server.port)
    try:
        assert "ok" in await ended.request(
            {"id": 1, "op": "connect", "token": sid_token("ana", "s1")}
        )
        assert "ok" in await other.request(
            {"id": 1, "op": "connect", "token": sid_token("ana", "s2")}
        )
        await server.hub.end_sessions(["s1"])
        msg = await until_disconnect(ended)
        assert msg["code"] == "unauthorized"
        assert msg["reconnect"] is False
        assert (await other.request({"id": 2, "op": "ping"}))["op"] == "pong"
    finally:
        await ended.close()
        await other.close()
    again = await RawWS.connect(server.port)
    try:
        reply = await again.request({"id": 1, "op": "connect", "token": sid_token("ana", "s1")})
        assert reply["err"]["code"] == "unauthorized"
    finally:
        await again.close()


async def test_a_refresh_with_an_ended_sid_is_refused(server: RelevoServer) -> None:
    ws = await RawWS.connect(server.port)
    try:
        assert "ok" in await ws.request({"id": 1, "op": "connect", "token": sid_token("ana", "s3")})
        server.hub.verifier.end_sessions(["s4"], time.time() + 600)
        reply = await ws.request({"id": 2, "op": "refresh", "token": sid_token("ana", "s4")})
        assert reply["err"]["code"] == "unauthorized"
    finally:
        await ws.close()


async def test_a_connect_check_can_refuse_a_session(server: RelevoServer) -> None:
    seen: list[str] = []

    async def check(identity: Identity) -> None:
        seen.append(identity.user)
        if identity.claims.get("sid") == "gone":
            raise AuthError("the session of this token has ended")

    server.hub.add_connect_check(check)
    ws = await RawWS.connect(server.port)
    try:
        reply = await ws.request({"id": 1, "op": "connect", "token": sid_token("ana", "gone")})
        assert reply["err"]["code"] == "unauthorized"
        # Refused before the session took the identity: it may connect again.
        assert "ok" in await ws.request({"id": 2, "op": "connect", "token": sid_token("ana", "ok")})
    finally:
        await ws.close()
    assert seen == ["ana", "ana"]


@pytest.mark.redis
async def test_ending_a_session_on_one_node_cuts_it_on_another(server_factory: Any) -> None:
    import secrets

    from relevo.broker.redis import RedisBroker

    prefix = f"relevo-test-{secrets.token_hex(4)}"
    try:
        nodes = [
            await server_factory(broker=RedisBroker("redis://127.0.0.1:6379/9", prefix=prefix))
            for _ in range(2)
        ]
    except OSError:  # pragma: no cover - Redis not running here
        from tests.helpers import missing_service

        missing_service("Redis at 127.0.0.1:6379")
    ws = await RawWS.connect(nodes[1].port)
    try:
        assert "ok" in await ws.request({"id": 1, "op": "connect", "token": sid_token("ana", "x1")})
        await nodes[0].hub.end_sessions(["x1"])
        msg = await until_disconnect(ws)
        assert msg["code"] == "unauthorized"
    finally:
        await ws.close()
    with pytest.raises(AuthError):
        nodes[1].hub.verifier.verify(sid_token("ana", "x1"))
