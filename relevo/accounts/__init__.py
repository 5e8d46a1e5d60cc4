"""Accounts: people who sign in to relevo with a password, their sessions,
the sign-in audit and throttling. See ``docs/auth.md``.

Modules (one concept each)::

    model      Account, SessionInfo, AuditEntry; bounds on usernames, roles, tenants
    passwords  argon2id hashing (OWASP parameters), the password policy, the dummy hash
    throttle   increasing delays per username and per address, shared through the DB
    store      Accounts: create/get/list/update people, authenticate (and the two below)
    sessions   sign-in sessions by token hash: start, look up, end, ended since
    audit      the sign-in audit log
    schema     the tables; the records migrations (0002) create them
    errors     SignInFailed, SignInThrottled, WeakPassword, ...
    http       the sign-in routes: /login, /auth/login|logout|token|password
    people     the people API (/api/people) and page for admins and inbox supervisors

The package sits between ``apps/`` and ``records/``: it uses the records
store's engine and relevo's errors; the server and the apps use it.
"""

from relevo.accounts.errors import (
    AccountExists,
    AccountNotFound,
    InvalidAccount,
    SignInFailed,
    SignInThrottled,
    WeakPassword,
)
from relevo.accounts.model import ALL_APPS, Account, AuditEntry, SessionInfo, normalize_username
from relevo.accounts.passwords import HashParameters, Passwords, check_policy
from relevo.accounts.store import Accounts
from relevo.accounts.throttle import ThrottlePolicy

__all__ = [
    "ALL_APPS",
    "Account",
    "AccountExists",
    "AccountNotFound",
    "Accounts",
    "AuditEntry",
    "HashParameters",
    "InvalidAccount",
    "Passwords",
    "SessionInfo",
    "SignInFailed",
    "SignInThrottled",
    "ThrottlePolicy",
    "WeakPassword",
    "check_policy",
    "normalize_username",
]
