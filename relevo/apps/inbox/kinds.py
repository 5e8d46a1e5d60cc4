"""The inbox records, every one carrying its ``tenant``.

Channels are per tenant, and the namespace rule binds the ``{tenant}``
placeholder to the token's ``tenant`` claim (``t:{tenant}:*``), so an agent's
connection can only ever subscribe to its own tenant's channels::

    t:<tenant>:inbox             conversations, connector, stats, agents, message:new
    t:<tenant>:conv:<id>         the messages of one conversation
    t:<tenant>:bulk              bulk sends and their progress

The seed's events keep their names: conversation moves publish
``conversation:updated``, the connector ``whatsapp:qr`` /
``whatsapp:authenticated`` / ``whatsapp:disconnected``, a bulk send
``bulk:started`` / ``bulk:progress`` / ``bulk:completed`` / ``bulk:cancelled``;
the service adds ``message:new`` for each message.

Writes: the role ``system`` means nobody with a token. Agents write through
``/api/inbox`` (which binds their tenant), backends with the API key; the
generic records API answers agents' reads only.
"""

from __future__ import annotations

from relevo.records import NOW, Field, Kind, Transition

__all__ = [
    "AGENT",
    "AGENT_ROLES",
    "BULK",
    "CONNECTOR",
    "CONVERSATION",
    "MESSAGE",
    "QUICK_REPLY",
    "STATS",
    "TENANT",
    "WHATSAPP",
    "all_kinds",
    "bulk_channel",
    "conv_channel",
    "inbox_channel",
]

CONVERSATION = "inbox_conversation"
MESSAGE = "inbox_message"
CONNECTOR = "inbox_connector"
BULK = "inbox_bulk"
AGENT = "inbox_agent"
TENANT = "inbox_tenant"
STATS = "inbox_stats"
WHATSAPP = "inbox_whatsapp"
QUICK_REPLY = "inbox_quick_reply"

AGENT_ROLES = frozenset({"agente", "supervisor"})
SUPERVISORS = frozenset({"supervisor"})
_SYSTEM = frozenset({"system"})
_INBOX = "t:{tenant}:inbox"
_LIVE_INBOX = {"tenant": _INBOX}

CONVERSATION_UPDATED = "conversation:updated"


def inbox_channel(tenant: str) -> str:
    return f"t:{tenant}:inbox"


def conv_channel(tenant: str, conversation_id: str) -> str:
    return f"t:{tenant}:conv:{conversation_id}"


def bulk_channel(tenant: str) -> str:
    return f"t:{tenant}:bulk"


def _conversation() -> Kind:
    last = frozenset(
        {
            "contact_name",
            "last_text",
            "last_at",
            "last_direction",
            "unread",
            "last_in_at",
            "atenciones",
            "first_at",
        }
    )
    agents, ev = AGENT_ROLES, CONVERSATION_UPDATED
    return Kind(
        CONVERSATION,
        fields={
            "tenant": Field(str, required=True),
            "contact_phone": Field(str, required=True),
            "contact_name": Field(str),
            "last_text": Field(str),
            "last_at": Field(int),
            "last_direction": Field(str, choices={"in", "out"}),
            "last_in_at": Field(int),  # the customer's last message: WhatsApp's 24-hour window
            "unread": Field(int, default=0),
            "assigned_to": Field(str),
            "assigned_name": Field(str),
            # the contact profile (contact.py): a name an agent gave wins over
            # WhatsApp's; "atenciones" counts the times the customer came back
            # after the conversation was resolved (1 for a new one)
            "contact_name_by": Field(str),
            "atenciones": Field(int, default=1),
            "first_at": Field(int),  # the customer's first message (ms): the first contact
        },
        states={"abierta", "resuelta"},
        initial="abierta",
        transitions=[
            # a message came in (reopens) / went out: the service's bookkeeping
            Transition("entrante", "*", "abierta", roles=_SYSTEM, accepts=last, event=ev),
            Transition("saliente", "*", None, roles=_SYSTEM, accepts=last, event=ev),
            Transition("leer", "*", None, roles=agents, updates={"unread": 0}, event=ev),
            Transition(
                "asignar",
                "*",
                None,
                roles=agents,
                accepts={"assigned_to", "assigned_name"},
                event=ev,
            ),
            # resolving handles the conversation: its messages count as read, so
            # "Sin leer" (the unread of open conversations) never counts it
            Transition(
                "resolver",
                {"abierta"},
                "resuelta",
                roles=agents,
                updates={"unread": 0},
                event=ev,
            ),
            Transition("reabrir", {"resuelta"}, "abierta", roles=agents, event=ev),
            # an agent names the contact: /api/inbox only (it binds the tenant)
            Transition(
                "renombrar",
                "*",
                None,
                roles=_SYSTEM,
                accepts={"contact_name", "contact_name_by"},
                event=ev,
            ),
        ],
        channels=[_INBOX],
        live=_LIVE_INBOX,
        indexed=["tenant", "contact_phone", "assigned_to"],
        read_roles=agents,
        write_roles=_SYSTEM,
    )


