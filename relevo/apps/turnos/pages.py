"""The four screens and their assets: ``/turnos/kiosco``, ``/turnos/operador``,
``/turnos/monitor``, ``/turnos/admin`` (and ``/turnos/``, a page linking
them), plus ``/turnos/static/…`` for the app's CSS and ES modules. Plain
HTML + ES modules, no build step; they import ``/relevo.js`` and the UI kit.
"""

from __future__ import annotations

from importlib import resources
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

__all__ = ["PAGES", "page_routes"]

STATIC = resources.files("relevo.apps.turnos") / "static"
PAGES = {"": "index.html", "kiosco": "kiosco.html", "operador": "operador.html",
         "monitor": "monitor.html", "admin": "admin.html"}  # fmt: skip


def _without_token(request: Request) -> Response | None:
    """A page asked for with ``?token=`` (an old link): sent on without it.
    Tokens go in the fragment (``#token=``), which browsers never send; one in
    the query is already in the access log, and the page's own requests would
    repeat it in their Referer. The page then asks for a token as usual."""
    if "token" not in request.query_params:
        return None
    query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "token"])
    target = request.url.path + (f"?{query}" if query else "")
    return RedirectResponse(
        target, 303, headers={"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
    )


def _page(filename: str) -> Route:
    path = str(STATIC / filename)

    async def page(request: Request) -> Response:
        moved = _without_token(request)
        if moved is not None:
            return moved
        return FileResponse(path, media_type="text/html", headers={"Cache-Control": "no-cache"})

    return Route(f"/turnos/{filename.removesuffix('.html')}", page)


def page_routes() -> list[BaseRoute]:
    async def to_index(request: Request) -> Response:
        return RedirectResponse("/turnos/")

    index = str(STATIC / "index.html")

    async def home(request: Request) -> Response:
        moved = _without_token(request)
        if moved is not None:
            return moved
        return FileResponse(index, media_type="text/html", headers={"Cache-Control": "no-cache"})

    routes: list[BaseRoute] = [Route("/turnos", to_index), Route("/turnos/", home)]
    routes += [_page(name) for key, name in PAGES.items() if key]
    routes.append(Mount("/turnos/static", StaticFiles(directory=str(STATIC)), name="turnos"))
    return routes
