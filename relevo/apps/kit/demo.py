"""The development login of ``relevo demo``: ``GET /api/<app>/demo/users``
lists the seeded users, ``POST /api/<app>/demo/token`` (``{"user": id}``)
mints a token for one, without a password.

Where the server has sign-in (``app.state.sign_in``), listing the users also
makes each an account with the demo password (answered as ``password``), and
the login page's picker signs in through ``POST /auth/login`` like everyone
else; the token route stays for scripts and older pages.

Both answer only when the server runs with ``demo = true`` (``not_found``
otherwise): a real deployment hands the pages its own users' tokens.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from relevo.accounts.http import DEMO_PASSWORD, SignIn
from relevo.hub.auth import mint_token
from relevo.protocol.errors import Unavailable
from relevo.settings import Settings
from relevo.web import json_response

from .errors import bad_request, not_found
from .http import public, read_json

__all__ = ["DEMO_TOKEN_TTL", "DemoUser", "demo_login_routes"]

DEMO_TOKEN_TTL = 12 * 3600


@dataclass(frozen=True, slots=True)
class DemoUser:
    id: str
    nombre: str
    roles: tuple[str, ...]
    tenant: str = ""
    info: Mapping[str, Any] = field(default_factory=dict)
    """Shown on the login page (``rol``, ``ruta``, the tenant's name, ...)."""

    def as_dict(self) -> dict[str, Any]:
        out = {"id": self.id, "nombre": self.nombre, "roles": list(self.roles), **self.info}
        if self.tenant:
            out["tenant"] = self.tenant
        return out


def demo_login_routes(
    app: str, settings: Settings, users: Callable[[], Awaitable[Iterable[DemoUser]]]
) -> list[BaseRoute]:
    """The two routes of ``app``'s development login; ``users()`` lists who
    may be picked, in the order the login page shows them."""

    def check() -> None:
        if not settings.demo:
            raise not_found(
                "demo login is off; a real deployment passes its own tokens",
                "El acceso de demostración está apagado: entra desde el portal de tu empresa.",
            )
        if not settings.auth.secret:
            # The server's configuration, not the caller: a clear 503, not a 500.
            err = Unavailable("demo login needs auth.secret (HS256) to mint tokens")
            err.extra["mensaje"] = (
                "El acceso de demostración necesita auth.secret en relevo.toml para firmar tokens."
            )
            raise err

    async def list_users(request: Request) -> Response:
        check()
        listed = list(await users())
        body: dict[str, Any] = {"users": [u.as_dict() for u in listed]}
        sign_in: SignIn | None = getattr(request.app.state, "sign_in", None)
        if sign_in is not None:
            # The picker signs in through /auth/login: each demo user is an
            # account with the demo password, shown on the page.
            people = [(u.id, u.nombre, u.roles, u.tenant) for u in listed]
            await sign_in.ensure_demo_accounts(app, people)
            body["password"] = DEMO_PASSWORD
        return json_response(body)

    async def token(request: Request) -> Response:
        check()
        uid = (await read_json(request, 4096)).get("user")
        if not isinstance(uid, str):
            raise bad_request('send {"user": "<id>"}', "Falta el usuario.", field="user")
        user = next((u for u in await users() if u.id == uid), None)
        if user is None:
            raise not_found(f"no demo user {uid!r}", "Ese usuario no existe.")
        jwt = mint_token(
            settings.auth.secret,
            user.id,
            list(user.roles),
            user.tenant,
            ttl=DEMO_TOKEN_TTL,
            extra={"name": user.nombre},
        )
        return json_response({"token": jwt, "user": user.as_dict()})

    return [
        Route(f"/api/{app}/demo/users", public(list_users)),
        Route(f"/api/{app}/demo/token", public(token), methods=["POST"]),
    ]
