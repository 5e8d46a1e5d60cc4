"""The outbox relay: publishes pending :class:`Outbox` rows in id order, each
with the row's own idempotency key, and marks them.

A row is marked in the same database transaction that locked it, after
relevo accepted it. A crash between the publish and that commit leaves the
row pending; the next run publishes it again with the same key, and relevo's
broker answers the repeat with the first offset and stores nothing (within
its ``broker.idempotency_window``, 5 minutes by default). So the relay is at
least once, and what subscribers see is exactly once.

Rows are locked with ``SELECT … FOR UPDATE`` (no ``SKIP LOCKED``): a second
relay waits for the first instead of publishing later rows ahead of earlier
ones. A row relevo refuses for good (a channel of no namespace, a body too
large: :data:`REFUSED_FOR_GOOD`) is marked ``failed`` with the error and the
relay goes on; anything else (relevo down, ``unavailable``, a wrong API key)
stops the batch, so the order holds, and the next run starts from that row.
"""

from __future__ import annotations

import logging
import os
import signal
from dataclasses import dataclass

import httpx
from django.db import transaction
from django.utils import timezone

from relevo.client import RelevoHTTPError
from relevo.contrib.django._client import client
from relevo.contrib.django.models import Outbox

__all__ = ["RelayResult", "relay_batch"]

log = logging.getLogger("relevo.contrib.django.relay")

#: Crash tests: ``RELEVO_DJANGO_FAULT=after_publish`` SIGKILLs the relay after
#: relevo accepted a row and before the row is marked sent.
_FAULT_ENV = "RELEVO_DJANGO_FAULT"


def _fault(point: str) -> None:
    if os.environ.get(_FAULT_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)


#: Answers that are the row's fault (its channel, namespace or size): it is
#: marked failed. Anything else (401: the relay's API key) stops the relay.
REFUSED_FOR_GOOD = frozenset({400, 403, 404, 413, 422})


@dataclass(frozen=True, slots=True)
class RelayResult:
    sent: int = 0
    failed: int = 0
    blocked: str = ""
    """Why the batch stopped early (relevo unreachable or busy); empty if it did not."""


def relay_batch(limit: int = 100, using: str | None = None) -> RelayResult:
    """Publish up to ``limit`` pending rows, oldest first."""
    sent = failed = 0
    blocked = ""
    with transaction.atomic(using=using):
        rows = list(
            Outbox.objects.using(using)
            .select_for_update()
            .filter(status=Outbox.Status.PENDING)
            .order_by("id")[:limit]
        )
        for row in rows:
            try:
                result = client().publish(
                    row.channel, row.event, row.data, idempotency_key=row.idempotency_key
                )
            except RelevoHTTPError as exc:
                if exc.retry or exc.status not in REFUSED_FOR_GOOD:
                    blocked = str(exc)  # relevo busy, or the relay's key wrong: wait
                    break
                log.error("relevo refused outbox row %s for good: %s", row.pk, exc)
                row.status = Outbox.Status.FAILED
                row.error = str(exc)[:2000]
                row.save(using=using, update_fields=["status", "error"])
                failed += 1
                continue
            except httpx.TransportError as exc:
                blocked = f"relevo unreachable: {exc!r}"
                break
            _fault("after_publish")
            row.status = Outbox.Status.SENT
            row.sent_at = timezone.now()
            row.offset = result.get("offset")
            row.save(using=using, update_fields=["status", "sent_at", "offset"])
            sent += 1
    if blocked:
        log.warning("outbox relay paused: %s", blocked)
    return RelayResult(sent, failed, blocked)
