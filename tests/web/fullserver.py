"""The whole product in one process, as ``relevo demo`` assembles it: every
app mounted with its sample data, the records layer on a SQLite file, the
admin page, the HTTP API. Used by the tests that walk every route."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from starlette.routing import BaseRoute, Mount, Route

from relevo.apps.registry import available_apps
from relevo.broker.memory import MemoryBroker
from relevo.hub.hub import Hub
from relevo.records import Records, RecordsOptions
from relevo.server.app import RelevoServer
from relevo.server.run import build_extensions, with_app_namespaces
from relevo.settings import AuthSettings, ServerSettings, Settings

SECRET = "full-server-test-secret-0123456789abcdef"
API_KEY = "full-server-test-api-key"
FAST = RecordsOptions(relay_poll=0.2, relay_grace=0.5, node_heartbeat=0.5, node_timeout=2.0)


@dataclass
class FullServer:
    server: RelevoServer
    records: Records
    settings: Settings

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        await self.server.stop()


def full_settings(*, demo: bool = True) -> Settings:
    settings = Settings(
        server=ServerSettings(host="127.0.0.1", port=0, log_level="warning"),
        auth=AuthSettings(secret=SECRET, api_key=API_KEY),
        apps=tuple(available_apps()),
        demo=demo,
    )
    return with_app_namespaces(settings)


async def start_full_server(
    db: Path, *, demo: bool = True, settings: Settings | None = None
) -> FullServer:
    settings = settings or full_settings(demo=demo)
    hub = Hub(settings, MemoryBroker())
    records = Records(f"sqlite+aiosqlite:///{db}", options=FAST)
    records.attach(hub)
    server = RelevoServer(settings, hub=hub, extensions=build_extensions(settings, hub, records))
    await server.start()
    return FullServer(server, records, settings)


def walk_routes(routes: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, set[str]]]:
    """Every (path, methods) the app answers, mounts expanded; a mount of
    static files is one path ending in ``/{path}``."""
    for route in routes:
        if isinstance(route, Route):
            yield prefix + route.path, set(route.methods or {"GET"})
        elif isinstance(route, Mount):
            inner = getattr(route.app, "routes", None)
            if inner is None:
                yield prefix + route.path + "/{path}", {"GET", "HEAD"}
            else:
                yield from walk_routes(list(inner), prefix + route.path)
