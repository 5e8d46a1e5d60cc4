"""Concurrent webhooks on the production store (PostgreSQL, marker
``postgres``): a burst of messages from a new number makes one conversation,
and a retried provider id one message — without a unique index, because the
service serialises a tenant's message writes on its stats row."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from relevo.apps import inbox
from tests.apps.appserver import API, AppServer, pg_app_server

from .conftest import LUIS, QUIET

pytestmark = pytest.mark.postgres


@pytest.fixture
async def pg_app(tmp_path: Path) -> AsyncIterator[AppServer]:
    async with pg_app_server(inbox, tmp_path, QUIET) as srv:
        yield srv


async def test_a_burst_from_a_new_number_makes_one_conversation(pg_app: AppServer) -> None:
    url = "/api/inbox/t/condorito/incoming"

    async def post(i: int, ext: str) -> int:
        body = {"from": "+51977000111", "text": f"mensaje {i}", "id": ext}
        res = await pg_app.request("POST", url, headers=API, json=body)
        return res.status_code

    codes = await asyncio.gather(*(post(i, f"burst-{i}") for i in range(12)))
    assert sorted(set(codes)) == [201]
    retried = await asyncio.gather(*(post(99, "retried") for _ in range(8)))
    assert sorted(retried) == [200] * 7 + [201]

    convs = await pg_app.ok(
        "GET",
        "/api/records/inbox_conversation",
        LUIS,
        params={"tenant": "condorito", "contact_phone": "+51977000111"},
    )
    assert len(convs["rows"]) == 1
    conv = convs["rows"][0]
    assert conv["unread"] == 13
    msgs = await pg_app.ok(
        "GET",
        "/api/records/inbox_message",
        LUIS,
        params={"tenant": "condorito", "conversation_id": conv["id"]},
    )
    assert len(msgs["rows"]) == 13
