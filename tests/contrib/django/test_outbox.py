"""publish_durable + manage.py relevo_relay: the row is written in the app's
transaction, published in order with its own key, marked; a relay killed
between the publish and the mark loses nothing and publishes nothing twice."""

from __future__ import annotations

import secrets
import subprocess
import sys

import pytest

from tests.contrib.conftest import RelevoThread, subprocess_env
from tests.helpers import timeout


def channel() -> str:
    return f"dj:{secrets.token_hex(4)}"


def history(ch: str) -> list[dict[str, object]]:
    from relevo.contrib.django._client import client

    pubs: list[dict[str, object]] = client().history(ch)["publications"]
    return pubs


def relay(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``manage.py relevo_relay`` in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "django", "relevo_relay", *args],
        env=subprocess_env(DJANGO_SETTINGS_MODULE="tests.contrib.django.settings", **env),
        capture_output=True,
        text=True,
        timeout=timeout(60),
        check=False,
    )


def test_only_committed_rows_are_written(relevo: RelevoThread) -> None:
    from django.db import transaction

    from relevo.contrib.django import publish_durable
    from relevo.contrib.django.models import Outbox

    def view() -> None:
        with transaction.atomic():
            publish_durable("dj:x", "check_update", {"v": True})
            raise RuntimeError("the view failed")

    with pytest.raises(RuntimeError):
        view()
    assert not Outbox.objects.exists()
    with transaction.atomic():
        row = publish_durable("dj:x", "check_update", {"v": True})
    assert Outbox.objects.get().status == Outbox.Status.PENDING
    assert row.idempotency_key.startswith(f"django-outbox:{row.pk}:")


def test_relay_publishes_in_order_and_marks(relevo: RelevoThread) -> None:
    from django.core.management import call_command

    from relevo.contrib.django import publish_durable
    from relevo.contrib.django.models import Outbox

    ch = channel()
    for i in range(5):
        publish_durable(ch, "check_update", {"n": i})
    call_command("relevo_relay", "--once", "--batch", "2", verbosity=0)
    assert [p["data"] for p in history(ch)] == [{"n": i} for i in range(5)]
    rows = list(Outbox.objects.order_by("id"))
    assert {r.status for r in rows} == {Outbox.Status.SENT}
    assert [r.offset for r in rows] == [1, 2, 3, 4, 5]
    call_command("relevo_relay", "--once", verbosity=0)  # nothing pending: nothing again
    assert len(history(ch)) == 5


def test_a_relay_killed_between_publish_and_mark_loses_nothing(relevo: RelevoThread) -> None:
    from relevo.contrib.django import publish_durable
    from relevo.contrib.django.models import Outbox

    ch = channel()
    first = publish_durable(ch, "check_update", {"producto": 7, "v": True})
    publish_durable(ch, "check_update", {"producto": 8, "v": True})

    crashed = relay("--once", RELEVO_DJANGO_FAULT="after_publish")
    assert crashed.returncode == -9, crashed.stderr
    # relevo has the first row; the database still says pending
    assert [p["data"] for p in history(ch)] == [{"producto": 7, "v": True}]
    assert Outbox.objects.get(pk=first.pk).status == Outbox.Status.PENDING

    done = relay("--once")
    assert done.returncode == 0, done.stderr
    pubs = history(ch)
    assert [p["data"] for p in pubs] == [{"producto": 7, "v": True}, {"producto": 8, "v": True}]
    assert [p["off"] for p in pubs] == [1, 2]  # the repeat stored nothing
    assert list(Outbox.objects.order_by("id").values_list("status", "offset")) == [
        ("sent", 1),
        ("sent", 2),
    ]


def test_a_refused_row_is_failed_and_the_rest_go_on(relevo: RelevoThread) -> None:
    from django.core.management import call_command

    from relevo.contrib.django import publish_durable
    from relevo.contrib.django.models import Outbox

    ch = channel()
    bad = publish_durable("nonamespace:x", "check_update", {"v": True})
    publish_durable(ch, "check_update", {"v": True})
    call_command("relevo_relay", "--once", verbosity=0)
    bad.refresh_from_db()
    assert bad.status == Outbox.Status.FAILED
    assert "not_found" in bad.error or "bad_request" in bad.error or "forbidden" in bad.error
    assert len(history(ch)) == 1


def test_relevo_down_keeps_rows_pending(relevo: RelevoThread) -> None:
    from relevo.contrib.django import publish_durable
    from relevo.contrib.django.models import Outbox

    publish_durable(channel(), "check_update", {"v": True})
    down = relay("--once", RELEVO_DJANGO_RELEVO_URL="http://127.0.0.1:9")
    assert down.returncode != 0
    assert "relevo unreachable" in down.stderr
    assert Outbox.objects.get().status == Outbox.Status.PENDING


def test_a_wrong_api_key_blocks_instead_of_failing_rows(relevo: RelevoThread) -> None:
    """A 401 is the relay's configuration, not the row's fault: the rows wait."""
    from relevo.contrib.django import publish_durable
    from relevo.contrib.django.models import Outbox

    publish_durable(channel(), "check_update", {"v": True})
    bad = relay("--once", RELEVO_DJANGO_API_KEY="wrong-key")
    assert bad.returncode != 0
    assert Outbox.objects.get().status == Outbox.Status.PENDING
