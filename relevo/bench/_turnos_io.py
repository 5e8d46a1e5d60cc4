"""The benchmark's plumbing: a minimal keep-alive HTTP client, WebSocket
listeners that note arrival times, and the turnero in a subprocess."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

__all__ = ["Http", "Listener", "free_port", "server_process"]


class Http:
    """One keep-alive HTTP/1.1 connection, one request at a time (a general
    client in the load generator's process would cost more than the server).
    Reopened when the server has closed it for being idle."""

    def __init__(self, port: int, auth: str) -> None:
        self.port, self.auth = port, auth
        self.conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def _send(self, request: bytes) -> tuple[asyncio.StreamReader, bytes]:
        """Send; the reader and the status line (reconnecting once if idle-closed)."""
        for _ in range(2):
            if self.conn is None or self.conn[1].is_closing():
                self.conn = await asyncio.open_connection("127.0.0.1", self.port)
            reader, writer = self.conn
            writer.write(request)
            status_line = await reader.readline()
            if status_line:
                return reader, status_line
            self.close()  # closed while idle, before reading the request
        raise ConnectionError("the server keeps closing the connection")

    async def post(self, path: str, body: Any = None) -> tuple[int, Any]:
        raw = json.dumps(body or {}).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: bench\r\n{self.auth}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(raw)}\r\n\r\n"
        ).encode()
        reader, status_line = await self._send(head + raw)
        status = int(status_line.split()[1])
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return status, json.loads(await reader.readexactly(length))

    def close(self) -> None:
        if self.conn is not None:
            self.conn[1].close()
        self.conn = None


class Listener:
    """A WebSocket client noting when each (record id, version) arrived."""

    def __init__(self) -> None:
        self.arrivals: dict[tuple[str, int], float] = {}
        self.task: asyncio.Task[None] | None = None
        self.ws: Any = None

    async def start(self, port: int, channel: str, token: str | None) -> None:
        import websockets

        self.ws = await websockets.connect(f"ws://127.0.0.1:{port}/ws", max_queue=None)
        if token:
            await self.ws.send(json.dumps({"id": 0, "op": "connect", "token": token}))
            await self.ws.recv()
        await self.ws.send(json.dumps({"id": 1, "op": "sub", "ch": channel}))
        reply = json.loads(await self.ws.recv())
        if "ok" not in reply:
            raise RuntimeError(f"cannot subscribe to {channel}: {reply}")
        self.task = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.ws:
            at = time.perf_counter()
            data = json.loads(raw).get("data")
            if isinstance(data, dict) and "id" in data and "version" in data:
                self.arrivals.setdefault((str(data["id"]), int(data["version"])), at)

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task
        if self.ws is not None:
            await self.ws.close()


@contextlib.asynccontextmanager
async def server_process(port: int, db: str, secret: str, api_key: str) -> AsyncIterator[None]:
    options = json.dumps({"no_show_minutes": 600, "stats_interval": 0.5})
    cmd = [sys.executable, "-m", "relevo.server.standalone", "--app", "turnos", "--db", db,
           "--port", str(port), "--secret", secret, "--api-key", api_key,
           "--options", options]  # fmt: skip
    proc = await asyncio.create_subprocess_exec(*cmd, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.returncode is not None:
                raise RuntimeError(f"the turnos server exited with {proc.returncode}")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the turnos server did not come up") from None
                await asyncio.sleep(0.05)
        yield
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
                await proc.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
