"""Settings from ``relevo.toml``, ``RELEVO_*`` env vars and CLI flags, validated
at start. A wrong key or value raises :class:`ConfigError` naming it."""

from __future__ import annotations

import dataclasses
import os
import re
import secrets
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from relevo.options import Shorthand, build, convert
from relevo.protocol.errors import RelevoError
from relevo.settings import (
    CONNECT_PROXY,
    ConfigError,
    NamespaceSettings,
    ProxySettings,
    Rule,
    Settings,
)

__all__ = ["ConfigError", "load_settings", "merge_namespaces", "write_dev_config"]

_REDIS_HA = ("redis+sentinel://", "redis+cluster://")
_ALGORITHMS = frozenset(
    {"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "PS256"}
)
BROKER_SCHEMES = ("memory://", "redis://", "rediss://", "unix://", *_REDIS_HA)
_SECTIONS = ("server", "auth", "limits", "liveness", "broker", "database")


def _rule_from_string(value: str, where: str) -> Rule:
    """Shorthands: "anonymous", "authenticated", "role:gtr"."""
    if value == "anonymous":
        return Rule(anonymous=True)
    if value == "authenticated":
        return Rule()
    if value.startswith("role:") and len(value) > 5:
        return Rule(role=value[5:])
    raise ConfigError(
        f'{where}: a rule is a table like {{ role = "gtr", channel = "asesor:{{user}}" }} '
        f'or one of "anonymous", "authenticated", "role:NAME"; got {value!r}'
    )


_SHORTHAND: dict[type, Shorthand] = {Rule: _rule_from_string}
"""Env vars and TOML may name a rule by a word: "anonymous", "role:gtr"."""


def _build(cls: type[Any], data: Mapping[str, Any], where: str) -> Any:
    """A section of relevo.toml; strings too, for the env vars."""
    return build(cls, data, where, strings=True, shorthand=_SHORTHAND)


def _convert(value: Any, tp: Any, where: str) -> Any:
    return convert(value, tp, where, strings=True, shorthand=_SHORTHAND)


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    """``RELEVO_SERVER_PORT=9000`` → ``{"server": {"port": "9000"}}``."""
    out: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith("RELEVO_"):
            continue
        rest = name[7:].lower()
        if rest in ("apps", "demo"):
            out[rest] = value
            continue
        for section in _SECTIONS:
            if rest.startswith(section + "_"):
                out.setdefault(section, {})[rest[len(section) + 1 :]] = value
                break
    return out


def _validate(settings: Settings) -> None:
    s = settings
    if not 0 <= s.server.port <= 65535:
        raise ConfigError(f"server.port: {s.server.port} is not a TCP port")
    if s.server.workers < 1:
        raise ConfigError("server.workers: must be at least 1")
    if s.server.log_level not in ("debug", "info", "warning", "error"):
        raise ConfigError("server.log_level: one of debug, info, warning, error")
    for alg in s.auth.algorithms:
        if alg not in _ALGORITHMS:
            raise ConfigError(f"auth.algorithms: unsupported algorithm {alg!r}")
    if (
        any(a.startswith("HS") for a in s.auth.algorithms)
        and s.auth.secret
        and len(s.auth.secret) < 32
    ):
        raise ConfigError("auth.secret: use at least 32 characters (RFC 7518 §3.2)")
    if not s.auth.require_exp and not s.demo:
        raise ConfigError(
            "auth.require_exp: only relevo demo may accept tokens without exp "
            "(a token that never expires cannot be taken back)"
        )
    if any(a[:2] in ("RS", "ES", "PS") for a in s.auth.algorithms) and not s.auth.public_key:
        raise ConfigError("auth.public_key: required for RS/ES/PS algorithms")
    for name in (
        "max_frame_bytes",
        "max_subscriptions",
        "command_burst",
        "max_outbound_bytes",
        "max_publish_bytes",
    ):
        if getattr(s.limits, name) <= 0:
            raise ConfigError(f"limits.{name}: must be positive")
    if s.limits.commands_per_second <= 0:
        raise ConfigError("limits.commands_per_second: must be positive")
    if s.limits.handshake_timeout <= 0:
        raise ConfigError("limits.handshake_timeout: must be positive")
    for name in ("max_connections", "max_connections_per_ip"):
        if getattr(s.limits, name) < 0:
            raise ConfigError(f"limits.{name}: must be 0 (see the docs) or more")
    for name in ("ping_interval", "pong_timeout", "presence_ttl"):
        if getattr(s.liveness, name) <= 0:
            raise ConfigError(f"liveness.{name}: must be positive")
    if not s.broker.url.startswith(BROKER_SCHEMES):
        raise ConfigError(
            "broker.url: use memory://, redis://host:port/db, "
            "redis+sentinel://host:26379,host2:26379/service or "
            f"redis+cluster://host:7000,host2:7001, got {s.broker.url!r}"
        )
    if s.broker.url.startswith(_REDIS_HA):
        _check_redis_url(s.broker.url)
    if s.broker.idempotency_window <= 0:
        raise ConfigError("broker.idempotency_window: must be positive")
    if s.broker.pool_size < 1:
        raise ConfigError("broker.pool_size: must be at least 1")
    if s.broker.pool_timeout <= 0:
        raise ConfigError("broker.pool_timeout: must be positive")
    for ns in s.namespaces:
        if not ns.name or ":" in ns.name:
            raise ConfigError(f"namespaces.{ns.name}: a namespace name has no ':'")
        if ns.history_size < 0 or ns.history_ttl <= 0:
            raise ConfigError(f"namespaces.{ns.name}: history_size >= 0 and history_ttl > 0")
    _validate_proxies(s)
    from relevo.apps import KNOWN_APPS

    for where, app in [*(("apps", a) for a in s.apps), *((f"app.{a}", a) for a in s.app)]:
        if app not in KNOWN_APPS:
            raise ConfigError(f"{where}: unknown app {app!r} (known: {', '.join(KNOWN_APPS)})")


#: Headers a proxy may not forward or set: they frame the call itself, or
#: (cookie) have their own setting that names which cookies go.
_PROXY_RESERVED_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "content-type",
        "transfer-encoding",
        "connection",
        "cookie",
        "upgrade",
        "te",
        "trailer",
        "keep-alive",
        "proxy-authorization",
        "expect",
    }
)
_HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}")
_COOKIE_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}")


