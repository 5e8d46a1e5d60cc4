"""An app's pages: ``/<app>/<page>`` → an HTML file of its ``static/``
folder, ``/<app>/static/…`` for its CSS and ES modules, and ``/<app>/login``
→ the UI kit's one login page (``/static/ui/login.html``; it reads the app
from its URL). Plain HTML + ES modules, no build step.

A page asked for with ``?token=`` (an old link) is sent on without it.
Tokens go in the fragment (``#token=``), which browsers never send; one in
the query is already in the access log, and the page's own requests would
repeat it in their Referer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from importlib import resources
from importlib.resources.abc import Traversable
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

__all__ = ["LOGIN", "page_routes"]

# The UI kit is the server's package data (served at /static/ui/); only the
# file is taken from there, no server module is imported.
LOGIN = resources.files("relevo.server") / "static" / "ui" / "login.html"
"""The one login page, for ``pages`` entries that show it under another name."""


def _without_token(request: Request) -> Response | None:
    if "token" not in request.query_params:
        return None
    query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "token"])
    target = request.url.path + (f"?{query}" if query else "")
    return RedirectResponse(
        target, 303, headers={"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
    )


def _serve(file: Traversable) -> Callable[[Request], Awaitable[Response]]:
    path = str(file)

    async def page(request: Request) -> Response:
        moved = _without_token(request)
        if moved is not None:
            return moved
        return FileResponse(path, media_type="text/html", headers={"Cache-Control": "no-cache"})

    return page


def page_routes(
    app: str, static: Traversable, pages: Mapping[str, str | Traversable], *, home: str
) -> list[BaseRoute]:
    """``/<app>/<name>`` → ``pages[name]`` (a file name in ``static``, or
    :data:`LOGIN`); ``""`` is ``/<app>/``, which otherwise, like ``/<app>``,
    redirects to ``home``; ``/<app>/login`` is the login page unless named."""
    files = {"login": LOGIN, **pages}

    async def to_home(request: Request) -> Response:
        return RedirectResponse(home)

    routes: list[BaseRoute] = [Route(f"/{app}", to_home)]
    if "" not in files:
        routes.append(Route(f"/{app}/", to_home))
    for name, file in files.items():
        target = static / file if isinstance(file, str) else file
        routes.append(Route(f"/{app}/{name}", _serve(target)))
    routes.append(Mount(f"/{app}/static", StaticFiles(directory=str(static)), name=f"{app}-static"))
    return routes
