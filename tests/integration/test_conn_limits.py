"""Connection deadlines and caps over real sockets: a request head must arrive
in time, one address and the whole node hold a bounded number of connections,
and while a cap refuses new ones /healthz answers and existing clients are
served. Distinct client addresses are 127.0.0.x sources (Linux routes all of
127/8 to loopback); 127.0.0.1 is the default trusted proxy, exempt from the
per-address cap."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import random
import resource
import socket
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx

from relevo.server.app import RelevoServer
from tests.conftest import API_KEY, make_settings, token
from tests.helpers import RawWS, timeout

Factory = Callable[..., Any]
ROOT = Path(__file__).resolve().parents[2]


async def open_from(
    port: int, source: str = "127.0.0.1", host: str = "127.0.0.1"
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((source, 0))
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (host, port))
    return await asyncio.open_connection(sock=sock)


def upgrade_request(port: int, path: str = "/ws") -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


async def ask(
    port: int, request: bytes, source: str = "127.0.0.1", host: str = "127.0.0.1"
) -> tuple[bytes, bytes]:
    """Send one request on a fresh connection; the reply's head and its body."""
    reader, writer = await open_from(port, source, host)
    try:
        writer.write(request)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout(10))
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        body = await asyncio.wait_for(reader.readexactly(length), timeout(10))
        return head, body
    finally:
        writer.close()


def get(port: int, path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()


async def ws_from(port: int, source: str, path: str = "/ws", host: str = "127.0.0.1") -> RawWS:
    reader, writer = await open_from(port, source, host)
    writer.write(upgrade_request(port, path))
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout(10))
    if not head.startswith(b"HTTP/1.1 101"):
        writer.close()
        raise ConnectionRefusedError(head.split(b"\r\n", 1)[0].decode())
    return RawWS(reader, writer)


async def until_admitted(port: int, source: str, host: str = "127.0.0.1") -> RawWS:
    """The server frees a slot when it sees the close; retry until it has."""
    deadline = asyncio.get_running_loop().time() + timeout(10)
    while True:
        try:
            return await ws_from(port, source, host=host)
        except ConnectionRefusedError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.02)


# -- the request-head deadline -------------------------------------------------------

#: Short for a test, long enough that a complete request made on a busy
#: machine is never caught by it.
DEADLINE = 2.0


async def test_half_requests_are_closed_at_the_handshake_deadline(server_factory: Factory) -> None:
    srv: RelevoServer = await server_factory(make_settings(limits={"handshake_timeout": DEADLINE}))
    port = srv.port
    halves = [
        b"",  # says nothing
        b"GE",  # too short for the front door to tell
        b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n",  # half an upgrade
        b"GET /healthz HTTP/1.1\r\nHo",  # half an HTTP request
        b"POST /api/publish HTTP/1.1\r\n",
    ]
    loop = asyncio.get_running_loop()
    started = loop.time()
    # A complete upgrade made at the same time is not touched by the deadline.
    ws = await RawWS.connect(port)
    conns = []
    for i in range(200):
        reader, writer = await open_from(port)
        piece = halves[i % len(halves)]
        if piece:
            writer.write(piece)
        conns.append((piece, reader, writer))
    replies = await asyncio.wait_for(
        asyncio.gather(*(reader.read() for _, reader, _ in conns)), timeout(30)
    )
    assert loop.time() - started >= DEADLINE
    for (piece, _, writer), reply in zip(conns, replies, strict=True):
        writer.close()
        if piece:
            assert reply.startswith(b"HTTP/1.1 408"), (piece, reply)
        else:
            assert reply == b"", reply
    ws.send({"op": "ping"})
    assert (await ws.recv())["op"] == "pong"
    await ws.close()


