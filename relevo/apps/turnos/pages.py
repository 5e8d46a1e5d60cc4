"""The four screens and their assets: ``/turnos/kiosco``, ``/turnos/operador``,
``/turnos/monitor``, ``/turnos/admin`` (and ``/turnos/``, a page linking
them), plus ``/turnos/static/…`` for the app's CSS and ES modules. Plain
HTML + ES modules, no build step; they import ``/relevo.js`` and the UI kit.
"""

from __future__ import annotations

from importlib import resources

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

__all__ = ["PAGES", "page_routes"]

STATIC = resources.files("relevo.apps.turnos") / "static"
PAGES = {"": "index.html", "kiosco": "kiosco.html", "operador": "operador.html",
         "monitor": "monitor.html", "admin": "admin.html"}  # fmt: skip


def _page(filename: str) -> Route:
    path = str(STATIC / filename)

    async def page(request: Request) -> Response:
        return FileResponse(path, media_type="text/html", headers={"Cache-Control": "no-cache"})

    return Route(f"/turnos/{filename.removesuffix('.html')}", page)


def page_routes() -> list[BaseRoute]:
    async def to_index(request: Request) -> Response:
        return RedirectResponse("/turnos/")

    index = str(STATIC / "index.html")

    async def home(request: Request) -> Response:
        return FileResponse(index, media_type="text/html", headers={"Cache-Control": "no-cache"})

    routes: list[BaseRoute] = [Route("/turnos", to_index), Route("/turnos/", home)]
    routes += [_page(name) for key, name in PAGES.items() if key]
    routes.append(Mount("/turnos/static", StaticFiles(directory=str(STATIC)), name="turnos"))
    return routes
