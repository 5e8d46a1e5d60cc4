"""Start a configured server from the CLI: logging, extensions, uvicorn."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import gc
import logging
import socket
import sys
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from relevo.hub.hub import Hub
from relevo.server.app import RelevoServer, create_broker
from relevo.settings import Settings
from relevo.web import Extension

if TYPE_CHECKING:
    from relevo.accounts.people import People
    from relevo.records.service import Records

__all__ = [
    "app_extensions",
    "build_extensions",
    "build_records",
    "build_server",
    "migrate",
    "raise_open_file_limit",
    "run_server",
    "with_app_namespaces",
]

log = logging.getLogger("relevo")


def demo_extension() -> Extension:
    async def demo(request: Request) -> Response:
        query = request.url.query
        return RedirectResponse("/static/demo.html" + (f"?{query}" if query else ""))

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


#: Where each role of each app lands after signing in, apps in this order.
ROLE_HOMES: dict[str, dict[str, str]] = {
    "leads": {"gtr": "/leads/gtr", "admin": "/leads/gtr", "asesor": "/leads/asesor"},
    "turnos": {"operador": "/turnos/operador", "admin": "/turnos/admin"},
    "cargue": {
        "vendedor": "/cargue/vendedor",
        "despachador": "/cargue/despacho",
        "admin": "/cargue/despacho",
    },
    "inbox": {"agente": "/inbox/", "supervisor": "/inbox/"},
}


#: The demo's admin: the apps' ``admin`` demo user, an admin in every app.
DEMO_ADMIN = ("admin", "Rosa Valdivia", ("admin",), "")


def sign_in_extension(settings: Settings, hub: Hub, records: Records) -> Extension | None:
    """``/login`` and ``/auth/*`` over the accounts in the records database
    (``app.state.sign_in``); none without ``auth.secret`` to sign tokens with."""
    if not settings.auth.secret:
        return None
    from relevo.accounts.http import SignIn
    from relevo.accounts.model import ALL_APPS
    from relevo.accounts.people import ADMIN, People
    from relevo.accounts.store import Accounts
    from relevo.apps.kit.openapi import documented
    from relevo.server.people_ops import PEOPLE_OPS, PEOPLE_SCHEMAS

    homes = {app: ROLE_HOMES[app] for app in settings.apps if app in ROLE_HOMES}
    sign_in = SignIn(
        Accounts(records.store),
        hub,
        settings.auth.secret,
        homes=homes,
        allowed_origins=settings.server.allowed_origins,
    )
    # The roles the people screens may give: each app's roles that land
    # somewhere, and admin in every app.
    known = {"*": frozenset({ADMIN}), **{app: frozenset(homes[app]) for app in homes}}
    people = People(sign_in, known)
    watcher: list[asyncio.Task[None]] = []

    async def start() -> None:
        if settings.demo:
            # The demo's admin (the apps' "admin" demo user) manages people
            # in every app, so /admin/personas can be tried with the demo password.
            await sign_in.ensure_demo_accounts(ALL_APPS, [DEMO_ADMIN])
        watcher.append(asyncio.create_task(sign_in.watch_ended(), name="relevo-sign-in-watch"))

    routes = sign_in.routes()
    oidc = None
    if settings.auth.oidc.issuer:
        from relevo.accounts.oidc import OidcSignIn

        oidc = OidcSignIn(settings.auth.oidc, sign_in, changed=people.changed)
        routes += oidc.routes()

    async def stop() -> None:
        for task in watcher:
            task.cancel()
        await asyncio.gather(*watcher, return_exceptions=True)
        if oidc is not None:
            await oidc.close()

    extension = Extension(
        "sign-in",
        routes=[*routes, *people.routes()],
        startup=[start],
        shutdown=[stop],
        state={"sign_in": sign_in, "oidc": oidc, "people": people},
    )
    return documented(extension, PEOPLE_OPS, schemas=PEOPLE_SCHEMAS)


def build_extensions(
    settings: Settings, hub: Hub | None = None, records: Records | None = None
) -> list[Extension]:
    extensions: list[Extension] = []
    if settings.demo:
        extensions.append(demo_extension())
    if records is not None:
        from relevo.records.extension import records_extension

        extensions.append(records_extension(records, migrate=True))
        if hub is not None:
            sign_in = sign_in_extension(settings, hub, records)
            if sign_in is not None:
                extensions.append(sign_in)
    if settings.apps:
        if hub is None or records is None:
            raise RuntimeError("apps need the hub and the records service")
        extensions.extend(app_extensions(settings, hub, records))
    people = next((e.state["people"] for e in extensions if "people" in e.state), None)
    if people is not None and records is not None:
        if settings.apps:
            directories = directories_extension(settings, records, people)
            if directories is not None:
                extensions.append(directories)
        # after the apps, so the index lists them first
        extensions.append(Extension("people", links=[("Personas", "/admin/personas")]))
    return extensions


def directories_extension(settings: Settings, records: Records, people: People) -> Extension | None:
    """Keep the apps' directories (leads users, cargue vendors, inbox agents)
    from the accounts: on every change the people API makes, and once at
    start for every account (after the apps' own start, so a demo seeds
    first; the command line may have added people while the server was down)."""
    from relevo.apps.kit.directory import Directory, sync_account, sync_accounts
    from relevo.apps.registry import load_app

    found: list[tuple[str, Directory]] = [
        (name, d)
        for name in settings.apps
        if isinstance(d := getattr(load_app(name), "DIRECTORY", None), Directory)
    ]
    if not found:
        return None
    for name, directory in found:
        people.listeners.append(functools.partial(sync_account, records, name, directory))

    async def reconcile() -> None:
        accounts = await people.sign_in.accounts.list()
        for name, directory in found:
            await sync_accounts(records, name, directory, accounts)

    return Extension("directories", startup=[reconcile])


def with_app_namespaces(settings: Settings) -> Settings:
    """The apps' channel rules added to the configured ones; an app's namespace
    defined differently in relevo.toml is a ConfigError (``merge_namespaces``)."""
    from relevo.apps.registry import load_app
    from relevo.server.config import merge_namespaces

    owned = [(app, load_app(app).namespaces(settings.app.get(app, {}))) for app in settings.apps]
    return dataclasses.replace(settings, namespaces=merge_namespaces(settings.namespaces, owned))


def app_extensions(settings: Settings, hub: Hub, records: Records) -> list[Extension]:
    """Register each app's kinds, build its extension, and in demo mode seed it
    once the records store has started (the records extension starts first)."""
    from relevo.apps.base import AppContext
    from relevo.apps.registry import load_app

    extensions: list[Extension] = []
    for name in settings.apps:
        module = load_app(name)
        ctx = AppContext(name, settings, hub, records, settings.app.get(name, {}))
        records.register(*module.kinds(ctx.options))
        ext: Extension = module.extension(ctx)
        if settings.demo:
            ext.startup.append(functools.partial(module.seed_demo, ctx))
        extensions.append(ext)
    return extensions


def build_server(settings: Settings, sock: socket.socket | None = None) -> RelevoServer:
    """Everything ``relevo serve`` runs: hub, records, apps, pages."""
    if settings.apps:
        settings = with_app_namespaces(settings)
    hub = Hub(settings, create_broker(settings))
    records = build_records(settings)
    if records is not None:
        records.attach(hub)
    server = RelevoServer(
        settings, hub=hub, extensions=build_extensions(settings, hub, records), sock=sock
    )
    if records is not None:
        server.app.state.ready_checks.append(records.ready)
    return server


def run_server(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.server.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if settings.server.workers > 1:
        from relevo.server.workers import run_workers

        run_workers(settings)
        return
    if not settings.broker.url.startswith("memory://"):
        from relevo.server.workers import check_broker

        check_broker(settings)  # an unreachable Redis is one clear line, not a traceback
    raise_open_file_limit()
    server = build_server(settings)
    freeze_startup_objects()
    host, port = settings.server.host, settings.server.port
    broker = _safe_url(settings.broker.url)
    from relevo.transport.admission import connection_budget

    budget = connection_budget(settings.limits)
    print(
        f"relevo: serving on http://{host}:{port} "
        f"(WebSocket ws://{host}:{port}/ws, broker {broker}"
        + (f", up to {budget} connections)" if budget else ")"),
        file=sys.stderr,
    )
    try:
        import uvloop

        uvloop.run(server.serve())
    except ImportError:
        asyncio.run(server.serve())


def raise_open_file_limit() -> None:
    """Every connection holds a file descriptor, and the soft limit is often
    1,024 where the hard one allows far more: take what the hard limit allows,
    as Go's runtime does at start. The node's default connection cap
    (``limits.max_connections = 0``) is sized from the result."""
    try:
        import resource
    except ImportError:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # An unlimited hard limit still stops at the kernel's nr_open (2**20 by default).
    target = hard if hard != resource.RLIM_INFINITY else 1 << 20
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError) as exc:
            log.warning("could not raise the open-file limit from %d to %d: %s", soft, target, exc)


def freeze_startup_objects() -> None:
    """Move everything built at start-up (modules, apps, kinds) out of the
    collector's sight: full collections then scan only what connections
    create, which keeps their pauses (and fan-out p99.9) short."""
    gc.collect()
    gc.freeze()


def _safe_url(url: str) -> str:
    """The URL without its passwords (also a Sentinel's ``sentinel_password``), for logs."""
    parts = urlsplit(url)
    if "@" not in parts.netloc and "password" not in parts.query:
        return url
    userinfo, at, hosts = parts.netloc.rpartition("@")
    if at and ":" in userinfo:
        parts = parts._replace(netloc=f"{userinfo.partition(':')[0]}:***@{hosts}")
    query = [
        (key, "***" if "password" in key else value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(query, safe="*")))


def migrate(settings: Settings) -> int:
    from relevo.records.migrate import migrate_database

    migrate_database(settings)
    return 0
