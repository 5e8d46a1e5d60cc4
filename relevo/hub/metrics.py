"""Prometheus metrics of one hub, in a registry of its own (no global state).

Counters count events as they happen. The gauges (connections,
subscriptions, channels) are read from the hub's own counts when scraped
(:meth:`HubMetrics.read_gauges_from`): a prometheus ``inc``/``dec`` takes a
lock and several calls, and every connect, subscribe and close paid two."""

from __future__ import annotations

from collections.abc import Collection, Sized
from functools import partial
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge

__all__ = ["HubMetrics"]


class HubMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.connections = Gauge(
            "relevo_connections", "Open client connections", ["transport"], registry=r
        )
        self.subscriptions = Gauge("relevo_subscriptions", "Active subscriptions", registry=r)
        self.channels = Gauge("relevo_channels", "Channels with local subscribers", registry=r)
        self.publications = Counter(
            "relevo_publications_total", "Publications delivered to this node", registry=r
        )
        self.published = Counter(
            "relevo_published_total", "Publications accepted by this node", ["source"], registry=r
        )
        self.deliveries = Counter(
            "relevo_deliveries_total", "Publication frames written to subscribers", registry=r
        )
        self.commands = Counter(
            "relevo_commands_total", "Client commands handled", ["op"], registry=r
        )
        self.errors = Counter("relevo_errors_total", "Errors sent to clients", ["code"], registry=r)
        self.disconnects = Counter(
            "relevo_disconnects_total", "Connections closed by the server", ["code"], registry=r
        )
        self.recoveries = Counter(
            "relevo_recoveries_total", "Subscriptions with since", ["recovered"], registry=r
        )
        self.proxy_answers = Counter(
            "relevo_proxy_answers_total",
            "Answers of the app's backend proxies (allowed, refused, cached, unavailable)",
            ["proxy", "answer"],
            registry=r,
        )
        for t in ("ws", "sse"):
            self.connections.labels(t)
        self._children: dict[tuple[int, str], Any] = {}

    def read_gauges_from(self, sessions: Collection[Any], subs: Any, channels: Sized) -> None:
        """Gauges computed at scrape time: the open ``sessions`` by their
        transport's kind, ``subs.live_count`` and the ``channels`` on this node."""
        for kind in ("ws", "sse"):
            self.connections.labels(kind).set_function(partial(_count_kind, sessions, kind))
        self.subscriptions.set_function(lambda: subs.live_count)
        self.channels.set_function(lambda: len(channels))

    def child(self, metric: Any, label: str) -> Any:
        """``metric.labels(label)``, cached: ``labels()`` costs a lock and a
        dict build on every call, and commands count on the hot path."""
        key = (id(metric), label)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(label)
        return found


def _count_kind(sessions: Collection[Any], kind: str) -> int:
    return sum(1 for session in sessions if session.transport.kind == kind)
