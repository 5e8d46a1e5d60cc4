"""Publish and query through the server HTTP API (API key)."""

from __future__ import annotations

from typing import Any

import httpx

__all__ = ["AsyncRelevoClient", "RelevoClient", "RelevoHTTPError"]


class RelevoHTTPError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def _result(resp: httpx.Response) -> Any:
    if resp.status_code >= 400:
        try:
            body = resp.json()
            raise RelevoHTTPError(
                resp.status_code, body.get("code", "internal"), body.get("message", "")
            )
        except ValueError:
            raise RelevoHTTPError(resp.status_code, "internal", resp.text) from None
    return resp.json()


def _headers(api_key: str) -> dict[str, str]:
    return {"Authorization": f"apikey {api_key}"}


class RelevoClient:
    """Blocking client, for Django / Flask views and scripts."""

    def __init__(self, url: str, api_key: str, timeout: float = 5.0) -> None:
        self._http = httpx.Client(
            base_url=url.rstrip("/"), headers=_headers(api_key), timeout=timeout
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RelevoClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def publish(self, channel: str, event: str, data: Any = None) -> dict[str, Any]:
        body = {"channel": channel, "event": event, "data": data}
        result: dict[str, Any] = _result(self._http.post("/api/publish", json=body))
        return result

    def broadcast(self, channels: list[str], event: str, data: Any = None) -> list[dict[str, Any]]:
        body = {"channels": channels, "event": event, "data": data}
        results: list[dict[str, Any]] = _result(self._http.post("/api/broadcast", json=body))[
            "results"
        ]
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

    def __init__(self, url: str, api_key: str, timeout: float = 5.0) -> None:
        self._http = httpx.AsyncClient(
            base_url=url.rstrip("/"), headers=_headers(api_key), timeout=timeout
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncRelevoClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def publish(self, channel: str, event: str, data: Any = None) -> dict[str, Any]:
        body = {"channel": channel, "event": event, "data": data}
        result: dict[str, Any] = _result(await self._http.post("/api/publish", json=body))
        return result

    async def broadcast(
        self, channels: list[str], event: str, data: Any = None
    ) -> list[dict[str, Any]]:
        body = {"channels": channels, "event": event, "data": data}
        resp = await self._http.post("/api/broadcast", json=body)
        results: list[dict[str, Any]] = _result(resp)["results"]
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
