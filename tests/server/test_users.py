"""``relevo users`` as an admin runs it: real subprocesses on the database of
relevo.toml; passwords only on stdin, never printed, nor their hashes."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from relevo.accounts import Accounts, SignInFailed
from relevo.accounts import schema as s
from tests.helpers import timeout

from .test_cli import ENV, RELEVO

PASSWORD = "first admin password"
NEW = "a fresh password 42"


def users(args: list[str], cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*RELEVO, "users", *args],
        cwd=cwd,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout(60),
        check=False,
        env=ENV,
    )


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "relevo.toml").write_text(f'[database]\nurl = "sqlite:///{tmp_path / "team.db"}"\n')
    return tmp_path


def _db(site: Path) -> str:
    return f"sqlite+aiosqlite:///{site / 'team.db'}"


async def _check(site: Path, username: str, password: str) -> str:
    accounts = Accounts.open(_db(site))
    try:
        return (await accounts.authenticate(username, password, address="127.0.0.1")).username
    finally:
        await accounts.close()


async def _hashes(site: Path) -> list[str]:
    accounts = Accounts.open(_db(site))
    try:
        async with accounts.store.read() as conn:
            return list((await conn.execute(sa.select(s.accounts.c.password_hash))).scalars())
    finally:
        await accounts.close()


@pytest.mark.slow
def test_the_first_admin_then_list_passwd_disable_enable(site: Path) -> None:
    out = []
    r = users(
        [
            "add", "Admin", "--roles", "admin", "--app-roles", "leads=gtr,asesor",
            "--app-roles", "turnos=operador", "--name", "La Jefa", "--password-stdin",
        ],
        site,
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    out.append(r)
    assert r.returncode == 0, r.stderr
    assert (site / "team.db").exists()  # migrated first, on the configured database
    assert asyncio.run(_check(site, "ADMIN", PASSWORD)) == "admin"

    r = users(["list", "--json"], site)
    out.append(r)
    (person,) = [json.loads(line) for line in r.stdout.splitlines()]
    assert person["username"] == "admin"
    assert person["display_name"] == "La Jefa"
    assert person["roles"] == {"*": ["admin"], "leads": ["asesor", "gtr"], "turnos": ["operador"]}
    assert person["last_sign_in_at"] is not None
    assert "password_hash" not in person
    r = users(["list"], site)
    out.append(r)
    assert "La Jefa" in r.stdout

    r = users(["passwd", "admin", "--password-stdin", "--must-change"], site, stdin=NEW + "\n")
    out.append(r)
    assert r.returncode == 0, r.stderr
    with pytest.raises(SignInFailed):
        asyncio.run(_check(site, "admin", PASSWORD))
    assert asyncio.run(_check(site, "admin", NEW)) == "admin"

    r = users(["disable", "admin"], site)
    out.append(r)
    assert r.returncode == 0, r.stderr
    with pytest.raises(SignInFailed):
        asyncio.run(_check(site, "admin", NEW))
    r = users(["enable", "admin"], site)
    out.append(r)
    assert asyncio.run(_check(site, "admin", NEW)) == "admin"

    hashes = asyncio.run(_hashes(site))
    printed = "".join(p.stdout + p.stderr for p in out)
    for secret in (PASSWORD, NEW, *hashes, *(h.split("$")[-1] for h in hashes)):
        assert secret not in printed


@pytest.mark.slow
def test_refusals(site: Path) -> None:
    r = users(["add", "ana", "--roles", "gtr"], site)  # no tty, no --password-stdin
    assert r.returncode == 2
    assert "--password-stdin" in r.stderr
    r = users(["add", "ana", "--roles", "gtr", "--password", PASSWORD], site)
    assert r.returncode == 2  # no such flag (not even as an abbreviation)
    r = users(["add", "ana", "--password-stdin"], site, stdin="short\n")
    assert r.returncode == 2
    assert "at least 10" in r.stderr
    assert "short" not in r.stderr
    assert users(["add", "ana", "--password-stdin"], site, stdin=PASSWORD).returncode == 0
    r = users(["add", "ANA", "--password-stdin"], site, stdin=PASSWORD)
    assert r.returncode == 1
    assert "already exists" in r.stderr
    r = users(["passwd", "nadie", "--password-stdin"], site, stdin=PASSWORD)
    assert r.returncode == 1
    r = users(["add", "bob", "--app-roles", "leads", "--password-stdin"], site, stdin=PASSWORD)
    assert r.returncode == 2
    r = users(["disable", "not valid!"], site)
    assert r.returncode == 2