def _message() -> Kind:
    return Kind(
        MESSAGE,
        fields={
            "tenant": Field(str, required=True),
            "conversation_id": Field(str, required=True),
            # "note": an agent's internal note (never sent; see notes.py)
            "direction": Field(str, required=True, choices={"in", "out", "note"}),
            "text": Field(str, required=True),
            "status": Field(
                str,
                default="recibido",
                choices={
                    "recibido",
                    "pendiente",
                    "enviado",
                    "entregado",
                    "leido",
                    "fallido",
                    "nota",
                },
            ),
            "author": Field(str),
            "author_name": Field(str),
            "external_id": Field(str),
            "bulk_id": Field(str),
            "at": Field(int),
            "error": Field(str),  # why it was not delivered (the provider's reason)
            "media": Field(dict),  # {id, type, mime, filename, size} of a stored attachment
            "template": Field(dict),  # {name, language} of a WhatsApp template sent
            "sending_since": Field(int, public=False),  # a node's claim to send it (ms)
        },
        channels=["t:{tenant}:conv:{conversation_id}"],
        live={"conversation_id,tenant": "t:{tenant}:conv:{conversation_id}"},
        indexed=["tenant", "conversation_id", "external_id", "status"],
        read_roles=AGENT_ROLES,
        write_roles=_SYSTEM,
    )


def _connector() -> Kind:
    return Kind(
        CONNECTOR,
        fields={
            "tenant": Field(str, required=True),
            "qr": Field(str),
            "phone": Field(str),
            "detail": Field(str),
            "since": Field(int),
            "provider": Field(str),  # "cloud" for the WhatsApp Cloud API
        },
        states={"disconnected", "qr", "authenticated", "error"},
        initial="disconnected",
        transitions=[
            Transition(
                "mostrar_qr",
                "*",
                "qr",
                roles=_SYSTEM,
                accepts={"qr"},
                updates={"since": NOW},
                event="whatsapp:qr",
            ),
            Transition(
                "autenticar",
                "*",
                "authenticated",
                roles=_SYSTEM,
                accepts={"phone", "provider"},
                updates={"qr": None, "detail": None, "since": NOW},
                event="whatsapp:authenticated",
            ),
            Transition(
                "fallar",
                "*",
                "error",
                roles=_SYSTEM,
                accepts={"detail", "provider"},
                updates={"qr": None, "since": NOW},
                event="whatsapp:error",
            ),
            Transition(
                "desconectar",
                "*",
                "disconnected",
                roles=_SYSTEM,
                accepts={"detail"},
                updates={"qr": None, "since": NOW},
                event="whatsapp:disconnected",
            ),
        ],
        channels=[_INBOX],
        live=_LIVE_INBOX,
        indexed=["tenant"],
        read_roles=AGENT_ROLES,
        write_roles=_SYSTEM,
    )


