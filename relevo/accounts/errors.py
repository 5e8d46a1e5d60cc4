"""What the accounts package raises; all of it under relevo's one root.

Exception tree::

    RelevoError
    ├── AuthError
    │   └── SignInFailed        unknown user, wrong password or disabled account: one message
    ├── LimitExceeded
    │   └── SignInThrottled     too many failures; ``retry_after`` seconds to wait
    ├── ProtocolError
    │   ├── InvalidAccount      a username, name, role or tenant outside its bounds
    │   └── WeakPassword        a new password the policy refuses
    ├── NotFound
    │   └── AccountNotFound     an admin operation named nobody (never raised by sign-in)
    └── Conflict
        └── AccountExists       the username is taken

No message carries a password, a hash or a token.
"""

from __future__ import annotations

import math

from relevo.protocol.errors import (
    AuthError,
    Conflict,
    ErrorCode,
    LimitExceeded,
    NotFound,
    ProtocolError,
)

__all__ = [
    "AccountExists",
    "AccountNotFound",
    "InvalidAccount",
    "SignInFailed",
    "SignInThrottled",
    "WeakPassword",
]

SIGN_IN_FAILED = "wrong username or password"


class SignInFailed(AuthError):
    """The one answer to a failed sign-in, whatever the reason (the audit log
    keeps the reason for admins)."""

    def __init__(self) -> None:
        super().__init__(SIGN_IN_FAILED)


class SignInThrottled(LimitExceeded):
    """Too many failed sign-ins for this username or address: wait ``retry_after``."""

    code = ErrorCode.RATE_LIMITED

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(
            f"too many failed sign-ins; try again in {self.retry_after} s",
            extra={"retry_after": self.retry_after},
        )


class InvalidAccount(ProtocolError):
    pass


class WeakPassword(ProtocolError):
    pass


class AccountNotFound(NotFound):
    def __init__(self, username: str) -> None:
        super().__init__(f"no account {username!r}")


class AccountExists(Conflict):
    def __init__(self, username: str) -> None:
        super().__init__(f"account {username!r} already exists")
