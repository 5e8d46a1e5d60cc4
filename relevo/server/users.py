"""``relevo users``: accounts from the command line (the first admin, scripts).

    relevo users add USER --roles admin [--app-roles leads=gtr,asesor]
                          [--tenant T] [--name "..."] [--password-stdin] [--must-change]
    relevo users list [--tenant T] [--json]
    relevo users passwd USER [--password-stdin] [--must-change]
    relevo users disable USER | enable USER

A password is never taken from the command line (other users of the machine
see it in the process list, the shell keeps it in its history): it comes
from standard input with ``--password-stdin`` (one line), or from a prompt
that does not echo when standard input is a terminal. Every command runs the
records migrations first, on the database of ``relevo.toml`` (or
``--database``). Nothing printed contains a password or a hash.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any, TextIO

from relevo.accounts import ALL_APPS, Account, Accounts
from relevo.protocol.errors import ErrorCode, RelevoError
from relevo.records.migrate import upgrade
from relevo.records.store import database_url
from relevo.settings import Settings

__all__ = ["add_parser", "run"]

_ACTOR = "cli"


def add_parser(sub: Any) -> None:
    """Add ``users`` and its subcommands to the ``relevo`` parser."""
    users = sub.add_parser(
        "users", help="manage the people who sign in (accounts)", allow_abbrev=False
    )
    cmds = users.add_subparsers(dest="users_command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--config", help="path of relevo.toml (default: ./relevo.toml)")
        p.add_argument("--database", help="SQLAlchemy URL of the records store")

    p = cmds.add_parser("add", help="create an account", allow_abbrev=False)
    common(p)
    p.add_argument("username")
    p.add_argument("--roles", default="", help="roles in every app, comma-separated (admin)")
    p.add_argument(
        "--app-roles",
        action="append",
        default=[],
        metavar="APP=ROLE,ROLE",
        help="roles in one app (leads=gtr,asesor); repeat for more apps",
    )
    p.add_argument("--tenant", default="", help="the tenant (inbox)")
    p.add_argument("--name", help="display name (default: the username)")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.add_argument(
        "--must-change", action="store_true", help="ask for a new password at first sign-in"
    )

    p = cmds.add_parser(
        "list", help="list the accounts (no passwords, no hashes)", allow_abbrev=False
    )
    common(p)
    p.add_argument("--tenant", help="only this tenant's accounts")
    p.add_argument("--json", action="store_true", help="one JSON object per line")

    p = cmds.add_parser(
        "passwd", help="set an account's password (ends its sessions)", allow_abbrev=False
    )
    common(p)
    p.add_argument("username")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.add_argument(
        "--must-change", action="store_true", help="ask for a new password at next sign-in"
    )

    for name, text in (
        ("disable", "disable an account (ends its sessions)"),
        ("enable", "enable a disabled account"),
    ):
        p = cmds.add_parser(name, help=text, allow_abbrev=False)
        common(p)
        p.add_argument("username")


def _roles(args: argparse.Namespace) -> dict[str, list[str]]:
    roles: dict[str, list[str]] = {}
    everywhere = [r.strip() for r in args.roles.split(",") if r.strip()]
    if everywhere:
        roles[ALL_APPS] = everywhere
    for spec in args.app_roles:
        app, sep, names = spec.partition("=")
        if not sep or not app.strip():
            raise RelevoError(
                f"--app-roles {spec!r}: write APP=ROLE,ROLE (leads=gtr,asesor)",
                code=ErrorCode.BAD_REQUEST,
            )
        roles.setdefault(app.strip(), []).extend(r.strip() for r in names.split(",") if r.strip())
    return roles


def read_password(from_stdin: bool, stdin: TextIO | None = None) -> str:
    """One line of stdin with ``--password-stdin``; a hidden prompt (asked
    twice) on a terminal; otherwise an error, never a password on argv."""
    stdin = stdin or sys.stdin
    if from_stdin:
        line = stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    if not stdin.isatty():
        raise RelevoError(
            "no terminal to ask the password on: pipe it in with --password-stdin",
            code=ErrorCode.BAD_REQUEST,
        )
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise RelevoError("the two passwords differ", code=ErrorCode.BAD_REQUEST)
    return first


def _when(t: float | None) -> str:
    return "-" if t is None else time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(t))


def _roles_text(account: Account) -> str:
    return " ".join(f"{app}:{','.join(names)}" for app, names in account.roles.items()) or "-"


def _public(account: Account) -> dict[str, Any]:
    return {
        "username": account.username,
        "display_name": account.display_name,
        "tenant": account.tenant,
        "roles": {app: list(names) for app, names in account.roles.items()},
        "active": account.active,
        "must_change_password": account.must_change_password,
        "created_at": account.created_at,
        "last_sign_in_at": account.last_sign_in_at,
    }


async def _with_accounts(settings: Settings, fn: Callable[[Accounts], Awaitable[int]]) -> int:
    accounts = Accounts.open(database_url(settings))
    try:
        await upgrade(accounts.store)
        return await fn(accounts)
    finally:
        await accounts.close()


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run one ``relevo users`` command; the exit status."""
    cmd = args.users_command
    try:
        password = read_password(args.password_stdin) if cmd in ("add", "passwd") else ""
        return asyncio.run(_with_accounts(settings, lambda a: _COMMANDS[cmd](a, args, password)))
    except RelevoError as exc:
        print(f"relevo users {cmd}: {exc.message}", file=sys.stderr)
        return 2 if exc.status == 400 else 1
    except (EOFError, KeyboardInterrupt):
        print(f"relevo users {cmd}: cancelled", file=sys.stderr)
        return 130


async def _add(accounts: Accounts, args: argparse.Namespace, password: str) -> int:
    account = await accounts.create(
        args.username,
        password,
        display_name=args.name or args.username.strip(),
        roles=_roles(args),
        tenant=args.tenant,
        must_change=args.must_change,
        actor=_ACTOR,
    )
    print(f"relevo: created {account.username} ({_roles_text(account)})", file=sys.stderr)
    return 0


async def _list(accounts: Accounts, args: argparse.Namespace, password: str) -> int:
    people = await accounts.list(tenant=args.tenant)
    if args.json:
        for account in people:
            print(json.dumps(_public(account), ensure_ascii=False))
        return 0
    rows = [("USERNAME", "NAME", "TENANT", "ROLES", "ACTIVE", "LAST SIGN-IN")]
    rows += [
        (
            a.username,
            a.display_name,
            a.tenant or "-",
            _roles_text(a),
            ("yes" if a.active else "no")
            + (" (must change password)" if a.must_change_password else ""),
            _when(a.last_sign_in_at),
        )
        for a in people
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    return 0


async def _passwd(accounts: Accounts, args: argparse.Namespace, password: str) -> int:
    ended = await accounts.set_password(
        args.username, password, must_change=args.must_change, actor=_ACTOR
    )
    print(f"relevo: password changed; {len(ended)} session(s) ended", file=sys.stderr)
    return 0


async def _set_active(accounts: Accounts, args: argparse.Namespace, password: str) -> int:
    active = args.users_command == "enable"
    ended = await accounts.set_active(args.username, active, actor=_ACTOR)
    state = "enabled" if active else f"disabled; {len(ended)} session(s) ended"
    print(f"relevo: {args.username.strip().casefold()} {state}", file=sys.stderr)
    return 0


_COMMANDS: dict[str, Callable[[Accounts, argparse.Namespace, str], Awaitable[int]]] = {
    "add": _add,
    "list": _list,
    "passwd": _passwd,
    "disable": _set_active,
    "enable": _set_active,
}
