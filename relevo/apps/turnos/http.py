"""The turnero's HTTP API, under ``/api/turnos``.

Callers: a JWT (``Authorization: Bearer``) whose roles include ``operador``
or ``admin``; the API key (a backend, acting with both roles); nobody, for
the public parts (kiosk, monitor, configuration). Errors are relevo's
``{"code", "message", "retry"}`` plus ``mensaje``, the Spanish sentence the
screens show. ``docs/apps/turnos.md`` lists every route with its payloads.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from relevo.hub.hub import Hub
from relevo.protocol.errors import AuthError, ProtocolError, RelevoError
from relevo.records import SYSTEM, Actor
from relevo.web import error_response, json_response, read_json, require_api_key

from .config import apply_config, read_config
from .errors import Invalido, Limitado, SinPermiso
from .kinds import ROLE_ADMIN, ROLE_OPERADOR
from .ratelimit import RateLimiter
from .service import Turnero
from .stats import compute_stats
from .views import turno_completo

__all__ = ["api_routes"]

MAX_BODY = 16_384
STAFF = frozenset({ROLE_OPERADOR, ROLE_ADMIN})
_decode = msgspec.json.Decoder(dict[str, Any])


@dataclass(frozen=True)
class Caller:
    actor: Actor
    roles: frozenset[str]


def caller_of(request: Request, hub: Hub) -> Caller | None:
    """The token's user (privileged: the app checks their roles itself), or
    the backend — the API key's ``SYSTEM``, a principal no token can name."""
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        identity = hub.verifier.verify(auth[7:].strip())
        return Caller(Actor.trusted(identity.user), identity.roles)
    if auth[:7].lower() == "apikey " or request.headers.get("x-api-key"):
        require_api_key(request)
        return Caller(SYSTEM, STAFF)
    return None


def require(request: Request, hub: Hub, roles: frozenset[str]) -> Caller:
    caller = caller_of(request, hub)
    if caller is None:
        raise AuthError("send Authorization: Bearer <JWT> (or the API key)")
    if not caller.roles & roles:
        raise SinPermiso(
            f"user {caller.actor.user} needs one of the roles {sorted(roles)}",
            "Su usuario no tiene permiso para esta pantalla.",
        )
    return caller


async def body_of(request: Request) -> dict[str, Any]:
    try:
        return await read_json(request, MAX_BODY)
    except ProtocolError as exc:
        raise Invalido(exc.message, "Solicitud mal formada.") from None


