"""The leads app over HTTP: its pages, their assets, and ``/api/leads/...``.

Reads need no endpoint of their own: the pages use the records API's live
queries (``GET /api/records/lead`` for the GTR, ``?asesor_id=<me>`` for an
asesor) and ``/api/records/lead/{id}/history``. The endpoints here are the
actions, each a :class:`~relevo.apps.leads.service.LeadsService` call.

Auth is the records API's: ``Authorization: Bearer <JWT>`` (a user) or the
API key (a backend acting as ``system``). Errors are ``{"code", "message",
"retry", ...}`` with the stable codes.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from relevo.protocol.errors import PermissionDenied
from relevo.records import Actor, Records
from relevo.web import json_response, read_body

from ..kit.errors import bad_request
from ..kit.http import Handler, endpoint, public, read_json
from ..kit.pages import page_routes
from .csv_import import MAX_BYTES, CsvProblem, parse_leads_csv
from .editing import edit_lead, schedule_callback
from .export import BoardFilter, board_csv
from .kinds import LEAD
from .options import LeadsOptions
from .service import LeadsService

__all__ = ["STATIC", "LeadsHttp"]

STATIC = resources.files("relevo.apps.leads") / "static"
PAGES = {"gtr": "gtr.html", "asesor": "asesor.html", "historial": "historial.html"}
MAX_COMPLETED = 200


def _token(body: dict[str, Any]) -> int:
    token = body.get("fencing_token")
    if isinstance(token, bool) or not isinstance(token, int):
        raise bad_request("fencing_token (an integer) is required", field="fencing_token")
    return token


def _data(body: dict[str, Any]) -> dict[str, Any]:
    data = body.get("data") or {}
    if not isinstance(data, dict):
        raise bad_request("data must be an object", field="data")
    return data


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() in ("1", "true", "yes")


class LeadsHttp:
    def __init__(
        self, records: Records, service: LeadsService, options: LeadsOptions, *, demo: bool
    ) -> None:
        self.records = records
        self.service = service
        self.options = options
        self.demo = demo

    def _public(self, lead: Any) -> dict[str, Any]:
        return self.records.kind(LEAD).public(lead)

    async def config(self, request: Request) -> Response:
        """What the pages need to know: timeouts, the wizard's choices, demo mode."""
        o = self.options

        def pairs(m: Any) -> list[dict[str, str]]:
            return [{"code": k, "label": v} for k, v in m.items()]

        return json_response(
            {
                "timeout": o.timeout,
                "lease_ttl": o.lease_ttl,
                "heartbeat": o.heartbeat_every,
                "max_leads": o.max_leads,
                "tipificaciones": pairs(o.tipificaciones),
                "resultados": pairs(o.resultados),
                "proximas_acciones": pairs(o.proximas_acciones),
                "demo": self.demo,
                "token_url": o.token_url,
            },
        )

    # -- the directory ----------------------------------------------------------------

    async def me(self, request: Request, actor: Actor) -> Response:
        users = {u.id: u for u in await self.service.users()}
        user = users.get(actor.user)
        name = str(user.get("nombre")) if user else str(actor.claims.get("name") or actor.user)
        return json_response({"id": actor.user, "nombre": name, "roles": sorted(actor.roles)})

    async def users(self, request: Request, actor: Actor) -> Response:
        """The directory (names for ids); asesores see only names and roles."""
        if not actor.privileged and not actor.roles & {"gtr", "admin", "asesor"}:
            raise PermissionDenied(f"user {actor.user} has no leads role (gtr, asesor, admin)")
        rows = [
            {"id": u.id, "nombre": u.get("nombre"), "rol": u.get("rol"), "activo": u.get("activo")}
            for u in await self.service.users()
        ]
        return json_response({"users": rows})

    # -- GTR ------------------------------------------------------------------------

    async def create(self, request: Request, actor: Actor) -> Response:
        rec = await self.service.create(actor, _data(await read_json(request)))
        return json_response(self._public(rec), 201)

    async def assign(self, request: Request, actor: Actor) -> Response:
        body = await read_json(request)
        rec = await self.service.assign(
            actor, request.path_params["id"], body.get("asesor_id"), force=bool(body.get("force"))
        )
        return json_response(self._public(rec))

    async def import_csv(self, request: Request, actor: Actor) -> Response:
        """The CSV is the request body (``text/csv``); ``?dry_run=1`` checks
        without writing, ``?strict=1`` writes nothing if any row is bad."""
        self.service.require_gtr(actor)
        raw = await read_body(request, MAX_BYTES)
        try:
            parsed = parse_leads_csv(raw)
        except CsvProblem as exc:
            raise bad_request(exc.message, reason=exc.code) from None
        result = await self.service.import_csv(
            actor, parsed, dry_run=_flag(request, "dry_run"), strict=_flag(request, "strict")
        )
        return json_response(result.as_dict())

    async def assign_many(self, request: Request, actor: Actor) -> Response:
        """Bulk assign: ``{"ids": [...], "asesor_id"}`` → a result per lead."""
        self.service.require_gtr(actor)
        body = await read_json(request)
        results = await self.service.assign_many(actor, body.get("ids"), body.get("asesor_id"))
        done = sum(1 for r in results if r["ok"])
        return json_response({"assigned": done, "failed": len(results) - done, "results": results})

    async def export(self, request: Request, actor: Actor) -> Response:
        """The board as filtered, as ``text/csv`` (a download)."""
        self.service.require_gtr(actor)
        flt = BoardFilter.parse(request.query_params)
        rows = await self.records.find(LEAD, {}, limit=self.options.max_leads, order_by=["-seq"])
        names = {u.id: str(u.get("nombre")) for u in await self.service.users()}
        shown = flt.ordered(rows, self.options.timeout)
        text = board_csv(shown, names, self.options.tipificaciones)
        return Response(
            text.encode("utf-8-sig"),  # the BOM: spreadsheets read it as UTF-8
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": 'attachment; filename="leads.csv"',
                "Cache-Control": "no-store",
            },
        )

    async def edit(self, request: Request, actor: Actor) -> Response:
        """Edit nombre, telefono, notas: the GTR any lead, an asesor their own."""
        if not actor.roles & {"gtr", "admin", "asesor"} and not actor.privileged:
            raise PermissionDenied(f"user {actor.user} has no leads role")
        rec = await edit_lead(self.service, actor, request.path_params["id"],
                              _data(await read_json(request)))  # fmt: skip
        return json_response({"record": self._public(rec)})

    # -- asesor -----------------------------------------------------------------------

    async def schedule(self, request: Request, actor: Actor) -> Response:
        self.service.require_asesor(actor)  # who, before what: a stranger's body is not read
        body = await read_json(request)
        rec = await schedule_callback(
            self.service, actor, request.path_params["id"], _token(body), _data(body)
        )
        return json_response({"record": self._public(rec)})

    async def completed(self, request: Request, actor: Actor) -> Response:
        """The asesor's own completed leads, newest first (``?limit=``, ≤ 200)."""
        self.service.require_asesor(actor)
        raw = request.query_params.get("limit", "") or str(MAX_COMPLETED)
        if not raw.isdigit() or not 0 < int(raw) <= MAX_COMPLETED:
            raise bad_request(f"limit is 1 to {MAX_COMPLETED}", field="limit")
        rows = await self.service.completed(actor, int(raw))
        return json_response({"leads": [self._public(r) for r in rows]})

    async def open(self, request: Request, actor: Actor) -> Response:
        self.service.require_asesor(actor)  # who, before what: a stranger's body is not read
        body = await read_json(request)
        rec, lease = await self.service.open(actor, request.path_params["id"], body.get("tab"))
        return json_response({"record": self._public(rec), "lease": lease.as_dict()})

    async def heartbeat(self, request: Request, actor: Actor) -> Response:
        self.service.require_asesor(actor)  # who, before what: a stranger's body is not read
        body = await read_json(request)
        rec, lease = await self.service.heartbeat(actor, request.path_params["id"], _token(body))
        return json_response({"record": self._public(rec), "lease": lease.as_dict()})

    async def step(self, request: Request, actor: Actor) -> Response:
        self.service.require_asesor(actor)  # who, before what: a stranger's body is not read
        body = await read_json(request)
        rec = await self.service.step(actor, request.path_params["id"], _token(body), _data(body))
        return json_response({"record": self._public(rec)})

    async def complete(self, request: Request, actor: Actor) -> Response:
        self.service.require_asesor(actor)  # who, before what: a stranger's body is not read
        body = await read_json(request)
        rec = await self.service.complete(
            actor, request.path_params["id"], _token(body), _data(body)
        )
        return json_response({"record": self._public(rec)})

    async def close(self, request: Request, actor: Actor) -> Response:
        self.service.require_asesor(actor)  # who, before what: a stranger's body is not read
        body = await read_json(request)
        rec = await self.service.close(actor, request.path_params["id"], _token(body))
        return json_response({"record": self._public(rec)})

    # -- routes -------------------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        def ep(handler: Handler) -> Any:
            return endpoint(self.records, handler)

        one = "/api/leads/{id}"
        return [
            *page_routes("leads", STATIC, PAGES, home="/leads/login"),
            Route("/api/leads/config", public(self.config)),
            Route("/api/leads/me", ep(self.me)),
            Route("/api/leads/users", ep(self.users)),
            Route("/api/leads/create", ep(self.create), methods=["POST"]),
            Route("/api/leads/import", ep(self.import_csv), methods=["POST"]),
            Route("/api/leads/assign", ep(self.assign_many), methods=["POST"]),
            Route("/api/leads/export", ep(self.export)),
            Route("/api/leads/mine/completed", ep(self.completed)),
            Route(one + "/assign", ep(self.assign), methods=["POST"]),
            Route(one + "/edit", ep(self.edit), methods=["POST"]),
            Route(one + "/schedule", ep(self.schedule), methods=["POST"]),
            Route(one + "/open", ep(self.open), methods=["POST"]),
            Route(one + "/heartbeat", ep(self.heartbeat), methods=["POST"]),
            Route(one + "/step", ep(self.step), methods=["POST"]),
            Route(one + "/complete", ep(self.complete), methods=["POST"]),
            Route(one + "/close", ep(self.close), methods=["POST"]),
        ]
