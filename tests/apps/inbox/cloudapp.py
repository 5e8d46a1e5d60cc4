"""What the WhatsApp Cloud tests share: the settings of the fake's number,
an inbox server pointed at the fake Graph API with those settings saved by
condorito's supervisor (fixtures ``graph`` and ``app``: import them), and
waits on messages."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from relevo.apps.inbox.kinds import MESSAGE
from tests.apps.appserver import AppServer

from .conftest import ANA, Factory
from .fake_graph import (
    APP_SECRET,
    PHONE_ID,
    TOKEN,
    VERIFY_TOKEN,
    WABA_ID,
    FakeGraph,
    fake_graph,
)

__all__ = ["CUSTOMER", "SETTINGS", "TEMPLATE", "app", "graph", "messages", "wait_message"]

SETTINGS = {
    "phone_number_id": PHONE_ID,
    "waba_id": WABA_ID,
    "access_token": TOKEN,
    "app_secret": APP_SECRET,
    "verify_token": VERIFY_TOKEN,
}
CUSTOMER = "51987001122"
TEMPLATE = {
    "name": "seguimiento_pedido",
    "language": "es",
    "status": "APPROVED",
    "category": "UTILITY",
    "components": [{"type": "BODY", "text": "Hola, seguimos con tu pedido. ¿Te ayudamos?"}],
}


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    async with fake_graph() as fake:
        fake.templates = [TEMPLATE]
        yield fake


@pytest.fixture
async def app(make_server: Factory, graph: FakeGraph, tmp_path: Path) -> AppServer:
    srv = await make_server(
        {
            "graph_url": graph.base,
            "graph_backoff": 0.01,
            "graph_retries": 4,
            "media_dir": str(tmp_path / "media"),
            "max_media": 64 * 1024,
        }
    )
    answer = await srv.ok("PUT", "/api/inbox/whatsapp", ANA, json=SETTINGS)
    assert answer["connector"]["state"] == "authenticated", answer
    return srv


async def messages(app: AppServer, **where: Any) -> list[Any]:
    return await app.records.find(MESSAGE, {"tenant": "condorito", **where}, limit=100)


async def wait_message(app: AppServer, mid: str, pred: Any) -> Any:
    """The message once ``pred`` holds (its updates are awaited, not slept on)."""
    deadline = time.monotonic() + 20
    while True:
        rec = await app.records.get(MESSAGE, mid)
        if pred(rec):
            return rec
        assert time.monotonic() < deadline, rec
        await app.records.wait_published()
        await app.records.clock.sleep(0.02)
