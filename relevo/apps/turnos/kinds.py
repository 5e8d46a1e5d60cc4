"""The turnero's records: ``area``, ``tramite``, ``mesa`` and ``turno``.

A ``turno`` moves through the seed's states, and each move publishes the
seed's event::

    en_espera ──llamar──▶ llamado ──atender──▶ atendiendo ──finalizar──▶ finalizado
                   (turno_llamado) │ ▲ rellamar     (turno_atendiendo)   (turno_finalizado)
                                   │ └─(turno_llamado)
                                   └──no_presento (operator, or the timer)──▶ no_presento
                                                                     (turno_no_presento)

``actualizar`` edits a turno in any open state (``turno_actualizado``); the
app creates turnos with the event ``turno_creado``.

Privacy: ``persona_nombre`` and ``prioridad_motivo`` are not public fields,
so the records layer leaves them out of every publication and live query —
the public monitor, which subscribes to ``turnos:monitor``, can never receive
a person's name. Operators read them through the app API for the turno at
their desk.
"""

from __future__ import annotations

from relevo.records import NOW, Context, Field, Kind, LeasePolicy, Timer, Transition

from .options import TurnosOptions

__all__ = [
    "ABIERTOS",
    "CH_CONFIG",
    "CH_MONITOR",
    "CH_STATS",
    "EN_CURSO",
    "LLAMADOS",
    "MOTIVOS_FIN",
    "MOTIVOS_PRIORIDAD",
    "ROLE_ADMIN",
    "ROLE_OPERADOR",
    "STATES",
    "area_channel",
    "build_kinds",
    "cola_key",
    "mesa_cola",
]

ROLE_OPERADOR = "operador"
ROLE_ADMIN = "admin"

EN_ESPERA, LLAMADO, ATENDIENDO = "en_espera", "llamado", "atendiendo"
FINALIZADO, NO_PRESENTO = "finalizado", "no_presento"
STATES = frozenset({EN_ESPERA, LLAMADO, ATENDIENDO, FINALIZADO, NO_PRESENTO})
EN_CURSO = frozenset({LLAMADO, ATENDIENDO})
"""A mesa's current turno is in one of these."""
ABIERTOS = frozenset({EN_ESPERA, LLAMADO, ATENDIENDO})
"""Not finished yet: what an operator's queue shows."""
LLAMADOS = frozenset({LLAMADO, ATENDIENDO, FINALIZADO, NO_PRESENTO})
"""Called at least once: what the public monitor lists."""

MOTIVOS_FIN = frozenset({"atendido", "derivado", "desistio", "otro"})
MOTIVOS_PRIORIDAD = frozenset({"adulto_mayor", "embarazada", "discapacidad", "otro"})

CH_MONITOR = "turnos:monitor"
CH_STATS = "turnos:stats"
CH_CONFIG = "turnos:config"


def area_channel(area_id: str) -> str:
    return f"turnos:area:{area_id}"


def mesa_cola(mesa_id: str) -> str:
    """The queue of the turnos transferred to one mesa, in place of a trámite
    in :func:`cola_key` (``@`` is not allowed in a trámite id)."""
    return f"@{mesa_id}"


def cola_key(fecha: str, tramite_id: str, prioridad: int) -> str:
    """The queue a waiting turno is in: one per day, trámite and priority.
    Set only while the turno waits, so "the next one" is an index lookup
    among today's waiting turnos, however many the table holds."""
    return f"{fecha}|{tramite_id}|{prioridad}"


def _cola_after_edit(c: Context) -> str | None:
    if c.record.state != EN_ESPERA:
        return None
    prioridad = c.data.get("prioridad", c.record.get("prioridad"))
    destino = c.record.get("mesa_destino")
    queue = mesa_cola(str(destino)) if destino else str(c.record["tramite_id"])
    return cola_key(str(c.record["fecha"]), queue, int(prioridad or 0))


def _called_again(c: Context) -> int:
    return int(c.record.get("llamadas") or 0) + 1


def _first_call(c: Context) -> int:
    first = c.record.get("primer_llamado_at")
    return int(first) if first is not None else int(c.now * 1000)


