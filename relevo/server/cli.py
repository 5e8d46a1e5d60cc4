"""The ``relevo`` command: serve, demo, token, publish, bench, migrate, users."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from relevo import __version__
from relevo.server.config import ConfigError, load_settings, write_dev_config
from relevo.settings import Settings

__all__ = ["main"]

DEFAULT_CONFIG = Path("relevo.toml")


def _config_path(args: argparse.Namespace, create: bool) -> Path | None:
    if args.config:
        return Path(args.config)
    env = os.environ.get("RELEVO_CONFIG")
    if env:
        return Path(env)
    if DEFAULT_CONFIG.exists():
        return DEFAULT_CONFIG
    if create:
        write_dev_config(DEFAULT_CONFIG)
        print(
            f"relevo: no config found; wrote {DEFAULT_CONFIG.resolve()} with a fresh token secret "
            "and API key (development mode). Edit it, or pass --config.",
            file=sys.stderr,
        )
        return DEFAULT_CONFIG
    return None


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    server: dict[str, Any] = {}
    for name in ("host", "port", "workers", "log_level"):
        value = getattr(args, name, None)
        if value is not None:
            server[name] = value
    if server:
        out["server"] = server
    if getattr(args, "broker", None):
        out["broker"] = {"url": args.broker}
    if getattr(args, "database", None):
        out["database"] = {"url": args.database}
    if getattr(args, "apps", None) is not None:
        out["apps"] = [a.strip() for a in args.apps.split(",") if a.strip()]
    return out


def _load(args: argparse.Namespace, create: bool, extra: dict[str, Any] | None = None) -> Settings:
    path = _config_path(args, create)
    overrides = _overrides(args)
    if extra:
        for key, value in extra.items():
            overrides.setdefault(key, value)
    return load_settings(path, overrides)


def cmd_serve(args: argparse.Namespace, demo: bool = False) -> int:
    from relevo.server.run import run_server

    extra: dict[str, Any] = {"demo": True} if demo else {}
    settings = _load(args, create=True, extra=extra)
    if demo and not settings.apps:
        from dataclasses import replace

        from relevo.apps import KNOWN_APPS
        from relevo.apps.registry import available_apps

        settings = replace(settings, apps=tuple(a for a in KNOWN_APPS if a in available_apps()))
    if settings.demo and not _loopback(settings.server.host):
        if not getattr(args, "public_demo", False):
            raise ConfigError(
                f"server.host = {settings.server.host!r}: demo mode serves a login that signs "
                "anyone in as any user, admins included, so it listens on 127.0.0.1 only. "
                "To show it on your network on purpose, add --public-demo"
            )
        print(
            f"relevo: WARNING: demo mode on {settings.server.host}: anyone who can reach this "
            "port can sign in as any demo user, admins included. Never with real data.",
            file=sys.stderr,
        )
    if settings.apps:
        from relevo.server.run import with_app_namespaces

        settings = with_app_namespaces(settings)  # a conflict stops here, before any worker
    run_server(settings)
    return 0


def _loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cmd_token(args: argparse.Namespace) -> int:
    from relevo.hub.auth import mint_token

    settings = _load(args, create=False)
    if not settings.auth.secret:
        raise ConfigError("auth.secret: not set; run `relevo serve` once to create relevo.toml")
    if not args.ttl > 0:
        print("relevo token: --ttl must be positive: a token that never expires", file=sys.stderr)
        print("cannot be taken back (and the server refuses it: auth.require_exp)", file=sys.stderr)
        return 2
    roles = [r for r in (args.roles or "").split(",") if r]
    extra = json.loads(args.claims) if args.claims else None
    print(mint_token(settings.auth.secret, args.user, roles, args.tenant or "", args.ttl, extra))
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    from relevo.client import RelevoClient

    settings = _load(args, create=False)
    if not settings.auth.api_key:
        raise ConfigError("auth.api_key: not set; run `relevo serve` once to create relevo.toml")
    url = args.url or f"http://{_connect_host(settings.server.host)}:{settings.server.port}"
    try:
        data = json.loads(args.data)
    except json.JSONDecodeError as exc:
        print(f"relevo publish: DATA is not JSON: {exc}", file=sys.stderr)
        return 2
    import httpx

    from relevo.client import RelevoHTTPError

    try:
        with RelevoClient(url, settings.auth.api_key) as client:
            result = client.publish(
                args.channel, args.event, data, idempotency_key=args.idempotency_key
            )
    except RelevoHTTPError as exc:
        print(f"relevo publish: {exc.code}: {exc.message}", file=sys.stderr)
        return 1
    except httpx.TransportError as exc:
        print(f"relevo publish: cannot reach {url}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


def _connect_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


#: ``relevo bench <name> [args]``: the benchmarks beside the fan-out one; each
#: prints its figures as JSON (docs/benchmarks.md records them).
OTHER_BENCHES = {
    "records": "relevo.bench.records",
    "leads": "relevo.bench.leads",
    "turnos": "relevo.bench.turnos",
    "multinode": "relevo.bench.multinode",
    "soak": "relevo.bench.soak",
}


def cmd_bench(argv: list[str]) -> int:
    # The benchmarks sit above the server (they start servers): the CLI hands
    # them the command by name rather than importing them.
    import importlib

    if argv[:1] and argv[0] in OTHER_BENCHES:
        status = importlib.import_module(OTHER_BENCHES[argv[0]]).main(argv[1:])
        return status if isinstance(status, int) else 0  # soak says pass/fail; others print
    code: int = importlib.import_module("relevo.bench").main(argv)
    return code


def _add_server_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="path of relevo.toml (default: ./relevo.toml)")
    p.add_argument("--host", help="interface to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port to listen on (default 8000)")
    p.add_argument("--workers", type=int, help="processes sharing the port")
    p.add_argument(
        "--broker",
        help="memory://, redis://host:port/db, redis+sentinel://h1:26379,h2:26379/service "
        "or redis+cluster://h1:7000,h2:7001",
    )
    p.add_argument("--database", help="SQLAlchemy URL of the records store")
    p.add_argument("--log-level", dest="log_level", help="debug, info, warning, error")
    p.add_argument(
        "--apps", help="apps to mount, comma-separated (leads,turnos,...); overrides the config's"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="relevo", description="Real-time sync server.")
    parser.add_argument("--version", action="version", version=f"relevo {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_server_flags(sub.add_parser("serve", help="run the server"))
    p = sub.add_parser("demo", help="run the server with the demo apps and sample data")
    _add_server_flags(p)
    p.add_argument(
        "--public-demo",
        action="store_true",
        help="allow a non-loopback --host (anyone on the network can sign in as anyone)",
    )
    p = sub.add_parser("token", help="mint a development JWT")
    p.add_argument("--config")
    p.add_argument("--user", required=True, help="the sub claim")
    p.add_argument("--roles", help="comma-separated roles")
    p.add_argument("--tenant", help="the tenant claim")
    p.add_argument("--ttl", type=float, default=3600.0, help="seconds until it expires")
    p.add_argument("--claims", help="extra claims as a JSON object")
    p = sub.add_parser("publish", help="publish an event through the HTTP API")
    p.add_argument("--config")
    p.add_argument(
        "--url",
        help="server URL (default: server.host and server.port of the config; "
        "a server started with --port needs --url)",
    )
    p.add_argument("channel")
    p.add_argument("event")
    p.add_argument("data", nargs="?", default="null", help="JSON")
    p.add_argument(
        "--idempotency-key",
        help="publish once per key and channel within the broker's window (default 5 min); "
        "a repeat answers the first publication's offset",
    )
    sub.add_parser("bench", help="run the benchmarks (relevo bench --help)", add_help=False)
    p = sub.add_parser("migrate", help="apply the records store's schema migrations")
    p.add_argument("--config")
    p.add_argument("--database", help="SQLAlchemy URL of the records store")
    from relevo.server import users

    users.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["bench"]:
        return cmd_bench(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        if args.command == "serve":
            return cmd_serve(args)
        if args.command == "demo":
            return cmd_serve(args, demo=True)
        if args.command == "token":
            return cmd_token(args)
        if args.command == "publish":
            return cmd_publish(args)
        if args.command == "migrate":
            from relevo.server.run import migrate

            return migrate(_load(args, create=False))
        if args.command == "users":
            from relevo.server import users

            return users.run(args, _load(args, create=False))
    except ConfigError as exc:
        print(f"relevo: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
