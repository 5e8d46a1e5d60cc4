"""Stopping a server is bounded: a shutdown step that never returns (an
extension stuck on its database, a task that ignores its cancel) is named in
the log and cancelled; the caller — a deploy script, a test's teardown — is
never left hanging."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import pytest

from relevo.server.app import RelevoServer
from relevo.web import Extension
from tests.conftest import make_settings


async def test_a_shutdown_step_that_hangs_is_cut(
    server_factory: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    forever = asyncio.Event()

    async def stuck() -> None:
        await forever.wait()

    srv: RelevoServer = await server_factory(
        make_settings(), extensions=[Extension("stuck", shutdown=[stuck])]
    )
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="relevo"):
        await srv.stop(timeout=1.0)
    assert time.monotonic() - started < 30  # bounded (generously, for a loaded machine)
    assert "did not stop within 1 s" in caplog.text
    assert srv._task.done()
