"""An app's people directory kept from relevo's accounts.

The leads directory (``leads_user``), the cargue vendors and dispatchers
(``cargue_user``) and the inbox agents (``inbox_agent``) are records the
apps' screens read (who can be assigned a lead, whose plantilla, which
agent). They are not a list kept by hand: each app declares its
:class:`Directory`, and the server calls :func:`sync_account` whenever the
people screen (or the demo) creates or changes an account, and once at
start for every account (the command line may have added some while it was
down). The record's id is the username (the token's ``sub``).

An account with one of the directory's roles in the app gets a record
``{"nombre", "rol", "activo"}`` (+ ``tenant`` where the directory has one);
``rol`` is the first of the directory's roles the account holds. Losing
every such role, or being deactivated, leaves the record with
``activo: false`` — never deleted, because history and assignments name it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from relevo.accounts.model import Account
from relevo.protocol.errors import NotFound
from relevo.records import SYSTEM, Records

__all__ = ["Directory", "sync_account", "sync_accounts"]


@dataclass(frozen=True, slots=True)
class Directory:
    """``kind``: the app's directory kind; ``roles``: the app roles that put
    someone in it, in the order that picks ``rol`` (the first held wins);
    ``tenant``: whether its records carry the account's tenant."""

    kind: str
    roles: tuple[str, ...]
    tenant: bool = False

    def entry(self, app: str, account: Account) -> dict[str, Any] | None:
        """The record an account should have (``None``: none of the roles)."""
        held = set(account.roles_for(app))
        rol = next((r for r in self.roles if r in held), None)
        if rol is None or (self.tenant and not account.tenant):
            return None  # not in this directory (an inbox agent belongs to a tenant)
        out: dict[str, Any] = {
            "nombre": account.display_name,
            "rol": rol,
            "activo": account.active,
        }
        if self.tenant:
            out["tenant"] = account.tenant
        return out


async def sync_account(records: Records, app: str, directory: Directory, account: Account) -> None:
    """Create or update ``account``'s record in ``app``'s directory (or mark it
    inactive); writes nothing when it already says the same."""
    wanted = directory.entry(app, account)
    async with records.transaction() as tx:
        try:
            current = await tx.get(directory.kind, account.username, lock=True)
        except NotFound:
            current = None
        if current is None:
            if wanted is not None:
                await tx.create(directory.kind, wanted, by=SYSTEM, id=account.username)
            return
        changes = wanted if wanted is not None else {"activo": False}
        changes = {k: v for k, v in changes.items() if current.get(k) != v}
        if changes:
            await tx.update(directory.kind, account.username, changes, by=SYSTEM)


#: How many directory records a reconcile reads at once.
MAX_DIRECTORY = 100_000


async def sync_accounts(
    records: Records, app: str, directory: Directory, accounts: Iterable[Account]
) -> int:
    """:func:`sync_account` for each account whose record differs (read in one
    query first, so a start with nothing to change writes nothing); how many
    were written."""
    current = {r.id: r for r in await records.find(directory.kind, {}, limit=MAX_DIRECTORY)}
    written = 0
    for account in accounts:
        wanted = directory.entry(app, account)
        record = current.get(account.username)
        if record is None and wanted is None:
            continue
        if record is not None:
            target = wanted if wanted is not None else {"activo": False}
            if all(record.get(k) == v for k, v in target.items()):
                continue
        await sync_account(records, app, directory, account)
        written += 1
    return written
