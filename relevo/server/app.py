"""Assembly: one Starlette app for HTTP (API, SSE, static files, pages) and a
uvicorn server whose WebSocket upgrades go straight to relevo's transport."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator
from importlib import resources
from typing import Any

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from relevo import __version__
from relevo.broker.base import Broker
from relevo.broker.memory import presence_for
from relevo.clock import Clock
from relevo.hub.hub import Hub
from relevo.protocol.errors import NotFound, RelevoError
from relevo.server.admin import admin_routes
from relevo.server.api import api_routes
from relevo.server.openapi import merge_schemas, openapi_document
from relevo.server.proxies import backend_for
from relevo.settings import Settings
from relevo.transport.frontdoor import front_door
from relevo.transport.sse import sse_endpoint
from relevo.transport.websocket import websocket_protocol
from relevo.web import Extension, error_response, json_response, require_api_key
from relevo.web.csrf import CrossSiteGuard
from relevo.web.headers import SecurityHeaders, content_security_policy

__all__ = ["Extension", "RelevoServer", "create_app", "create_broker"]

log = logging.getLogger("relevo")

STATIC = resources.files("relevo.server") / "static"
STOP_TIMEOUT = 20.0
"""Seconds :meth:`RelevoServer.stop` waits (5 of them for open connections)."""
#: The client's ES modules: ``client_js`` is the npm package's ``clients/js/src``
#: (a link in the repository, real files in a wheel), so pages, npm and Node
#: run one client. ``/relevo.js`` re-exports ``/relevo/index.js``.
CLIENT_JS = resources.files("relevo.server") / "client_js"
CLIENT_MODULES = frozenset(p.name for p in CLIENT_JS.iterdir() if p.name.endswith(".js"))


def create_broker(settings: Settings, clock: Clock | None = None) -> Broker:
    url = settings.broker.url
    if url.startswith("memory://"):
        from relevo.broker.memory import MemoryBroker

        return MemoryBroker(clock, idempotency_window=settings.broker.idempotency_window)
    try:
        from relevo.broker.redis import RedisBroker
    except ImportError:
        raise RelevoError("the redis broker is not available in this build") from None
    broker: Broker = RedisBroker(
        url,
        idempotency_window=settings.broker.idempotency_window,
        pool_size=settings.broker.pool_size,
        pool_timeout=settings.broker.pool_timeout,
    )
    return broker


async def healthz(request: Request) -> Response:
    return json_response({"status": "ok", "version": __version__})


async def readyz(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    try:
        await asyncio.wait_for(hub.broker.ping(), 2.0)
    except (RelevoError, TimeoutError, OSError) as exc:
        return json_response({"status": "unavailable", "reason": str(exc)}, 503)
    for check in request.app.state.ready_checks:
        reason = await check()
        if reason:
            return json_response({"status": "unavailable", "reason": reason}, 503)
    return json_response({"status": "ready"})


async def metrics(request: Request) -> Response:
    """Prometheus metrics, behind the API key unless ``server.metrics_public``
    (they name channels and users' counts: not for strangers)."""
    hub: Hub = request.app.state.hub
    if not hub.settings.server.metrics_public:
        try:
            require_api_key(request)
        except RelevoError as exc:
            return error_response(exc)
    return Response(generate_latest(hub.metrics.registry), media_type=CONTENT_TYPE_LATEST)


async def openapi(request: Request) -> Response:
    state = request.app.state
    return JSONResponse(openapi_document(__version__, state.openapi_paths, state.openapi_schemas))


async def admin_page(request: Request) -> Response:
    return RedirectResponse("/static/admin.html")


async def relevo_js(request: Request) -> Response:
    path = STATIC / "relevo.js"
    return FileResponse(
        str(path), media_type="text/javascript", headers={"Cache-Control": "no-cache"}
    )


async def relevo_module(request: Request) -> Response:
    """One module of the client, by exact name: nothing else under the folder."""
    name = request.path_params["name"]
    if name not in CLIENT_MODULES:
        return error_response(NotFound("no such module of the client"))
    return FileResponse(
        str(CLIENT_JS / name), media_type="text/javascript", headers={"Cache-Control": "no-cache"}
    )


def create_app(hub: Hub, extensions: list[Extension] | None = None) -> Starlette:
    extensions = extensions or []
    routes: list[BaseRoute] = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics),
        Route("/api/openapi.json", openapi),
        Route("/relevo.js", relevo_js),
        Route("/relevo/{name}", relevo_module),
        Route("/sse", sse_endpoint),
        Route("/admin", admin_page),
        *api_routes(),
        *admin_routes(),
    ]
    for ext in extensions:
        routes.extend(ext.routes)
    routes.append(Mount("/static", StaticFiles(directory=str(STATIC)), name="static"))
    links = [link for ext in extensions for link in ext.links]

    async def index(request: Request) -> Response:
        return RedirectResponse("/static/index.html")

    async def app_links(request: Request) -> Response:
        return json_response([{"label": label, "url": url} for label, url in links])

    routes.append(Route("/", index))
    routes.append(Route("/api/links", app_links))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await hub.start()
        for ext in extensions:
            for start in ext.startup:
                await start()
        try:
            yield
        finally:
            for ext in reversed(extensions):
                for stop in ext.shutdown:
                    with contextlib.suppress(Exception):
                        await stop()
            await hub.close()

    token_urls = [
        str(options["token_url"])
        for options in hub.settings.app.values()
        if isinstance(options, dict) and options.get("token_url")
    ]
    origins = list(hub.settings.server.allowed_origins)
    middleware = [
        Middleware(SecurityHeaders, csp=content_security_policy(token_urls)),
        # Cookie-authenticated writes only from this server's pages (CSRF).
        Middleware(CrossSiteGuard, allowed_origins=tuple(origins)),
    ]
    if origins:
        # Pages served elsewhere may call the HTTP endpoints (SSE, records, command).
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=origins,
                allow_methods=["GET", "POST", "PATCH", "DELETE"],
                allow_headers=["Authorization", "Content-Type", "Last-Event-ID"],
                max_age=600,
            )
        )
    app = Starlette(routes=routes, lifespan=lifespan, middleware=middleware)
    app.state.hub = hub
    app.state.ready_checks = []
    app.state.openapi_paths = {k: v for ext in extensions for k, v in ext.openapi_paths.items()}
    for ext in extensions:
        for name, value in ext.state.items():
            setattr(app.state, name, value)
    app.state.openapi_schemas = merge_schemas(ext.openapi_schemas for ext in extensions)
    return app


