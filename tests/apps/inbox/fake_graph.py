"""A fake of Meta's side of the WhatsApp Cloud API, as a real HTTP server on
127.0.0.1 (a free port): the Graph API endpoints the connector calls, and
the webhook deliveries Meta sends.

- Graph: ``GET /v21.0/{phone-number-id}``, ``POST
  /v21.0/{phone-number-id}/messages``, ``GET /v21.0/{waba-id}/message_templates``,
  ``GET /v21.0/{media-id}`` and the media file itself. Every request is
  recorded (:attr:`FakeGraph.requests`). The bearer token and the
  ``appsecret_proof`` are checked as Graph does (an expired token is
  ``OAuthException`` code 190; a wrong proof is code 100). :meth:`fail_next`
  queues 429 / 500 answers.
- Webhook: :meth:`deliver` POSTs a signed delivery (``X-Hub-Signature-256``)
  to relevo; ``secret=`` forges the signature; :func:`text_message`,
  :func:`media_message` and :func:`status` build the payloads Meta sends.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import socket
import struct
import time
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.helpers import timeout

__all__ = [
    "PHONE_ID",
    "WABA_ID",
    "FakeGraph",
    "fake_graph",
    "media_message",
    "status",
    "text_message",
]

PHONE_ID = "106540352242922"
WABA_ID = "102290129340398"
TOKEN = "EAAGm0PX4ZCpsBAExampleAccessToken7Q2x9Z1234"
APP_SECRET = "0f8e2a9c6b1d4e7f0a3b5c8d9e1f2a3b"
VERIFY_TOKEN = "relevo-verificacion-condorito"


def _png(width: int = 96, height: int = 64) -> bytes:
    """A real PNG (a green band on white), so a browser can draw it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(
        b"\x00"
        + (b"\x25\xd3\x66" if height // 3 <= y < 2 * height // 3 else b"\xff\xff\xff") * width
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PNG = _png()


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeGraph:
    port: int = 0
    token: str = TOKEN
    app_secret: str = APP_SECRET
    phone_status: str = "CONNECTED"
    requests: list[Recorded] = field(default_factory=list)
    failures: list[tuple[int, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    templates: list[dict[str, Any]] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    """The messages Graph accepted (answered 200)."""
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    gate: asyncio.Event | None = None
    """When set to an Event, ``POST .../messages`` waits for it (a send in flight)."""
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v21.0"

    def fail_next(self, status: int, code: int | None = None, retry_after: str = "0") -> None:
        """Answer the next Graph call with ``status`` (a Graph error body)."""
        err = {"message": f"fake failure {status}", "type": "OAuthException", "code": code or 2}
        headers = {"Retry-After": retry_after} if status == 429 else {}
        self.failures.append((status, {"error": err}, headers))

    def calls(self, method: str, suffix: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path.endswith(suffix)]

    async def wait_for(self, predicate: Any) -> None:
        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(predicate), timeout(20))

    # -- Graph ------------------------------------------------------------------------

    async def _record(self, request: Request) -> Recorded:
        raw = await request.body()
        rec = Recorded(
            request.method,
            request.url.path,
            dict(request.query_params),
            {k.lower(): v for k, v in request.headers.items()},
            json.loads(raw) if raw else None,
        )
        self.requests.append(rec)
        return rec

    def _refused(self, rec: Recorded) -> Response | None:
        if self.failures:
            st, body, headers = self.failures.pop(0)
            return JSONResponse(body, st, headers=headers)
        if rec.headers.get("authorization") != f"Bearer {self.token}":
            err = {"message": "Error validating access token: Session has expired",
                   "type": "OAuthException", "code": 190, "error_subcode": 463}  # fmt: skip
            return JSONResponse({"error": err}, 401)
        proof = hmac.new(self.app_secret.encode(), self.token.encode(), hashlib.sha256)
        if rec.query.get("appsecret_proof") != proof.hexdigest():
            err = {"message": "Invalid appsecret_proof provided in the API argument",
                   "type": "GraphMethodException", "code": 100}  # fmt: skip
            return JSONResponse({"error": err}, 400)
        return None

    async def _notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    async def graph(self, request: Request) -> Response:
        rec = await self._record(request)
        await self._notify()
        if self.gate is not None and rec.method == "POST":
            await self.gate.wait()
        try:
            return self._graph(request, rec)
        finally:
            await self._notify()

    def _graph(self, request: Request, rec: Recorded) -> Response:
        refused = self._refused(rec)
        if refused is not None:
            return refused
        parts = request.path_params["path"].split("/")
        if parts == [PHONE_ID] and rec.method == "GET":
            if self.phone_status != "CONNECTED":
                return JSONResponse({"id": PHONE_ID, "status": self.phone_status})
            return JSONResponse({"id": PHONE_ID, "display_phone_number": "+51 1 555 0100",
                                 "verified_name": "Minimarket Condorito",
                                 "status": "CONNECTED"})  # fmt: skip
        if parts == [PHONE_ID, "messages"] and rec.method == "POST":
            wamid = f"wamid.OUT{next(self._ids):06d}"
            self.sent.append({"wamid": wamid, **(rec.body or {})})
            return JSONResponse(
                {"messaging_product": "whatsapp", "messages": [{"id": wamid}],
                 "contacts": [{"input": rec.body.get("to"), "wa_id": rec.body.get("to")}]}
            )  # fmt: skip
        if parts == [WABA_ID, "message_templates"]:
            return JSONResponse({"data": self.templates})
        if len(parts) == 1 and parts[0] in self.media:
            data, mime = self.media[parts[0]]
            url = f"http://127.0.0.1:{self.port}/files/{parts[0]}"
            return JSONResponse({"url": url, "mime_type": mime, "file_size": len(data),
                                 "id": parts[0], "messaging_product": "whatsapp"})  # fmt: skip
        return JSONResponse({"error": {"message": "Unsupported get request", "code": 100}}, 400)

    async def file(self, request: Request) -> Response:
        rec = await self._record(request)
        await self._notify()
        if rec.headers.get("authorization") != f"Bearer {self.token}":
            return Response(b"", 401)
        data, mime = self.media[request.path_params["id"]]
        return Response(data, media_type=mime)

    # -- webhook deliveries (Meta → relevo) ----------------------------------------------

    async def deliver(
        self, url: str, values: list[dict[str, Any]], *, secret: str | None = None
    ) -> httpx.Response:
        """POST ``values`` (each a change's ``value``) as one delivery, signed
        with ``secret`` (default: the app secret)."""
        body = {
            "object": "whatsapp_business_account",
            "entry": [{"id": WABA_ID, "changes": [{"field": "messages", "value": v}
                                                  for v in values]}],
        }  # fmt: skip
        raw = json.dumps(body).encode()
        key = (secret if secret is not None else self.app_secret).encode()
        signature = "sha256=" + hmac.new(key, raw, hashlib.sha256).hexdigest()
        async with httpx.AsyncClient(timeout=timeout(10)) as client:
            return await client.post(
                f"{url}/api/inbox/whatsapp/webhook",
                content=raw,
                headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
            )


def _value(extra: dict[str, Any]) -> dict[str, Any]:
    meta = {"display_phone_number": "15550100", "phone_number_id": PHONE_ID}
    return {"messaging_product": "whatsapp", "metadata": meta, **extra}


def text_message(wamid: str, sender: str, body: str, name: str = "", ts: int = 0) -> dict[str, Any]:
    """A customer's text message (``ts``: seconds since the epoch; 0: now)."""
    msg = {"from": sender, "id": wamid, "timestamp": str(ts or int(time.time())),
           "type": "text", "text": {"body": body}}  # fmt: skip
    contacts = [{"profile": {"name": name}, "wa_id": sender}] if name else []
    return _value({"contacts": contacts, "messages": [msg]})


def media_message(wamid: str, sender: str, kind: str, media_id: str, **part: Any) -> dict[str, Any]:
    msg = {"from": sender, "id": wamid, "timestamp": str(int(time.time())), "type": kind,
           kind: {"id": media_id, **part}}  # fmt: skip
    return _value({"messages": [msg]})


def status(wamid: str, name: str, recipient: str, **extra: Any) -> dict[str, Any]:
    st = {"id": wamid, "status": name, "timestamp": str(int(time.time())),
          "recipient_id": recipient, **extra}  # fmt: skip
    return _value({"statuses": [st]})


@asynccontextmanager
async def fake_graph(port: int = 0) -> AsyncIterator[FakeGraph]:
    fake = FakeGraph()
    app = Starlette(
        routes=[
            Route("/v21.0/{path:path}", fake.graph, methods=["GET", "POST"]),
            Route("/files/{id}", fake.file, methods=["GET"]),
        ]
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", port))
    fake.port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=1, lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:  # noqa: ASYNC110 (uvicorn offers a flag, not an event)
            assert not task.done(), task
            await asyncio.sleep(0.01)
        yield fake
    finally:
        if fake.gate is not None:
            fake.gate.set()
        server.should_exit = True
        await task
        sock.close()


async def _serve(port: int, relevo: str) -> None:
    """``python -m tests.apps.inbox.fake_graph``: the fake on ``port``, and a
    prompt that sends what you type to relevo as a signed customer message."""
    async with fake_graph(port) as fake:
        fake.templates = [
            {"name": "seguimiento_pedido", "language": "es", "status": "APPROVED",
             "category": "UTILITY",
             "components": [{"type": "BODY", "text": "Hola, seguimos con tu pedido."}]},
        ]  # fmt: skip
        print(f"Fake Graph API: {fake.base}  (graph_url in [app.inbox])")
        for key, value in (("phone_number_id", PHONE_ID), ("waba_id", WABA_ID),
                           ("access_token", TOKEN), ("app_secret", APP_SECRET),
                           ("verify_token", VERIFY_TOKEN)):  # fmt: skip
            print(f"  {key:16} {value}")
        print(f"Type a line: the customer +51987001122 sends it to {relevo} (Ctrl-D ends).")
        loop, n = asyncio.get_running_loop(), 0
        while line := await loop.run_in_executor(None, _readline):
            n += 1
            res = await fake.deliver(
                relevo,
                [text_message(f"wamid.CLI{n}", "51987001122", line.strip(), "Cliente de prueba")],
            )
            print(
                f"  relevo answered {res.status_code} {res.text}; Graph saw "
                f"{len(fake.sent)} message(s) from relevo: {[m.get('text') for m in fake.sent]}"
            )


def _readline() -> str:
    try:
        return input("> ") or " "
    except EOFError:
        return ""


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=_serve.__doc__)
    parser.add_argument("--relevo", default="http://127.0.0.1:8000")
    parser.add_argument("--port", type=int, default=8900)
    args = parser.parse_args()
    asyncio.run(_serve(args.port, args.relevo))
