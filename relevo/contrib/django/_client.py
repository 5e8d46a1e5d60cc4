"""The one SDK client of the process (``httpx.Client`` is thread-safe) and
the thread pool that ``publish_on_commit`` hands its publications to."""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from relevo.client import RelevoClient
from relevo.contrib.django.conf import _on_change, conf

__all__ = ["client", "executor", "track", "wait_published"]

_lock = threading.Lock()
_client: RelevoClient | None = None
_executor: ThreadPoolExecutor | None = None
_pending: set[Future[Any]] = set()
_idle = threading.Condition(_lock)
#: The process that made the pool and the client. A child forked after that
#: (gunicorn ``--preload``) inherits them without their threads: it makes its own.
_pid = os.getpid()


def _forked() -> None:
    global _client, _executor, _pid, _pending
    if _pid != os.getpid():
        _pid = os.getpid()
        _client = None
        _executor = None
        _pending = set()


def client() -> RelevoClient:
    global _client
    with _lock:
        _forked()
        if _client is None:
            c = conf()
            if not c.url or not c.api_key:
                raise ImproperlyConfigured("RELEVO_URL and RELEVO_API_KEY are needed to publish")
            _client = RelevoClient(c.url, c.api_key, c.timeout, retries=c.retries)
        return _client


def executor() -> ThreadPoolExecutor:
    global _executor
    with _lock:
        _forked()
        if _executor is None:
            _executor = ThreadPoolExecutor(
                max_workers=conf().publish_workers, thread_name_prefix="relevo-publish"
            )
        return _executor


def track(future: Future[Any]) -> None:
    """Count ``future`` as pending until it is done (see :func:`wait_published`)."""
    with _lock:
        _pending.add(future)
    future.add_done_callback(_done)


def _done(future: Future[Any]) -> None:
    with _idle:
        _pending.discard(future)
        if not _pending:
            _idle.notify_all()


def wait_published(timeout: float | None = None) -> bool:
    """Wait until every publication handed to the pool so far was sent (or
    given up and logged); False if ``timeout`` passed first. For tests, and
    for scripts that exit right after a publish."""
    with _idle:
        _forked()
        return _idle.wait_for(lambda: not _pending, timeout)


def _reset() -> None:
    """Settings changed: the next publish builds a new client (the pool stays:
    its queued calls fetch the client when they run). At exit the interpreter
    runs what is queued on the pool before it stops."""
    global _client
    with _lock:
        # Not closed: a worker may be in the middle of a call on it.
        _client = None


_on_change.append(_reset)
