"""The WhatsApp Cloud API webhook: ``/api/inbox/whatsapp/webhook``, one URL
for every tenant (set it as the callback URL of the Meta app).

- ``GET``: Meta's verification handshake. ``hub.mode=subscribe`` and a
  ``hub.verify_token`` equal (constant-time) to some tenant's verify token
  answer ``hub.challenge`` as text; anything else is ``403``.
- ``POST``: a delivery. Its body is read raw (at most ``webhook_max`` bytes,
  ``413`` past it) and its ``X-Hub-Signature-256`` (``sha256=<hex>``, the
  HMAC-SHA256 of the raw body with the app secret) checked against each
  tenant's app secret with ``hmac.compare_digest`` **before anything is
  parsed**: unsigned or mis-signed is ``401`` and changes nothing. Then each
  change is routed to the tenant whose phone number id it names (among
  those whose secret signed it): messages become incoming messages
  (idempotent on the provider's id; images, documents and audio downloaded
  through Graph and stored), statuses move the outgoing message's delivery
  state (never backwards: a late ``delivered`` after ``read`` is ignored).
  A status that beats Graph's own answer (its wamid not stored yet, a
  message to that recipient being sent) is ``503``: Meta delivers it again.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from relevo.protocol.errors import ErrorCode, RelevoError, Unavailable
from relevo.records import SYSTEM, Record, Transaction
from relevo.web import json_response
from relevo.web.body import read_body

from ..kit.errors import bad_request, forbidden, with_extra
from ._graph import GraphError
from .cloud import CloudConnector
from .kinds import CONVERSATION, MESSAGE, WHATSAPP
from .media import MEDIA_TYPES, MediaStore
from .service import InboxService

__all__ = ["STATUS", "Webhook"]

log = logging.getLogger("relevo.inbox.webhook")

STATUS = {"sent": "enviado", "delivered": "entregado", "read": "leido", "failed": "fallido"}
"""Meta's status names → the message's delivery state."""
_RANK = {"pendiente": 0, "fallido": 1, "enviado": 1, "entregado": 2, "leido": 3}


class Unsigned(RelevoError):
    """A delivery without a valid ``X-Hub-Signature-256``."""

    code = ErrorCode.UNAUTHORIZED
    status = 401


def _unsigned() -> RelevoError:
    return with_extra(
        Unsigned("the delivery's X-Hub-Signature-256 does not match"), "Firma inválida."
    )


class Webhook:
    def __init__(self, inbox: InboxService, cloud: CloudConnector, media: MediaStore) -> None:
        self.inbox = inbox
        self.cloud = cloud
        self.media = media
        self.records = inbox.records

    async def _tenants(self) -> list[Record]:
        return await self.records.find(WHATSAPP, {}, limit=10_000)

    async def verify(self, request: Request) -> Response:
        q = request.query_params
        given = q.get("hub.verify_token", "")
        challenge = q.get("hub.challenge", "")
        if q.get("hub.mode") != "subscribe" or not given or len(challenge) > 256:
            raise forbidden("not a subscription handshake", "Verificación inválida.")
        matched = False
        for rec in await self._tenants():
            token = str(rec.get("verify_token") or "")
            matched |= bool(token) and hmac.compare_digest(token.encode(), given.encode())
        if not matched:
            raise forbidden("hub.verify_token matches no tenant", "Token de verificación inválido.")
        return PlainTextResponse(challenge)

    async def deliver(self, request: Request) -> Response:
        raw = await read_body(request, self.inbox.options.webhook_max)
        signers = self._signers(raw, request.headers.get("x-hub-signature-256", ""),
                                await self._tenants())  # fmt: skip
        if not signers:
            raise _unsigned()
        try:
            body = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            raise bad_request("the delivery is not JSON", "Entrega mal formada.") from None
        by_number = {str(r.get("phone_number_id")): r.id for r in signers}
        counts = {"messages": 0, "statuses": 0, "ignored": 0}
        for value in _values(body):
            metadata = value.get("metadata")
            number = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
            tenant = by_number.get(str(number))
            if tenant is None:
                counts["ignored"] += 1
                continue
            names = _contact_names(value)
            for msg in _list(value.get("messages")):
                try:
                    await self._message(tenant, msg, names)
                except RelevoError as exc:  # a message relevo cannot take: said, not retried
                    log.warning("whatsapp message for %s refused: %s", tenant, exc.message)
                    counts["ignored"] += 1
                    continue
                counts["messages"] += 1
            for status in _list(value.get("statuses")):
                await self._status(tenant, status)
                counts["statuses"] += 1
        return json_response(counts)

    @staticmethod
    def _signers(raw: bytes, header: str, tenants: list[Record]) -> list[Record]:
        """The tenants whose app secret signed ``raw`` (compared in constant time)."""
        given = header[7:].encode() if header.startswith("sha256=") else b""
        out = []
        for rec in tenants:
            secret = str(rec.get("app_secret") or "").encode()
            expected = hmac.new(secret, raw, hashlib.sha256).hexdigest().encode()
            if secret and given and hmac.compare_digest(expected, given):
                out.append(rec)
        return out

    async def _message(self, tenant: str, msg: dict[str, Any], names: dict[str, str]) -> None:
        wamid, sender, kind = msg.get("id"), msg.get("from"), msg.get("type")
        if not isinstance(wamid, str) or not isinstance(sender, str):
            return
        if await self.records.find(MESSAGE, {"tenant": tenant, "external_id": wamid}, limit=1):
            return  # a retried delivery: stored once (incoming() re-checks under the lock)
        text, media = await self._content(tenant, kind, msg)
        ts = msg.get("timestamp")
        at = int(ts) * 1000 if isinstance(ts, str) and ts.isdigit() else None
        await self.inbox.incoming(
            tenant, "+" + sender, text, name=names.get(sender), external_id=wamid, at=at,
            media=media,
        )  # fmt: skip

    async def _content(
        self, tenant: str, kind: Any, msg: dict[str, Any]
    ) -> tuple[str, dict[str, Any] | None]:
        if kind == "text":
            body = _obj(msg.get("text")).get("body")
            text = body if isinstance(body, str) and body.strip() else "(mensaje vacío)"
            return text[: self.inbox.options.max_text], None
        if kind not in MEDIA_TYPES:
            return f"(Mensaje de tipo «{str(kind)[:20]}» que la bandeja no muestra)", None
        part = _obj(msg.get(kind))
        label = str(part.get("caption") or part.get("filename") or MEDIA_TYPES[kind])
        label = label[: self.inbox.options.max_text]
        creds = await self.cloud.credentials(tenant)
        media_id = part.get("id")
        if creds is None or not isinstance(media_id, str) or not media_id.isdigit():
            return label, None
        try:
            data, mime = await self.cloud.graph.media(creds, media_id, self.inbox.options.max_media)
        except GraphError as exc:
            log.warning("whatsapp media %s of %s not downloaded: %s", kind, tenant, exc)
            reason = "demasiado grande" if exc.status == 413 else "no se pudo descargar"
            return label, {"type": kind, "error": f"Archivo {reason}."}
        filename = part.get("filename") if isinstance(part.get("filename"), str) else None
        return label, await self.media.save(tenant, kind, data, mime, filename)

    async def _in_flight(self, tx: Transaction, tenant: str, recipient: Any) -> bool:
        """Whether an outgoing message to ``recipient`` is being sent now
        (claimed, no wamid yet)."""
        if not isinstance(recipient, str) or not recipient.isdigit():
            return False
        where = {"tenant": tenant, "contact_phone": "+" + recipient}
        for conv in await tx.find(CONVERSATION, where, limit=1):
            where = {"tenant": tenant, "conversation_id": conv.id, "status": "pendiente"}
            for msg in await tx.find(MESSAGE, where, limit=100):
                if msg.get("sending_since") and not msg.get("external_id"):
                    return True
        return False

    async def _status(self, tenant: str, status: dict[str, Any]) -> None:
        wamid, name = status.get("id"), STATUS.get(str(status.get("status")))
        if not isinstance(wamid, str) or name is None:
            return
        data: dict[str, Any] = {"status": name}
        if name == "fallido":
            data["error"] = _failure(status)
        async with self.records.transaction() as tx:
            found = await tx.find(MESSAGE, {"tenant": tenant, "external_id": wamid}, limit=1)
            if not found and await self._in_flight(tx, tenant, status.get("recipient_id")):
                # Meta told us before Graph's answer (with the wamid) was stored:
                # 503 makes Meta deliver it again, by when the wamid is known
                raise Unavailable(f"a message to that recipient is being sent; {wamid} later")
            if not found or found[0].get("direction") != "out":
                return
            msg = await tx.get(MESSAGE, found[0].id, lock=True)
            current = str(msg.get("status"))
            if _RANK.get(name, 0) <= _RANK.get(current, 0) and not (
                name == "fallido" and current == "enviado"
            ):
                return  # out of order (a late "delivered" after "read"), or a repeat
            await tx.update(MESSAGE, msg.id, data, by=SYSTEM)


def _values(body: Any) -> list[dict[str, Any]]:
    out = []
    for entry in _list(body.get("entry") if isinstance(body, dict) else None):
        for change in _list(entry.get("changes")):
            if change.get("field") == "messages" and isinstance(change.get("value"), dict):
                out.append(change["value"])
    return out


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _contact_names(value: dict[str, Any]) -> dict[str, str]:
    names = {}
    for c in _list(value.get("contacts")):
        name = _obj(c.get("profile")).get("name")
        if isinstance(c.get("wa_id"), str) and isinstance(name, str) and name.strip():
            names[c["wa_id"]] = name.strip()[:120]
    return names


def _failure(status: dict[str, Any]) -> str:
    for err in _list(status.get("errors")):
        details = _obj(err.get("error_data")).get("details")
        text = details or err.get("message") or err.get("title")
        if isinstance(text, str) and text:
            return f"WhatsApp: {text[:200]} (código {err.get('code')})"
    return "WhatsApp no pudo entregar el mensaje."
