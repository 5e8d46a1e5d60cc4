"""Multi-node benchmark: two ``relevo serve`` nodes sharing one Redis.

Subscribers hold WebSockets to node B; a backend publishes through node A's
HTTP API. Every publication therefore crosses Redis (publish script, stream,
pub/sub) before B fans it out. Measured:

* **latency** — publish on A to delivery on B, at a steady rate: p50 / p99 /
  max over every delivery to every subscriber (one clock: the publisher and
  the subscribers live in this process, and ``data.t`` is its monotonic time);
* **throughput** — publications per second A accepts with ``concurrency``
  requests in flight, and deliveries per second B's subscribers receive.

Lost deliveries are counted, never hidden: a publication some subscriber did
not receive within the drain time is reported in ``lost``.

Run alone with ``python -m relevo.bench.multinode [--quick] [--redis URL]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import redis
from websockets.asyncio.client import ClientConnection, connect

__all__ = ["run_multinode"]

DEFAULT_REDIS = "redis://127.0.0.1:6379/15"
API_KEY = "bench-multinode-key"
CHANNEL = "room:multinode"
_DRAIN = 3.0  # seconds subscribers get to receive the last publications

CONFIG = f"""
[server]
host = "127.0.0.1"
log_level = "warning"
[auth]
secret = "relevo-bench-multinode-secret-0123"
api_key = "{API_KEY}"
[limits]
commands_per_second = 100000
command_burst = 100000
max_outbound_bytes = 16777216
[liveness]
ping_interval = 300
pong_timeout = 300
[namespaces.room]
subscribe = ["anonymous"]
history_size = 1000
history_ttl = 600
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _option(args: argparse.Namespace | None, name: str, default: Any) -> Any:
    value = getattr(args, name, None)
    return default if value is None else value


