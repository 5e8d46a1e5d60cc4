"""The turnero over HTTP: the screens (``/turnos/kiosco``, ``/operador``,
``/monitor``, ``/admin``, and ``/turnos/`` linking them), the API under
``/api/turnos`` and the demo login.

Callers: a JWT (``Authorization: Bearer``) whose roles include ``operador``
or ``admin``; the API key (a backend, acting with both roles); nobody, for
the public parts (kiosk, monitor, configuration). Errors are relevo's
``{"code", "message", "retry"}`` plus ``mensaje``, the Spanish sentence the
screens show. ``docs/apps/turnos.md`` lists every route with its payloads.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from relevo.protocol.errors import AuthError
from relevo.records import SYSTEM, Actor, Records
from relevo.settings import Settings
from relevo.web import json_response

from ..kit.csvfile import csv_response
from ..kit.demo import DemoUser, demo_login_routes
from ..kit.errors import bad_request, forbidden, rate_limited
from ..kit.http import Endpoint, optional_actor, public, read_json
from ..kit.pages import page_routes
from ..kit.ratelimit import RateLimiter
from .config import apply_config, read_config
from .demo import DEMO_USERS
from .estimate import estimacion, estimar
from .kinds import ROLE_ADMIN, ROLE_OPERADOR
from .reports import parse_range, report, report_csv
from .service import Turnero
from .stats import compute_stats
from .views import turno_completo

__all__ = ["DEMO_USERS", "STATIC", "TurnosHttp"]

STATIC = resources.files("relevo.apps.turnos") / "static"
PAGES = {"": "index.html", "kiosco": "kiosco.html", "operador": "operador.html",
         "monitor": "monitor.html", "admin": "admin.html",
         "configuracion": "configuracion.html", "reportes": "reportes.html"}  # fmt: skip
ADMIN = frozenset({ROLE_ADMIN})
MAX_BODY = 16_384
STAFF = frozenset({ROLE_OPERADOR, ROLE_ADMIN})


@dataclass(frozen=True)
class Caller:
    actor: Actor
    roles: frozenset[str]


def caller_of(request: Request, records: Records) -> Caller | None:
    """The token's user (privileged: the app checks their roles itself), or
    the backend — the API key's ``SYSTEM``, a principal no token can name."""
    actor = optional_actor(request, records)
    if actor is None:
        return None
    if actor.is_system:
        return Caller(SYSTEM, STAFF)
    # Trusted, named by its user; the claims travel along (the operator's name).
    return Caller(Actor(actor.user, claims=actor.claims, privileged=True), actor.roles)


def require(request: Request, records: Records, roles: frozenset[str]) -> Caller:
    caller = caller_of(request, records)
    if caller is None:
        raise AuthError("send Authorization: Bearer <JWT> (or the API key)")
    if not caller.roles & roles:
        raise forbidden(
            f"user {caller.actor.user} needs one of the roles {sorted(roles)}",
            "Su usuario no tiene permiso para esta pantalla.",
        )
    return caller


