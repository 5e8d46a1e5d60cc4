"""The cargue app over HTTP: pages, assets, and ``/api/cargue/...``.

Reads need no endpoint of their own: the pages use live queries of the
records API — ``GET /api/records/cargue_item?vendedor_id=<me>&fecha=<hoy>``
for a vendor (channel ``cargue:<me>``), ``?fecha=<hoy>`` for the dispatcher
(``despacho:cargue``). The endpoints here are the actions.

Auth: ``Authorization: Bearer <JWT>`` (a vendedor, despachador or admin) or
the API key (a backend, acting as ``system``). Errors: ``{"code",
"message", "retry", "mensaje", ...}``.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from relevo.protocol.errors import NotFound
from relevo.records import Actor, Records
from relevo.settings import Settings
from relevo.web import json_response

from ..kit.csvfile import csv_response, csv_text
from ..kit.demo import DemoUser, demo_login_routes
from ..kit.errors import forbidden
from ..kit.http import endpoint, public, read_json, valid_id
from ..kit.pages import LOGIN, page_routes
from .cierre import may_reopen
from .export import COLUMNS, sheet_rows
from .kinds import CIERRE, ITEM, ROLE_VENDEDOR, USER
from .plantilla import Plantillas
from .service import CargueService, is_staff, may_check, parse_fecha

__all__ = ["STATIC", "CargueHttp"]

STATIC = resources.files("relevo.apps.cargue") / "static"
PAGES: dict[str, str | Traversable] = {
    "": LOGIN,
    "vendedor": "vendedor.html",
    "despacho": "despacho.html",
    "plantillas": "plantillas.html",
}


class CargueHttp:
    def __init__(self, service: CargueService, settings: Settings) -> None:
        self.service = service
        self.records: Records = service.records
        self.plantillas = Plantillas(service)
        self.settings = settings

    def _public(self, rec: Any) -> dict[str, Any]:
        return self.records.kind(ITEM).public(rec)

    async def config(self, request: Request) -> Response:
        """What the pages need: today's date and day, demo mode, the token URL."""
        fecha, dia = self.service.today()
        return json_response(
            {
                "fecha": fecha,
                "dia": dia,
                "demo": self.settings.demo,
                "token_url": self.service.options.token_url,
            }
        )

    async def me(self, request: Request, actor: Actor) -> Response:
        """The caller as the directory knows them (name, route)."""
        info: dict[str, Any] = {"id": actor.user, "roles": sorted(actor.roles)}
        info["nombre"] = str(actor.claims.get("name") or actor.user)
        try:
            user = await self.records.get(USER, actor.user)
        except NotFound:  # not in the directory: the token's name will do
            user = None
        if user is not None:
            info.update(nombre=user.get("nombre"), ruta=user.get("ruta"))
        return json_response(info)

    async def check(self, request: Request, actor: Actor) -> Response:
        """``{"check": "v"|"d", "value": true|false}`` → the row (idempotent)."""
        may_check(actor)
        body = await read_json(request)
        rec = await self.service.set_check(
            actor, request.path_params["id"], body.get("check"), body.get("value")
        )
        return json_response(self._public(rec))

    async def plantilla(self, request: Request, actor: Actor) -> Response:
        """``{"vendedor_id", "fecha"?, "rows": [{"producto", "cantidad", ...}]}``."""
        self._staff(actor)
        body = await read_json(request, 1_048_576)
        recs = await self.plantillas.load(
            actor, body.get("vendedor_id"), body.get("rows"), body.get("fecha")
        )
        return json_response({"rows": [self._public(r) for r in recs]}, 201)

    async def add_item(self, request: Request, actor: Actor) -> Response:
        """One more product on a vendor's day → ``201`` the row."""
        self._staff(actor)
        rec = await self.plantillas.add(actor, await read_json(request))
        return json_response(self._public(rec), 201)

    async def edit_item(self, request: Request, actor: Actor) -> Response:
        """The plan (while pendiente) and the quantities of a row → the row."""
        self._staff(actor)
        body = await read_json(request)
        rec = await self.plantillas.edit(actor, request.path_params["id"], body)
        return json_response(self._public(rec))

    async def remove_item(self, request: Request, actor: Actor) -> Response:
        """Take a product (still pendiente) off its day → ``{"id"}``."""
        self._staff(actor)
        rec = await self.plantillas.remove(actor, request.path_params["id"])
        return json_response({"id": rec.id})

    async def cerrar(self, request: Request, actor: Actor) -> Response:
        """``{"vendedor_id", "fecha"?}`` → the day's closing record, closed."""
        self._staff(actor)
        body = await read_json(request, 4096)
        rec = await self.service.close(actor, body.get("vendedor_id"), body.get("fecha"))
        return json_response(self.records.kind(CIERRE).public(rec))

    async def reabrir(self, request: Request, actor: Actor) -> Response:
        """``{"vendedor_id", "fecha"?, "motivo"}`` (admin) → the record, open again."""
        may_reopen(actor)  # who before what: a malformed body tells a stranger nothing
        body = await read_json(request, 4096)
        rec = await self.service.reopen(
            actor, body.get("vendedor_id"), body.get("fecha"), body.get("motivo")
        )
        return json_response(self.records.kind(CIERRE).public(rec))

    async def hoja_csv(self, request: Request, actor: Actor) -> Response:
        """The day's sheet (``?fecha=``, ``&vendedor_id=``) as CSV."""
        self._staff(actor)
        q = request.query_params
        fecha = parse_fecha(q.get("fecha") or self.service.today()[0])
        vid = valid_id(q["vendedor_id"], "vendedor_id") if q.get("vendedor_id") else None
        rows = await sheet_rows(self.service, fecha, vid)
        name = f"cargue-{fecha}{'-' + vid if vid else ''}.csv"
        return csv_response(csv_text(COLUMNS, rows), name)

    @staticmethod
    def _staff(actor: Actor) -> None:
        # Who before what: a vendor learns nothing of the input rules.
        if not is_staff(actor):
            raise forbidden(f"user {actor.user} is not staff", "Solo el despacho hace esto.")

    async def progreso(self, request: Request, actor: Actor) -> Response:
        """Per-vendor totals of a day (default today): ``{fecha, vendedores: [...]}``."""
        self._staff(actor)
        fecha = request.query_params.get("fecha") or self.service.today()[0]
        rows = await self.service.progress(fecha)
        return json_response({"fecha": fecha, "vendedores": [p.as_dict() for p in rows]})

    async def demo_users(self) -> list[DemoUser]:
        users = await self.records.find(USER, {}, limit=1000)
        order = {"despachador": 0, ROLE_VENDEDOR: 1, "admin": 2}
        listed = sorted(
            (u for u in users if u.get("activo", True)),
            key=lambda u: (order.get(str(u.get("rol")), 9), u.id),
        )
        return [
            DemoUser(
                u.id,
                str(u.get("nombre")),
                (str(u.get("rol")),),
                info={"rol": u.get("rol"), "ruta": u.get("ruta")},
            )
            for u in listed
        ]

    def routes(self) -> list[BaseRoute]:
        def ep(handler: Any) -> Any:
            return endpoint(self.records, handler)

        return [
            *page_routes("cargue", STATIC, PAGES, home="/cargue/"),
            Route("/api/cargue/config", public(self.config)),
            Route("/api/cargue/me", ep(self.me)),
            Route("/api/cargue/items", ep(self.add_item), methods=["POST"]),
            Route("/api/cargue/items/{id}", ep(self.edit_item), methods=["PATCH"]),
            Route("/api/cargue/items/{id}", ep(self.remove_item), methods=["DELETE"]),
            Route("/api/cargue/items/{id}/check", ep(self.check), methods=["POST"]),
            Route("/api/cargue/cierre", ep(self.cerrar), methods=["POST"]),
            Route("/api/cargue/reabrir", ep(self.reabrir), methods=["POST"]),
            Route("/api/cargue/hoja.csv", ep(self.hoja_csv)),
            Route("/api/cargue/plantillas", ep(self.plantilla), methods=["POST"]),
            Route("/api/cargue/progreso", ep(self.progreso)),
            *demo_login_routes("cargue", self.settings, self.demo_users),
        ]
