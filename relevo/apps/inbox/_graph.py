"""A small client of Meta's Graph API (the WhatsApp Cloud API) on
``httpx.AsyncClient``: the calls the Cloud connector makes, with retries.

A call answered ``429`` or ``5xx`` (or not answered at all) is tried again,
up to ``graph_retries`` attempts, waiting ``graph_backoff`` seconds doubled
each time, or what ``Retry-After`` says. Any other error is a
:class:`GraphError` carrying Graph's ``error.code`` and message. Every call
carries ``appsecret_proof`` (HMAC-SHA256 of the token with the app secret),
so a wrong app secret shows on the first call.

The access token travels in the ``Authorization`` header only: never in a
URL (httpx logs URLs), never in a log line or an error message.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from relevo.client.retry import backoff, retry_after, retrying
from relevo.clock import Clock

__all__ = ["Credentials", "GraphClient", "GraphError"]

EXPIRED_TOKEN = 190
"""Graph's ``OAuthException`` code for an expired or revoked access token."""


@dataclass(frozen=True, slots=True)
class Credentials:
    phone_number_id: str
    waba_id: str
    access_token: str
    app_secret: str

    def __repr__(self) -> str:  # never print the secrets
        return f"Credentials(phone_number_id={self.phone_number_id!r}, waba_id={self.waba_id!r})"


class GraphError(Exception):
    """Graph said no (or never answered): ``status`` 0 when unreachable."""

    def __init__(
        self, status: int, code: int | None, message: str, retry_after: float | None = None
    ) -> None:
        super().__init__(f"graph {status} code {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after
        """Seconds Graph asked to wait before trying again (``Retry-After``), if it said."""

    @property
    def retryable(self) -> bool:
        return self.status in (0, 429) or self.status >= 500

    def reason(self) -> str:
        """The Spanish sentence a screen shows for it."""
        if self.code == EXPIRED_TOKEN:
            return "El token de acceso venció o fue revocado: genera uno nuevo en Meta."
        if "appsecret_proof" in self.message:
            return "La clave secreta de la app (app secret) no es la correcta."
        if self.code in (100, 133010, 131030, 803) or self.status == 404:
            return "El número no está registrado en la API de WhatsApp Cloud."
        if self.retryable:
            return "WhatsApp no responde por ahora; se reintentará."
        return f"WhatsApp rechazó la solicitud: {self.message[:200]}"


class GraphClient:
    def __init__(
        self,
        base_url: str,
        clock: Clock,
        *,
        timeout: float = 20.0,
        retries: int = 5,
        backoff: float = 1.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.clock = clock
        self.retries = retries
        self.backoff = backoff
        self.http = httpx.AsyncClient(timeout=timeout, transport=transport)

    async def aclose(self) -> None:
        await self.http.aclose()

    # -- the calls -----------------------------------------------------------------------

    async def phone_number(self, creds: Credentials) -> dict[str, Any]:
        """The number's status (``display_phone_number``, ``verified_name``, ...)."""
        fields = "display_phone_number,verified_name,status,quality_rating"
        return await self.call(creds, "GET", creds.phone_number_id, params={"fields": fields})

    async def send(self, creds: Credentials, payload: Mapping[str, Any]) -> str:
        """``POST /{phone-number-id}/messages``; the new message's ``wamid``."""
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", **payload}
        out = await self.call(creds, "POST", f"{creds.phone_number_id}/messages", json=body)
        messages = out.get("messages")
        if not isinstance(messages, list) or not messages or not messages[0].get("id"):
            raise GraphError(200, None, "the answer names no message id")
        return str(messages[0]["id"])

    async def templates(self, creds: Credentials) -> list[dict[str, Any]]:
        """The account's approved templates (first 100)."""
        out = await self.call(
            creds,
            "GET",
            f"{creds.waba_id}/message_templates",
            params={"status": "APPROVED", "limit": "100"},
        )
        data = out.get("data")
        return [t for t in data if isinstance(t, dict)] if isinstance(data, list) else []

    async def media(self, creds: Credentials, media_id: str, limit: int) -> tuple[bytes, str]:
        """An attachment's bytes and MIME type: its URL from ``GET /{media-id}``,
        then the file itself (at most ``limit`` bytes, else ``GraphError``)."""
        info = await self.call(creds, "GET", media_id)
        size, url = info.get("file_size"), info.get("url")
        if isinstance(size, int) and size > limit:
            raise GraphError(413, None, f"media of {size} bytes is over {limit}")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise GraphError(200, None, "the media answer has no url")
        data = await self._download(creds, url, limit)
        return data, str(info.get("mime_type") or "application/octet-stream")

    # -- plumbing ------------------------------------------------------------------------

    def _headers(self, creds: Credentials) -> dict[str, str]:
        return {"Authorization": f"Bearer {creds.access_token}"}

    def _proof(self, creds: Credentials) -> str:
        key = creds.app_secret.encode()
        return hmac.new(key, creds.access_token.encode(), hashlib.sha256).hexdigest()

    async def call(
        self,
        creds: Credentials,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
    ) -> dict[str, Any]:
        url = f"{self.base_url}/{path}"
        query = {**(params or {}), "appsecret_proof": self._proof(creds)}

        async def once() -> dict[str, Any]:
            try:
                resp = await self.http.request(
                    method, url, params=query, json=json, headers=self._headers(creds)
                )
            except httpx.HTTPError as exc:
                raise GraphError(0, None, f"unreachable: {type(exc).__name__}") from None
            if resp.status_code >= 400:
                raise _error(resp, retry_after(resp.headers.get("retry-after")))
            body = _json(resp)
            return body if isinstance(body, dict) else {}

        return await retrying(
            once,
            backoff(self.retries - 1, self.backoff),
            retryable=lambda exc: isinstance(exc, GraphError) and exc.retryable,
            sleep=self.clock.sleep,
            wait=lambda exc: exc.retry_after if isinstance(exc, GraphError) else None,
        )

    async def _download(self, creds: Credentials, url: str, limit: int) -> bytes:
        try:
            async with self.http.stream("GET", url, headers=self._headers(creds)) as resp:
                if resp.status_code >= 400:
                    await resp.aread()
                    raise _error(resp)
                data = bytearray()
                async for chunk in resp.aiter_bytes():
                    data += chunk
                    if len(data) > limit:
                        raise GraphError(413, None, f"media over {limit} bytes")
                return bytes(data)
        except httpx.HTTPError as exc:
            raise GraphError(0, None, f"unreachable: {type(exc).__name__}") from None


def _json(resp: httpx.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return None


def _error(resp: httpx.Response, retry_after: float | None = None) -> GraphError:
    body = _json(resp)
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict):
        code = err.get("code")
        message = str(err.get("message") or "")[:300]
        code = code if isinstance(code, int) else None
        return GraphError(resp.status_code, code, message, retry_after)
    return GraphError(resp.status_code, None, f"HTTP {resp.status_code}", retry_after)
