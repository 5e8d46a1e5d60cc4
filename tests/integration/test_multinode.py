"""Several real ``relevo serve`` processes sharing one Redis behave as one hub.

Nodes run on free ports of 127.0.0.1. Tests that stop, pause or flush Redis
use their own throwaway ``redis-server``; the others use the machine's Redis
(db 9) under a key prefix of their own. Every process is killed at teardown.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from relevo.client import AsyncRelevoClient, RelevoHTTPError, Subscriber, SubscriberPublication
from relevo.hub.auth import mint_token
from tests.helpers import timeout

pytestmark = [pytest.mark.redis, pytest.mark.slow]

TIMEOUT = timeout(10.0)
REDIS_URL = os.environ.get("RELEVO_TEST_REDIS", "redis://127.0.0.1:6379/9")
SECRET = "multinode-test-secret-0123456789"
API_KEY = "multinode-test-key"
RELEVO = [sys.executable, "-m", "relevo.server.cli"]

CONFIG = f"""
[server]
host = "127.0.0.1"
log_level = "warning"

[auth]
secret = "{SECRET}"
api_key = "{API_KEY}"

[liveness]
ping_interval = 2.0
pong_timeout = 2.0
presence_ttl = 2.0

[namespaces.room]
subscribe = ["authenticated"]
publish = ["authenticated"]
presence = ["authenticated"]
join_leave = true
history_size = 1000
history_ttl = 600
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_until(check: Any, what: str, timeout: float = TIMEOUT) -> Any:
    """Poll ``check`` (a process or server we cannot await) until it is truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Node:
    """One ``relevo serve`` process."""

    def __init__(self, workdir: Path, broker: str, *extra: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws = f"ws://127.0.0.1:{self.port}/ws"
        self.log = workdir / f"node-{self.port}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("RELEVO_")}
        args = ["serve", "--config", str(workdir / "relevo.toml"), "--port", str(self.port)]
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [*RELEVO, *args, "--broker", broker, *extra],
                cwd=workdir,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def get(self, path: str) -> httpx.Response | None:
        try:
            return httpx.get(self.url + path, timeout=2.0)
        except httpx.TransportError:
            return None

    def wait_ready(self) -> None:
        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"node exited with {self.proc.returncode}:\n{self.output()}")
            resp = self.get("/readyz")
            return resp is not None and resp.status_code == 200

        _wait_until(ready, f"node on port {self.port} to be ready")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def client(self) -> AsyncRelevoClient:
        return AsyncRelevoClient(self.url, API_KEY, timeout=TIMEOUT)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "relevo.toml").write_text(CONFIG)
    return tmp_path


@pytest.fixture
def start_nodes(workdir: Path) -> Iterator[Any]:
    """Start nodes (in parallel) and kill them all at teardown."""
    nodes: list[Node] = []

    def start(broker: str, count: int = 1, *extra: str) -> list[Node]:
        new = [Node(workdir, broker, *extra) for _ in range(count)]
        nodes.extend(new)
        for node in new:
            node.wait_ready()
        return new

    yield start
    for node in nodes:
        node.kill()


@pytest.fixture
def shared_redis() -> Iterator[str]:
    """The machine's Redis under a prefix of this test's own."""
    prefix = "it-" + secrets.token_hex(6)
    yield f"{REDIS_URL}?prefix={prefix}"
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{{{prefix}.*", count=500))
    if keys:
        client.delete(*keys)
    client.close()


class PrivateRedis:
    """A redis-server of this test's own, to stop, flush and restart."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis.from_url(self.url)

        def answers() -> bool:
            with contextlib.suppress(redis.ConnectionError):
                return bool(client.ping())
            return False

        _wait_until(answers, "redis-server to answer")
        client.close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def flushall(self) -> None:
        client = redis.Redis.from_url(self.url)
        client.flushall()
        client.close()


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()


