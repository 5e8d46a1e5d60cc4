"""Brokers: history, cross-node fan-out and presence behind one interface."""

from relevo.broker.base import Broker, BrokerHandler, HistoryOptions, HistoryResult
from relevo.broker.memory import MemoryBroker

__all__ = ["Broker", "BrokerHandler", "HistoryOptions", "HistoryResult", "MemoryBroker"]
