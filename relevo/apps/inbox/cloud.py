"""The WhatsApp Business Cloud API connector (one of the two implementations
of :class:`~.connector.Connector`).

- **Settings** per tenant (``inbox_whatsapp``, id = the tenant): phone number
  id, business account id, and three secrets (access token, app secret,
  webhook verify token) that no API returns: answers carry ``••••1234``.
- **Status**: ``GET /{phone-number-id}`` on start and on demand; the
  connector record becomes ``authenticated`` (with the number) or ``error``
  with the reason (expired token, wrong app secret, number not registered).
- **Out**: each pending outgoing message goes out once through
  ``POST /{phone-number-id}/messages`` (the Graph client retries 429 / 5xx);
  the answer's ``wamid`` is stored as the message's ``external_id``, and a
  message that has one is never sent again. A refusal marks it ``fallido``
  with the provider's reason.
- **Templates**: the account's approved ones, listed from Graph.

Incoming messages and status callbacks arrive through :mod:`.webhook`.
"""

from __future__ import annotations

import logging
from typing import Any

from relevo.protocol.errors import NotFound
from relevo.records import SYSTEM, Actor, Record

from ..kit.errors import bad_request, not_found
from ._graph import Credentials, GraphClient, GraphError
from .bulk import BulkSends
from .connector import Connectors
from .kinds import CONNECTOR, CONVERSATION, MESSAGE, WHATSAPP
from .service import InboxService
from .validate import optional_str, supervisor_tenant

__all__ = ["CloudConnector", "masked"]

log = logging.getLogger("relevo.inbox.cloud")

PROVIDER = "cloud"
SECRETS = ("access_token", "app_secret", "verify_token")
_IDS = ("phone_number_id", "waba_id")


def masked(value: str | None) -> str | None:
    """``EAAG…1234`` → ``••••1234`` (what a page may show of a secret)."""
    if not value:
        return None
    return "••••" + value[-4:] if len(value) >= 12 else "••••"


