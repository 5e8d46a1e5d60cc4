"""Finding 2 of the trust issue: no request body is read past its cap.

A stranger who announces a 300 MB body gets its answer before sending a
byte of it; one who streams an endless chunked body is cut off near the
cap. Every route that takes a body is walked, so a route added later with
its own ``await request.body()`` fails here."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.helpers import timeout
from tests.web.fullserver import FullServer, start_full_server, walk_routes

BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")
#: What loopback socket buffers may swallow before the server reads a byte.
KERNEL_SLACK = 16 * 1024 * 1024


@pytest.fixture
async def full(tmp_path: Path) -> AsyncIterator[FullServer]:
    srv = await start_full_server(tmp_path / "full.db")
    yield srv
    await srv.stop()


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


async def _head_only(port: int, method: str, path: str, length: int) -> bytes:
    """Send a request head announcing ``length`` body bytes, send none, and
    return the status line the server answers with."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n".encode()
        )
        await writer.drain()
        return await asyncio.wait_for(reader.readline(), timeout(10))
    finally:
        writer.close()


async def test_an_announced_huge_body_is_refused_before_it_is_sent(full: FullServer) -> None:
    hung: list[str] = []
    for path, methods in walk_routes(list(full.server.app.routes)):
        for method in sorted(set(methods) & set(BODY_METHODS)):
            target = _concrete(path)
            try:
                status = await _head_only(full.port, method, target, 300_000_000)
            except TimeoutError:
                hung.append(f"{method} {target}")
                continue
            assert status.startswith(b"HTTP/1.1 "), (method, target, status)
    assert not hung, f"these routes wait for a 300 MB body: {hung}"


async def _stream_until_answered(
    port: int, method: str, path: str, limit: int
) -> tuple[int, bytes]:
    """Stream a chunked body of up to ``limit`` bytes while watching for the
    answer; return how much was sent and the status line."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    chunk = b"[" * 65536
    frame = b"%x\r\n%s\r\n" % (len(chunk), chunk)
    sent = 0
    answer = asyncio.ensure_future(reader.readline())
    try:
        writer.write(
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n".encode()
        )
        while sent < limit and not answer.done():
            writer.write(frame)
            sent += len(chunk)
            try:
                await asyncio.wait_for(writer.drain(), timeout(10))
            except (ConnectionError, TimeoutError):
                break
        status = await asyncio.wait_for(answer, timeout(10))
        return sent, status
    finally:
        answer.cancel()
        writer.close()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/command"),  # anonymous
        ("POST", "/api/turnos/turnos"),  # the kiosk: anonymous
        ("POST", "/api/publish"),  # API key checked after the body today
        ("POST", "/api/records/lead"),
        ("POST", "/api/cargue/demo/token"),
        ("POST", "/api/leads/demo/token"),
    ],
)
async def test_an_endless_chunked_body_is_cut_off_near_the_cap(
    full: FullServer, method: str, path: str
) -> None:
    sent, status = await _stream_until_answered(full.port, method, path, 96 * 1024 * 1024)
    assert status.split()[1] in (b"401", b"403", b"404", b"413"), status
    assert sent < 1_048_576 + KERNEL_SLACK, f"{path}: read {sent} bytes before answering"