async def test_a_keep_alive_connection_gets_the_deadline_for_each_request_head(
    server_factory: Factory,
) -> None:
    srv: RelevoServer = await server_factory(make_settings(limits={"handshake_timeout": DEADLINE}))
    reader, writer = await open_from(srv.port)
    try:
        writer.write(get(srv.port, "/healthz"))
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout(10))
        assert head.startswith(b"HTTP/1.1 200")
        writer.write(b"GET /healthz HTTP/1.1\r\nHo")  # the next request, half sent
        rest = await asyncio.wait_for(reader.read(), timeout(10))
        assert b"HTTP/1.1 408" in rest, rest
    finally:
        writer.close()


# -- the per-address cap ---------------------------------------------------------------


async def test_one_address_is_capped_and_the_rest_keeps_working(server_factory: Factory) -> None:
    settings = make_settings(limits={"max_connections_per_ip": 4, "handshake_timeout": 60})
    srv: RelevoServer = await server_factory(settings)
    port = srv.port
    subscriber = await ws_from(port, "127.0.0.2")
    assert "ok" in await subscriber.request({"id": 1, "op": "sub", "ch": "demo:a"})
    held = [await open_from(port, "127.0.0.2") for _ in range(3)]  # silent, within the deadline

    head, body = await ask(port, upgrade_request(port), "127.0.0.2")
    assert head.startswith(b"HTTP/1.1 429"), head
    assert json.loads(body)["code"] == "limit_exceeded"
    head, body = await ask(port, get(port, "/api/openapi.json"), "127.0.0.2")
    assert head.startswith(b"HTTP/1.1 429"), head
    assert json.loads(body)["code"] == "limit_exceeded"
    head, body = await ask(port, get(port, "/healthz"), "127.0.0.2")
    assert head.startswith(b"HTTP/1.1 200"), head
    assert json.loads(body)["status"] == "ok"

    # Other addresses are not affected; the trusted proxy is not capped at all.
    others = [await ws_from(port, "127.0.0.3") for _ in range(4)]
    proxied = [await ws_from(port, "127.0.0.1") for _ in range(6)]
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        resp = await http.post(
            "/api/publish",
            json={"channel": "demo:a", "event": "still", "data": 1},
            headers={"Authorization": f"apikey {API_KEY}"},
        )
        assert resp.status_code == 200, resp.text
    assert (await subscriber.recv())["ev"] == "still"

    # A slot freed is a slot available again.
    held[0][1].close()
    again = await until_admitted(port, "127.0.0.2")
    for ws in [again, subscriber, *others, *proxied]:
        await ws.close()
    for _, writer in held[1:]:
        writer.close()


# -- the node's cap ------------------------------------------------------------------------


async def test_the_node_cap_refuses_new_connections_but_answers_healthz(
    server_factory: Factory,
) -> None:
    settings = make_settings(limits={"max_connections": 3, "handshake_timeout": 60})
    srv: RelevoServer = await server_factory(settings)
    port = srv.port
    subscriber = await RawWS.connect(port)
    assert "ok" in await subscriber.request({"id": 1, "op": "sub", "ch": "demo:a"})
    publisher = await RawWS.connect(port, path=f"/ws?token={token('p')}")
    _, silent = await open_from(port)

    head, body = await ask(port, upgrade_request(port))
    assert head.startswith(b"HTTP/1.1 503"), head
    assert json.loads(body)["code"] == "unavailable"
    assert b"retry-after" in head.lower()
    head, _ = await ask(port, get(port, "/readyz"))
    assert head.startswith(b"HTTP/1.1 503"), head
    head, body = await ask(port, get(port, "/healthz"))
    assert head.startswith(b"HTTP/1.1 200"), head
    assert json.loads(body)["status"] == "ok"

    reply = await publisher.request(
        {"id": 2, "op": "pub", "ch": "demo:a", "ev": "still", "data": 1}
    )
    assert "ok" in reply, reply
    assert (await subscriber.recv())["ev"] == "still"

    silent.close()
    again = await until_admitted(port, "127.0.0.1")
    for ws in (again, subscriber, publisher):
        await ws.close()


# -- running out of file descriptors ---------------------------------------------------


