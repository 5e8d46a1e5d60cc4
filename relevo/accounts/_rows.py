"""Rows of the accounts tables as the package's dataclasses (never the
password hash), and small helpers the store's modules share."""

from __future__ import annotations

from typing import Any

from relevo.accounts import schema as s
from relevo.accounts.model import Account, roles_from_json

ACCOUNT_COLUMNS = [c for c in s.accounts.c if c.name != "password_hash"]
"""Every column of an account but its hash: what every read selects."""


def bounded(text: str | None, n: int) -> str:
    return (text or "")[:n]


def account_of(row: Any) -> Account:
    return Account(
        id=int(row.id),
        username=row.username,
        display_name=row.display_name,
        roles=roles_from_json(row.roles),
        tenant=row.tenant,
        active=bool(row.active),
        must_change_password=bool(row.must_change_password),
        created_at=float(row.created_at),
        last_sign_in_at=None if row.last_sign_in_at is None else float(row.last_sign_in_at),
        updated_at=float(row.updated_at),
    )


def by_actor(actor: str) -> str:
    return f"by={bounded(actor, 64)}" if actor else ""


class Prefixed:
    """A row's ``a_``-labelled columns seen without the prefix."""

    def __init__(self, row: Any, prefix: str) -> None:
        self._row = row
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, self._prefix + name)