def _validate_proxies(s: Settings) -> None:
    names = {p.name for p in s.proxies}
    for p in s.proxies:
        where = f"proxy.{p.name}"
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", p.name):
            raise ConfigError(f"{where}: a proxy name is letters, digits, _ and -")
        if not p.url.startswith(("http://", "https://")) or len(p.url) < 9:
            raise ConfigError(f"{where}.url: an http:// or https:// URL is required")
        if not 0 < p.timeout <= 60:
            raise ConfigError(f"{where}.timeout: seconds, more than 0 and at most 60")
        if p.cache_ttl < 0:
            raise ConfigError(f"{where}.cache_ttl: 0 (no cache) or more")
        if p.cache_size < 1 or p.max_concurrency < 1:
            raise ConfigError(f"{where}: cache_size and max_concurrency must be at least 1")
        for header in (*p.forward_headers, *p.headers):
            if not _HEADER_NAME.fullmatch(header) or header.lower() in _PROXY_RESERVED_HEADERS:
                raise ConfigError(
                    f"{where}: header {header!r} cannot be forwarded or set "
                    "(cookies go by name in forward_cookies)"
                )
        for cookie in p.forward_cookies:
            if not _COOKIE_NAME.fullmatch(cookie):
                raise ConfigError(f"{where}.forward_cookies: {cookie!r} is not a cookie name")
        if p.name != CONNECT_PROXY and (p.forward_headers or p.forward_cookies or p.always):
            raise ConfigError(
                f"{where}: forward_headers, forward_cookies and always are for "
                f"[proxy.{CONNECT_PROXY}] only (a subscribe proxy is sent the user, "
                "not the request)"
            )
    for ns in s.namespaces:
        if ns.subscribe_proxy and ns.subscribe_proxy not in names:
            raise ConfigError(
                f"namespaces.{ns.name}.subscribe_proxy: "
                f"no [proxy.{ns.subscribe_proxy}] is configured"
            )
        if ns.subscribe_proxy == CONNECT_PROXY:
            raise ConfigError(
                f"namespaces.{ns.name}.subscribe_proxy: [proxy.{CONNECT_PROXY}] is the connect "
                "proxy; give the subscribe proxy another name"
            )


