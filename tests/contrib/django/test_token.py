"""The token view: 401 without a session, 403 for users relevo is not for,
else a short-lived token that relevo accepts (verified by relevo's own
verifier and by a real connection), HS256 or RS256."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from relevo.hub.auth import TokenVerifier
from relevo.settings import AuthSettings
from tests.contrib.conftest import RelevoThread
from tests.helpers import RawWS


def settings() -> Any:
    """Django's settings (the module is read only once the fixture set its environment)."""
    from django.conf import settings

    return settings


def user(name: str, *groups: str, active: bool = True) -> Any:
    from django.contrib.auth.models import Group, User

    u = User.objects.create_user(name, password="x", is_active=active)
    for g in groups:
        u.groups.add(Group.objects.get_or_create(name=g)[0])
    return u


def get(u: Any = None, method: str = "get") -> Any:
    from django.test import Client

    c = Client()
    if u is not None:
        c.force_login(u)
    return getattr(c, method)("/relevo/token")


def bare_error(resp: Any, status: int, code: str) -> None:
    assert resp.status_code == status
    body = json.loads(resp.content)
    assert body == {"code": code, "message": body["message"], "retry": False}


def test_anonymous_gets_401(relevo: RelevoThread) -> None:
    bare_error(get(), 401, "unauthorized")


def test_a_user_without_a_role_gets_403_with_nothing_of_theirs(relevo: RelevoThread) -> None:
    resp = get(user("mirón", "contabilidad"))
    bare_error(resp, 403, "forbidden")
    assert b"norte" not in resp.content
    assert b"contabilidad" not in resp.content


def test_an_inactive_user_gets_401_or_403(relevo: RelevoThread) -> None:
    from django.contrib.auth.models import User

    u = user("baja", "vendedores")
    User.objects.filter(pk=u.pk).update(is_active=False)
    # ModelBackend drops an inactive user's session: 401; a backend that keeps it: 403
    assert get(u).status_code in (401, 403)
    from django.test import override_settings

    with override_settings(
        AUTHENTICATION_BACKENDS=["django.contrib.auth.backends.AllowAllUsersModelBackend"]
    ):
        u.refresh_from_db()
        bare_error(get(u), 403, "forbidden")


def test_only_get(relevo: RelevoThread) -> None:
    assert get(user("v1", "vendedores"), "post").status_code == 405


def test_token_maps_groups_to_roles_and_relevo_accepts_it(relevo: RelevoThread) -> None:
    u = user("d1", "despachadores", "vendedores", "contabilidad")
    resp = get(u)
    assert resp.status_code == 200
    assert "no-store" in resp["Cache-Control"]
    body = json.loads(resp.content)
    verifier = TokenVerifier(AuthSettings(secret=settings().RELEVO_TOKEN_SECRET))
    identity = verifier.verify(body["token"])
    assert identity.user == str(u.pk)
    assert identity.roles == {"despachador", "vendedor"}
    assert identity.tenant == "norte"
    assert identity.expires == body["expires"]
    assert 0 < body["expires"] - identity.claims["iat"] <= settings().RELEVO_TOKEN_TTL

    async def subscribe() -> dict[str, Any]:
        ws = await RawWS.connect(relevo.server.port)
        try:
            ok = await ws.request({"id": 1, "op": "connect", "token": body["token"]})
            assert "error" not in ok, ok
            return await ws.request({"id": 2, "op": "sub", "ch": "cargue:norte"})
        finally:
            await ws.close()

    reply = asyncio.run(subscribe())
    assert "error" not in reply, reply


def test_rs256_with_a_private_key(relevo: RelevoThread) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from django.test import override_settings

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    with override_settings(
        RELEVO_TOKEN_SECRET="", RELEVO_TOKEN_PRIVATE_KEY=private, RELEVO_TOKEN_AUDIENCE="rt"
    ):
        body = json.loads(get(user("v2", "vendedores")).content)
    auth = AuthSettings(public_key=public, algorithms=("RS256",), audience="rt")
    identity = TokenVerifier(auth).verify(body["token"])
    assert identity.roles == {"vendedor"}
    with pytest.raises(Exception, match="algorithm"):
        TokenVerifier(AuthSettings(secret=settings().RELEVO_TOKEN_SECRET)).verify(body["token"])


def test_settings_are_checked(relevo: RelevoThread) -> None:
    from django.core.exceptions import ImproperlyConfigured
    from django.test import override_settings

    from relevo.contrib.django.conf import conf

    with override_settings(RELEVO_TOKEN_SECRET="short"), pytest.raises(ImproperlyConfigured):
        conf()
    with override_settings(RELEVO_CLAIMS="tests.contrib.django.test_token.sneaky_claims"):
        with pytest.raises(ImproperlyConfigured, match="roles"):
            get(user("v3", "vendedores"))


def sneaky_claims(user: Any) -> dict[str, Any]:
    return {"roles": ["admin"]}


def test_template_tag(relevo: RelevoThread) -> None:
    from django.template import engines
    from django.test import override_settings

    tpl = engines["django"].from_string("{% load relevo %}{% relevo_client %}")
    html = tpl.render({})
    assert 'type="module"' in html
    assert 'src="/static/relevo/django/client.js"' in html
    assert f'data-relevo-url="{relevo.url}"' in html
    assert 'data-token-url="/relevo/token"' in html
    with override_settings(RELEVO_URL='https://rt.example.com/"><script>'):
        html = tpl.render({})
    assert "<script>" not in html.replace('<script type="module"', "")
