"""The cargue records: a plantilla row per product (``cargue_item``) and the
user directory (``cargue_user``: vendedores and despachadores).

A row's two checks are a small state machine, so "D only after V" is a rule
of the records layer rather than of a screen::

    pendiente ──marcar_v──▶ verificado ──marcar_d──▶ despachado
              ◀─desmarcar_v─            ◀─desmarcar_d─
    (vendedor, own rows)              (despachador)

Every move publishes the seed's event ``check_update``; the record carries
the seed's fields (``producto``, ``v``, ``d``, ``dia``, ``fecha``). A change
goes to the vendor's group ``cargue:<vendedor_id>`` (the seed's
``cargue_<vendedor>`` room) and to ``despacho:cargue``, the dispatcher's view
of every vendor.

``v``/``d`` and their ``*_at``/``*_by`` are set by the transitions only (the
role ``system`` means: nobody with a token); the plan fields (product,
quantity, order) by a despachador or an admin.
"""

from __future__ import annotations

import hashlib

from relevo.protocol.errors import PermissionDenied
from relevo.records import NOW, Context, Field, Kind, Transition

__all__ = [
    "ABIERTO",
    "CERRADO",
    "CH_DESPACHO",
    "CHECK_EVENT",
    "CIERRE",
    "DESPACHADO",
    "ITEM",
    "PENDIENTE",
    "ROLE_ADMIN",
    "ROLE_DESPACHADOR",
    "ROLE_VENDEDOR",
    "STAFF",
    "TRANSITION_FOR",
    "USER",
    "VERIFICADO",
    "cierre_id",
    "cierre_kind",
    "item_kind",
    "user_kind",
    "vendedor_channel",
]

ITEM = "cargue_item"
USER = "cargue_user"
CIERRE = "cargue_cierre"

ROLE_VENDEDOR = "vendedor"
ROLE_DESPACHADOR = "despachador"
ROLE_ADMIN = "admin"
STAFF = frozenset({ROLE_DESPACHADOR, ROLE_ADMIN})
_NOBODY = frozenset({"system"})

PENDIENTE, VERIFICADO, DESPACHADO = "pendiente", "verificado", "despachado"
ABIERTO, CERRADO = "abierto", "cerrado"
CHECK_EVENT = "check_update"
CH_DESPACHO = "despacho:cargue"

TRANSITION_FOR = {
    ("v", True): "marcar_v",
    ("v", False): "desmarcar_v",
    ("d", True): "marcar_d",
    ("d", False): "desmarcar_d",
}
"""(check, value) → the transition that sets it."""


def vendedor_channel(vendedor_id: str) -> str:
    return f"cargue:{vendedor_id}"


def _own_row(c: Context) -> bool:
    """A vendor ticks only his own rows (staff and the server may tick any)."""
    a = c.actor
    if a.is_system or a.roles & STAFF or ROLE_VENDEDOR not in a.roles:
        return True
    if str(c.record.get("vendedor_id")) != a.user:
        raise PermissionDenied(f"user {a.user} may not check rows of another vendor")
    return True


def _by(c: Context) -> str:
    return c.actor.user


def _nombre(c: Context) -> str:
    """The display name the service resolved into the actor's claims (the
    directory's, else the token's), else the user id."""
    return str(c.actor.claims.get("name") or c.actor.user)


def cierre_id(vendedor_id: str, fecha: str) -> str:
    """One closing record per vendor and day, so two closes are one row
    (a record id has 64 characters at most: a longer vendor id is hashed)."""
    rid = f"{fecha.replace('-', '')}.{vendedor_id}"
    if len(rid) <= 64:
        return rid
    return f"{fecha.replace('-', '')}.{hashlib.sha256(vendedor_id.encode()).hexdigest()[:40]}"