def _bulk() -> Kind:
    counts = {"enviados", "fallidos"}
    return Kind(
        BULK,
        fields={
            "tenant": Field(str, required=True),
            "nombre": Field(str, required=True),
            "texto": Field(str, required=True),
            "destinatarios": Field(list, public=False),
            "total": Field(int, default=0),
            "enviados": Field(int, default=0),
            "fallidos": Field(int, default=0),
            "creado_por": Field(str),
            "creado_por_nombre": Field(str),
            "started_at": Field(int),
            "finished_at": Field(int),
        },
        states={"en_cola", "enviando", "completado", "cancelado"},
        initial="en_cola",
        transitions=[
            Transition(
                "iniciar",
                source={"en_cola"},
                target="enviando",
                roles=_SYSTEM,
                updates={"started_at": NOW},
                event="bulk:started",
            ),
            Transition(
                "progreso",
                source={"enviando"},
                target=None,
                roles=_SYSTEM,
                accepts=counts,
                event="bulk:progress",
            ),
            Transition(
                "completar",
                source={"enviando"},
                target="completado",
                roles=_SYSTEM,
                accepts=counts,
                updates={"finished_at": NOW},
                event="bulk:completed",
            ),
            Transition(
                "cancelar",
                source={"en_cola", "enviando"},
                target="cancelado",
                roles=SUPERVISORS,
                updates={"finished_at": NOW},
                event="bulk:cancelled",
            ),
        ],
        channels=["t:{tenant}:bulk"],
        live={"tenant": "t:{tenant}:bulk"},
        indexed=["tenant"],
        read_roles=AGENT_ROLES,
        write_roles=_SYSTEM,
    )


def _directory(name: str, fields: dict[str, Field]) -> Kind:
    return Kind(
        name,
        fields={"tenant": Field(str, required=True), **fields},
        channels=[_INBOX],
        live=_LIVE_INBOX,
        indexed=["tenant"],
        read_roles=AGENT_ROLES,
        write_roles=_SYSTEM,
    )


def _whatsapp() -> Kind:
    """A tenant's WhatsApp Cloud API connection (id: the tenant). The three
    credentials are ``secret``: no API returns them, not even to the API key;
    the ``*_hint`` fields show their last four characters."""
    return Kind(
        WHATSAPP,
        fields={
            "tenant": Field(str, required=True),
            "phone_number_id": Field(str, required=True),
            "waba_id": Field(str, required=True),
            "access_token": Field(str, public=False, secret=True),
            "app_secret": Field(str, public=False, secret=True),
            "verify_token": Field(str, public=False, secret=True),
            "access_token_hint": Field(str),
            "app_secret_hint": Field(str),
            "verify_token_hint": Field(str),
            "updated_by": Field(str),
        },
        indexed=["tenant", "phone_number_id"],
        read_roles=_SYSTEM,  # supervisors read it (masked) through /api/inbox/whatsapp
        write_roles=_SYSTEM,
    )


def all_kinds() -> list[Kind]:
    return [
        _whatsapp(),
        _conversation(),
        _message(),
        _connector(),
        _bulk(),
        _directory(
            AGENT,
            {
                "nombre": Field(str, required=True),
                "rol": Field(str, default="agente", choices=AGENT_ROLES),
                "activo": Field(bool, default=True),
            },
        ),
        _directory(TENANT, {"nombre": Field(str, required=True), "color": Field(str)}),
        # the tenant's saved answers (quick.py): a supervisor keeps them, agents insert them
        _directory(
            QUICK_REPLY,
            {
                "titulo": Field(str, required=True),
                "texto": Field(str, required=True),
                "creado_por_nombre": Field(str),
            },
        ),
        _directory(
            STATS,
            {
                "fecha": Field(str),
                "entrantes": Field(int, default=0),
                "salientes": Field(int, default=0),
                "nuevas": Field(int, default=0),
            },
        ),
    ]
