"""Password hashing and policy: argon2id with OWASP's parameters.

OWASP's Password Storage Cheat Sheet (2024) lists argon2id with m = 19 MiB,
t = 2, p = 1 as its minimum configuration; relevo uses exactly that by
default (about 20-60 ms of one core per hash). A hash records its parameters,
so a hash made with other ones still verifies, and :meth:`Passwords.verify`
hands back a fresh hash to store when the parameters have changed.

A verification costs the same whether or not the account exists: an unknown
username is checked against :attr:`Passwords.dummy_hash`, a hash made once at
start-up with the current parameters.

Each hash holds 19 MiB while it runs, so at most ``concurrency`` run at once
(a flood of sign-ins queues instead of exhausting memory), each on a worker
thread so the event loop keeps serving.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from relevo.accounts.errors import WeakPassword

__all__ = [
    "MAX_PASSWORD_BYTES",
    "MIN_PASSWORD_LENGTH",
    "HashParameters",
    "Passwords",
    "check_policy",
]

MIN_PASSWORD_LENGTH = 10
"""Characters (code points) a new password must have at least."""
MAX_PASSWORD_BYTES = 1024
"""UTF-8 bytes a password may have at most (longer ones are refused unhashed)."""


@dataclass(frozen=True, slots=True)
class HashParameters:
    """argon2id parameters (OWASP minimum by default)."""

    memory_kib: int = 19 * 1024
    """Memory per hash in KiB (19 MiB)."""
    time_cost: int = 2
    """Passes over the memory."""
    parallelism: int = 1
    """Lanes (threads) per hash."""


def check_policy(password: str, *, username: str = "") -> None:
    """Raise :class:`WeakPassword` unless ``password`` may be set as a new
    password: at least 10 characters, at most 1024 bytes, not only spaces,
    not the username. The message never repeats the password."""
    if not isinstance(password, str):
        raise WeakPassword("the password must be text")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password.encode("utf-8", "surrogatepass")) > MAX_PASSWORD_BYTES:
        raise WeakPassword(f"the password may have at most {MAX_PASSWORD_BYTES} bytes")
    if not password.strip():
        raise WeakPassword("the password cannot be only spaces")
    if username and password.strip().casefold() == username.casefold():
        raise WeakPassword("the password cannot be the username")


class Passwords:
    """Hash and verify passwords with argon2id, off the event loop."""

    def __init__(self, params: HashParameters = HashParameters(), *, concurrency: int = 4) -> None:
        self.params = params
        self._hasher = argon2.PasswordHasher(
            time_cost=params.time_cost,
            memory_cost=params.memory_kib,
            parallelism=params.parallelism,
            hash_len=32,
            salt_len=16,
            type=argon2.Type.ID,
        )
        self._slots = asyncio.Semaphore(concurrency)
        self.dummy_hash = self._hasher.hash(secrets.token_urlsafe(24))

    async def hash(self, password: str) -> str:
        """An argon2id hash of ``password`` (call :func:`check_policy` first)."""
        async with self._slots:
            return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, stored: str | None, password: str) -> tuple[bool, str | None]:
        """``(ok, new_hash)``: whether ``password`` matches ``stored`` (``None``:
        no such account, checked against the dummy hash so it costs the same),
        and, when it matches with old parameters, a new hash to store."""
        too_long = len(password.encode("utf-8", "surrogatepass")) > MAX_PASSWORD_BYTES
        target = self.dummy_hash if stored is None or too_long else stored
        async with self._slots:
            ok = await asyncio.to_thread(self._check, target, password)
            if not ok or stored is None or too_long:
                return False, None
            if not self._hasher.check_needs_rehash(stored):
                return True, None
            return True, await asyncio.to_thread(self._hasher.hash, password)

    def _check(self, stored: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
