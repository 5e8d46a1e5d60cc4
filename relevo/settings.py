"""The one settings object of relevo: frozen dataclasses with a documented
default on every field. Parsing (TOML, env vars, CLI flags) lives at the edge,
in ``relevo.server.config``; everything below receives a ``Settings``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from relevo.protocol.errors import ErrorCode, RelevoError

__all__ = [
    "AuthSettings",
    "BrokerSettings",
    "ConfigError",
    "DatabaseSettings",
    "LimitSettings",
    "LivenessSettings",
    "NamespaceSettings",
    "OidcSettings",
    "ProxySettings",
    "Rule",
    "ServerSettings",
    "Settings",
]


class ConfigError(RelevoError):
    """A setting that cannot be used; the message names it (``server.port: ...``)."""

    code = ErrorCode.BAD_REQUEST
    status = 400


@dataclass(frozen=True, slots=True)
class ServerSettings:
    host: str = "127.0.0.1"
    """Interface to listen on."""
    port: int = 8000
    """TCP port to listen on."""
    workers: int = 1
    """Processes sharing the port (needs a shared broker such as Redis when > 1)."""
    allowed_origins: tuple[str, ...] = ()
    """Browser origins allowed to connect besides the server's own; "*" allows any."""
    trusted_proxies: tuple[str, ...] = ("127.0.0.1",)
    """Addresses (or networks, or "*") of reverse proxies whose X-Forwarded-For and
    X-Forwarded-Proto the HTTP API believes (client address for rate limits, logs)."""
    log_level: str = "info"
    """Log level: debug, info, warning, error."""
    metrics_public: bool = False
    """Serve ``/metrics`` without the API key (a scraper inside a private network)."""


@dataclass(frozen=True, slots=True)
class OidcSettings:
    """Single sign-on through an OpenID Connect provider (``[auth.oidc]``);
    off while ``issuer`` is empty. docs/auth.md shows a configuration."""

    issuer: str = ""
    """The provider's issuer URL; its ``/.well-known/openid-configuration`` is read."""
    client_id: str = ""
    """relevo's client id at the provider."""
    client_secret: str = ""
    """Its secret (``client_secret_basic``); empty for a public client (PKCE only)."""
    redirect_url: str = ""
    """The callback URL registered at the provider; default: this server's
    ``/auth/oidc/callback`` as the browser reached it."""
    label: str = "Entrar con la cuenta de la empresa"
    """The sign-in page's button."""
    scopes: tuple[str, ...] = ("openid", "profile", "email")
    username_claim: str = "preferred_username"
    """The claim that names the account (``sub`` when absent)."""
    name_claim: str = "name"
    roles_claim: str = "groups"
    """A claim listing the person's groups (a list or one string)."""
    roles: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Group → roles as ``"app:role"`` (``"*:admin"`` for every app):
    ``{ "ventas" = ["leads:gtr"] }``. Set at every sign-in; a person none of
    whose groups is mapped is refused."""
    tenant_claim: str = ""
    """The claim holding the person's tenant (inbox company, cargue grupo)."""
    create_accounts: bool = True
    """Create the account at its first sign-in (else an admin creates it first)."""
    timeout: float = 10.0
    """Seconds a call to the provider may take."""


@dataclass(frozen=True, slots=True)
class AuthSettings:
    secret: str = ""
    """Shared secret for HS256 tokens."""
    public_key: str = ""
    """PEM public key for RS256/ES256 tokens (a path or the PEM text)."""
    algorithms: tuple[str, ...] = ("HS256",)
    """Accepted JWT algorithms."""
    api_key: str = ""
    """Key for the server HTTP API (header ``Authorization: apikey <key>``)."""
    audience: str = ""
    """Required ``aud`` claim, if set."""
    issuer: str = ""
    """Required ``iss`` claim, if set."""
    leeway: float = 5.0
    """Seconds of clock skew tolerated on ``exp``."""
    require_exp: bool = True
    """Refuse tokens without an ``exp`` claim; only ``relevo demo`` may turn it off."""
    oidc: OidcSettings = field(default_factory=OidcSettings)
    """Single sign-on: a table of its own, ``[auth.oidc]`` (docs/auth.md)."""


@dataclass(frozen=True, slots=True)
class LimitSettings:
    max_frame_bytes: int = 65536
    """Largest client frame accepted; bigger ones get ``too_large``."""
    max_subscriptions: int = 256
    """Channels one connection may subscribe to."""
    commands_per_second: float = 50.0
    """Sustained command rate per connection."""
    command_burst: int = 100
    """Commands a connection may send in a burst above the sustained rate."""
    max_outbound_bytes: int = 1_048_576
    """Unsent bytes a connection may queue before it is a slow consumer."""
    max_connections: int = 0
    """Open connections per node (of any kind, counted when accepted, before a
    byte is read); 0 derives it from the process's open-file limit, keeping a
    tenth of it (at least 32) for the database, the broker and health checks."""
    max_connections_per_ip: int = 1024
    """Open connections from one client address; 0 means no limit. Sized for an
    office behind one NAT address (a person holds one to three); addresses in
    ``server.trusted_proxies`` are exempt, since a proxy carries many clients."""
    handshake_timeout: float = 10.0
    """Seconds a connection has to send a complete request head (HTTP request or
    WebSocket upgrade), from when it is accepted or starts its next request;
    later it is closed, with a 408 if it sent anything."""
    max_publish_bytes: int = 65536
    """Largest ``data`` a publication may carry."""