def _digits(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.isdigit() or not 1 <= len(value) <= 32:
        raise bad_request(
            f"{field} must be the numeric id Meta shows", "Identificador de Meta inválido.",
            field=field,
        )  # fmt: skip
    return value


class CloudConnector:
    name = PROVIDER

    def __init__(self, inbox: InboxService, bulk: BulkSends, graph: GraphClient) -> None:
        self.inbox = inbox
        self.bulk = bulk
        self.records = inbox.records
        self.graph = graph
        self.connectors: Connectors | None = None
        self._sending: set[str] = set()
        self._bulks: set[str] = set()

    def attach(self, connectors: Connectors) -> None:
        self.connectors = connectors

    # -- settings ---------------------------------------------------------------------

    async def configured(self, tenant: str) -> bool:
        return await self.settings(tenant) is not None

    async def settings(self, tenant: str) -> Record | None:
        try:
            return await self.records.get(WHATSAPP, tenant)
        except NotFound:
            return None

    async def credentials(self, tenant: str) -> Credentials | None:
        rec = await self.settings(tenant)
        if rec is None:
            return None
        return Credentials(
            str(rec.get("phone_number_id")),
            str(rec.get("waba_id")),
            str(rec.get("access_token") or ""),
            str(rec.get("app_secret") or ""),
        )

    def view(self, tenant: str, rec: Record | None) -> dict[str, Any]:
        """What a supervisor sees of the settings: ids and masked secrets."""
        out: dict[str, Any] = {"tenant": tenant, "configured": rec is not None}
        for key in (*_IDS, *(f"{s}_hint" for s in SECRETS)):
            out[key] = rec.get(key) if rec is not None else None
        out["webhook_path"] = "/api/inbox/whatsapp/webhook"
        return out

    async def configure(self, actor: Actor, body: dict[str, Any]) -> Record:
        """A supervisor saves the tenant's settings; a secret left out keeps
        its saved value (the page never has it to send back)."""
        tenant = supervisor_tenant(actor, "configure WhatsApp")
        data: dict[str, Any] = {f: _digits(body.get(f), f) for f in _IDS}
        current = await self.settings(tenant)
        for secret in SECRETS:
            value = optional_str(body.get(secret), secret, 1024)
            if value is None and current is None:
                raise bad_request(
                    f"{secret} is required", "Falta un dato de la conexión.", field=secret
                )
            if value is not None:
                data[secret] = value
                data[f"{secret}_hint"] = masked(value)
        taken = await self.records.find(
            WHATSAPP, {"phone_number_id": data["phone_number_id"]}, limit=2
        )
        if any(r.id != tenant for r in taken):
            raise bad_request(
                "that phone number id belongs to another tenant",
                "Ese número ya está conectado a otra empresa.",
                field="phone_number_id",
            )
        data["updated_by"] = actor.user
        async with self.records.transaction() as tx:
            if current is None:
                rec = await tx.create(WHATSAPP, {"tenant": tenant, **data}, by=SYSTEM, id=tenant)
            else:
                rec = await tx.update(WHATSAPP, tenant, data, by=SYSTEM)
        return rec

    async def start(self) -> None:
        """Check each configured tenant (in the background: an unreachable
        Graph API does not hold the server's start)."""
        if self.connectors is None:
            return
        for rec in await self.records.find(WHATSAPP, {}, limit=10_000):
            self.connectors.spawn(self._check_quietly(rec.id))

    async def _check_quietly(self, tenant: str) -> None:
        await self.check(tenant)

    async def stop(self) -> None:
        await self.graph.aclose()

    # -- the connector interface ------------------------------------------------------

    async def check(self, tenant: str) -> Record:
        creds = await self.credentials(tenant)
        if creds is None:
            return await self.inbox.connector_error(
                tenant, "Falta configurar la conexión con WhatsApp.", PROVIDER
            )
        try:
            info = await self.graph.phone_number(creds)
        except GraphError as exc:
            log.warning("whatsapp check of %s failed: %s", tenant, exc)
            return await self.inbox.connector_error(tenant, exc.reason(), PROVIDER)
        if info.get("status") not in (None, "CONNECTED"):
            return await self.inbox.connector_error(
                tenant, "El número no está registrado en la API de WhatsApp Cloud.", PROVIDER
            )
        number = info.get("display_phone_number")
        digits = "".join(c for c in str(number or "") if c.isdigit())
        return await self.inbox.connector_ok(tenant, f"+{digits}" if digits else None, PROVIDER)

    async def templates(self, tenant: str) -> list[dict[str, Any]]:
        creds = await self.credentials(tenant)
        if creds is None:
            return []
        try:
            found = await self.graph.templates(creds)
        except GraphError as exc:
            raise not_found(str(exc), exc.reason()) from None
        return [t for t in map(_template, found) if t is not None]

    async def deliver(self, tenant: str, message_id: str) -> None:
        """Send it once: skipped while this node sends it and once it has its
        ``wamid`` (or any status past ``pendiente``)."""
        if message_id in self._sending:
            return
        self._sending.add(message_id)
        try:
            await self._deliver(tenant, message_id)
        finally:
            self._sending.discard(message_id)

    def claim_ms(self) -> int:
        """How long a node's claim to send a message holds: past every
        attempt Graph may take."""
        g, opts = self.graph, self.inbox.options
        return int((g.retries * opts.graph_timeout + g.backoff * 2**g.retries) * 1000)

    async def _claim(self, message_id: str) -> Record | int | None:
        """The message, now claimed by this node; or the ms to wait while
        another node's claim holds; or None when there is nothing to send."""
        async with self.records.transaction() as tx:
            msg = await tx.get(MESSAGE, message_id, lock=True)
            if msg.get("status") != "pendiente" or msg.get("external_id"):
                return None
            now, since = self.inbox.now_ms(), msg.get("sending_since")
            if isinstance(since, int) and now - since < self.claim_ms():
                return since + self.claim_ms() - now
            return await tx.update(MESSAGE, msg.id, {"sending_since": now}, by=SYSTEM)

    async def _deliver(self, tenant: str, message_id: str) -> None:
        # Another node may be sending it (two nodes resumed the same pending
        # message): wait its claim out, then look again.
        while isinstance(claim := await self._claim(message_id), int):
            await self.graph.clock.sleep(claim / 1000)
        if claim is None:
            return
        msg = claim
        creds = await self.credentials(tenant)
        if creds is None:
            return
        conv = await self.records.get(CONVERSATION, str(msg.get("conversation_id")))
        to = str(conv.get("contact_phone")).lstrip("+")
        template = msg.get("template")
        payload: dict[str, Any]
        if isinstance(template, dict):
            language = {"code": str(template.get("language") or "es")}
            body = {"name": template.get("name"), "language": language}
            payload = {"to": to, "type": "template", "template": body}
        else:
            payload = {"to": to, "type": "text", "text": {"body": msg.get("text")}}
        try:
            wamid = await self.graph.send(creds, payload)
        except GraphError as exc:
            log.warning("whatsapp send of message %s failed: %s", message_id, exc)
            await self._update(message_id, {"status": "fallido", "error": exc.reason()})
            if exc.code == 190 or "appsecret_proof" in exc.message:
                await self.inbox.connector_error(tenant, exc.reason(), PROVIDER)
            return
        await self._update(message_id, {"status": "enviado", "external_id": wamid})

    async def send_bulk(self, tenant: str, bulk_id: str) -> None:
        """One message after another (Graph's rate limit: a 429 waits), each
        sent once; the campaign counts it after Graph's answer."""
        if bulk_id in self._bulks:
            return
        self._bulks.add(bulk_id)
        try:
            while (msg := await self.bulk.next_message(tenant, bulk_id)) is not None:
                await self.deliver(tenant, msg.id)
                status = (await self.records.get(MESSAGE, msg.id)).get("status")
                sent = status not in ("pendiente", "fallido")  # a fast "delivered" counts
                if await self.bulk.count(tenant, bulk_id, sent=sent) is None:
                    return
        finally:
            self._bulks.discard(bulk_id)

    async def _update(self, message_id: str, data: dict[str, Any]) -> None:
        async with self.records.transaction() as tx:
            msg = await tx.get(MESSAGE, message_id, lock=True)
            if msg.get("status") == "pendiente":
                await tx.update(MESSAGE, msg.id, data, by=SYSTEM)

    async def connector_record(self, tenant: str) -> Record:
        await self.inbox.ensure_connector(tenant)
        return await self.records.get(CONNECTOR, tenant)


def _template(t: dict[str, Any]) -> dict[str, Any] | None:
    """A template an agent can send as is: no ``{{1}}`` variables to fill
    and no media header (relevo sends templates without parameters)."""
    name, language = t.get("name"), t.get("language")
    if not isinstance(name, str) or not isinstance(language, str):
        return None
    body = ""
    for part in t.get("components") or []:
        if not isinstance(part, dict):
            continue
        if "{{" in str(part.get("text") or "") or part.get("format") in _MEDIA_HEADERS:
            return None
        if part.get("type") == "BODY":
            body = str(part.get("text") or "")
    return {"name": name, "language": language, "category": t.get("category"), "text": body}


_MEDIA_HEADERS = frozenset({"IMAGE", "VIDEO", "DOCUMENT", "LOCATION"})
