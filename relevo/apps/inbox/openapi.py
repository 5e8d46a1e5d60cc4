"""``/api/inbox/...`` in the server's OpenAPI document: one op per route of
:mod:`.http`, bodies as structs, answers as the app's kinds. The backend
that holds the WhatsApp session calls ``/api/inbox/t/{tenant}/...`` with the
API key; agents call the rest with their token (its tenant claim decides)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from relevo.records import Records
from relevo.web import Extension

from ..kit.openapi import (
    ANYONE,
    Access,
    Op,
    Query,
    component,
    demo_login_ops,
    documented,
    record_schema,
)
from .kinds import BULK, CONNECTOR, CONVERSATION, MESSAGE, QUICK_REPLY

__all__ = ["OPS", "document"]

_Phone = Annotated[str, Meta(description="6-15 digits, an optional +; spaces, dots, dashes and "
                             "parentheses are dropped")]  # fmt: skip
_TENANT = {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,31}$"}


class InboxConfig(msgspec.Struct):
    demo: bool
    simulator: bool
    token_url: str
    max_text: int
    max_bulk: int


class InboxMe(msgspec.Struct):
    id: str
    tenant: str
    roles: list[str]
    nombre: str | None
    tenant_nombre: str | None = None


class InboxTexto(msgspec.Struct):
    text: str


class InboxAsignar(msgspec.Struct):
    """Only for ``assign``: the agent of the same tenant (null: unassign)."""

    agent: str | None = None


class InboxMasivo(msgspec.Struct):
    """A campaign, queued until a sender starts it."""

    nombre: Annotated[str, Meta(min_length=1, max_length=80)]
    texto: str
    destinatarios: list[_Phone] | Literal["todos"]


class InboxEntrante(msgspec.Struct):
    """A WhatsApp message arrived. ``id`` (the provider's message id) makes a
    retried webhook harmless: the repeat answers 200 with ``duplicate``."""

    text: str
    from_: _Phone = msgspec.field(name="from")
    name: Annotated[str, Meta(max_length=120)] | None = None
    id: Annotated[str, Meta(max_length=128)] | None = None
    at: Annotated[int, Meta(ge=0, description="ms since the Unix epoch")] | None = None


class InboxConector(msgspec.Struct):
    """The WhatsApp session changed: waiting for a scan (``qr``, with its
    payload), ``authenticated`` or ``disconnected``."""

    status: Literal["authenticated", "disconnected", "qr"]  # CONNECTOR_STATES
    qr: str | None = None
    phone: str | None = None
    detail: str | None = None


class InboxEstado(msgspec.Struct):
    """What the provider says of an outgoing message."""

    status: Literal["entregado", "enviado", "fallido", "leido"]  # MESSAGE_STATUS


class InboxAvance(msgspec.Struct):
    """Counts so far of a bulk send the backend runs; ``done`` completes it."""

    enviados: Annotated[int, Meta(ge=0)]
    fallidos: Annotated[int, Meta(ge=0)]
    done: bool = False


class InboxSimulado(msgspec.Struct):
    """Only for ``incoming``: a made-up message (any field left out is made up)."""

    text: str | None = None
    from_: _Phone | None = msgspec.field(name="from", default=None)


class InboxWhatsApp(msgspec.Struct):
    """The tenant's WhatsApp Cloud API settings. A secret left out keeps its
    saved value; all three are required the first time. No answer returns
    them (``*_hint``: ``••••`` and their last four characters)."""

    phone_number_id: Annotated[str, Meta(pattern="^[0-9]{1,32}$")]
    waba_id: Annotated[str, Meta(pattern="^[0-9]{1,32}$")]
    access_token: Annotated[str, Meta(max_length=1024)] | None = None
    app_secret: Annotated[str, Meta(max_length=1024)] | None = None
    verify_token: Annotated[str, Meta(max_length=1024)] | None = None


class InboxNota(msgspec.Struct):
    """An internal note: shown to the tenant's agents only, never sent."""

    text: Annotated[str, Meta(min_length=1, max_length=2000)]  # notes.MAX_NOTE


class InboxRespuestaRapida(msgspec.Struct):
    """A saved answer of the tenant (at most 50: quick.MAX_QUICK)."""

    titulo: Annotated[str, Meta(min_length=1, max_length=60)]
    texto: Annotated[str, Meta(min_length=1, max_length=1000)]


class InboxContacto(msgspec.Struct):
    """The contact's name, as the agents know them (wins over WhatsApp's)."""

    name: Annotated[str, Meta(min_length=1, max_length=80)]  # contact.MAX_CONTACT_NAME


class InboxPlantilla(msgspec.Struct):
    """One of the account's approved templates (``GET /api/inbox/templates``)."""

    name: Annotated[str, Meta(max_length=512)]
    language: Annotated[str, Meta(max_length=16)]


_CONV, _MSG, _CONN, _BULK = "InboxConversation", "InboxMessage", "InboxConnector", "InboxBulk"
_QUICK = "InboxQuickReply"
_SUPERVISOR = Access(roles=("supervisor",))
_AGENT_ONLY = Access(roles=("agente", "supervisor"))
_SETTINGS = {
    "type": "object",
    "properties": {
        "settings": {
            "type": "object",
            "properties": {
                k: {"type": ["string", "null"]}
                for k in (
                    "tenant",
                    "phone_number_id",
                    "waba_id",
                    "access_token_hint",
                    "app_secret_hint",
                    "verify_token_hint",
                    "webhook_path",
                )
            }
            | {"configured": {"type": "boolean"}},
        },
        "connector": component(_CONN),
    },
    "required": ["settings", "connector"],
}
_TEMPLATES = {
    "type": "object",
    "properties": {
        "templates": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    k: {"type": ["string", "null"]}
                    for k in ("name", "language", "category", "text")
                },
            },
        }
    },
}
_AGENT = Access(apikey=True, roles=("agente", "supervisor"))
_BACKEND = Access(apikey=True)
_DELIVERY = {
    "type": "object",
    "properties": {
        "message": component(_MSG),
        "conversation": component(_CONV),
        "duplicate": {"type": "boolean"},
    },
    "required": ["message", "conversation", "duplicate"],
}
_T = {"tenant": _TENANT}