def _own_address() -> tuple[str, int]:
    """A loopback address and a port free on it. Other test runs on the machine
    listen on 127.0.0.1: between choosing a port and the child binding it, one
    of them could take it, and the test would talk to their server."""
    for _ in range(20):
        host = "127." + ".".join(str(random.randrange(1, 255)) for _ in range(3))
        with socket.socket() as s:
            try:
                s.bind((host, 0))
            except OSError:
                continue
            return host, int(s.getsockname()[1])
    raise RuntimeError("no free loopback address")


async def _healthz(host: str, port: int) -> int:
    try:
        head, _ = await ask(port, get(port, "/healthz"), host=host)
    except (OSError, asyncio.IncompleteReadError, TimeoutError):
        return 0
    return int(head.split()[1])


@contextlib.asynccontextmanager
async def serve_with_fd_limit(
    tmp_path: Path, soft: int, hard: int
) -> AsyncIterator[tuple[asyncio.subprocess.Process, str, int]]:
    """``relevo serve`` in a child whose open-file limit is (soft, hard); yields
    once /healthz answers."""
    host, port = _own_address()
    (tmp_path / "relevo.toml").write_text(
        "[server]\n"
        f'host = "{host}"\nport = {port}\nlog_level = "warning"\n'
        "[limits]\nhandshake_timeout = 120\n"
        '[namespaces.demo]\nsubscribe = ["anonymous"]\npublish = ["anonymous"]\n'
    )
    proc = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "relevo.server.cli", "serve", "--config", "relevo.toml"],
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)},
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard)),
    )
    loop = asyncio.get_running_loop()
    try:
        deadline = loop.time() + timeout(30)
        while await _healthz(host, port) != 200:
            assert proc.returncode is None, "the server did not start"
            assert loop.time() < deadline, "the server did not start"
            await asyncio.sleep(0.05)
        yield proc, host, port
    finally:
        if proc.returncode is None:
            proc.terminate()
        try:
            await asyncio.wait_for(proc.communicate(), timeout(15))
        except TimeoutError:
            proc.kill()
            await proc.communicate()


async def test_serve_raises_the_open_file_limit_and_sizes_the_node_cap_from_it(
    tmp_path: Path,
) -> None:
    async with serve_with_fd_limit(tmp_path, 256, 1024) as (proc, _, _):
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), timeout(10))
    assert b"serving on" in line, line
    # 1024 open files, a tenth kept for the database, the broker, /healthz.
    assert b"up to 922 connections" in line, line


async def test_more_silent_connections_than_file_descriptors(tmp_path: Path) -> None:
    """A server limited to 256 open files, 400 connections that say nothing:
    the accept loop survives, /healthz answers while they are held, existing
    clients keep getting publications, and new clients get in once they go."""
    silent: list[asyncio.StreamWriter] = []
    async with serve_with_fd_limit(tmp_path, 256, 256) as (proc, host, port):
        try:
            subscriber = await ws_from(port, "127.0.0.1", host=host)
            assert "ok" in await subscriber.request({"id": 1, "op": "sub", "ch": "demo:a"})
            publisher = await ws_from(port, "127.0.0.1", host=host)

            for _ in range(400):
                silent.append((await open_from(port, host=host))[1])

            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout(30)
            while await _healthz(host, port) != 200:
                assert proc.returncode is None, "the server died"
                assert loop.time() < deadline, "/healthz did not answer under fd pressure"
                await asyncio.sleep(0.1)
            reply = await publisher.request(
                {"id": 2, "op": "pub", "ch": "demo:a", "ev": "still", "data": 1}, wait=10
            )
            assert "ok" in reply, reply
            assert (await subscriber.recv(wait=10))["ev"] == "still"

            for writer in silent:
                writer.close()
            silent.clear()
            late = await until_admitted(port, "127.0.0.1", host)
            await late.close()
            await subscriber.close()
            await publisher.close()
            assert proc.returncode is None
        finally:
            for writer in silent:
                writer.close()
