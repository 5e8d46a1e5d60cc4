"""Publishing from Django: after the transaction commits, never before.

``publish_on_commit`` is fire-and-forget: once the transaction commits, a
pool thread publishes through the SDK, retrying with one idempotency key;
a publication that still fails is logged (``relevo.contrib.django``) and
lost. ``publish_durable`` writes an :class:`~relevo.contrib.django.models.Outbox`
row in the transaction itself; ``manage.py relevo_relay`` publishes it, so
a crash anywhere after the commit loses nothing.
"""

from __future__ import annotations

import json
import logging
import secrets
from typing import TYPE_CHECKING, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from relevo.client import RelevoHTTPError
from relevo.contrib.django._client import client, executor, track

if TYPE_CHECKING:
    from relevo.contrib.django.models import Outbox

__all__ = ["publish_durable", "publish_on_commit"]

log = logging.getLogger("relevo.contrib.django")


def to_json(data: Any) -> Any:
    """``data`` as plain JSON values, now: dates, decimals and UUIDs become
    strings (``DjangoJSONEncoder``), and a later change to the caller's
    objects does not change what is published. Raises ``TypeError`` for what
    JSON cannot carry: a programming error, so it surfaces in the request."""
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def _check(channel: str, event: str) -> None:
    if not isinstance(channel, str) or not channel:
        raise ValueError("channel must be a non-empty string")
    if not isinstance(event, str) or not event:
        raise ValueError("event must be a non-empty string")


def publish_on_commit(
    channel: str,
    event: str,
    data: Any = None,
    *,
    idempotency_key: str | None = None,
    using: str | None = None,
) -> None:
    """Publish ``event`` on ``channel`` once the current transaction of
    ``using`` commits (at once outside a transaction); nothing if it rolls
    back. Never raises for relevo being down: failures are retried, then
    logged."""
    _check(channel, event)
    payload = to_json(data)
    key = idempotency_key or "django:" + secrets.token_urlsafe(16)

    def hand_over() -> None:
        try:
            future = executor().submit(_publish, channel, event, payload, key)
        except RuntimeError:  # the pool is shut down: the process is exiting
            log.error("relevo: not published (shutting down): %s on %s", event, channel)
            return
        track(future)

    transaction.on_commit(hand_over, using=using)


def _publish(channel: str, event: str, data: Any, key: str) -> None:
    try:
        client().publish(channel, event, data, idempotency_key=key)
    except RelevoHTTPError as exc:
        log.error("relevo: %s on %s refused: %s", event, channel, exc)
    except Exception:
        log.exception("relevo: %s on %s not published (relevo unreachable?)", event, channel)


def publish_durable(
    channel: str, event: str, data: Any = None, *, using: str | None = None
) -> Outbox:
    """Write the publication to the outbox in the current transaction of
    ``using``; ``manage.py relevo_relay`` publishes it after the commit, in
    order, at least once (relevo drops the repeats by the row's key)."""
    from relevo.contrib.django.models import Outbox

    _check(channel, event)
    row: Outbox = Outbox.objects.using(using).create(
        channel=channel, event=event, data=to_json(data)
    )
    return row
