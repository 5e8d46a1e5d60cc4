"""Start a configured server from the CLI: logging, extensions, uvicorn."""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from relevo.hub.hub import Hub
from relevo.server.app import Extension, RelevoServer
from relevo.settings import Settings

if TYPE_CHECKING:
    from relevo.records.service import Records

__all__ = ["build_extensions", "build_records", "migrate", "run_server"]

log = logging.getLogger("relevo")


def demo_extension() -> Extension:
    async def demo(request: Request) -> Response:
        return RedirectResponse("/static/demo.html")

    return Extension(
        "demo", routes=[Route("/demo", demo)], links=[("Demo en vivo", "/static/demo.html")]
    )


def build_records(settings: Settings) -> Records | None:
    """The records service, when apps or a ``database.url`` need one; apps
    register their kinds on it (``records.register(...)``) before start."""
    if not (settings.apps or settings.database.url):
        return None
    from relevo.records.service import Records
    from relevo.records.store import database_url

    return Records(database_url(settings))


def build_extensions(
    settings: Settings, hub: Hub | None = None, records: Records | None = None
) -> list[Extension]:
    extensions: list[Extension] = []
    if settings.demo:
        extensions.append(demo_extension())
    if records is not None:
        from relevo.records.extension import records_extension

        extensions.append(records_extension(records, migrate=True))
    return extensions


def run_server(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.server.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if settings.server.workers > 1:
        from relevo.server.workers import run_workers

        run_workers(settings)
        return
    records = build_records(settings)
    server = RelevoServer(settings, extensions=build_extensions(settings, records=records))
    if records is not None:
        records.attach(server.hub)
        server.app.state.ready_checks.append(records.ready)
    host = settings.server.host
    print(
        f"relevo: serving on http://{host}:{settings.server.port} "
        f"(WebSocket ws://{host}:{settings.server.port}/ws, broker {settings.broker.url})",
        file=sys.stderr,
    )
    try:
        import uvloop

        uvloop.run(server.serve())
    except ImportError:
        asyncio.run(server.serve())


def migrate(settings: Settings) -> int:
    from relevo.records.migrate import migrate_database

    migrate_database(settings)
    return 0
