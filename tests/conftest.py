from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from relevo.hub.auth import mint_token
from relevo.server.app import RelevoServer
from relevo.server.config import settings_from_mapping
from relevo.settings import Settings

#: Test directories that ``scripts/test`` (pytest-xdist, ``--dist loadfile``) runs
#: whole on one worker, as it runs every other test module: their files share
#: things outside ``tmp_path`` (clients/js and its node_modules; Django, set up
#: once per process).
ONE_WORKER = ("tests/js/", "tests/contrib/")

#: Tests that ``scripts/test`` runs after the parallel run, one at a time:
#: they hold real time to a tight bound (a ticket on three screens within a
#: second, a 3 s token refreshed before it expires, a slow reader cut while a
#: fast one keeps up, nodes started during a storm, axe over every page within
#: the timeout), which two workers sharing two cores made them miss.
#: A directory, a module or a test (all its parameters); marked ``serial``.
SERIAL = (
    "tests/a11y/",
    "tests/apps/turnos/test_screens.py::test_a_kiosk_ticket_reaches_the_operator_and_the_admin_within_a_second",
    "tests/browser/test_client.py::test_token_is_refreshed_in_band_without_touching_subscriptions",
    "tests/integration/test_storm.py",
    "tests/integration/test_websocket.py::test_slow_consumer_is_cut_and_fast_one_keeps_up",
    # Failed once beside the parallel run: a restart's banner waited past 10 s.
    "tests/apps/leads/test_restart.py::test_restart_in_the_middle_of_a_session",
)

SECRET = "test-secret-0123456789abcdef-0123456789"
API_KEY = "test-api-key"

BASE_CONFIG: dict[str, Any] = {
    "server": {"host": "127.0.0.1", "port": 0, "log_level": "warning"},
    "auth": {"secret": SECRET, "api_key": API_KEY},
    "namespaces": {
        "demo": {
            "subscribe": ["anonymous"],
            "publish": ["authenticated"],
            "presence": ["authenticated"],
            "join_leave": True,
        },
        "gtr": {"subscribe": ["role:gtr", "role:admin"], "presence": ["role:gtr"]},
        "asesor": {
            "subscribe": [{"role": "asesor", "channel": "asesor:{user}"}, "role:gtr"],
        },
        "t": {
            "subscribe": [{"channel": "t:{tenant}:*"}],
            "publish": [{"channel": "t:{tenant}:*"}],
        },
        "small": {"subscribe": ["anonymous"], "history_size": 5},
        "big": {"subscribe": ["anonymous"], "history_size": 2000, "history_ttl": 600},
    },
}


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def make_settings(**over: Any) -> Settings:
    return settings_from_mapping(merge(BASE_CONFIG, over))


def token(user: str, roles: tuple[str, ...] = (), tenant: str = "", ttl: float = 3600) -> str:
    return mint_token(SECRET, user, roles, tenant, ttl)


@pytest.fixture
async def server_factory() -> AsyncIterator[Callable[..., Any]]:
    """Start real servers (port 0, 127.0.0.1) in this loop; all stopped at teardown."""
    started: list[RelevoServer] = []

    async def start(settings: Settings | None = None, **kwargs: Any) -> RelevoServer:
        srv = RelevoServer(settings or make_settings(), **kwargs)
        await srv.start()
        started.append(srv)
        return srv

    yield start
    for srv in started:
        if not srv.server.should_exit:
            await srv.stop()


@pytest.fixture
async def server(server_factory: Callable[..., Any]) -> RelevoServer:
    srv: RelevoServer = await server_factory()
    return srv


def _serial(nodeid: str) -> bool:
    name = nodeid.split("[", 1)[0]
    return any(
        name == entry or name.startswith(entry if entry.endswith("/") else f"{entry}::")
        for entry in SERIAL
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _serial(item.nodeid):
            item.add_marker(pytest.mark.serial)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadfile``, with each directory of :data:`ONE_WORKER` one unit
    of work. (xdist's own ``xdist_group`` marks do nothing on pytest 9: they
    rename node ids through an attribute pytest no longer reads.)"""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class LoadFileOrDirectory(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return next((d for d in ONE_WORKER if path.startswith(d)), path)

    return LoadFileOrDirectory(config, log)
