"""The npm package in Node >= 22 against a real relevo server: a node:test file
(clients/js/test/node.test.js) connects, subscribes, gets a publication, and
recovers by offset after the server is cut and restarted.

The server is a subprocess on Redis (so its history outlives the restart),
reached through the browser tests' cutting TCP proxy; the Node side asks for
the cut and the heal on a small control endpoint served here."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
import redis

from tests.browser.conftest import (
    API_KEY,
    CONFIG,
    CutProxy,
    ServerProcess,
    _toml,
    free_port,
    token,
)
from tests.helpers import missing_service, timeout
from tests.js.conftest import PACKAGE

pytestmark = [pytest.mark.redis, pytest.mark.slow]

REDIS_URL = os.environ.get("RELEVO_TEST_REDIS", "redis://127.0.0.1:6379/9")


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """The machine's Redis under a prefix of this test's own, removed after."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError:
        missing_service(f"no Redis at {REDIS_URL}")
    prefix = "js-" + secrets.token_hex(6)
    yield prefix
    keys = list(client.scan_iter(match=f"{{{prefix}.*", count=500))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
async def redis_server(tmp_path: Path, redis_prefix: str) -> AsyncIterator[ServerProcess]:
    lines = ["[broker]", f"url = {_toml(f'{REDIS_URL}?prefix={redis_prefix}')}"]
    for section in ("server", "auth"):
        lines.append(f"[{section}]")
        lines += [f"{k} = {_toml(v)}" for k, v in CONFIG[section].items() if k != "port"]
    for name, table in CONFIG["namespaces"].items():
        lines.append(f"[namespaces.{name}]")
        lines += [f"{k} = {_toml(v)}" for k, v in table.items()]
    config = tmp_path / "relevo.toml"
    config.write_text("\n".join(lines) + "\n")
    proc = ServerProcess(config, free_port())
    await proc.start()
    try:
        yield proc
    finally:
        await proc.kill()


async def serve_control(actions: dict[str, Callable[[], Awaitable[None]]]) -> asyncio.Server:
    """POST /<action> runs it, then answers 200 (404 for anything else)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            path = head.split(b" ", 2)[1].decode().strip("/")
            action = actions.get(path)
            status = "200 OK" if action else "404 Not Found"
            if action:
                await action()
            head = f"HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            writer.write(head.encode())
            await writer.drain()
        finally:
            writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


async def test_the_package_in_node_recovers_after_a_cut_and_restart(
    node: str, redis_server: ServerProcess
) -> None:
    proxy = CutProxy(redis_server.port)
    await proxy.start()

    async def cut() -> None:
        proxy.cut(block=True)
        await redis_server.kill()
        await redis_server.start()

    async def heal() -> None:
        proxy.blocked = False

    control = await serve_control({"cut": cut, "heal": heal})
    env = {
        **os.environ,
        "RELEVO_URL": proxy.url,
        "RELEVO_DIRECT": redis_server.url,
        "RELEVO_API_KEY": API_KEY,
        "RELEVO_TOKEN": token("nodo"),
        "RELEVO_CONTROL": f"http://127.0.0.1:{control.sockets[0].getsockname()[1]}",
        "RELEVO_WAIT_MS": str(int(timeout(20) * 1000)),
    }
    try:
        proc = await asyncio.create_subprocess_exec(
            node,
            "--test",
            "--test-reporter=spec",
            "test/node.test.js",
            cwd=PACKAGE,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), timeout(90))
        except TimeoutError:
            proc.kill()
            out, _ = await proc.communicate()
            pytest.fail(f"node --test did not finish:\n{out.decode()}")
    finally:
        control.close()
        await control.wait_closed()
        await proxy.close()
    text = out.decode()
    assert proc.returncode == 0, text
    counts = dict(re.findall(r"^ℹ (pass|fail|skipped|cancelled) (\d+)$", text, re.M))
    assert counts == {"pass": "4", "fail": "0", "skipped": "0", "cancelled": "0"}, text