OPS: dict[str, Op] = {
    "GET /api/inbox/config": Op(
        "inbox_config", "Demo mode, the simulator, the limits", ANYONE, ok=InboxConfig
    ),
    "GET /api/inbox/me": Op(
        "inbox_me", "The agent, their tenant and its name",
        Access(roles=("agente", "supervisor")), ok=InboxMe,
    ),
    "POST /api/inbox/conversations/{id}/messages": Op(
        "inbox_send", "Answer in a conversation of the agent's tenant", _AGENT,
        body=InboxTexto, ok=_DELIVERY, status=201, errors=(404, 409),
        description="409 conflict (window: closed) on WhatsApp Cloud more than 24 h after the "
        "customer's last message: send a template instead.",
    ),
    "POST /api/inbox/conversations/{id}/{action:str}": Op(
        "inbox_act", "Read, resolve, reopen or assign a conversation", _AGENT,
        body=InboxAsignar, body_required=False, ok=component(_CONV), errors=(404, 409),
        path={"action": {"type": "string", "enum": ["read", "resolve", "reopen", "assign"]}},
    ),
    "POST /api/inbox/bulk": Op(
        "inbox_bulk_create", "Queue a bulk send", _AGENT, body=InboxMasivo,
        ok=component(_BULK), status=201,
    ),
    "POST /api/inbox/bulk/{id}/cancel": Op(
        "inbox_bulk_cancel", "Cancel a bulk send", _AGENT, ok=component(_BULK), errors=(404, 409),
    ),
    "POST /api/inbox/t/{tenant}/incoming": Op(
        "inbox_incoming", "The backend: a WhatsApp message arrived", _BACKEND,
        body=InboxEntrante, ok=_DELIVERY, status=201, path=_T,
    ),
    "POST /api/inbox/t/{tenant}/connector": Op(
        "inbox_connector", "The backend: the WhatsApp session's status", _BACKEND,
        body=InboxConector, ok=component(_CONN), path=_T, errors=(409,),
    ),
    "POST /api/inbox/t/{tenant}/messages/{id}/status": Op(
        "inbox_message_status", "The backend: delivery status of an outgoing message", _BACKEND,
        body=InboxEstado, ok=component(_MSG), path=_T, errors=(404, 409),
    ),
    "POST /api/inbox/t/{tenant}/bulk/{id}/progress": Op(
        "inbox_bulk_progress", "The backend: progress of a bulk send", _BACKEND,
        body=InboxAvance, ok=component(_BULK), path=_T, errors=(404, 409),
    ),
    "POST /api/inbox/sim/{what}": Op(
        "inbox_simulate", "Demo only: what the WhatsApp backend would do, made up",
        Access(apikey=True, roles=("agente", "supervisor"), demo=True),
        body=InboxSimulado, body_required=False, ok={"type": "object"},
        path={"what": {"type": "string", "enum": ["incoming", "qr", "scan", "disconnect"]}},
        query=(Query("tenant", _TENANT, "with the API key: the tenant to act for"),),
    ),
    "GET /api/inbox/whatsapp": Op(
        "inbox_whatsapp_get", "The tenant's WhatsApp Cloud API settings (secrets masked)",
        _SUPERVISOR, ok=_SETTINGS,
    ),
    "PUT /api/inbox/whatsapp": Op(
        "inbox_whatsapp_put", "Save the WhatsApp Cloud API settings, then check them",
        _SUPERVISOR, body=InboxWhatsApp, ok=_SETTINGS,
    ),
    "POST /api/inbox/whatsapp/check": Op(
        "inbox_whatsapp_check", "Ask WhatsApp how the connection is now", _AGENT_ONLY,
        ok=component(_CONN), body_required=False,
    ),
    "GET /api/inbox/whatsapp/webhook": Op(
        "inbox_webhook_verify", "Meta's webhook verification handshake", ANYONE,
        ok={"type": "string"}, ok_media="text/plain", errors=(403,),
        query=(
            Query("hub.mode", {"type": "string", "enum": ["subscribe"]}, required=True),
            Query("hub.verify_token", {"type": "string"}, "a tenant's verify token",
                  required=True),
            Query("hub.challenge", {"type": "string", "maxLength": 256}, "echoed back",
                  required=True),
        ),
    ),
    "POST /api/inbox/whatsapp/webhook": Op(
        "inbox_webhook", "Meta's webhook deliveries (signed with X-Hub-Signature-256)", ANYONE,
        body={"type": "object"}, errors=(401, 413, 503),
        ok={"type": "object", "properties": {k: {"type": "integer"}
                                             for k in ("messages", "statuses", "ignored")}},
        description="401 unless X-Hub-Signature-256 is the HMAC-SHA256 of the raw body "
        "with a tenant's app secret; checked before the body is parsed. 503: a status "
        "arrived before Graph's answer to the send was stored (Meta retries it).",
    ),
    "GET /api/inbox/templates": Op(
        "inbox_templates", "The account's approved WhatsApp templates", _AGENT_ONLY,
        ok=_TEMPLATES, errors=(404,),
    ),
    "POST /api/inbox/conversations/{id}/template": Op(
        "inbox_send_template", "Send an approved template (also outside the 24-hour window)",
        _AGENT_ONLY, body=InboxPlantilla, ok=_DELIVERY, status=201, errors=(404,),
    ),
    "GET /api/inbox/messages/{id}/media": Op(
        "inbox_media", "The attachment of a message of the agent's tenant", _AGENT_ONLY,
        ok={"type": "string", "format": "binary"}, ok_media="application/octet-stream",
        errors=(404,),
    ),
    "POST /api/inbox/conversations/{id}/notes": Op(
        "inbox_note", "An internal note on a conversation (agents of the tenant only)",
        _AGENT_ONLY, body=InboxNota, ok=component(_MSG), status=201, errors=(404,),
        description="Stored as a message with direction note and status nota: it appears "
        "live in the conversation's stream and is never sent to WhatsApp.",
    ),
    "POST /api/inbox/conversations/{id}/typing": Op(
        "inbox_typing", "Tell the tenant's agents on the conversation that I am typing",
        _AGENT_ONLY, body_required=False, errors=(404,),
        ok={"type": "object", "properties": {"sent": {"type": "boolean"}}},
        description="Publishes typing on equipo:<tenant>:conv:<id>, not stored; at most once "
        "a second per agent and conversation (sent: false for the rest).",
    ),
    "POST /api/inbox/conversations/{id}/contact": Op(
        "inbox_contact_name", "Name the contact of a conversation of the agent's tenant",
        _AGENT_ONLY, body=InboxContacto, ok=component(_CONV), errors=(404,),
        description="Audited (the conversation's history keeps who); later messages no "
        "longer change the name to WhatsApp's profile name.",
    ),
    "POST /api/inbox/quick-replies": Op(
        "inbox_quick_create", "Save a quick reply for the tenant", _SUPERVISOR,
        body=InboxRespuestaRapida, ok=component(_QUICK), status=201, errors=(409,),
        description="409 conflict when the tenant already has 50.",
    ),
    "DELETE /api/inbox/quick-replies/{id}": Op(
        "inbox_quick_delete", "Delete a quick reply of the tenant", _SUPERVISOR,
        ok={"type": "object", "properties": {"deleted": {"type": "string"}}}, errors=(404,),
    ),
    **demo_login_ops("inbox"),
}  # fmt: skip


def document(ext: Extension, records: Records) -> Extension:
    """``ext`` with its routes' OpenAPI paths (see :func:`..kit.openapi.documented`)."""
    schemas: dict[str, Any] = {
        name: record_schema(records.kind(kind))
        for name, kind in (
            (_CONV, CONVERSATION),
            (_MSG, MESSAGE),
            (_CONN, CONNECTOR),
            (_BULK, BULK),
            (_QUICK, QUICK_REPLY),
        )
    }
    return documented(ext, OPS, schemas=schemas)
