"""The leads app's record kinds: ``lead`` (the seeds' "cliente") and
``leads_user`` (the directory of GTRs, asesores and admins).

The ``lead`` state machine is the seeds' seguimiento::

    nuevo ──assign──▶ derivado ──open──▶ en_gestion ──complete──▶ terminado
      ▲                 │   ▲              │   │
      │                 │   │              │   └──schedule──▶ agendado
      │                 │   └──────────────┼──callback (at callback_at)──┘
      │                 └──────────────────┴──(no activity for `timeout` s)──▶ no_gestionado
      └───────── assign (GTR takes it back from the pool) ◀───────┘

``edit`` (nombre, telefono, notas) runs in any state and changes none.

Every transition that needs a check the records layer cannot make alone (the
asesor exists, the lead is yours, this browser tab holds the wizard) has
``roles={"system"}``: a role no token carries, so only the app's own
endpoints (acting for the user as a privileged actor, after those checks) and
a backend holding the API key can run it. Reads — live queries, a record, its
history — go through the records API as usual, with its permissions.
"""

from __future__ import annotations

from typing import Any

from relevo.protocol.errors import PermissionDenied
from relevo.records import NOW, Context, Field, Kind, LeasePolicy, Timer, Transition

from .options import LeadsOptions

__all__ = [
    "ACTIVE",
    "APP_ONLY",
    "CALLBACK",
    "CALLBACK_HORIZON",
    "EDITABLE",
    "GTR_ROLES",
    "LEAD",
    "RETURN_REASON",
    "STATES",
    "USER",
    "USER_ROLES",
    "lead_kind",
    "user_kind",
]

LEAD = "lead"
USER = "leads_user"
STATES = ("nuevo", "derivado", "en_gestion", "terminado", "no_gestionado", "agendado")
ACTIVE = frozenset({"derivado", "en_gestion"})
"""States in which the asesor must show activity, or the lead returns to the GTR."""
GTR_ROLES = frozenset({"gtr", "admin"})
USER_ROLES = ("gtr", "asesor", "admin")
APP_ONLY = frozenset({"system"})
"""A role nobody's token carries: only privileged actors (the app, the API key) pass."""
RETURN_REASON = "timeout_no_gestionado"
CALLBACK = "callback"
"""The timer that brings an agendado lead back to its asesor at ``callback_at``."""
EDITABLE = frozenset({"nombre", "telefono", "notas"})
"""What the lead's editor changes (``edit``): contact data and the notes."""
CALLBACK_HORIZON = 90 * 86400.0
"""The latest callback, in seconds from now; the timer's fallback deadline too."""

_WIZARD_FIELDS = frozenset(
    {"wizard_step", "resultado_contacto", "tipificacion", "notas", "proxima_accion"}
)


def _previous_asesor(c: Context) -> Any:
    return c.record.get("asesor_id")


def _first_open(c: Context) -> Any:
    return c.record.get("opened_at") or int(c.now * 1000)


def _is_own(c: Context) -> bool:
    if str(c.record.get("asesor_id")) != c.actor.user:
        raise PermissionDenied(f"lead {c.record.id} is not assigned to user {c.actor.user}")
    return True


def _has_tipificacion(c: Context) -> bool | str:
    if not (c.data.get("tipificacion") or c.record.get("tipificacion")):
        return "choose a tipificacion before completing"
    return _is_own(c)


def _own_activity(c: Context) -> Any:
    """``last_activity`` moves with an edit by the lead's asesor (it pushes the
    timeout, so the countdown stays exact), not with the GTR's."""
    if c.actor.user and str(c.record.get("asesor_id")) == c.actor.user:
        return int(c.now * 1000)
    return c.record.get("last_activity")


def _needs_asesor(c: Context) -> bool | str:
    return bool(c.data.get("asesor_id")) or "asesor_id is required"


