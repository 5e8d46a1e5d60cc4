"""relevo in a Django project (``pip install relevo[django]``).

Add ``"relevo.contrib.django"`` to ``INSTALLED_APPS`` (its models: the
outbox), mount ``include("relevo.contrib.django.urls")`` for the token view,
set ``RELEVO_URL``, ``RELEVO_API_KEY`` and ``RELEVO_TOKEN_SECRET``, then::

    from relevo.contrib.django import publish_on_commit, publish_durable

    with transaction.atomic():
        item.save()
        publish_on_commit("cargue:norte", "check_update", {"producto": 7, "v": True})

It speaks to relevo only over the HTTP API (``relevo.client``). See docs/django.md.

Module map: ``conf`` (settings), ``publish`` (both publish paths), ``models``
(the outbox), ``relay`` (+ ``manage.py relevo_relay``), ``tokens`` and
``views`` (the token view), ``templatetags.relevo`` (``{% relevo_client %}``).
"""

from __future__ import annotations

from relevo.contrib.django._client import wait_published
from relevo.contrib.django.publish import publish_durable, publish_on_commit

__all__ = ["publish_durable", "publish_on_commit", "wait_published"]