def settings_from_mapping(data: Mapping[str, Any]) -> Settings:
    data = dict(data)
    kwargs: dict[str, Any] = {}
    hints = typing.get_type_hints(Settings)
    namespaces = data.pop("namespaces", {})
    app_options = data.pop("app", {})
    proxies = data.pop("proxy", {})
    if not isinstance(app_options, Mapping) or not all(
        isinstance(v, Mapping) for v in app_options.values()
    ):
        raise ConfigError("app: expected tables like [app.leads]")
    for key, value in data.items():
        if key not in hints or key in ("namespaces", "app", "proxies"):
            known = ", ".join(sorted({*hints, "proxy"} - {"proxies"}))
            raise ConfigError(f"{key}: unknown setting (known sections: {known})")
        kwargs[key] = _convert(value, hints[key], key)
    if not isinstance(namespaces, Mapping):
        raise ConfigError("namespaces: expected tables like [namespaces.gtr]")
    ns_list = []
    for name, table in namespaces.items():
        if not isinstance(table, Mapping):
            raise ConfigError(f"namespaces.{name}: expected a table")
        ns_list.append(_build(NamespaceSettings, {"name": name, **table}, f"namespaces.{name}"))
    kwargs["namespaces"] = tuple(ns_list)
    if not isinstance(proxies, Mapping):
        raise ConfigError("proxy: expected tables like [proxy.connect]")
    proxy_list = []
    for name, table in proxies.items():
        if not isinstance(table, Mapping):
            raise ConfigError(f"proxy.{name}: expected a table")
        proxy_list.append(_build(ProxySettings, {"name": name, **table}, f"proxy.{name}"))
    kwargs["proxies"] = tuple(proxy_list)
    kwargs["app"] = {str(k): dict(v) for k, v in app_options.items()}
    settings = Settings(**kwargs)
    _validate(settings)
    return settings


def load_settings(
    path: Path | None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    extra_namespaces: tuple[NamespaceSettings, ...] = (),
) -> Settings:
    """File, then env vars, then CLI overrides (``{"server": {"port": 9000}}``)."""
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such config file") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    data = _merge(data, _from_env(os.environ if environ is None else environ))
    if overrides:
        data = _merge(data, overrides)
    settings = settings_from_mapping(data)
    if extra_namespaces:
        merged = merge_namespaces(settings.namespaces, [("given", extra_namespaces)])
        settings = dataclasses.replace(settings, namespaces=merged)
    return settings


def merge_namespaces(
    configured: tuple[NamespaceSettings, ...],
    owned: list[tuple[str, tuple[NamespaceSettings, ...]]],
) -> tuple[NamespaceSettings, ...]:
    """The configured namespaces plus those each app (``owned``: app name, its
    namespaces) needs. An app's namespace is the app's: the file may define
    other namespaces, or repeat an app's exactly, but a different definition
    of the same name is a :class:`ConfigError` naming both — never a silent
    replacement of the app's rules (an inbox whose channels accept client
    publishes), and never a silent loss of the file's."""
    out = list(configured)
    owner: dict[str, tuple[str | None, NamespaceSettings]] = {
        ns.name: (None, ns) for ns in configured
    }
    for app, namespaces in owned:
        for ns in namespaces:
            seen = owner.get(ns.name)
            if seen is None:
                owner[ns.name] = (app, ns)
                out.append(ns)
            elif seen[1] != ns:
                if seen[0] is None:
                    raise ConfigError(
                        f"namespaces.{ns.name}: relevo.toml defines [namespaces.{ns.name}], "
                        f"which the {app} app owns; remove it from the file (tune the app "
                        f"with [app.{app}]) or give your own channels another namespace"
                    )
                raise ConfigError(
                    f"namespaces.{ns.name}: both the {seen[0]} and the {app} app define it"
                )
    return tuple(out)


