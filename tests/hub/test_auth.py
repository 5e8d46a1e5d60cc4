"""Token rules: what a JWT must carry to become an Identity."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from relevo.hub.auth import TokenVerifier, mint_token
from relevo.protocol.errors import AuthError, ErrorCode
from relevo.settings import AuthSettings
from tests.conftest import SECRET


def signed(**claims: Any) -> str:
    return jwt.encode(claims, SECRET, algorithm="HS256")


def soon() -> int:
    return int(time.time()) + 600


VERIFIER = TokenVerifier(AuthSettings(secret=SECRET))


def refused(token: str, verifier: TokenVerifier = VERIFIER) -> AuthError:
    with pytest.raises(AuthError) as info:
        verifier.verify(token)
    assert info.value.code is ErrorCode.UNAUTHORIZED
    return info.value


def test_a_string_exp_is_refused() -> None:
    # PyJWT accepts "9999999999" (it calls int() on it); the hub then saw no
    # numeric expiry and never disconnected the session.
    refused(signed(sub="4", exp=str(soon())))
    refused(signed(sub="4", exp=True))
    exp = soon()  # once: two calls may straddle a second
    assert VERIFIER.verify(signed(sub="4", exp=exp)).expires == exp


def test_exp_is_required_unless_turned_off() -> None:
    error = refused(signed(sub="4"))
    assert "exp" in error.message
    lax = TokenVerifier(AuthSettings(secret=SECRET, require_exp=False))
    assert lax.verify(signed(sub="4")).expires is None


@pytest.mark.parametrize("sub", ["", "x" * 256])
def test_an_empty_or_oversized_sub_is_refused(sub: str) -> None:
    error = refused(signed(sub=sub, exp=soon()))
    assert "sub" in error.message
    assert VERIFIER.verify(signed(sub="x" * 255, exp=soon())).user == "x" * 255


def test_minted_tokens_always_expire() -> None:
    claims = jwt.decode(mint_token(SECRET, "ana"), SECRET, algorithms=["HS256"])
    assert claims["exp"] > time.time()
    with pytest.raises(ValueError, match="ttl"):
        mint_token(SECRET, "ana", ttl=0)