@contextlib.asynccontextmanager
async def subscriber(node: Node, channel: str, user: str) -> AsyncIterator[Subscriber]:
    sub = Subscriber(node.ws, [channel], token=mint_token(SECRET, user), max_backoff=0.5)
    async with sub:
        yield sub


async def receive(sub: Subscriber, count: int) -> list[SubscriberPublication]:
    got: list[SubscriberPublication] = []

    async def collect() -> None:
        async for pub in sub:
            got.append(pub)
            if len(got) == count:
                return

    await asyncio.wait_for(collect(), TIMEOUT)
    return got


async def presence_users(api: AsyncRelevoClient, channel: str) -> set[str]:
    body = await api.presence(channel)
    return {c["user"] for c in body["clients"].values()}


async def node_id(node: Node) -> str:
    async with httpx.AsyncClient() as http:
        resp = await http.get(node.url + "/api/info", headers={"X-API-Key": API_KEY})
        return str(resp.json()["node"])


async def wait_for_status(node: Node, path: str, status: int) -> None:
    await asyncio.to_thread(
        _wait_until,
        lambda: (r := node.get(path)) is not None and r.status_code == status,
        f"{path} to answer {status}",
    )


# -- one hub across nodes ---------------------------------------------------------------


async def test_publish_through_one_node_reaches_clients_of_the_others(
    start_nodes: Any, shared_redis: str
) -> None:
    a, b, c = start_nodes(shared_redis, 3)
    async with subscriber(a, "room:1", "4") as on_a, subscriber(c, "room:1", "7") as on_c:
        async with b.client() as api:
            for i in range(5):
                await api.publish("room:1", "message:new", {"i": i})
        for sub in (on_a, on_c):
            got = await receive(sub, 5)
            assert [p.offset for p in got] == [1, 2, 3, 4, 5]
            assert [p.data for p in got] == [{"i": i} for i in range(5)]


async def test_presence_lists_users_of_every_node(start_nodes: Any, shared_redis: str) -> None:
    a, b = start_nodes(shared_redis, 2)
    async with subscriber(a, "room:p", "4"), subscriber(b, "room:p", "7"):
        for node in (a, b):
            async with node.client() as api:
                deadline = time.monotonic() + TIMEOUT
                while (users := await presence_users(api, "room:p")) != {"4", "7"}:
                    assert time.monotonic() < deadline, users
                    await asyncio.sleep(0.05)  # joins are written just after the sub reply


async def test_disconnecting_a_user_reaches_every_node(start_nodes: Any, shared_redis: str) -> None:
    a, b = start_nodes(shared_redis, 2)
    async with subscriber(a, "room:x", "9") as sub:
        async with b.client() as api:
            await api.disconnect("9")
        with pytest.raises(Exception, match="forced"):
            await receive(sub, 1)


# -- a node dies ----------------------------------------------------------------------------


async def test_client_of_a_killed_node_recovers_everything_on_another(
    start_nodes: Any, shared_redis: str
) -> None:
    a, b = start_nodes(shared_redis, 2)
    async with b.client() as api, subscriber(a, "room:k", "4") as sub:
        for i in range(20):
            await api.publish("room:k", "e", {"i": i})
        got = await receive(sub, 20)
        sub.url = b.ws  # the load balancer's next pick
        a.kill()
        for i in range(20, 60):  # published while the client is away, then live
            await api.publish("room:k", "e", {"i": i})
        got += await receive(sub, 40)
        assert sub.reconnects >= 1
        assert [p.offset for p in got] == list(range(1, 61))  # none lost, none twice, in order
        assert [p.data for p in got] == [{"i": i} for i in range(60)]
        assert all(p.recovered for p in got)

        # The dead node's presence entries stop counting after presence_ttl.
        def only_b(body: dict[str, Any]) -> bool:
            return all(client.startswith(b_node) for client in body["clients"])

        b_node = await node_id(b)
        deadline = time.monotonic() + TIMEOUT
        while not only_b(await api.presence("room:k")):
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)  # waiting for a TTL in Redis: nothing to await