def _str(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise bad_request(f"{name} must be a string", f"El campo {name} debe ser texto.")
    return value


class TurnosHttp:
    def __init__(self, turnero: Turnero, settings: Settings) -> None:
        self.t = turnero
        self.records = turnero.records
        self.kind = turnero.records.kind("turno")
        self.settings = settings
        opts = turnero.options
        self.kiosk_limit = RateLimiter(opts.kiosk_rate, opts.kiosk_burst, clock=self.records.clock)

    def full(self, rec: Any) -> dict[str, Any]:
        return turno_completo(self.kind, rec)

    # -- public -------------------------------------------------------------------

    async def get_config(self, request: Request) -> Response:
        opts = self.t.options
        body = await read_config(self.t.records)
        return json_response(
            {
                **body,
                "hoy": self.t.hoy(),
                "no_show_seconds": opts.no_show_seconds,
                "monitor_last": opts.monitor_last,
                "kiosk_role": opts.kiosk_role,
                "token_url": opts.token_url,
                "demo": self.settings.demo,
            }
        )

    async def monitor(self, request: Request) -> Response:
        return json_response(await self.t.monitor())

    async def emitir(self, request: Request) -> Response:
        caller = caller_of(request, self.records)
        role = self.t.options.kiosk_role
        if role and (caller is None or not caller.roles & {role, ROLE_ADMIN}):
            raise forbidden(
                "issuing tickets needs the role " + role,
                "Este kiosco no está autorizado para emitir turnos.",
            )
        if caller is None or not caller.actor.is_system:
            key = request.client.host if request.client else "?"
            wait = self.kiosk_limit.take(key)
            if wait > 0:
                raise rate_limited(
                    f"too many tickets from {key}; retry in {wait:.1f} s",
                    "Demasiados turnos seguidos. Espere unos segundos e intente de nuevo.",
                    wait,
                )
        body = await read_json(request, MAX_BODY)
        tramite = _str(body, "tramite_id")
        if not tramite:
            raise bad_request("tramite_id is required", "Elija un trámite.")
        prioridad = body.get("prioridad", 0)
        if isinstance(prioridad, bool) or not isinstance(prioridad, int):
            raise bad_request("prioridad is 0 or 1", "La prioridad debe ser 0 o 1.")
        rec, ahead = await self.t.emitir(
            tramite,
            by=caller.actor if caller else Actor.trusted("kiosco"),
            prioridad=prioridad,
            prioridad_motivo=_str(body, "prioridad_motivo"),
            persona_nombre=_str(body, "persona_nombre"),
        )
        est = await estimacion(self.records, str(rec["fecha"]))
        return json_response(
            {
                "turno": self.kind.public(rec),
                "adelante": ahead,
                "espera_estimada_s": estimar(est.get(str(rec["area_id"])), ahead),
            },
            201,
        )

    # -- operators ----------------------------------------------------------------

    async def siguiente(self, request: Request) -> Response:
        caller = require(request, self.records, STAFF)
        rec = await self.t.llamar_siguiente(request.path_params["mesa"], by=caller.actor)
        return json_response({"turno": None if rec is None else self.full(rec)})

    async def abrir(self, request: Request) -> Response:
        caller = require(request, self.records, STAFF)
        lease = await self.t.abrir_mesa(request.path_params["mesa"], by=caller.actor)
        return json_response({"lease": None if lease is None else lease.as_dict()})

    async def cerrar(self, request: Request) -> Response:
        caller = require(request, self.records, STAFF)
        await self.t.cerrar_mesa(request.path_params["mesa"], by=caller.actor)
        return json_response({})

    async def actual(self, request: Request) -> Response:
        require(request, self.records, STAFF)
        rec = await self.t.actual(request.path_params["mesa"])
        return json_response({"turno": None if rec is None else self.full(rec)})

    async def accion(self, request: Request) -> Response:
        caller = require(request, self.records, STAFF)
        body = await read_json(request, MAX_BODY)
        rec = await self.t.accion(
            request.path_params["id"],
            request.path_params["accion"],
            by=caller.actor,
            mesa_id=_str(body, "mesa_id"),
            motivo=_str(body, "motivo"),
        )
        return json_response({"turno": self.full(rec)})

    async def pausa(self, request: Request) -> Response:
        caller = require(request, self.records, STAFF)
        body = await read_json(request, MAX_BODY)
        mesa = await self.t.pausar(
            request.path_params["mesa"], by=caller.actor, motivo=_str(body, "motivo")
        )
        return json_response({"mesa": self.records.kind("mesa").public(mesa)})

    async def reanudar(self, request: Request) -> Response:
        caller = require(request, self.records, STAFF)
        mesa = await self.t.reanudar(request.path_params["mesa"], by=caller.actor)
        return json_response({"mesa": self.records.kind("mesa").public(mesa)})

    async def transferir(self, request: Request) -> Response:
        caller = require(request, self.records, STAFF)
        body = await read_json(request, MAX_BODY)
        rec = await self.t.transferir(
            request.path_params["id"],
            by=caller.actor,
            mesa_id=_str(body, "mesa_id"),
            tramite_id=_str(body, "tramite_id"),
        )
        return json_response({"turno": self.full(rec)})

    async def get_turno(self, request: Request) -> Response:
        require(request, self.records, STAFF)
        return json_response({"turno": self.full(await self.t.turno(request.path_params["id"]))})

    async def patch_turno(self, request: Request) -> Response:
        caller = require(request, self.records, STAFF)
        body = await read_json(request, MAX_BODY)
        rec = await self.t.actualizar(request.path_params["id"], body, by=caller.actor)
        return json_response({"turno": self.full(rec)})

    # -- admins -------------------------------------------------------------------

    async def stats(self, request: Request) -> Response:
        require(request, self.records, frozenset({ROLE_ADMIN}))
        stats = await compute_stats(self.t.records, self.t.options)
        return json_response({"stats": stats, "timestamp": int(self.t.records.clock.now() * 1000)})

    async def _report(self, request: Request) -> dict[str, Any]:
        require(request, self.records, ADMIN)
        q = request.query_params
        desde, hasta = parse_range(q.get("desde"), q.get("hasta"), self.t.hoy())
        return await report(self.records, desde, hasta)

    async def reportes(self, request: Request) -> Response:
        return json_response(await self._report(request))

    async def reportes_csv(self, request: Request) -> Response:
        rep = await self._report(request)
        name = f"turnos-{rep['desde']}-{rep['hasta']}.csv"
        return csv_response(report_csv(rep), name)

    async def post_config(self, request: Request) -> Response:
        caller = require(request, self.records, frozenset({ROLE_ADMIN}))
        await apply_config(self.t.records, await read_json(request, MAX_BODY), by=caller.actor)
        return await self.get_config(request)

    # -- routes -----------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        base = "/api/turnos"

        def route(path: str, handler: Endpoint, method: str = "GET") -> Route:
            return Route(base + path, public(handler), methods=[method])

        async def demo_users() -> tuple[DemoUser, ...]:
            return DEMO_USERS

        return [
            *page_routes("turnos", STATIC, PAGES, home="/turnos/"),
            route("/config", self.get_config),
            route("/config", self.post_config, "POST"),
            route("/monitor", self.monitor),
            route("/turnos", self.emitir, "POST"),
            route("/turnos/{id}", self.get_turno),
            route("/turnos/{id}", self.patch_turno, "PATCH"),
            route("/turnos/{id}/transferir", self.transferir, "POST"),
            route("/turnos/{id}/{accion}", self.accion, "POST"),
            route("/mesas/{mesa}/abrir", self.abrir, "POST"),
            route("/mesas/{mesa}/cerrar", self.cerrar, "POST"),
            route("/mesas/{mesa}/siguiente", self.siguiente, "POST"),
            route("/mesas/{mesa}/actual", self.actual),
            route("/mesas/{mesa}/pausa", self.pausa, "POST"),
            route("/mesas/{mesa}/reanudar", self.reanudar, "POST"),
            route("/stats", self.stats),
            route("/reportes", self.reportes),
            route("/reportes.csv", self.reportes_csv),
            *demo_login_routes("turnos", self.settings, demo_users),
        ]
