"""Fault injection for crash tests: ``RELEVO_RECORDS_FAULT=after_commit``
makes the process SIGKILL itself right after a commit, before the relay can
publish, which is the one moment a naive "write then publish" loses events;
``after_publish`` kills it after the relay published a row and before it
marked the row sent, the moment an at-least-once relay publishes twice."""

from __future__ import annotations

import os
import signal

__all__ = ["fault"]

_ENV = "RELEVO_RECORDS_FAULT"


def fault(point: str) -> None:
    if os.environ.get(_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)
