"""The records layer as a server extension: routes, start, stop, readiness.

The hub is created by the server, after the extensions; so the records
service is attached to it (``records.attach(server.hub)``) before the
server starts, which ``relevo.server.run`` does, and tests do by hand.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from relevo.records.http import records_routes
from relevo.records.openapi_paths import records_paths
from relevo.records.service import Records
from relevo.web import Extension

__all__ = ["records_extension"]


def records_extension(records: Records, *, migrate: bool = True) -> Extension:
    """``migrate``: apply the schema migrations at start (what ``relevo serve`` does)."""

    async def start() -> None:
        if records.hub is None:
            raise RuntimeError("call records.attach(server.hub) before starting the server")
        await records.start(migrate=migrate)

    routes: list[BaseRoute] = list(records_routes(records))
    return Extension(
        "records",
        routes=routes,
        startup=[start],
        shutdown=[records.close],
        openapi_paths=records_paths(),
    )