def _str(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise Invalido(f"{name} must be a string", f"El campo {name} debe ser texto.")
    return value


class TurnosApi:
    def __init__(self, turnero: Turnero, *, demo: bool) -> None:
        self.t = turnero
        self.kind = turnero.records.kind("turno")
        self.demo = demo
        opts = turnero.options
        self.kiosk_limit = RateLimiter(opts.kiosk_rate, opts.kiosk_burst)

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
                "demo": self.demo,
            }
        )

    async def monitor(self, request: Request) -> Response:
        return json_response(await self.t.monitor())

    async def emitir(self, request: Request) -> Response:
        caller = caller_of(request, self.t.hub)
        role = self.t.options.kiosk_role
        if role and (caller is None or not caller.roles & {role, ROLE_ADMIN}):
            raise SinPermiso(
                "issuing tickets needs the role " + role,
                "Este kiosco no está autorizado para emitir turnos.",
            )
        if caller is None or not caller.actor.is_system:
            key = request.client.host if request.client else "?"
            wait = self.kiosk_limit.take(key)
            if wait > 0:
                raise Limitado(
                    f"too many tickets from {key}; retry in {wait:.1f} s",
                    "Demasiados turnos seguidos. Espere unos segundos e intente de nuevo.",
                    wait,
                )
        body = await body_of(request)
        tramite = _str(body, "tramite_id")
        if not tramite:
            raise Invalido("tramite_id is required", "Elija un trámite.")
        prioridad = body.get("prioridad", 0)
        if isinstance(prioridad, bool) or not isinstance(prioridad, int):
            raise Invalido("prioridad is 0 or 1", "La prioridad debe ser 0 o 1.")
        rec, ahead = await self.t.emitir(
            tramite,
            by=caller.actor if caller else Actor.trusted("kiosco"),
            prioridad=prioridad,
            prioridad_motivo=_str(body, "prioridad_motivo"),
            persona_nombre=_str(body, "persona_nombre"),
        )
        return json_response({"turno": self.kind.public(rec), "adelante": ahead}, 201)

    # -- operators ----------------------------------------------------------------

    async def siguiente(self, request: Request) -> Response:
        caller = require(request, self.t.hub, STAFF)
        rec = await self.t.llamar_siguiente(request.path_params["mesa"], by=caller.actor)
        return json_response({"turno": None if rec is None else self.full(rec)})

    async def abrir(self, request: Request) -> Response:
        caller = require(request, self.t.hub, STAFF)
        lease = await self.t.abrir_mesa(request.path_params["mesa"], by=caller.actor)
        return json_response({"lease": None if lease is None else lease.as_dict()})

    async def cerrar(self, request: Request) -> Response:
        caller = require(request, self.t.hub, STAFF)
        await self.t.cerrar_mesa(request.path_params["mesa"], by=caller.actor)
        return json_response({})

    async def actual(self, request: Request) -> Response:
        require(request, self.t.hub, STAFF)
        rec = await self.t.actual(request.path_params["mesa"])
        return json_response({"turno": None if rec is None else self.full(rec)})

    async def accion(self, request: Request) -> Response:
        caller = require(request, self.t.hub, STAFF)
        body = await body_of(request)
        rec = await self.t.accion(
            request.path_params["id"],
            request.path_params["accion"],
            by=caller.actor,
            mesa_id=_str(body, "mesa_id"),
            motivo=_str(body, "motivo"),
        )
        return json_response({"turno": self.full(rec)})

    async def get_turno(self, request: Request) -> Response:
        require(request, self.t.hub, STAFF)
        return json_response({"turno": self.full(await self.t.turno(request.path_params["id"]))})

    async def patch_turno(self, request: Request) -> Response:
        caller = require(request, self.t.hub, STAFF)
        body = await body_of(request)
        rec = await self.t.actualizar(request.path_params["id"], body, by=caller.actor)
        return json_response({"turno": self.full(rec)})

    # -- admins -------------------------------------------------------------------

    async def stats(self, request: Request) -> Response:
        require(request, self.t.hub, frozenset({ROLE_ADMIN}))
        stats = await compute_stats(self.t.records, self.t.options)
        return json_response({"stats": stats, "timestamp": int(self.t.records.clock.now() * 1000)})

    async def post_config(self, request: Request) -> Response:
        caller = require(request, self.t.hub, frozenset({ROLE_ADMIN}))
        await apply_config(self.t.records, await body_of(request), by=caller.actor)
        return await self.get_config(request)


Handler = Callable[[Request], Awaitable[Response]]


def _guard(handler: Handler) -> Handler:
    async def endpoint(request: Request) -> Response:
        try:
            response = await handler(request)
        except Limitado as exc:
            response = error_response(exc)
            response.headers["Retry-After"] = str(max(1, round(exc.retry_after)))
        except RelevoError as exc:
            response = error_response(exc)
        response.headers["Cache-Control"] = "no-store"
        return response

    endpoint.__name__ = getattr(handler, "__name__", "endpoint")
    return endpoint


def api_routes(api: TurnosApi) -> list[Route]:
    base = "/api/turnos"

    def route(path: str, handler: Handler, method: str = "GET") -> Route:
        return Route(base + path, _guard(handler), methods=[method])

    return [
        route("/config", api.get_config),
        route("/config", api.post_config, "POST"),
        route("/monitor", api.monitor),
        route("/turnos", api.emitir, "POST"),
        route("/turnos/{id}", api.get_turno),
        route("/turnos/{id}", api.patch_turno, "PATCH"),
        route("/turnos/{id}/{accion}", api.accion, "POST"),
        route("/mesas/{mesa}/abrir", api.abrir, "POST"),
        route("/mesas/{mesa}/cerrar", api.cerrar, "POST"),
        route("/mesas/{mesa}/siguiente", api.siguiente, "POST"),
        route("/mesas/{mesa}/actual", api.actual),
        route("/stats", api.stats),
    ]
