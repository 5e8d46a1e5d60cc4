"""A server with its apps on a records database named directly: what
``relevo serve`` assembles (:func:`relevo.server.run.build_server`), for the
apps' tests and benchmarks. In process::

    server, records = build_app_server(settings, "sqlite+aiosqlite:///t.db")

or as a process a test can kill (``--demo`` seeds the sample data)::

    python -m relevo.server.standalone --app turnos --db sqlite+aiosqlite:///t.db --port 8123
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from relevo.clock import Clock
from relevo.hub.hub import Hub
from relevo.records import Records, RecordsOptions
from relevo.server.app import RelevoServer, create_broker
from relevo.server.run import build_extensions, with_app_namespaces
from relevo.settings import AuthSettings, ServerSettings, Settings

__all__ = ["build_app_server", "main"]


def build_app_server(
    settings: Settings,
    url: str,
    *,
    schema: str | None = None,
    records_options: RecordsOptions | None = None,
    clock: Clock | None = None,
) -> tuple[RelevoServer, Records]:
    """A server (not started) with records on ``url`` (``schema``: a
    PostgreSQL schema of its own) and ``settings.apps`` mounted, their
    namespaces added; in demo mode they seed their sample data at start.
    ``clock`` (a test's virtual one) drives hub, broker and records alike."""
    settings = with_app_namespaces(settings)
    hub = Hub(settings, create_broker(settings, clock), clock=clock)
    records = Records(url, schema=schema, options=records_options, clock=clock)
    records.attach(hub)
    server = RelevoServer(settings, hub=hub, extensions=build_extensions(settings, hub, records))
    server.app.state.ready_checks.append(records.ready)
    return server, records


async def _serve(args: argparse.Namespace) -> None:
    settings = Settings(
        server=ServerSettings(host="127.0.0.1", port=args.port, log_level=args.log_level),
        auth=AuthSettings(secret=args.secret, api_key=args.api_key),
        apps=(args.app,),
        app={args.app: json.loads(args.options)},
        demo=args.demo,
    )
    server, _ = build_app_server(settings, args.db)
    serving = asyncio.ensure_future(server.serve())
    # uvicorn offers a flag, not an event, for "listening".
    while not server.server.started and not serving.done():  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    print(f"{args.app}: serving on http://127.0.0.1:{server.port}", file=sys.stderr, flush=True)
    await serving


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m relevo.server.standalone")
    p.add_argument("--app", required=True, help="the app to mount (turnos, leads, ...)")
    p.add_argument("--db", required=True, help="SQLAlchemy URL of the records store")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--secret", default="relevo-standalone-secret-0123456789abcdef")
    p.add_argument("--api-key", dest="api_key", default="relevo-standalone-key")
    p.add_argument("--options", default="{}", help="[app.<app>] as a JSON object")
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
