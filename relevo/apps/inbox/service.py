"""The inbox actions, each one database transaction that also writes what it
publishes: a message in or out (message + conversation + daily stats +
``message:new``), the agents' moves on a conversation, and the WhatsApp
connector's status.

Every action names its tenant: an agent's comes from the token, a backend's
from the URL. A record of another tenant is ``not_found`` (its existence is
not revealed).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from relevo.protocol.errors import NotFound
from relevo.records import SYSTEM, Actor, Record, Records, Transaction

from ..kit.errors import bad_request, conflict, not_found
from ..kit.http import acting_as, valid_id
from .kinds import AGENT, CONNECTOR, CONVERSATION, MESSAGE, STATS, inbox_channel
from .options import InboxOptions
from .validate import agent_tenant, optional_str, phone, tenant_id, text

__all__ = ["CONNECTOR_STATES", "Delivery", "InboxService"]

CONNECTOR_STATES = {
    "qr": "mostrar_qr",
    "authenticated": "autenticar",
    "disconnected": "desconectar",
}
MESSAGE_STATUS = frozenset({"enviado", "entregado", "leido", "fallido"})
_ACTIONS = {"read": "leer", "resolve": "resolver", "reopen": "reabrir"}

OutgoingListener = Callable[[str, Record], None]
WindowRule = Callable[[str], Awaitable[bool]]

WINDOW_MS = 24 * 3600 * 1000
"""WhatsApp's customer-service window: free text only this long after the
customer's last message; after it, only an approved template."""


@dataclass(frozen=True, slots=True)
class Delivery:
    message: Record
    conversation: Record
    duplicate: bool = False