def lead_kind(opts: LeadsOptions) -> Kind:
    contact = GTR_ROLES  # the GTR may fix contact data through the records API
    app = APP_ONLY
    fields = {
        "nombre": Field(str, required=True, write_roles=contact),
        "telefono": Field(str, write_roles=contact),
        "documento": Field(str, write_roles=contact),
        "campana": Field(str, write_roles=contact),
        "fuente": Field(str, write_roles=contact),
        "asesor_id": Field(str, write_roles=app),
        "previous_asesor_id": Field(str, write_roles=app),
        "seguimiento_status": Field(str, default="nuevo", choices=set(STATES), write_roles=app),
        "derivado_at": Field(int, write_roles=app),
        "opened_at": Field(int, write_roles=app),
        "last_activity": Field(int, write_roles=app),
        "fecha_wizard_completado": Field(int, write_roles=app),
        "motivo": Field(str, write_roles=app),
        "wizard_step": Field(int, write_roles=app),
        "resultado_contacto": Field(str, choices=set(opts.resultados), write_roles=app),
        "tipificacion": Field(str, choices=set(opts.tipificaciones), write_roles=app),
        "notas": Field(str, write_roles=app),
        "proxima_accion": Field(str, choices=set(opts.proximas_acciones), write_roles=app),
        "wizard_tab": Field(str, public=False, write_roles=app),
        "callback_at": Field(int, write_roles=app),
    }
    transitions = [
        Transition(
            "assign",
            source={"nuevo", "derivado", "en_gestion", "no_gestionado", "agendado"},
            target="derivado",
            roles=app,
            accepts={"asesor_id"},
            guard=_needs_asesor,
            updates={
                "previous_asesor_id": _previous_asesor,
                "derivado_at": NOW,
                "last_activity": NOW,
                "opened_at": None,
                "wizard_step": None,
                "motivo": None,
                "callback_at": None,
                "seguimiento_status": "derivado",
            },
            event="CLIENT_REASSIGNED",
        ),
        Transition(
            "edit",
            source=set(STATES),
            roles=app,
            accepts=EDITABLE,
            updates={"last_activity": _own_activity},
            event="CLIENT_EDITED",
        ),
        Transition(
            "schedule",
            source={"en_gestion"},
            target="agendado",
            roles=app,
            accepts=_WIZARD_FIELDS | {"callback_at"},
            guard=_has_tipificacion,
            requires_lease=True,
            release_lease=True,
            updates={
                "last_activity": NOW,
                "wizard_step": None,
                "seguimiento_status": "agendado",
            },
            event="CLIENT_CALLBACK_SCHEDULED",
        ),
        Transition(
            "callback",
            source={"agendado"},
            target="derivado",
            roles=app,
            updates={
                "derivado_at": NOW,
                "last_activity": NOW,
                "opened_at": None,
                "seguimiento_status": "derivado",
            },
            event="CLIENT_CALLBACK_DUE",
        ),
        Transition(
            "open",
            source=ACTIVE,
            target="en_gestion",
            roles=app,
            accepts={"wizard_tab"},
            guard=_is_own,
            requires_lease=True,
            updates={
                "opened_at": _first_open,
                "last_activity": NOW,
                "seguimiento_status": "en_gestion",
            },
            event="CLIENT_IN_GESTION",
        ),
        Transition(
            "activity",
            source=ACTIVE,
            roles=app,
            guard=_is_own,
            requires_lease=True,
            updates={"last_activity": NOW},
            event="CLIENT_ACTIVITY",
        ),
        Transition(
            "step",
            source={"en_gestion"},
            roles=app,
            accepts=_WIZARD_FIELDS,
            guard=_is_own,
            requires_lease=True,
            updates={"last_activity": NOW},
            event="CLIENT_UPDATED",
        ),
        Transition(
            "complete",
            source={"en_gestion"},
            target="terminado",
            roles=app,
            accepts=_WIZARD_FIELDS,
            guard=_has_tipificacion,
            requires_lease=True,
            release_lease=True,
            updates={
                "previous_asesor_id": _previous_asesor,
                "asesor_id": None,
                "fecha_wizard_completado": NOW,
                "last_activity": NOW,
                "wizard_step": None,
                "seguimiento_status": "terminado",
            },
            event="CLIENT_COMPLETED",
        ),
        Transition(
            "timeout",
            source=ACTIVE,
            target="no_gestionado",
            roles=app,
            release_lease=True,
            updates={
                "previous_asesor_id": _previous_asesor,
                "asesor_id": None,
                "wizard_step": None,
                "motivo": RETURN_REASON,
                "seguimiento_status": "no_gestionado",
            },
            event="CLIENT_RETURNED_TO_GTR",
        ),
    ]
    return Kind(
        LEAD,
        fields=fields,
        states=STATES,
        initial="nuevo",
        transitions=transitions,
        timers=[
            Timer(
                after=opts.timeout,
                in_states=ACTIVE,
                transition="timeout",
                activity_by="asesor_id",
                name=RETURN_REASON,
            ),
            # Armed at callback_at by the service (schedule_callback) in the
            # transaction that schedules it. ``activity_by`` names a field no
            # user id equals, so no write but a new callback_at moves it.
            Timer(
                after=CALLBACK_HORIZON,
                in_states={"agendado"},
                transition=CALLBACK,
                activity_by="callback_at",
                name=CALLBACK,
            ),
        ],
        channels=["gtr", "asesor:{asesor_id}"],
        live={"": "gtr", "asesor_id": "asesor:{asesor_id}"},
        indexed=["asesor_id", "campana", "documento", "telefono"],
        read_roles={"gtr", "admin", "asesor"},
        write_roles=GTR_ROLES,
        lease=LeasePolicy(ttl=opts.lease_ttl, max_ttl=max(600.0, opts.lease_ttl), roles=app),
    )


def user_kind() -> Kind:
    """The app's directory: the record id is the user id (the token's ``sub``)."""
    return Kind(
        USER,
        fields={
            "nombre": Field(str, required=True),
            "rol": Field(str, required=True, choices=set(USER_ROLES)),
            "activo": Field(bool, default=True),
            "email": Field(str, public=False),
        },
        channels=["gtr"],
        live={"": "gtr"},
        indexed=["rol"],
        read_roles=GTR_ROLES,
        write_roles={"admin"},
    )
