"""The interfaces below the hub: ``Broker`` (history and cross-node fan-out)
and ``PresenceStore`` (who is subscribed where, across nodes).

A broker stores each channel's recent publications (epoch + gapless offsets)
and delivers every publication to every node that has subscribers for its
channel. A presence store keeps, per channel, the connections subscribed to
it, each entry alive for a TTL its node refreshes. The hub above them never
knows which implementations it has; ``memory.py`` (one process) and
``redis.py`` (many) pass the same contract suites. One object may implement
both (``RedisBroker`` does: they share its connection), but the hub takes them
separately.

A publish may carry an **idempotency key**: the broker accepts a key once per
channel within its window (``idempotency_window``, 5 minutes by default); a
repeat stores and delivers nothing and answers the first publication's
position. That turns an at-least-once sender (the outbox relay, a client that
retries after a lost reply) into one event with one offset.

``publish_many`` appends a batch in one go (one round trip to Redis): each
item exactly as ``publish`` would, in the batch's order, which is the order
its channels' offsets follow. The outbox relay publishes a burst of
committed changes that way, so the records path is not one broker round
trip per change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from relevo.protocol.errors import ProtocolError
from relevo.protocol.types import ClientInfo, Publication, StreamPosition

__all__ = [
    "DEFAULT_IDEMPOTENCY_WINDOW",
    "MAX_IDEMPOTENCY_KEY",
    "Broker",
    "BrokerHandler",
    "HistoryOptions",
    "HistoryResult",
    "PresenceStore",
    "PublishItem",
    "check_idempotency_key",
]

DEFAULT_IDEMPOTENCY_WINDOW = 300.0
"""Seconds a broker remembers an idempotency key."""
MAX_IDEMPOTENCY_KEY = 256
"""Characters an idempotency key may have at most."""


def check_idempotency_key(key: str) -> None:
    if not key or len(key) > MAX_IDEMPOTENCY_KEY:
        raise ProtocolError(
            f"idempotency_key must have 1 to {MAX_IDEMPOTENCY_KEY} characters, got {len(key)}"
        )


@dataclass(frozen=True, slots=True)
class HistoryOptions:
    """How much of a channel's stream to keep: ``size`` publications at most,
    each for ``ttl`` seconds at most. ``size == 0`` keeps offsets but no history."""

    size: int = 100
    ttl: float = 300.0
    meta_ttl: float = 86400.0  # how long an idle channel keeps its epoch/offset


@dataclass(frozen=True, slots=True)
class PublishItem:
    """One publication of a ``publish_many`` batch (``publish``'s arguments)."""

    channel: str
    event: str
    data: bytes
    options: HistoryOptions
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class HistoryResult:
    publications: list[Publication]
    position: StreamPosition


class BrokerHandler(Protocol):
    """What a broker calls back on this node (the hub)."""

    def on_publication(self, pub: Publication) -> None: ...

    def on_push(self, channel: str, event: str, data: bytes) -> None: ...

    def on_gap(self, channel: str) -> None:
        """Live delivery for ``channel`` may have skipped publications (the
        broker lost its feed for a while and could not refill it): every local
        subscriber must recover from history."""


class Broker(Protocol):
    async def start(self, handler: BrokerHandler) -> None:
        """Connect and begin delivering to ``handler``."""

    async def close(self) -> None: ...

    async def publish(
        self,
        channel: str,
        event: str,
        data: bytes,
        options: HistoryOptions,
        *,
        idempotency_key: str | None = None,
    ) -> Publication:
        """Append to the channel's history and deliver to every node; the returned
        publication carries its offset and epoch. With an ``idempotency_key``
        already used on ``channel`` within the window, store and deliver
        nothing and return the first publication's offset, epoch and ts."""

    async def publish_many(self, items: Sequence[PublishItem]) -> list[Publication]:
        """``publish`` each item, in order, in one go; the publications in the
        items' order. A failure (``Unavailable``) may leave any prefix of the
        batch published: publish it again with the same idempotency keys."""

    async def publish_push(self, channel: str, event: str, data: bytes) -> None:
        """Deliver without history (presence joins/leaves)."""

    async def subscribe(self, channel: str) -> None:
        """This node now has subscribers for ``channel``: deliver its publications
        here. When it returns, delivery is live. Calls are counted per channel:
        ``n`` subscribes need ``n`` unsubscribes, in whatever order they run.
        Channels starting with ``$`` (``$control``) reach every node unasked."""

    async def unsubscribe(self, channel: str) -> None: ...

    async def history(
        self,
        channel: str,
        since: StreamPosition | None,
        limit: int,
        options: HistoryOptions,
    ) -> HistoryResult:
        """Publications after ``since`` (all retained ones if ``None``), oldest
        first, at most ``limit`` (the newest ``limit`` when ``since`` is None),
        plus the stream's current position."""

    async def position(self, channel: str, options: HistoryOptions) -> StreamPosition: ...

    async def remove_history(self, channel: str) -> None: ...

    async def ping(self) -> None:
        """Raise :class:`relevo.protocol.errors.Unavailable` when the broker is unreachable."""


@runtime_checkable
class PresenceStore(Protocol):
    """Who is subscribed to a channel, on every node. An entry lives ``ttl``
    seconds unless added again (its node refreshes it), so the entries of a
    node that died go by themselves."""

    async def add_presence(self, channel: str, info: ClientInfo, ttl: float) -> None:
        """Add ``info`` (keyed by ``info.client``), or refresh it: one entry per client."""

    async def remove_presence(self, channel: str, client: str) -> None:
        """Remove the entry of ``client``; nothing happens if it has none."""

    async def presence(self, channel: str) -> list[ClientInfo]:
        """The live entries of ``channel``, in no particular order."""
