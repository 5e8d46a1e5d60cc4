"""publish_on_commit: after commit only, fire-and-forget, never raising into
the request when relevo is down."""

from __future__ import annotations

import logging
import os
import secrets

import pytest

from tests.contrib.conftest import RelevoThread
from tests.helpers import timeout


def channel() -> str:
    return f"dj:{secrets.token_hex(4)}"


def history(ch: str) -> list[dict[str, object]]:
    from relevo.contrib.django._client import client

    pubs: list[dict[str, object]] = client().history(ch)["publications"]
    return pubs


def test_published_after_commit_in_order(relevo: RelevoThread) -> None:
    from django.db import transaction

    from relevo.contrib.django import publish_on_commit, wait_published

    ch = channel()
    with transaction.atomic():
        publish_on_commit(ch, "check_update", {"producto": 1, "v": True})
        publish_on_commit(ch, "check_update", {"producto": 1, "v": False})
        assert wait_published(timeout(10))
        assert history(ch) == []  # nothing before the commit
    assert wait_published(timeout(10))
    assert [p["data"] for p in history(ch)] == [
        {"producto": 1, "v": True},
        {"producto": 1, "v": False},
    ]


def test_rolled_back_publishes_nothing(relevo: RelevoThread) -> None:
    from django.db import transaction

    from relevo.contrib.django import publish_on_commit, wait_published

    ch = channel()

    def view() -> None:
        with transaction.atomic():
            publish_on_commit(ch, "check_update", {"v": True})
            raise RuntimeError("the view failed")

    with pytest.raises(RuntimeError):
        view()
    publish_on_commit(ch, "marker")  # outside a transaction: at once
    assert wait_published(timeout(10))
    assert [p["ev"] for p in history(ch)] == ["marker"]


def test_a_repeated_key_publishes_once(relevo: RelevoThread) -> None:
    from relevo.contrib.django import publish_on_commit, wait_published

    ch = channel()
    publish_on_commit(ch, "check_update", {"v": True}, idempotency_key="linea-7-v1")
    publish_on_commit(ch, "check_update", {"v": True}, idempotency_key="linea-7-v1")
    assert wait_published(timeout(10))
    assert len(history(ch)) == 1


def test_data_is_taken_as_json_at_the_call(relevo: RelevoThread) -> None:
    import datetime
    import decimal

    from relevo.contrib.django import publish_on_commit, wait_published

    ch = channel()
    data = {"fecha": datetime.date(2025, 12, 2), "cantidad": decimal.Decimal("2.5")}
    publish_on_commit(ch, "check_update", data)
    data["cantidad"] = decimal.Decimal("9")  # later changes are not published
    assert wait_published(timeout(10))
    assert history(ch)[0]["data"] == {"fecha": "2025-12-02", "cantidad": "2.5"}
    with pytest.raises(TypeError):
        publish_on_commit(ch, "x", {"obj": object()})


def test_relevo_down_is_logged_not_raised(
    relevo: RelevoThread, caplog: pytest.LogCaptureFixture
) -> None:
    from django.db import transaction
    from django.test import override_settings

    from relevo.contrib.django import publish_on_commit, wait_published

    with override_settings(RELEVO_URL="http://127.0.0.1:9", RELEVO_RETRIES=1):
        with caplog.at_level(logging.ERROR, "relevo.contrib.django"), transaction.atomic():
            publish_on_commit("dj:down", "check_update", {"v": True})
        assert wait_published(timeout(30))
    assert any("not published" in r.getMessage() for r in caplog.records)


def test_refused_publication_is_logged(
    relevo: RelevoThread, caplog: pytest.LogCaptureFixture
) -> None:
    from relevo.contrib.django import publish_on_commit, wait_published

    with caplog.at_level(logging.ERROR, "relevo.contrib.django"):
        publish_on_commit("nonamespace:x", "check_update", {"v": True})
        assert wait_published(timeout(10))
    assert any("refused" in r.getMessage() for r in caplog.records)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_a_forked_worker_gets_its_own_pool(relevo: RelevoThread) -> None:
    """gunicorn --preload forks after the app was loaded: a pool made before
    the fork has no threads in the child, whose publications would wait forever."""
    from relevo.contrib.django import publish_on_commit, wait_published

    ch = channel()
    publish_on_commit(ch, "antes")  # the parent's pool and client exist now
    assert wait_published(timeout(10))
    pid = os.fork()
    if pid == 0:  # the child: publish, report by exit status only
        code = 1
        try:
            publish_on_commit(ch, "hijo")
            code = 0 if wait_published(timeout(10)) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert [p["ev"] for p in history(ch)] == ["antes", "hijo"]