class InboxService:
    def __init__(self, records: Records, options: InboxOptions) -> None:
        self.records = records
        self.options = options
        self.outgoing: list[OutgoingListener] = []
        """Told of each message an agent sends (after commit): the simulator, in demo."""
        self.connector_changed: list[OutgoingListener] = []
        """Told of each connector change (after commit)."""
        self.window_applies: WindowRule | None = None
        """Whether a tenant's free-text answers keep to the 24-hour window
        (true on the WhatsApp Cloud API)."""

    def now_ms(self) -> int:
        return int(self.records.clock.now() * 1000)

    def public(self, kind: str, rec: Record) -> dict[str, Any]:
        return self.records.kind(kind).public(rec)

    # -- messages ---------------------------------------------------------------------

    async def incoming(
        self,
        tenant: str,
        sender: Any,
        body: Any,
        *,
        name: Any = None,
        external_id: Any = None,
        at: Any = None,
        media: dict[str, Any] | None = None,
    ) -> Delivery:
        """A WhatsApp message arrived for ``tenant``. ``external_id`` (the
        provider's message id) makes a retried webhook harmless. ``media``:
        a stored attachment (see :mod:`.media`)."""
        tenant = tenant_id(tenant)
        number, msg_text = phone(sender), text(body, self.options.max_text)
        contact = optional_str(name, "name")
        ext = optional_str(external_id, "id", 128)
        when = self._when(at)
        async with self.records.transaction() as tx:
            await self.lock_tenant(tx, tenant)
            if ext is not None:
                seen = await tx.find(MESSAGE, {"tenant": tenant, "external_id": ext}, limit=1)
                if seen:
                    conv = await tx.get(CONVERSATION, str(seen[0].get("conversation_id")))
                    return Delivery(seen[0], conv, duplicate=True)
            conv = await self._record_message(tx, tenant, number, contact, msg_text, "in", when)
            msg = await tx.create(
                MESSAGE,
                {
                    "tenant": tenant,
                    "conversation_id": conv.id,
                    "direction": "in",
                    "text": msg_text,
                    "status": "recibido",
                    "external_id": ext,
                    "at": when,
                    "media": media,
                },
                by=SYSTEM,
            )
            await self._bump(tx, tenant, entrantes=1)
            await self._announce(tx, tenant, msg, conv)
        return Delivery(msg, conv)

    async def send(self, actor: Actor, conversation_id: str, body: Any) -> Delivery:
        """An agent answers in a conversation of their tenant."""
        tenant = agent_tenant(actor)
        msg_text = text(body, self.options.max_text)
        window = self.window_applies is not None and await self.window_applies(tenant)
        async with self.records.transaction() as tx:
            await self.lock_tenant(tx, tenant)
            conv = await self.own(tx, CONVERSATION, conversation_id, tenant)
            if window and not self.in_window(conv):
                raise conflict(
                    f"{CONVERSATION} {conv.id}: more than 24 h since the customer wrote",
                    "Pasaron más de 24 horas desde el último mensaje del cliente: WhatsApp "
                    "solo permite escribirle con una plantilla aprobada. Elige una plantilla.",
                    window="closed",
                )
            delivery = await self.send_in(tx, conv, msg_text, actor)
        self._tell_outgoing(tenant, delivery.message)
        return delivery

    async def send_template(
        self, actor: Actor, conversation_id: str, template: dict[str, Any], preview: str
    ) -> Delivery:
        """An agent sends an approved template (allowed outside the window)."""
        tenant = agent_tenant(actor)
        async with self.records.transaction() as tx:
            await self.lock_tenant(tx, tenant)
            conv = await self.own(tx, CONVERSATION, conversation_id, tenant)
            delivery = await self.send_in(tx, conv, preview, actor, template=template)
        self._tell_outgoing(tenant, delivery.message)
        return delivery

    def in_window(self, conv: Record) -> bool:
        last_in = conv.get("last_in_at")
        return isinstance(last_in, int) and self.now_ms() - last_in < WINDOW_MS

    async def send_in(
        self,
        tx: Transaction,
        conv: Record,
        msg_text: str,
        by: Actor,
        *,
        bulk_id: str | None = None,
        status: str = "pendiente",
        at: int | None = None,
        template: dict[str, Any] | None = None,
    ) -> Delivery:
        """Write an outgoing message in ``conv`` (inside ``tx``)."""
        tenant, now = str(conv.get("tenant")), at if at is not None else self.now_ms()
        author_name = by.claims.get("name") if not by.is_system else None
        msg = await tx.create(
            MESSAGE,
            {
                "tenant": tenant,
                "conversation_id": conv.id,
                "direction": "out",
                "text": msg_text,
                "status": status,
                "author": None if by.is_system else by.user,
                "author_name": str(author_name) if author_name else None,
                "bulk_id": bulk_id,
                "at": now,
                "template": template,
            },
            by=acting_as(by),
        )
        conv = await tx.transition(
            CONVERSATION,
            conv.id,
            "saliente",
            {
                "last_text": msg_text,
                "last_at": now,
                "last_direction": "out",
                "unread": 0 if bulk_id is None else conv.get("unread", 0),
            },
            by=SYSTEM,
        )
        await self._bump(tx, tenant, salientes=1)
        await self._announce(tx, tenant, msg, conv)
        return Delivery(msg, conv)

    async def set_status(self, tenant: str, message_id: str, status: Any) -> Record:
        """The provider's news about an outgoing message: enviado, entregado, leido, fallido."""
        tenant = tenant_id(tenant)
        if status not in MESSAGE_STATUS:
            raise bad_request(
                f"status must be one of {sorted(MESSAGE_STATUS)}",
                "Estado inválido.",
                field="status",
            )
        async with self.records.transaction() as tx:
            msg = await self.own(tx, MESSAGE, message_id, tenant)
            if msg.get("direction") != "out":
                raise bad_request(
                    "only outgoing messages have a delivery status",
                    "Solo los mensajes enviados tienen estado.",
                )
            return await tx.update(MESSAGE, msg.id, {"status": status}, by=SYSTEM)

    # -- conversations ------------------------------------------------------------------

    async def act(self, actor: Actor, conversation_id: str, action: str) -> Record:
        """``read``, ``resolve`` or ``reopen`` a conversation of the agent's tenant."""
        tenant = agent_tenant(actor)
        async with self.records.transaction() as tx:
            conv = await self.own(tx, CONVERSATION, conversation_id, tenant)
            if action == "read" and not conv.get("unread"):
                return conv
            return await tx.transition(CONVERSATION, conv.id, _ACTIONS[action], by=acting_as(actor))

    async def assign(self, actor: Actor, conversation_id: str, agent: Any) -> Record:
        """Assign to an agent of the same tenant (``None``: unassign)."""
        tenant = agent_tenant(actor)
        async with self.records.transaction() as tx:
            conv = await self.own(tx, CONVERSATION, conversation_id, tenant)
            data: dict[str, Any] = {"assigned_to": None, "assigned_name": None}
            if agent is not None:
                rec = await self.own(tx, AGENT, valid_id(agent, "agent"), tenant, "Ese agente")
                data = {"assigned_to": rec.id, "assigned_name": rec.get("nombre")}
            if all(conv.get(k) == v for k, v in data.items()):
                return conv
            return await tx.transition(CONVERSATION, conv.id, "asignar", data, by=acting_as(actor))

    # -- the connector --------------------------------------------------------------------

    async def connector(
        self, tenant: str, status: Any, *, qr: Any = None, number: Any = None, detail: Any = None
    ) -> Record:
        """The WhatsApp session of ``tenant`` changed: ``qr`` (waiting for a
        scan, with the QR payload), ``authenticated`` or ``disconnected``."""
        tenant = tenant_id(tenant)
        name = CONNECTOR_STATES.get(status) if isinstance(status, str) else None
        if name is None:
            raise bad_request(
                f"status must be one of {sorted(CONNECTOR_STATES)}",
                "Estado de conexión inválido.",
                field="status",
            )
        data: dict[str, Any] = {}
        if status == "qr":
            data["qr"] = optional_str(qr, "qr", 2048)
            if not data["qr"]:
                raise bad_request(
                    "qr is required with status qr", "Falta el código QR.", field="qr"
                )
        elif status == "authenticated":
            data["phone"] = None if number is None else phone(number, "phone")
        else:
            data["detail"] = optional_str(detail, "detail", 200)
        return await self._connector_move(tenant, name, data)

    async def ensure_connector(self, tenant: str) -> None:
        async with self.records.transaction() as tx:
            await self.ensure_tenant_rows(tx, tenant)

    async def connector_error(self, tenant: str, detail: str, provider: str) -> Record:
        """The tenant's WhatsApp connection failed, for ``detail`` (Spanish)."""
        return await self._connector_move(
            tenant, "fallar", {"detail": detail[:200], "provider": provider}
        )

    async def connector_ok(self, tenant: str, number: str | None, provider: str) -> Record:
        return await self._connector_move(
            tenant, "autenticar", {"phone": number, "provider": provider}
        )

    async def _connector_move(self, tenant: str, name: str, data: dict[str, Any]) -> Record:
        async with self.records.transaction() as tx:
            await self.ensure_tenant_rows(tx, tenant)
            rec = await tx.transition(CONNECTOR, tenant, name, data, by=SYSTEM)
        for listener in self.connector_changed:
            listener(tenant, rec)
        return rec

    async def lock_tenant(self, tx: Transaction, tenant: str) -> None:
        """Serialise the tenant's message writes on its stats row (row lock on
        PostgreSQL / MySQL, the single writer on SQLite): "one conversation per
        number" and "one message per provider id" then hold without a unique
        index. Taken first, so every message path locks in the same order
        (stats, then the conversation). Every message updates that row anyway."""
        await self.ensure_tenant_rows(tx, tenant)
        await tx.get(STATS, tenant, lock=True)

    async def ensure_tenant_rows(self, tx: Transaction, tenant: str) -> None:
        """The connector and stats rows of a tenant exist (created on first use)."""
        for kind, data in ((CONNECTOR, {}), (STATS, {"fecha": self._today()})):
            try:
                await tx.get(kind, tenant)
            except NotFound:
                await tx.create(kind, {"tenant": tenant, **data}, by=SYSTEM, id=tenant)

    # -- internals ------------------------------------------------------------------------

    async def own(
        self, tx: Transaction, kind: str, rid: Any, tenant: str, what: str = "Ese registro"
    ) -> Record:
        rid = valid_id(rid, "id")
        try:
            rec = await tx.get(kind, rid, lock=True)
        except NotFound:
            rec = None
        if rec is None or rec.get("tenant") != tenant:
            raise not_found(f"{kind} {rid} does not exist", f"{what} no existe.")
        return rec

    async def conversation_for(
        self, tx: Transaction, tenant: str, number: str, contact: str | None
    ) -> tuple[Record, bool]:
        """The tenant's conversation with ``number``; created when there is none."""
        await self.lock_tenant(tx, tenant)
        found = await tx.find(CONVERSATION, {"tenant": tenant, "contact_phone": number}, limit=1)
        if found:
            return found[0], False
        data = {"tenant": tenant, "contact_phone": number, "contact_name": contact}
        conv = await tx.create(CONVERSATION, data, by=SYSTEM)
        await self._bump(tx, tenant, nuevas=1)
        return conv, True

    async def _record_message(
        self,
        tx: Transaction,
        tenant: str,
        number: str,
        contact: str | None,
        body: str,
        direction: str,
        when: int,
    ) -> Record:
        conv, _ = await self.conversation_for(tx, tenant, number, contact)
        data: dict[str, Any] = {
            "last_text": body,
            "last_at": when,
            "last_direction": direction,
            "unread": int(conv.get("unread") or 0) + 1,
            "last_in_at": max(when, int(conv.get("last_in_at") or 0)),
            "first_at": min(when, int(conv.get("first_at") or when)),
        }
        if contact and not conv.get("contact_name_by"):  # an agent's name for them wins
            data["contact_name"] = contact
        if conv.state == "resuelta":  # the customer is back: another conversation
            data["atenciones"] = int(conv.get("atenciones") or 1) + 1
        return await tx.transition(CONVERSATION, conv.id, "entrante", data, by=SYSTEM)

    async def _bump(self, tx: Transaction, tenant: str, **counts: int) -> None:
        await self.ensure_tenant_rows(tx, tenant)
        stats = await tx.get(STATS, tenant, lock=True)
        today = self._today()
        fresh = stats.get("fecha") != today
        data: dict[str, Any] = {"fecha": today}
        for name, n in counts.items():
            data[name] = (0 if fresh else int(stats.get(name) or 0)) + n
        if fresh:
            for name in ("entrantes", "salientes", "nuevas"):
                data.setdefault(name, 0)
        await tx.update(STATS, tenant, data, by=SYSTEM)

    async def _announce(self, tx: Transaction, tenant: str, msg: Record, conv: Record) -> None:
        """The seed's ``message:new`` (with ``clientCode``, as Socket.IO sent it)."""
        await tx.emit(
            [inbox_channel(tenant)],
            "message:new",
            {
                "tenant": tenant,
                "clientCode": tenant,
                "message": self.public(MESSAGE, msg),
                "conversation": self.public(CONVERSATION, conv),
            },
        )

    def _tell_outgoing(self, tenant: str, msg: Record) -> None:
        for listener in self.outgoing:
            listener(tenant, msg)

    def _today(self) -> str:
        return self.options.today(self.records.clock.now())

    def _when(self, at: Any) -> int:
        if at is None:
            return self.now_ms()
        if isinstance(at, bool) or not isinstance(at, int) or at < 0:
            raise bad_request(
                "at must be milliseconds since the epoch", "Fecha inválida.", field="at"
            )
        return at
