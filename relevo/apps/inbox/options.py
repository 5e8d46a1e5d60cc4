"""The ``[app.inbox]`` table of relevo.toml, validated at start. For example:

    [app.inbox]
    simulate_every = 40       # demo only: a simulated incoming message every N s (0: off)
    sim_bulk_interval = 0.4   # demo only: seconds between two messages of a simulated bulk send
    timezone = "America/Lima" # decides "today" for the daily counters
    token_url = ""            # your backend's endpoint that returns {"token": ...}

A wrong key or value raises ``ConfigError`` naming it. The simulator runs
only when the server runs in demo mode (``relevo demo``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from relevo.settings import ConfigError

from ..kit.options import check_timezone, parse

__all__ = ["InboxOptions", "parse_options"]


@dataclass(frozen=True, slots=True)
class InboxOptions:
    simulate: bool = True
    """Demo only: made-up customers write now and then (every ``simulate_every``
    s); false: only the simulator's buttons and the connector's flow remain."""
    simulate_every: float = 40.0
    """Demo only: seconds between simulated incoming messages per tenant; 0 turns it off."""
    sim_bulk_interval: float = 0.4
    """Demo only: seconds between two messages of a simulated bulk send."""
    sim_scan_after: float = 6.0
    """Demo only: seconds a simulated QR waits before it is "scanned" (0: wait for the button)."""
    timezone: str = ""
    """IANA zone that decides "today" for the daily counters; empty: the server's."""
    token_url: str = ""
    """URL of your backend returning ``{"token": ...}`` for the signed-in agent
    (cookies are sent); the pages fetch their token there. Empty: demo login."""
    max_text: int = 4096
    """Longest message text accepted, in characters (WhatsApp's limit)."""
    max_bulk: int = 1000
    """Most recipients of one bulk send."""
    history_size: int = 1000
    """Publications kept per ``t:*`` channel for reconnecting screens."""
    history_ttl: float = 3600.0
    """Seconds a publication stays in that history."""
    graph_url: str = "https://graph.facebook.com/v21.0"
    """The WhatsApp Cloud API (Meta's Graph API) base URL, version included."""
    graph_timeout: float = 20.0
    """Seconds one Graph API call may take."""
    graph_retries: int = 5
    """Attempts of one Graph API call answered 429 / 5xx (or not answered)."""
    graph_backoff: float = 1.0
    """First wait between two attempts, doubled each time (a ``Retry-After`` wins)."""
    media_dir: str = "relevo-media"
    """Directory where the attachments customers send (images, documents, audio) are stored."""
    max_media: int = 16_777_216
    """Largest attachment downloaded, in bytes (WhatsApp's own limit for audio and images)."""
    webhook_max: int = 1_048_576
    """Largest webhook delivery accepted, in bytes."""

    def zone(self) -> dt.tzinfo | None:
        return ZoneInfo(self.timezone) if self.timezone else None

    def today(self, now: float) -> str:
        return dt.datetime.fromtimestamp(now, self.zone()).date().isoformat()


def parse_options(options: Mapping[str, Any] | InboxOptions | None) -> InboxOptions:
    """``[app.inbox]`` → :class:`InboxOptions`; clear errors for bad values."""
    opts = parse(InboxOptions, options, "inbox")
    if opts.simulate_every < 0 or opts.sim_bulk_interval < 0 or opts.sim_scan_after < 0:
        raise ConfigError("app.inbox.simulate_every / sim_*: must be 0 or more")
    if not 1 <= opts.max_text <= 65_536 or not 1 <= opts.max_bulk <= 100_000:
        raise ConfigError("app.inbox.max_text: 1-65536; max_bulk: 1-100000")
    if opts.history_size < 1 or not opts.history_ttl > 0:
        raise ConfigError("app.inbox.history_size / history_ttl: must be positive")
    if not opts.graph_url.startswith(("https://", "http://")):
        raise ConfigError("app.inbox.graph_url: must be an http(s) URL")
    if opts.graph_timeout <= 0 or opts.graph_retries < 1 or opts.graph_backoff < 0:
        raise ConfigError("app.inbox.graph_*: timeout > 0, retries >= 1, backoff >= 0")
    if opts.max_media < 1 or opts.webhook_max < 1024:
        raise ConfigError("app.inbox.max_media / webhook_max: must be positive (webhook >= 1024)")
    check_timezone(opts.timezone, "app.inbox.timezone")
    return opts
