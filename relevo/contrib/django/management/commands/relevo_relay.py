"""``manage.py relevo_relay``: publish the outbox (``publish_durable``) to
relevo, in order, until SIGTERM / SIGINT (``--once``: what is pending, then exit)."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections

from relevo.contrib.django.relay import RelayResult, relay_batch

log = logging.getLogger("relevo.contrib.django.relay")

#: Longest wait between passes while relevo or the database is down.
MAX_BACKOFF = 30.0


class Command(BaseCommand):
    help = "Publish pending relevo outbox rows (publish_durable) in order."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="publish what is pending, exit")
        parser.add_argument(
            "--interval", type=float, default=1.0, help="seconds between polls when idle (1.0)"
        )
        parser.add_argument("--batch", type=int, default=100, help="rows per transaction (100)")
        parser.add_argument("--database", default=None, help="database alias (default)")

    def handle(self, *args: Any, **options: Any) -> None:
        interval = max(0.05, float(options["interval"]))
        batch = max(1, int(options["batch"]))
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        total = 0
        backoff = interval
        while not stop.is_set():
            close_old_connections()
            try:
                result = relay_batch(batch, options["database"])
            except Exception as exc:  # the database went away, or a bug: log, wait, go on
                log.exception("relevo_relay: a pass failed")
                result = RelayResult(blocked=repr(exc))
            total += result.sent
            if result.blocked:
                if options["once"]:
                    raise CommandError(f"stopped after {total} published: {result.blocked}")
                backoff = min(MAX_BACKOFF, backoff * 2)
                stop.wait(backoff)
                continue
            backoff = interval
            if result.sent + result.failed == batch:
                continue  # more may be pending: no wait
            if options["once"]:
                break
            stop.wait(interval)
        if options["verbosity"] > 0:
            self.stdout.write(f"relevo_relay: {total} published")