@dataclass(frozen=True, slots=True)
class LivenessSettings:
    ping_interval: float = 25.0
    """Seconds between protocol-level pings the server sends."""
    pong_timeout: float = 10.0
    """Seconds of silence after a ping before the peer is declared dead."""
    presence_ttl: float = 60.0
    """Seconds a presence entry lives unless refreshed (refreshed every ping)."""


@dataclass(frozen=True, slots=True)
class Rule:
    """Who may do something in a namespace.

    ``role``: the token must carry it (any authenticated user when empty).
    ``channel``: a pattern the channel must match, with placeholders bound to
    token claims (``asesor:{user}``, ``t:{tenant}:*``).
    ``anonymous``: also allowed without a token.
    """

    role: str = ""
    channel: str = ""
    anonymous: bool = False


@dataclass(frozen=True, slots=True)
class NamespaceSettings:
    name: str
    """The part of a channel name before the first ``:`` (the whole name if none)."""
    subscribe: tuple[Rule, ...] = ()
    """Who may subscribe. Empty: nobody (default deny)."""
    publish: tuple[Rule, ...] = ()
    """Who may publish from a client connection. Empty: nobody."""
    presence: tuple[Rule, ...] = ()
    """Who may ask who is subscribed. Empty: nobody."""
    history_size: int = 100
    """Publications kept per channel for recovery; 0 keeps none."""
    history_ttl: float = 300.0
    """Seconds a publication stays in history."""
    join_leave: bool = False
    """Push ``$join`` / ``$leave`` to subscribers and track presence."""
    subscribe_proxy: str = ""
    """Name of a ``[proxy.NAME]`` the app's backend answers: asked before each
    subscribe (and history read) the rules above allow. Empty: not asked."""


#: The name of the one proxy asked when a client connects without a token.
CONNECT_PROXY = "connect"


@dataclass(frozen=True, slots=True)
class ProxySettings:
    """An HTTP endpoint of the app's own backend that relevo asks (docs/proxies.md).
    ``[proxy.connect]`` is asked when a client connects without a token; any
    other name is a subscribe proxy that namespaces name in ``subscribe_proxy``."""

    name: str
    """``connect``, or the name namespaces refer to."""
    url: str = ""
    """Where relevo POSTs (http:// or https://); from the config only, never from a client."""
    timeout: float = 1.0
    """Seconds an answer may take, the wait for a free call slot included; past it: unavailable."""
    forward_cookies: tuple[str, ...] = ()
    """Cookies of the client's request passed on to the backend (connect only), by name."""
    forward_headers: tuple[str, ...] = ()
    """Headers of the client's request passed on to the backend (connect only), by name."""
    headers: dict[str, str] = field(default_factory=dict)
    """Fixed headers relevo adds to every call (a key the backend checks it is relevo)."""
    cache_ttl: float = 5.0
    """Seconds an answer, yes or no, is reused for the same question; 0: never reused."""
    cache_size: int = 10000
    """Answers kept at most (the oldest go first)."""
    max_concurrency: int = 16
    """Calls in flight at once to this backend; the others wait (within ``timeout``)."""
    always: bool = False
    """Connect only: refuse client tokens, so every connection is the backend's to allow."""


@dataclass(frozen=True, slots=True)
class BrokerSettings:
    url: str = "memory://"
    """``memory://`` (one process), ``redis://host:port/db`` (one Redis),
    ``redis+sentinel://host1:26379,host2:26379/service?db=0`` (the primary
    Sentinel names) or ``redis+cluster://host1:7000,host2:7001`` (a Cluster)."""
    idempotency_window: float = 300.0
    """Seconds a publish's ``idempotency_key`` is remembered per channel: a
    repeat within it publishes nothing and answers the first offset."""
    pool_size: int = 50
    """Redis command connections per node process; a command waits for a free
    one instead of failing. Pub/sub uses one more connection, whatever the
    number of channels."""
    pool_timeout: float = 10.0
    """Seconds a Redis command waits for a free connection before ``unavailable``."""


@dataclass(frozen=True, slots=True)
class DatabaseSettings:
    url: str = ""
    """SQLAlchemy URL of the records store; empty: a SQLite file next to the config."""


@dataclass(frozen=True, slots=True)
class Settings:
    server: ServerSettings = field(default_factory=ServerSettings)
    auth: AuthSettings = field(default_factory=AuthSettings)
    limits: LimitSettings = field(default_factory=LimitSettings)
    liveness: LivenessSettings = field(default_factory=LivenessSettings)
    broker: BrokerSettings = field(default_factory=BrokerSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    namespaces: tuple[NamespaceSettings, ...] = ()
    proxies: tuple[ProxySettings, ...] = ()
    """The app's backend endpoints relevo asks, from ``[proxy.NAME]`` tables."""
    apps: tuple[str, ...] = ()
    """Apps to mount: leads, turnos, cargue, inbox."""
    app: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per-app options, ``[app.leads] timeout = 300``; each app validates its own."""
    demo: bool = False
    """Serve the demo page and seed sample data."""
