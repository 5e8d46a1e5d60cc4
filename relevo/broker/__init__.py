"""Brokers (history, cross-node fan-out) and presence stores, each behind
its own interface."""

from relevo.broker.base import (
    Broker,
    BrokerHandler,
    HistoryOptions,
    HistoryResult,
    PresenceStore,
)
from relevo.broker.memory import MemoryBroker, MemoryPresence, presence_for

__all__ = [
    "Broker",
    "BrokerHandler",
    "HistoryOptions",
    "HistoryResult",
    "MemoryBroker",
    "MemoryPresence",
    "PresenceStore",
    "presence_for",
]
