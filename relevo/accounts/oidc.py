"""Single sign-on with OpenID Connect: the authorization code flow with PKCE.

Routes (only while ``[auth.oidc] issuer`` is set)::

    GET /auth/methods         what the sign-in page offers ({"password", "oidc": {"label"}})
    GET /auth/oidc/start      → the provider (?next=<path of this server>)
    GET /auth/oidc/callback   ← the provider: a relevo session, as /auth/login makes

The flow's secrets (``state``, ``nonce``, the PKCE verifier, where to go
next) travel in a short-lived cookie of their own, HMAC-signed with
``auth.secret``, so any node can finish a flow another node started. The ID
token is checked with the provider's published keys (joserfc): signature,
``iss``, ``aud``, ``exp``, ``nonce``. The account is the one linked to the
provider's ``(issuer, sub)`` — never found by a username the provider lets
people choose; a new person gets an account (``create_accounts``), named by
``username_claim`` when that name is free. Roles and tenant come from the
configured claims at every sign-in; someone whose groups map to no role, or
whose account is disabled, is refused. Every refusal goes back to ``/login``
with an ``error`` code and no detail from the provider; the audit log has it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import sqlalchemy as sa
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from relevo.accounts import schema as s
from relevo.accounts._oidc_flow import b64, seal, unseal
from relevo.accounts.errors import InvalidAccount
from relevo.accounts.http import SignIn
from relevo.accounts.model import Account, normalize_username
from relevo.protocol.errors import Conflict
from relevo.settings import ConfigError, OidcSettings
from relevo.web import json_response
from relevo.web.cookies import is_https, safe_next, set_session_cookie

__all__ = ["FLOW_TTL", "OidcSignIn", "role_map"]

log = logging.getLogger("relevo.accounts.oidc")

#: Seconds between leaving for the provider and coming back.
FLOW_TTL = 600
#: How long the provider's configuration and keys are kept.
DISCOVERY_TTL = 3600.0
FLOW_COOKIE = "relevo_oidc"
MAX_PARAM = 2048
MAX_CLAIM = 191
ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]


def role_map(settings: OidcSettings) -> dict[str, dict[str, tuple[str, ...]]]:
    """``{"ventas": ["leads:gtr"]}`` → ``{"ventas": {"leads": ("gtr",)}}``; a
    malformed entry is a configuration error, found at start."""
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for group, roles in settings.roles.items():
        apps: dict[str, list[str]] = {}
        for spec in roles:
            app, sep, role = spec.partition(":")
            if not sep or not app or not role:
                raise ConfigError(
                    f"auth.oidc.roles.{group}: {spec!r} is not 'app:role' ('*:admin' for every app)"
                )
            apps.setdefault(app, []).append(role)
        out[group] = {app: tuple(r) for app, r in apps.items()}
    return out


@dataclass
class _Provider:
    authorization_endpoint: str
    token_endpoint: str
    keys: KeySet
    fetched: float


class OidcSignIn:
    def __init__(
        self,
        settings: OidcSettings,
        sign_in: SignIn,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        changed: Callable[[Account], Awaitable[None]] | None = None,
    ) -> None:
        if not settings.client_id:
            raise ConfigError("auth.oidc.client_id: required with auth.oidc.issuer")
        if "openid" not in settings.scopes:
            raise ConfigError("auth.oidc.scopes: must include 'openid'")
        self.settings = settings
        self.sign_in = sign_in
        self.issuer = settings.issuer.rstrip("/")
        self._roles = role_map(settings)
        self._key = hmac.new(sign_in.secret.encode(), b"relevo-oidc-flow", hashlib.sha256).digest()
        self._http = httpx.AsyncClient(timeout=settings.timeout, transport=transport)
        self._provider: _Provider | None = None
        self._clock = sign_in.hub.clock
        self._changed = changed
        """Told of an account created or changed here (the apps' directories)."""

    async def close(self) -> None:
        await self._http.aclose()

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/auth/methods", self.methods),
            Route("/auth/oidc/start", self.start),
            Route("/auth/oidc/callback", self.callback, name="oidc_callback"),
        ]

    async def methods(self, request: Request) -> Response:
        return json_response({"password": True, "oidc": {"label": self.settings.label}})

    # -- leaving for the provider ------------------------------------------------------

    async def start(self, request: Request) -> Response:
        try:
            provider = await self._discover()
        except (httpx.HTTPError, ValueError, JoseError) as exc:
            log.warning("oidc: provider %s unavailable: %s", self.issuer, exc)
            return _back("oidc_unavailable")
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        verifier = secrets.token_urlsafe(48)
        challenge = b64(hashlib.sha256(verifier.encode()).digest())
        query = {
            "response_type": "code",
            "client_id": self.settings.client_id,
            "redirect_uri": self._redirect_uri(request),
            "scope": " ".join(self.settings.scopes),
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        flow = {
            "state": state,
            "nonce": nonce,
            "verifier": verifier,
            "next": safe_next(request.query_params.get("next", "")[:MAX_PARAM]) or "",
            "exp": int(self._clock.now()) + FLOW_TTL,
        }
        response = RedirectResponse(f"{provider.authorization_endpoint}?{urlencode(query)}", 303)
        response.set_cookie(
            FLOW_COOKIE,
            seal(self._key, flow),
            max_age=FLOW_TTL,
            path="/auth/oidc",
            httponly=True,
            secure=is_https(request),
            samesite="lax",  # sent on the provider's top-level redirect back
        )
        return _no_store(response)

    # -- coming back -------------------------------------------------------------------

    async def callback(self, request: Request) -> Response:
        flow = unseal(self._key, request.cookies.get(FLOW_COOKIE, ""), now=self._clock.now())
        params = request.query_params
        state = params.get("state", "")[:MAX_PARAM]
        if flow is None:
            return _back("oidc_state", clear=True)
        if "error" in params:
            # Only ever a refusal, so it needs no state (some providers omit it).
            await self._audit_failure("", f"provider: {params.get('error', '')[:64]}", request)
            return _back("oidc_denied", clear=True)
        if not hmac.compare_digest(state.encode(), str(flow["state"]).encode()):
            return _back("oidc_state", clear=True)
        code = params.get("code", "")[:MAX_PARAM]
        if not code:
            return _back("oidc_state", clear=True)
        try:
            provider = await self._discover()
            claims = await self._exchange(provider, code, flow, request)
            account = await self._account(claims, request)
        except _Refused as refused:
            await self._audit_failure(refused.username, refused.detail, request)
            return _back(refused.code, clear=True)
        except (httpx.HTTPError, ValueError, JoseError) as exc:
            await self._audit_failure("", f"provider: {type(exc).__name__}", request)
            log.warning("oidc: sign-in failed at %s: %s", self.issuer, exc)
            return _back("oidc_failed", clear=True)
        address = request.client.host if request.client else ""
        raw = await self.sign_in.accounts.start_session(
            account,
            address=address,
            user_agent=request.headers.get("user-agent", ""),
            ttl=self.sign_in.session_ttl,
        )
        await self._signed_in(account, address)
        destination = str(flow.get("next") or "") or self.sign_in.home_of(account) or "/"
        response = _clear(RedirectResponse(destination, 303))
        set_session_cookie(response, request, raw, self.sign_in.session_ttl)
        return _no_store(response)

    async def _exchange(
        self, provider: _Provider, code: str, flow: dict[str, Any], request: Request
    ) -> dict[str, Any]:
        """The ID token's claims, checked."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self._redirect_uri(request),
            "code_verifier": str(flow["verifier"]),
            "client_id": self.settings.client_id,
        }
        secret = self.settings.client_secret
        if secret:  # client_secret_basic; a public client proves itself by PKCE alone
            basic = httpx.BasicAuth(self.settings.client_id, secret)
            resp = await self._http.post(provider.token_endpoint, data=form, auth=basic)
        else:
            resp = await self._http.post(provider.token_endpoint, data=form)
        if resp.status_code != 200:
            raise _Refused("oidc_failed", "", f"token endpoint answered {resp.status_code}")
        id_token = resp.json().get("id_token")
        if not isinstance(id_token, str):
            raise _Refused("oidc_failed", "", "no id_token in the token response")
        try:
            token = jwt.decode(id_token, provider.keys, algorithms=ALGORITHMS)
        except JoseError:
            # The provider may have rotated its keys since we read them: once more, fresh.
            self._provider = None
            provider = await self._discover()
            token = jwt.decode(id_token, provider.keys, algorithms=ALGORITHMS)
        registry = jwt.JWTClaimsRegistry(
            leeway=30,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.settings.client_id},
            sub={"essential": True},
            exp={"essential": True},
            nonce={"essential": True, "value": str(flow["nonce"])},
        )
        try:
            registry.validate(token.claims)
        except JoseError as exc:
            raise _Refused("oidc_failed", "", f"id_token: {exc.error}") from exc
        return dict(token.claims)

    # -- the account -----------------------------------------------------------------

    async def _account(self, claims: dict[str, Any], request: Request) -> Account:
        subject = _claim_text(claims.get("sub"))
        if not subject:
            raise _Refused("oidc_failed", "", "id_token without a usable sub")
        wanted = _claim_text(claims.get(self.settings.username_claim)) or subject
        roles = self._roles_of(claims)
        tenant = (
            _claim_text(claims.get(self.settings.tenant_claim))
            if self.settings.tenant_claim
            else None
        )
        if self._roles and not roles:
            raise _Refused("oidc_no_roles", wanted, "oidc: no group maps to a role")
        accounts = self.sign_in.accounts
        account_id = await self._linked(subject)
        if account_id is None:
            if not self.settings.create_accounts:
                raise _Refused("oidc_no_account", wanted, "oidc: no account for this person")
            account = await self._create(wanted, subject, claims, roles, tenant)
        else:
            found = await accounts.get_by_id(account_id)
            if found is None:
                raise _Refused("oidc_no_account", wanted, "oidc: linked account was deleted")
            account = found
        if not account.active:
            raise _Refused("oidc_disabled", account.username, "oidc: disabled")
        changes: dict[str, Any] = {}
        if self._roles and {a: tuple(r) for a, r in account.roles.items()} != roles:
            changes["roles"] = roles
        if tenant is not None and tenant != account.tenant:
            changes["tenant"] = tenant
        if changes:
            try:
                account = await accounts.update(account.username, actor="oidc", **changes)
            except InvalidAccount as exc:
                raise _Refused("oidc_failed", account.username, f"oidc: {exc}") from exc
        if (changes or account_id is None) and self._changed is not None:
            await self._changed(account)
        return account

    def _roles_of(self, claims: dict[str, Any]) -> dict[str, tuple[str, ...]]:
        raw = claims.get(self.settings.roles_claim)
        groups = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
        merged: dict[str, set[str]] = {}
        for group in groups[:256]:
            for app, roles in self._roles.get(str(group), {}).items():
                merged.setdefault(app, set()).update(roles)
        return {app: tuple(sorted(r)) for app, r in sorted(merged.items())}

    async def _create(
        self,
        wanted: str,
        subject: str,
        claims: dict[str, Any],
        roles: dict[str, tuple[str, ...]],
        tenant: str | None,
    ) -> Account:
        accounts = self.sign_in.accounts
        name = _claim_text(claims.get(self.settings.name_claim)) or wanted
        try:
            username = normalize_username(wanted)
        except InvalidAccount:
            username = normalize_username(
                "sso-" + hashlib.sha256(subject.encode()).hexdigest()[:16]
            )
        if await accounts.get(username) is not None:
            # A local account (or another provider's) has that name: never
            # take it over; a name of its own for this person.
            username = f"{username[:40]}-{hashlib.sha256(subject.encode()).hexdigest()[:8]}"
        try:
            account = await accounts.create(
                username,
                # Nobody knows it: the account signs in through the provider
                # until an admin gives it a password.
                secrets.token_urlsafe(32),
                display_name=name[:100],
                roles=roles,
                tenant=tenant or "",
                actor="oidc",
            )
        except (InvalidAccount, Conflict) as exc:
            raise _Refused("oidc_failed", username, f"oidc: cannot create: {exc}") from exc
        async with accounts.store.write() as conn:
            await conn.execute(
                sa.insert(s.identities).values(
                    issuer=self.issuer[:191],
                    subject=subject,
                    account_id=account.id,
                    created_at=accounts.clock.now(),
                )
            )
        return account

    async def _linked(self, subject: str) -> int | None:
        t = s.identities.c
        async with self.sign_in.accounts.store.read() as conn:
            row = (
                await conn.execute(
                    sa.select(t.account_id).where(
                        t.issuer == self.issuer[:191], t.subject == subject
                    )
                )
            ).one_or_none()
        return None if row is None else int(row.account_id)

    async def _signed_in(self, account: Account, address: str) -> None:
        accounts = self.sign_in.accounts
        async with accounts.store.write() as conn:
            await conn.execute(
                sa.update(s.accounts)
                .where(s.accounts.c.id == account.id)
                .values(last_sign_in_at=accounts.clock.now())
            )
        await accounts.audit(
            "sign_in", username=account.username, account_id=account.id, address=address,
            detail="oidc",
        )  # fmt: skip

    async def _audit_failure(self, username: str, detail: str, request: Request) -> None:
        address = request.client.host if request.client else ""
        try:
            await self.sign_in.accounts.audit(
                "failure", username=username[:64], address=address, detail=detail[:255]
            )
        except Exception:  # the audit must not turn a refusal into a 500
            log.warning("oidc: could not write the audit entry", exc_info=True)

    # -- the provider ------------------------------------------------------------------

    async def _discover(self) -> _Provider:
        cached = self._provider
        if cached is not None and self._clock.monotonic() - cached.fetched < DISCOVERY_TTL:
            return cached
        resp = await self._http.get(f"{self.issuer}/.well-known/openid-configuration")
        resp.raise_for_status()
        doc = resp.json()
        if str(doc.get("issuer", "")).rstrip("/") != self.issuer:
            raise ValueError(f"the provider says its issuer is {doc.get('issuer')!r}")
        jwks = await self._http.get(str(doc["jwks_uri"]))
        jwks.raise_for_status()
        provider = _Provider(
            authorization_endpoint=str(doc["authorization_endpoint"]),
            token_endpoint=str(doc["token_endpoint"]),
            keys=KeySet.import_key_set(jwks.json()),
            fetched=self._clock.monotonic(),
        )
        self._provider = provider
        return provider

    def _redirect_uri(self, request: Request) -> str:
        return self.settings.redirect_url or str(request.url_for("oidc_callback"))


class _Refused(Exception):
    def __init__(self, code: str, username: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.username, self.detail = code, username, detail


def _claim_text(value: Any) -> str:
    return value.strip()[:MAX_CLAIM] if isinstance(value, str) else ""


def _back(code: str, *, clear: bool = False) -> Response:
    response = RedirectResponse(f"/login?{urlencode({'error': code})}", 303)
    return _no_store(_clear(response) if clear else response)


def _clear(response: Response) -> Response:
    response.delete_cookie(FLOW_COOKIE, path="/auth/oidc")
    return response


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response