def turno_kind(no_show_seconds: float) -> Kind:
    return Kind(
        "turno",
        fields={
            "numero_visible": Field(str, required=True),
            "numero": Field(int, required=True),
            "fecha": Field(str, required=True),
            "tramite_id": Field(str, required=True),
            "tramite_nombre": Field(str),
            "area_id": Field(str, required=True),
            "area_nombre": Field(str),
            "prioridad": Field(int, default=0, choices={0, 1}),
            "prioridad_motivo": Field(str, choices=MOTIVOS_PRIORIDAD, public=False),
            "persona_nombre": Field(str, public=False),
            "mesa_id": Field(str),
            "mesa_nombre": Field(str),
            # A transfer to one mesa: only that mesa calls it (its own queue).
            "mesa_destino": Field(str),
            # Who called it last (for the reports); private: not on the monitor.
            "operador_id": Field(str, public=False),
            "operador_nombre": Field(str, public=False),
            "llamado_at": Field(int),
            "primer_llamado_at": Field(int),
            "llamadas": Field(int, default=0),
            "atendiendo_at": Field(int),
            "finalizado_at": Field(int),
            "motivo": Field(str, choices=MOTIVOS_FIN),
            "clave_cola": Field(str, public=False),
        },
        states=STATES,
        initial=EN_ESPERA,
        transitions=[
            Transition(
                "llamar",
                source={EN_ESPERA},
                target=LLAMADO,
                accepts={"mesa_id", "mesa_nombre", "operador_id", "operador_nombre"},
                updates={
                    "llamado_at": NOW,
                    "primer_llamado_at": _first_call,
                    "llamadas": _called_again,
                    "clave_cola": None,
                    "mesa_destino": None,
                },
                event="turno_llamado",
            ),
            Transition(
                "rellamar",
                source={LLAMADO},
                updates={"llamado_at": NOW, "llamadas": _called_again},
                event="turno_llamado",
            ),
            Transition(
                "atender",
                source={LLAMADO},
                target=ATENDIENDO,
                updates={"atendiendo_at": NOW},
                event="turno_atendiendo",
            ),
            Transition(
                "finalizar",
                source={ATENDIENDO},
                target=FINALIZADO,
                accepts={"motivo"},
                updates={"finalizado_at": NOW},
                event="turno_finalizado",
            ),
            Transition(
                "no_presento",
                source={LLAMADO},
                target=NO_PRESENTO,
                updates={"finalizado_at": NOW},
                event="turno_no_presento",
            ),
            Transition(
                # To another trámite (and its area) or to one mesa: back to
                # the queue with its number, priority and arrival time.
                "transferir",
                source=ABIERTOS,
                target=EN_ESPERA,
                accepts={
                    "tramite_id",
                    "tramite_nombre",
                    "area_id",
                    "area_nombre",
                    "mesa_destino",
                    "clave_cola",
                },
                updates={"mesa_id": None, "mesa_nombre": None, "atendiendo_at": None},
                event="turno_transferido",
            ),  # fmt: skip
            Transition(
                "actualizar",
                source=ABIERTOS,
                accepts={"persona_nombre", "prioridad", "prioridad_motivo"},
                updates={"clave_cola": _cola_after_edit},
                event="turno_actualizado",
            ),
        ],
        # Armed when the turno is called; a recall (any write by a person while
        # it is llamado) pushes it back; the server's own writes do not.
        timers=[Timer(after=no_show_seconds, in_states={LLAMADO}, transition="no_presento")],
        channels=["turnos:area:{area_id}", CH_MONITOR],
        live={"area_id": "turnos:area:{area_id}", "": CH_MONITOR},
        # Indexed: what the statistics group by, the queue key, the first
        # call (read incrementally). Not prioridad or area_id: a low-cardinality
        # index tempts SQLite's planner away from the selective ones.
        indexed=["fecha", "tramite_id", "mesa_id", "clave_cola", "primer_llamado_at"],
        read_roles={ROLE_OPERADOR, ROLE_ADMIN},
        # The app runs every transition for its users (after its own checks);
        # through the generic records API only an admin may.
        write_roles={ROLE_ADMIN},
    )


MESA_LEASE_S = 90.0
"""Seconds a mesa stays with its operator without a renewal (the operator page
renews every 30 s; a closed tab frees it at once through the leave hook)."""


def _config_kind(
    name: str,
    fields: dict[str, Field],
    indexed: tuple[str, ...] = (),
    lease: LeasePolicy | None = None,
) -> Kind:
    return Kind(
        name,
        fields=fields,
        channels=[CH_CONFIG],
        live={"": CH_CONFIG},
        indexed=indexed,
        write_roles={ROLE_ADMIN},
        lease=lease,
    )


def config_kinds() -> list[Kind]:
    """Areas, trámites and mesas: configuration, announced on ``turnos:config``."""
    area = _config_kind(
        "area", {"nombre": Field(str, required=True), "orden": Field(int, default=0)}
    )
    tramite = _config_kind(
        "tramite",
        {
            "nombre": Field(str, required=True),
            "prefijo": Field(str, required=True),
            "area_id": Field(str, required=True),
            "orden": Field(int, default=0),
            "activo": Field(bool, default=True),
        },
        ("area_id",),
    )
    mesa = _config_kind(
        "mesa",
        {
            "nombre": Field(str, required=True),
            "area_id": Field(str, required=True),
            "tramites": Field(list, default=[]),
            "orden": Field(int, default=0),
            "activa": Field(bool, default=True),
            # A break: the mesa calls nobody until it resumes (public: the
            # monitor and the admin show it).
            "pausa": Field(bool, default=False),
            "pausa_desde": Field(int),
            "pausa_motivo": Field(str),
            # Who took the mesa last, by name (the token's ``name`` claim), for
            # staff screens; private: never on the public turnos:config channel.
            "operador_id": Field(str, public=False),
            "operador_nombre": Field(str, public=False),
        },
        ("area_id",),
        # One operator per mesa: whoever opens it (or calls the next turno)
        # holds it; the turnero takes it on the operator's behalf.
        LeasePolicy(ttl=MESA_LEASE_S, locked_event="mesa_abierta", unlocked_event="mesa_cerrada"),
    )
    return [area, tramite, mesa]


def build_kinds(options: TurnosOptions) -> list[Kind]:
    return [*config_kinds(), turno_kind(options.no_show_seconds)]
