"""Publish and query through the server HTTP API (API key).

``publish`` and ``broadcast`` retry what may be retried — a connection that
failed or dropped before the answer, and the errors the server marks
``retry`` (``unavailable``, ``rate_limited``, ``internal``) — up to
``retries`` times with exponential back-off. Every attempt of one call
carries the same ``idempotency_key`` (the caller's, or one made up for the
call), so a publish whose answer was lost is not published twice: the server
answers the repeat with the first publication's offset.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterator
from typing import Any

import httpx

from relevo.client.retry import backoff, retrying
from relevo.protocol.errors import ErrorCode, RelevoError

__all__ = ["AsyncRelevoClient", "RelevoClient", "RelevoHTTPError"]


class RelevoHTTPError(RelevoError):
    """The server refused a call: its HTTP ``status`` and the error body's
    stable ``code`` (``remote_code`` keeps a code this client does not know)."""

    def __init__(self, status: int, code: str, message: str, retry: bool = False) -> None:
        known = code in ErrorCode.__members__.values()
        super().__init__(message, code=ErrorCode(code) if known else ErrorCode.INTERNAL)
        self.args = (f"{status} {code}: {message}",)
        self.status = status
        self.remote_code = code
        self._retry = retry

    @property
    def retry(self) -> bool:
        return self._retry


def _result(resp: httpx.Response) -> Any:
    if resp.status_code >= 400:
        try:
            body = resp.json()
        except ValueError:
            raise RelevoHTTPError(resp.status_code, "internal", resp.text) from None
        raise RelevoHTTPError(
            resp.status_code,
            body.get("code", "internal"),
            body.get("message", ""),
            bool(body.get("retry", False)),
        )
    return resp.json()


def _headers(api_key: str) -> dict[str, str]:
    return {"Authorization": f"apikey {api_key}"}


def _publish_body(
    target: dict[str, Any], event: str, data: Any, key: str | None, retries: int
) -> dict[str, Any]:
    if key is None and retries > 0:
        key = "sdk:" + secrets.token_urlsafe(16)
    body = {**target, "event": event, "data": data}
    if key is not None:
        body["idempotency_key"] = key
    return body


def _delays(retries: int, first: float) -> Iterator[float]:
    """Seconds to wait before each retry: doubling, with jitter, at most 5 s."""
    return backoff(retries, first, cap=5.0, jitter=True)


def _may_retry(exc: Exception) -> bool:
    if isinstance(exc, RelevoHTTPError):
        return exc.retry
    return isinstance(exc, httpx.TransportError)


class RelevoClient:
    """Blocking client, for Django / Flask views and scripts."""

    def __init__(
        self,
        url: str,
        api_key: str,
        timeout: float = 5.0,
        *,
        retries: int = 3,
        backoff: float = 0.2,
    ) -> None:
        self._http = httpx.Client(
            base_url=url.rstrip("/"), headers=_headers(api_key), timeout=timeout
        )
        self.retries = retries
        self.backoff = backoff

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RelevoClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        delays = _delays(self.retries, self.backoff)
        while True:
            try:
                return _result(self._http.post(path, json=body))
            except (RelevoHTTPError, httpx.TransportError) as exc:
                delay = next(delays, None)
                if delay is None or not _may_retry(exc):
                    raise
            time.sleep(delay)

    def publish(
        self, channel: str, event: str, data: Any = None, *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        body = _publish_body({"channel": channel}, event, data, idempotency_key, self.retries)
        result: dict[str, Any] = self._post("/api/publish", body)
        return result

    def broadcast(
        self,
        channels: list[str],
        event: str,
        data: Any = None,
        *,
        idempotency_key: str | None = None,
    ) -> list[dict[str, Any]]:
        """The key applies on each channel: a retry publishes only where the
        first attempt did not."""
        body = _publish_body({"channels": channels}, event, data, idempotency_key, self.retries)
        results: list[dict[str, Any]] = self._post("/api/broadcast", body)["results"]
        return results

    def history(self, channel: str, limit: int = 100) -> dict[str, Any]:
        result: dict[str, Any] = _result(
            self._http.get(f"/api/history/{channel}", params={"limit": limit})
        )
        return result

    def presence(self, channel: str) -> dict[str, Any]:
        result: dict[str, Any] = _result(self._http.get(f"/api/presence/{channel}"))
        return result

    def disconnect(self, user: str) -> None:
        _result(self._http.post("/api/disconnect", json={"user": user}))


class AsyncRelevoClient:
    """Non-blocking client, for FastAPI / async backends."""

    def __init__(
        self,
        url: str,
        api_key: str,
        timeout: float = 5.0,
        *,
        retries: int = 3,
        backoff: float = 0.2,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=url.rstrip("/"), headers=_headers(api_key), timeout=timeout
        )
        self.retries = retries
        self.backoff = backoff

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncRelevoClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _post(self, path: str, body: dict[str, Any]) -> Any:
        async def once() -> Any:
            return _result(await self._http.post(path, json=body))

        delays = _delays(self.retries, self.backoff)
        return await retrying(once, delays, retryable=_may_retry, sleep=asyncio.sleep)

    async def publish(
        self, channel: str, event: str, data: Any = None, *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        body = _publish_body({"channel": channel}, event, data, idempotency_key, self.retries)
        result: dict[str, Any] = await self._post("/api/publish", body)
        return result

    async def broadcast(
        self,
        channels: list[str],
        event: str,
        data: Any = None,
        *,
        idempotency_key: str | None = None,
    ) -> list[dict[str, Any]]:
        """The key applies on each channel (see :meth:`RelevoClient.broadcast`)."""
        body = _publish_body({"channels": channels}, event, data, idempotency_key, self.retries)
        results: list[dict[str, Any]] = (await self._post("/api/broadcast", body))["results"]
        return results

    async def history(self, channel: str, limit: int = 100) -> dict[str, Any]:
        resp = await self._http.get(f"/api/history/{channel}", params={"limit": limit})
        result: dict[str, Any] = _result(resp)
        return result

    async def presence(self, channel: str) -> dict[str, Any]:
        result: dict[str, Any] = _result(await self._http.get(f"/api/presence/{channel}"))
        return result

    async def disconnect(self, user: str) -> None:
        _result(await self._http.post("/api/disconnect", json={"user": user}))
