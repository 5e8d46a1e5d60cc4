"""Kinds shaped like the four seed apps, used across the records tests."""

from __future__ import annotations

from relevo.records import NOW, Field, Kind, LeasePolicy, Timer, Transition

LEAD = Kind(
    "lead",
    fields={
        "nombre": Field(str, required=True),
        "telefono": Field(str),
        "asesor_id": Field(int),
        "derivado_at": Field(int),
        "opened_at": Field(int),
        "nota": Field(str),
        "documento": Field(str, public=False),
    },
    states={"nuevo", "derivado", "en_gestion", "terminado", "no_gestionado"},
    initial="nuevo",
    transitions=[
        Transition(
            "assign",
            source={"nuevo", "no_gestionado", "derivado"},
            target="derivado",
            roles={"gtr"},
            accepts={"asesor_id"},
            guard=lambda c: c.data.get("asesor_id") is not None or "asesor_id is required",
            updates={"derivado_at": NOW},
            event="CLIENT_REASSIGNED",
        ),
        Transition(
            "open",
            source={"derivado"},
            target="en_gestion",
            roles={"asesor"},
            requires_lease=True,
            updates={"opened_at": NOW},
            event="CLIENT_IN_GESTION",
        ),
        Transition(
            "note",
            source="*",
            roles={"asesor"},
            accepts={"nota", "documento"},
            requires_lease=True,
            event="CLIENT_UPDATED",
        ),
        Transition(
            "complete",
            source={"en_gestion"},
            target="terminado",
            roles={"asesor"},
            requires_lease=True,
            release_lease=True,
            updates={"asesor_id": None},
            event="CLIENT_COMPLETED",
        ),
        Transition(
            "timeout",
            source={"derivado", "en_gestion"},
            target="no_gestionado",
            roles={"system"},
            release_lease=True,
            updates={"asesor_id": None},
            event="CLIENT_RETURNED_TO_GTR",
        ),
    ],
    timers=[
        Timer(
            after=300,
            in_states={"derivado", "en_gestion"},
            transition="timeout",
            activity_by="asesor_id",
        )
    ],
    channels=["gtr", "asesor:{asesor_id}"],
    live={"": "gtr", "asesor_id": "asesor:{asesor_id}"},
    indexed=["asesor_id"],
    read_roles={"gtr", "asesor"},
    lease=LeasePolicy(ttl=60),
)

CHECK = Kind(
    "check",
    fields={
        "vendedor_id": Field(str, required=True),
        "producto": Field(str, required=True),
        "v": Field(bool, default=False, write_roles={"vendedor", "despachador"}),
        "d": Field(bool, default=False, write_roles={"despachador"}),
    },
    channels=["cargue:{vendedor_id}"],
    live={"vendedor_id": "cargue:{vendedor_id}"},
    indexed=["vendedor_id"],
)

TURNO = Kind(
    "turno",
    fields={
        "numero": Field(str),
        "area": Field(str, required=True),
        "prioridad": Field(int, default=0),
        "mesa": Field(str),
    },
    states={"espera", "llamado", "atendiendo", "finalizado", "no_presento"},
    initial="espera",
    transitions=[
        Transition(
            "call", source={"espera"}, target="llamado", accepts={"mesa"}, event="turno_llamado"
        ),
        Transition("attend", source={"llamado"}, target="atendiendo", event="turno_atendiendo"),
        Transition("finish", source={"atendiendo"}, target="finalizado", event="turno_finalizado"),
        Transition("no_show", source={"llamado"}, target="no_presento", event="turno_no_presento"),
    ],
    timers=[Timer(after=120, in_states={"llamado"}, transition="no_show")],
    channels=["turnos:monitor", "turnos:area:{area}"],
    live={"": "turnos:monitor", "area": "turnos:area:{area}"},
    indexed=["area", "prioridad"],
)

MESSAGE = Kind(
    "message",
    fields={"tenant": Field(str, required=True), "body": Field(str), "from_me": Field(bool)},
    channels=["t:{tenant}:inbox"],
    live={"tenant": "t:{tenant}:inbox"},
    indexed=["tenant"],
)


PING = Kind(
    "ping",
    fields={"n": Field(int)},
    states={"armed", "fired"},
    initial="armed",
    transitions=[Transition("fire", source={"armed"}, target="fired", event="PING_FIRED")],
    timers=[Timer(after=0.5, in_states={"armed"}, transition="fire")],
    channels=["pings"],
    live={"": "pings"},
)

ALL = (LEAD, CHECK, TURNO, MESSAGE, PING)