def item_kind() -> Kind:
    plan = STAFF
    return Kind(
        ITEM,
        fields={
            "vendedor_id": Field(str, required=True, write_roles=plan),
            "fecha": Field(str, required=True, write_roles=plan),
            "dia": Field(str, write_roles=plan),
            "producto": Field(str, required=True, write_roles=plan),
            "codigo": Field(str, write_roles=plan),
            "cantidad": Field(int, default=0, write_roles=plan),
            "unidad": Field(str, default="und", write_roles=plan),
            "orden": Field(int, default=0, write_roles=plan),
            "v": Field(bool, default=False, write_roles=_NOBODY),
            "d": Field(bool, default=False, write_roles=_NOBODY),
            "v_at": Field(int, write_roles=_NOBODY),
            "v_by": Field(str, write_roles=_NOBODY),
            "d_at": Field(int, write_roles=_NOBODY),
            "d_by": Field(str, write_roles=_NOBODY),
            "v_nombre": Field(str, write_roles=_NOBODY),
            "d_nombre": Field(str, write_roles=_NOBODY),
            # what actually left and came back (None: as planned), and why
            "cargada": Field(int, write_roles=_NOBODY),
            "devuelta": Field(int, default=0, write_roles=_NOBODY),
            "motivo": Field(str, write_roles=_NOBODY),
        },
        states={PENDIENTE, VERIFICADO, DESPACHADO},
        initial=PENDIENTE,
        transitions=[
            Transition(
                "marcar_v",
                source={PENDIENTE},
                target=VERIFICADO,
                roles={ROLE_VENDEDOR},
                guard=_own_row,
                updates={"v": True, "v_at": NOW, "v_by": _by, "v_nombre": _nombre},
                event=CHECK_EVENT,
            ),
            Transition(
                "desmarcar_v",
                source={VERIFICADO},
                target=PENDIENTE,
                roles={ROLE_VENDEDOR},
                guard=_own_row,
                updates={"v": False, "v_at": None, "v_by": None, "v_nombre": None},
                event=CHECK_EVENT,
            ),
            Transition(
                "marcar_d",
                source={VERIFICADO},
                target=DESPACHADO,
                roles=STAFF,
                updates={"d": True, "d_at": NOW, "d_by": _by, "d_nombre": _nombre},
                event=CHECK_EVENT,
            ),
            Transition(
                "desmarcar_d",
                source={DESPACHADO},
                target=VERIFICADO,
                roles=STAFF,
                updates={"d": False, "d_at": None, "d_by": None, "d_nombre": None},
                event=CHECK_EVENT,
            ),
        ],
        channels=["cargue:{vendedor_id}", CH_DESPACHO],
        live={"vendedor_id": "cargue:{vendedor_id}", "": CH_DESPACHO},
        indexed=["vendedor_id", "fecha"],
        read_roles={ROLE_VENDEDOR, *STAFF},
        # Every write goes through /api/cargue, which checks "own row" and
        # the day's closing: the generic records API would let a vendor
        # delete rows, and staff edit a closed day.
        write_roles=_NOBODY,
    )


def cierre_kind() -> Kind:
    """A vendor's load of a day, open or closed. Closing locks the day's
    rows (no tick, no edit); only an admin reopens, and the record history
    keeps who closed and reopened, when and why."""
    return Kind(
        CIERRE,
        fields={
            "vendedor_id": Field(str, required=True, write_roles=_NOBODY),
            "fecha": Field(str, required=True, write_roles=_NOBODY),
            "cerrado_at": Field(int, write_roles=_NOBODY),
            "cerrado_by": Field(str, write_roles=_NOBODY),
            "cerrado_nombre": Field(str, write_roles=_NOBODY),
            "reabierto_at": Field(int, write_roles=_NOBODY),
            "reabierto_nombre": Field(str, write_roles=_NOBODY),
            "motivo": Field(str, write_roles=_NOBODY),
        },
        states={ABIERTO, CERRADO},
        initial=ABIERTO,
        transitions=[
            Transition(
                "cerrar",
                source={ABIERTO},
                target=CERRADO,
                roles=STAFF,
                updates={"cerrado_at": NOW, "cerrado_by": _by, "cerrado_nombre": _nombre},
                event="cargue_cerrado",
            ),
            Transition(
                "reabrir",
                source={CERRADO},
                target=ABIERTO,
                roles={ROLE_ADMIN},
                accepts={"motivo"},
                updates={
                    "cerrado_at": None,
                    "cerrado_by": None,
                    "cerrado_nombre": None,
                    "reabierto_at": NOW,
                    "reabierto_nombre": _nombre,
                },
                event="cargue_reabierto",
            ),
        ],
        channels=["cargue:{vendedor_id}", CH_DESPACHO],
        live={"vendedor_id": "cargue:{vendedor_id}", "": CH_DESPACHO},
        indexed=["vendedor_id", "fecha"],
        read_roles={ROLE_VENDEDOR, *STAFF},
        write_roles=_NOBODY,
    )


def user_kind() -> Kind:
    """Vendors (with their route) and dispatchers; staff read it live."""
    return Kind(
        USER,
        fields={
            "nombre": Field(str, required=True),
            "rol": Field(str, required=True, choices={ROLE_VENDEDOR, ROLE_DESPACHADOR, ROLE_ADMIN}),
            "ruta": Field(str),
            "telefono": Field(str),
            "activo": Field(bool, default=True),
        },
        channels=[CH_DESPACHO],
        live={"": CH_DESPACHO},
        indexed=["rol"],
        read_roles=STAFF,
        write_roles={ROLE_ADMIN},
    )