def _example(cls: type[Any], skip: tuple[str, ...] = ()) -> list[str]:
    lines = []
    for f in dataclasses.fields(cls):
        if dataclasses.is_dataclass(f.default_factory):  # a table of its own: [auth.oidc]
            lines.append(f"# {_field_docs(cls).get(f.name, f.name)}")
        elif f.name not in skip:
            default = f.default if f.default is not dataclasses.MISSING else None
            doc = _field_docs(cls).get(f.name, "")
            lines += [f"# {doc}"] if doc else []
            lines.append(f"# {f.name} = {_toml_value(default)}")
    return lines


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return str(value)


def _field_docs(cls: type[Any]) -> dict[str, str]:
    """Attribute docstrings (the string after each field) from the source."""
    import ast
    import inspect

    try:
        tree = ast.parse(inspect.getsource(cls))
    except (OSError, TypeError):
        return {}
    docs: dict[str, str] = {}
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    for prev, node in zip(body, body[1:], strict=False):
        if (
            isinstance(prev, ast.AnnAssign)
            and isinstance(prev.target, ast.Name)
            and isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            docs[prev.target.id] = " ".join(node.value.value.split())
    return docs


DEV_NAMESPACES = """
# Namespaces: who may subscribe / publish / ask presence, per channel prefix.
# Default deny: a channel whose namespace is not listed here is refused.
# A rule is a table: role (token must carry it), channel (pattern with
# placeholders bound to token claims: {user}, {tenant}, any claim), anonymous.
# Shorthands: "anonymous", "authenticated", "role:NAME".

[namespaces.demo]
subscribe = ["anonymous"]
publish = ["authenticated"]
presence = ["authenticated"]
join_leave = true
history_size = 100
history_ttl = 600

[namespaces.user]
# each user's private channel user:<id>
subscribe = [{ channel = "user:{user}" }, "role:admin"]

# Tenant isolation for your own channels: team:<tenant>:<anything>.
# (Apps bring their own namespaces: t for the inbox, gtr and asesor for leads,
# turnos, cargue, despacho, presencia. Do not define those here: a different
# definition of an app's namespace stops the server. Channels that carry
# records never take a client publish, whatever a namespace says.)
# [namespaces.team]
# subscribe = [{ channel = "team:{tenant}:*" }]
# presence = [{ channel = "team:{tenant}:*" }]
# join_leave = true
"""


def write_dev_config(path: Path) -> Settings:
    """Write a development ``relevo.toml``: fresh secrets, every setting shown."""
    secret = secrets.token_urlsafe(32)
    api_key = secrets.token_urlsafe(24)
    from relevo import settings as s

    lines = [
        "# relevo configuration, written by `relevo serve` in development mode.",
        "# Every setting is shown with its default, commented out. Env vars override",
        "# the file (RELEVO_SERVER_PORT=9000, RELEVO_BROKER_URL=...), flags override both.",
        "",
        "[server]",
        *_example(s.ServerSettings),
        "",
        "[auth]",
        f'secret = "{secret}"',
        f'api_key = "{api_key}"',
        *_example(s.AuthSettings, skip=("secret", "api_key")),
        "",
        "[limits]",
        *_example(s.LimitSettings),
        "",
        "[liveness]",
        *_example(s.LivenessSettings),
        "",
        "[broker]",
        *_example(s.BrokerSettings),
        "",
        "[database]",
        *_example(s.DatabaseSettings),
        DEV_NAMESPACES,
    ]
    text = "\n".join(lines) + "\n"
    path.write_text(text)
    os.chmod(path, 0o600)
    return settings_from_mapping(tomllib.loads(text))


_ = types  # keep the import for type-evaluated annotations


def _check_redis_url(url: str) -> None:
    try:
        from relevo.broker._redis_topology import parse_url
    except ImportError:  # no redis client in this build: create_broker says so
        return
    try:
        parse_url(url)
    except RelevoError as exc:
        raise ConfigError(exc.message) from None
