"""Django configured once per run (``tests.contrib.django.settings``) on a
fresh PostgreSQL database, against a relevo server of its own."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.contrib.conftest import RelevoThread, start_relevo

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="session")
def relevo_server(pg_database: str) -> Iterator[RelevoThread]:
    srv = start_relevo()
    os.environ["RELEVO_DJANGO_RELEVO_URL"] = srv.url
    os.environ["RELEVO_DJANGO_DB"] = pg_database
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.contrib.django.settings"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    try:
        yield srv
    finally:
        from django.db import connections

        connections.close_all()
        srv.stop()


@pytest.fixture
def relevo(relevo_server: RelevoThread) -> RelevoThread:
    """The server, with the outbox and the users emptied for the test."""
    from django.contrib.auth.models import Group, User

    from relevo.contrib.django.models import Outbox

    Outbox.objects.all().delete()
    User.objects.all().delete()
    Group.objects.all().delete()
    return relevo_server