class RelevoServer:
    """A hub, its app and a uvicorn server, runnable in the current loop."""

    def __init__(
        self,
        settings: Settings,
        *,
        broker: Broker | None = None,
        extensions: list[Extension] | None = None,
        sock: socket.socket | None = None,
        hub: Hub | None = None,
    ) -> None:
        self.settings = settings
        if hub is None:
            if broker is None:
                broker = create_broker(settings)
            hub = Hub(settings, broker, presence=presence_for(broker))
        if hub.proxies.configured and hub.proxies.backend is None:
            hub.proxies.backend = backend_for(settings)
        self.hub = hub
        self.app = create_app(self.hub, extensions)
        self.sock = sock
        ws_protocol = websocket_protocol(self.hub)
        config_kwargs: dict[str, Any] = {
            "host": settings.server.host,
            "port": settings.server.port,
            "ws": ws_protocol,
            # WebSocket connections skip uvicorn's HTTP parsing entirely.
            "http": front_door(
                ws_protocol, ws_protocol.path, settings.limits, settings.server.trusted_proxies
            ),
            "lifespan": "on",
            "log_level": settings.server.log_level,
            "access_log": settings.server.log_level == "debug",
            "timeout_graceful_shutdown": 5,
            # A connect storm of thousands overflows the default 2048 and costs
            # SYN retransmits of 1 s and 3 s (relevo bench S4).
            "backlog": 4096,
            "server_header": False,
            # Behind a reverse proxy, request.client is the browser's address
            # (the kiosk rate limit keys on it), but only from trusted proxies.
            "proxy_headers": True,
            "forwarded_allow_ips": list(settings.server.trusted_proxies),
        }
        with contextlib.suppress(ImportError):
            import uvloop  # noqa: F401

            config_kwargs["loop"] = "uvloop"
        self.config = uvicorn.Config(self.app, **config_kwargs)
        self.server = uvicorn.Server(self.config)

    @property
    def port(self) -> int:
        for srv in self.server.servers:
            for s in srv.sockets:
                return int(s.getsockname()[1])
        return self.settings.server.port

    async def serve(self) -> None:
        sockets = [self.sock] if self.sock is not None else None
        await self.server.serve(sockets=sockets)

    async def start(self) -> None:
        """Start serving in the background; returns once listening."""
        self._task = asyncio.get_running_loop().create_task(self.serve())
        while not self.server.started:
            if self._task.done():
                self._task.result()
                raise RuntimeError("server stopped during start-up")
            await asyncio.sleep(0.01)

    async def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop serving: connections get ``timeout_graceful_shutdown``, then
        the extensions shut down. Bounded: a shutdown step that hangs is
        named in the log and cancelled, never left to hang its caller."""
        self.server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout)
        except TimeoutError:
            stuck = [t for t in asyncio.all_tasks() if not t.done() and t is not self._task]
            log.warning(
                "relevo did not stop within %g s; cancelling it. Still running: %s",
                timeout,
                "; ".join(f"{t.get_name()}: {t.get_stack(limit=3)}" for t in stuck[:10]),
            )
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
