"""A server with only the turnero mounted: the records layer on one database
and the turnos extension. The tests and the benchmark use it (in process, or
as ``python -m relevo.apps.turnos.standalone`` when a test must kill the
server); ``relevo demo`` mounts the same extension next to the other apps.

The extension can be built before the server exists: the app reaches the
hub through the records service (``records.attach(server.hub)``), so
``ctx.hub`` is not needed.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
from collections.abc import Mapping
from typing import Any

from relevo.apps.base import AppContext
from relevo.records import Records, RecordsOptions
from relevo.records.extension import records_extension
from relevo.server.app import RelevoServer
from relevo.server.config import merge_namespaces
from relevo.settings import AuthSettings, ServerSettings, Settings

from . import NAME, extension, kinds, namespaces, seed_demo

__all__ = ["build_server", "turnos_settings"]


def turnos_settings(settings: Settings, options: Mapping[str, Any] | None = None) -> Settings:
    """``settings`` with the turnero's namespaces and ``[app.turnos]`` added
    (a different ``turnos`` namespace in ``settings`` is a ConfigError)."""
    opts = dict(options or {})
    return dataclasses.replace(
        settings,
        namespaces=merge_namespaces(settings.namespaces, [(NAME, namespaces(opts))]),
        apps=tuple(dict.fromkeys((*settings.apps, NAME))),
        app={**settings.app, NAME: opts},
    )


def build_server(
    settings: Settings,
    url: str,
    *,
    schema: str | None = None,
    records_options: RecordsOptions | None = None,
) -> tuple[RelevoServer, Records, AppContext]:
    """A server (not started) with records on ``url`` and the turnero; the
    options come from ``settings.app["turnos"]``."""
    options = settings.app.get(NAME, {})
    records = Records(url, kinds(options), schema=schema, options=records_options)
    hub: Any = None  # reached through records once attached
    ctx = AppContext(NAME, settings, hub, records, options)
    server = RelevoServer(
        settings, extensions=[records_extension(records, migrate=True), extension(ctx)]
    )
    records.attach(server.hub)
    server.app.state.ready_checks.append(records.ready)
    ctx = dataclasses.replace(ctx, hub=server.hub)
    return server, records, ctx


async def _serve(args: argparse.Namespace) -> None:
    settings = turnos_settings(
        Settings(
            server=ServerSettings(host="127.0.0.1", port=args.port, log_level=args.log_level),
            auth=AuthSettings(secret=args.secret, api_key=args.api_key),
            demo=args.demo,
        ),
        json.loads(args.options),
    )
    server, _, ctx = build_server(settings, args.db)
    serving = asyncio.ensure_future(server.serve())
    # uvicorn offers a flag, not an event, for "listening".
    while not server.server.started and not serving.done():  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    if args.demo and not serving.done():
        await seed_demo(ctx)
    print(f"turnos: serving on http://127.0.0.1:{server.port}", file=sys.stderr, flush=True)
    await serving


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m relevo.apps.turnos.standalone")
    p.add_argument("--db", required=True, help="SQLAlchemy URL of the records store")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--secret", default="turnos-standalone-secret-0123456789abcdef")
    p.add_argument("--api-key", dest="api_key", default="turnos-standalone-key")
    p.add_argument("--options", default="{}", help="[app.turnos] as a JSON object")
    p.add_argument("--demo", action="store_true", help="mint demo tokens and seed sample data")
    p.add_argument("--log-level", dest="log_level", default="warning")
    args = p.parse_args(argv)
    try:
        import uvloop

        uvloop.run(_serve(args))
    except ImportError:
        asyncio.run(_serve(args))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