class _Node:
    def __init__(self, workdir: Path, broker: str, name: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws = f"ws://127.0.0.1:{self.port}/ws"
        self.log = workdir / f"node-{name}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("RELEVO_")}
        argv = [sys.executable, "-m", "relevo.server.cli", "serve"]
        argv += ["--config", str(workdir / "relevo.toml"), "--port", str(self.port)]
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [*argv, "--broker", broker], cwd=workdir, env=env, stdout=out, stderr=out
            )

    async def wait_ready(self, http: httpx.AsyncClient, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                log = self.log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"node exited with {self.proc.returncode}:\n{log}")
            with contextlib.suppress(httpx.TransportError):
                if (await http.get(self.url + "/readyz")).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"node on port {self.port} did not get ready")
            await asyncio.sleep(0.05)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class _Receiver:
    """One subscriber on node B: records the latency of each delivery."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.seen = 0
        self.target = 0
        self.reached = asyncio.Event()
        self.ws: ClientConnection | None = None
        self._decoder = msgspec.json.Decoder()

    async def subscribe(self, url: str) -> None:
        self.ws = await connect(url, max_size=2**24, ping_interval=None)
        await self.ws.send(json.dumps({"id": 1, "op": "sub", "ch": CHANNEL}))
        reply = self._decoder.decode(await self.ws.recv())
        if "ok" not in reply:
            raise RuntimeError(f"subscribe failed: {reply}")

    async def run(self) -> None:
        assert self.ws is not None
        with contextlib.suppress(Exception):
            async for raw in self.ws:
                now = time.monotonic_ns()
                msg = self._decoder.decode(raw)
                if "off" in msg:
                    self.seen += 1
                    self.latencies.append((now - msg["data"]["t"]) / 1e6)
                    if self.seen >= self.target:
                        self.reached.set()

    def reset(self) -> None:
        self.latencies.clear()
        self.seen = 0
        self.target = 1 << 62
        self.reached.clear()


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)

    return {"p50_ms": at(0.50), "p99_ms": at(0.99), "max_ms": round(ordered[-1], 3)}


class _Publisher:
    """A keep-alive HTTP/1.1 connection to node A's ``POST /api/publish``.

    Hand-rolled on asyncio streams because a general HTTP client costs more
    CPU per request than the node it measures (httpx at 16 requests in flight
    published fewer per second than at 1, on the same node)."""

    def __init__(self, node: _Node) -> None:
        self.node = node
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self._encoder = msgspec.json.Encoder()

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.node.port)

    async def publish(self, seq: int) -> None:
        assert self.reader is not None
        assert self.writer is not None
        body = self._encoder.encode(
            {"channel": CHANNEL, "event": "bench", "data": {"t": time.monotonic_ns(), "s": seq}}
        )
        head = (
            f"POST /api/publish HTTP/1.1\r\nHost: 127.0.0.1:{self.node.port}\r\n"
            f"X-API-Key: {API_KEY}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        status = await self.reader.readuntil(b"\r\n")
        length = 0
        while (line := await self.reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        reply = await self.reader.readexactly(length)
        if b" 200 " not in status:
            raise RuntimeError(f"publish failed: {status!r} {reply!r}")

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()


async def _wait_for(receivers: list[_Receiver], expected: int) -> None:
    for r in receivers:
        r.target = expected
        if r.seen >= expected:
            r.reached.set()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*(r.reached.wait() for r in receivers)), _DRAIN)


async def _latency_phase(
    publisher: _Publisher, receivers: list[_Receiver], rate: float, duration: float
) -> dict[str, Any]:
    """A steady rate, well below saturation: what a user sees on an ordinary day."""
    for r in receivers:
        r.reset()
    count = max(1, int(rate * duration))
    start = time.monotonic()
    for seq in range(count):
        delay = start + seq / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        await publisher.publish(seq)
    await _wait_for(receivers, count)
    latencies = [x for r in receivers for x in r.latencies]
    return {
        "rate_per_s": rate,
        "published": count,
        "delivered": len(latencies),
        "lost": count * len(receivers) - len(latencies),
        **_percentiles(latencies),
    }


async def _throughput_phase(
    a: _Node, receivers: list[_Receiver], concurrency: int, duration: float
) -> dict[str, Any]:
    """As fast as ``concurrency`` publishers can go: the ceiling of the path."""
    for r in receivers:
        r.reset()
    published = 0
    stop_at = time.monotonic() + duration

    publishers = [_Publisher(a) for _ in range(concurrency)]
    for p in publishers:
        await p.open()

    async def publish(p: _Publisher) -> None:
        nonlocal published
        while time.monotonic() < stop_at:
            await p.publish(published)
            published += 1

    started = time.monotonic()
    try:
        await asyncio.gather(*(publish(p) for p in publishers))
    finally:
        for p in publishers:
            await p.close()
    elapsed = time.monotonic() - started
    await _wait_for(receivers, published)
    delivered = sum(r.seen for r in receivers)
    latencies = [x for r in receivers for x in r.latencies]
    return {
        "concurrency": concurrency,
        "published": published,
        "published_per_s": round(published / elapsed, 1),
        "delivered_per_s": round(delivered / elapsed, 1),
        "lost": published * len(receivers) - delivered,
        **_percentiles(latencies),
    }


@contextlib.asynccontextmanager
async def _cluster(broker: str) -> AsyncIterator[tuple[_Node, _Node]]:
    with tempfile.TemporaryDirectory(prefix="relevo-multinode-") as tmp:
        workdir = Path(tmp)
        (workdir / "relevo.toml").write_text(CONFIG)
        nodes = [_Node(workdir, broker, "a"), _Node(workdir, broker, "b")]
        try:
            async with httpx.AsyncClient(timeout=5.0) as http:
                for node in nodes:
                    await node.wait_ready(http)
            yield nodes[0], nodes[1]
        finally:
            for node in nodes:
                node.stop()


async def _run(args: argparse.Namespace | None) -> dict[str, Any]:
    quick = bool(_option(args, "quick", False))
    base = str(_option(args, "redis", DEFAULT_REDIS))
    prefix = "relevo-bench-mn-" + secrets.token_hex(4)
    broker = f"{base}{'&' if '?' in base else '?'}prefix={prefix}"
    subscribers = int(_option(args, "subscribers", 4 if quick else 20))
    rate = float(_option(args, "rate", 100.0 if quick else 500.0))
    duration = float(_option(args, "duration", 1.0 if quick else 5.0))
    concurrency = int(_option(args, "concurrency", 4 if quick else 16))
    try:
        async with _cluster(broker) as (a, b):
            receivers = [_Receiver() for _ in range(subscribers)]
            for r in receivers:
                await r.subscribe(b.ws)
            tasks = [asyncio.get_running_loop().create_task(r.run()) for r in receivers]
            publisher = _Publisher(a)
            await publisher.open()
            try:
                await _latency_phase(publisher, receivers, rate, min(duration, 1.0))  # warm-up
                latency = await _latency_phase(publisher, receivers, rate, duration)
                throughput = await _throughput_phase(a, receivers, concurrency, duration)
            finally:
                await publisher.close()
                for r in receivers:
                    if r.ws is not None:
                        await r.ws.close()
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        _delete_prefix(base, prefix)
    return {
        "scenario": "multinode",
        "nodes": 2,
        "broker": base,
        "subscribers": subscribers,
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),  # others' load skews the figures
        "latency": latency,
        "throughput": throughput,
    }


def _delete_prefix(url: str, prefix: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{{{prefix}.*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def run_multinode(args: argparse.Namespace | None = None) -> dict[str, Any]:
    """Run the scenario; ``args`` may carry quick, redis, subscribers, rate,
    duration, concurrency (any missing one takes its default)."""
    return asyncio.run(_run(args))


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m relevo.bench.multinode", description=__doc__)
    p.add_argument("--quick", action="store_true", help="small sizes, a few seconds")
    p.add_argument("--redis", help=f"Redis URL (default {DEFAULT_REDIS})")
    p.add_argument("--subscribers", type=int, help="WebSocket subscribers on node B")
    p.add_argument("--rate", type=float, help="publications per second in the latency phase")
    p.add_argument("--duration", type=float, help="seconds per phase")
    p.add_argument("--concurrency", type=int, help="publish requests in flight (throughput)")
    return p


def main(argv: list[str] | None = None) -> None:
    """``relevo bench multinode [args]``: prints the figures as JSON."""
    print(json.dumps(run_multinode(_parser().parse_args(argv)), indent=2))


if __name__ == "__main__":
    main()