# -- Redis loses history or goes away ----------------------------------------------------


async def test_history_lost_in_redis_means_recovered_false(
    start_nodes: Any, private_redis: PrivateRedis
) -> None:
    a, b = start_nodes(private_redis.url, 2)
    async with b.client() as api, subscriber(a, "room:f", "4") as sub:
        for i in range(3):
            await api.publish("room:f", "e", {"i": i})
        await receive(sub, 3)
        private_redis.flushall()
        await api.publish("room:f", "e", {"i": "new epoch"})
        [reset] = await receive(sub, 1)
        assert reset.event == "$reset"
        assert reset.recovered is False
        await api.publish("room:f", "e", {"i": "after"})
        got = await receive(sub, 1)
        assert [p.data for p in got] == [{"i": "after"}]


async def test_redis_down_fails_fast_then_service_resumes(
    start_nodes: Any, private_redis: PrivateRedis
) -> None:
    [a] = start_nodes(private_redis.url)
    async with a.client() as api, subscriber(a, "room:d", "4") as sub:
        await api.publish("room:d", "e", {"i": 0})
        await receive(sub, 1)

        private_redis.stop()
        await wait_for_status(a, "/readyz", 503)
        started = time.monotonic()
        with pytest.raises(RelevoHTTPError) as err:
            await api.publish("room:d", "e", {"i": "lost"})
        assert (err.value.status, err.value.code) == (503, "unavailable")
        assert time.monotonic() - started < 3.0  # an answer, not a hang

        private_redis.start()  # empty: what it held is gone
        await wait_for_status(a, "/readyz", 200)
        [reset] = await receive(sub, 1)
        assert (reset.event, reset.recovered) == ("$reset", False)
        await api.publish("room:d", "e", {"i": "back"})
        [back] = await receive(sub, 1)
        assert back.data == {"i": "back"}


def test_unreachable_redis_at_start_is_a_clear_error(workdir: Path) -> None:
    node = Node(workdir, f"redis://127.0.0.1:{free_port()}/0")
    try:
        code = node.proc.wait(TIMEOUT)
    finally:
        node.kill()
    assert code != 0
    assert "cannot reach redis at redis://127.0.0.1:" in node.output()


# -- --workers ------------------------------------------------------------------------------


def _children(pid: int) -> set[int]:
    """Worker processes of a supervisor (its children, minus multiprocessing's tracker)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid and b"resource_tracker" not in cmdline:
            found.add(int(entry.name))
    return found


def test_workers_share_one_port_and_are_supervised(workdir: Path, shared_redis: str) -> None:
    node = Node(workdir, shared_redis, "--workers", "2")
    workers: set[int] = set()
    try:
        node.wait_ready()
        seen = set()
        headers = {"X-API-Key": API_KEY}
        for _ in range(60):  # a fresh connection each time: the kernel spreads them
            seen.add(httpx.get(node.url + "/api/info", headers=headers).json()["node"])
            if len(seen) == 2:
                break
        assert len(seen) == 2
        workers = _wait_until(
            lambda: w if len(w := _children(node.proc.pid)) == 2 else None, "two workers"
        )
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        _wait_until(
            lambda: len(w := _children(node.proc.pid)) == 2 and victim not in w,
            "the supervisor to replace a killed worker",
        )
        workers |= _children(node.proc.pid)
        node.proc.send_signal(signal.SIGTERM)
        assert node.proc.wait(TIMEOUT + 10) == 0
        assert not _children(node.proc.pid)
    finally:
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        node.kill()


def test_workers_with_the_memory_broker_are_refused(workdir: Path) -> None:
    node = Node(workdir, "memory://", "--workers", "2")
    try:
        assert node.proc.wait(TIMEOUT) == 2
    finally:
        node.kill()
    assert "need a shared broker" in node.output()
