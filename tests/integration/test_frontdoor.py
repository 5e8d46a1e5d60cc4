"""The front door over real sockets: requests for the WebSocket path go to
relevo's protocol, everything else to the HTTP app, however the bytes are cut."""

from __future__ import annotations

import asyncio
import base64
import os

from relevo.server.app import RelevoServer
from tests.helpers import RawWS, timeout


async def exchange(port: int, request: bytes, chunk: int = 0) -> bytes:
    """Send ``request`` (in ``chunk``-byte pieces if given), return the reply head and body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        pieces = [request[i : i + chunk] for i in range(0, len(request), chunk)] if chunk else []
        for piece in pieces or [request]:
            writer.write(piece)
            await writer.drain()
            if chunk:
                await asyncio.sleep(0.002)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout(5))
        return head
    finally:
        writer.close()


def upgrade(port: int, path: str = "/ws") -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


async def test_upgrade_cut_into_single_bytes_is_accepted(server: RelevoServer) -> None:
    head = await exchange(server.port, upgrade(server.port), chunk=1)
    assert head.startswith(b"HTTP/1.1 101"), head


async def test_http_request_cut_into_single_bytes_reaches_the_app(server: RelevoServer) -> None:
    req = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode()
    head = await exchange(server.port, req, chunk=1)
    assert head.startswith(b"HTTP/1.1 200"), head


async def test_plain_get_of_the_websocket_path_is_a_clear_400(server: RelevoServer) -> None:
    req = f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode()
    head = await exchange(server.port, req)
    assert head.startswith(b"HTTP/1.1 400"), head


async def test_paths_that_only_start_like_the_websocket_path_are_http(server: RelevoServer) -> None:
    req = f"GET /wsx HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode()
    assert (await exchange(server.port, req)).startswith(b"HTTP/1.1 404")
    post = f"POST /ws HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Length: 0\r\n\r\n"
    assert not (await exchange(server.port, post.encode())).startswith(b"HTTP/1.1 101")


async def test_websocket_with_a_query_string_and_a_keep_alive_upgrade(
    server: RelevoServer,
) -> None:
    ws = await RawWS.connect(server.port, path="/ws?token=")
    ws.send({"op": "ping"})
    assert await ws.recv() == {"op": "pong"}
    await ws.close()
    # An HTTP/1.1 connection that asks for something else first, then upgrades.
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout(5))
        assert head.startswith(b"HTTP/1.1 200")
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        await reader.readexactly(length)
        writer.write(upgrade(server.port))
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout(5))
        assert head.startswith(b"HTTP/1.1 101"), head
    finally:
        writer.close()


async def test_a_connection_that_says_nothing_is_closed_on_shutdown(
    server_factory: object,
) -> None:
    from collections.abc import Callable
    from typing import Any, cast

    srv: RelevoServer = await cast(Callable[..., Any], server_factory)()
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.port)
    writer.write(b"GE")  # too short to tell which protocol
    await writer.drain()
    await asyncio.sleep(0.05)
    await asyncio.wait_for(srv.stop(), timeout(10))
    assert await asyncio.wait_for(reader.read(), timeout(5)) == b""
    writer.close()
