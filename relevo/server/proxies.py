"""The HTTP client the hub asks the app's backend with (``[proxy.*]``,
docs/proxies.md): httpx, injected into the hub as its
:class:`~relevo.hub.proxy.Backend`. The policy (cache, bound, deadline,
what answers mean) is the hub's; this only makes the call."""

from __future__ import annotations

import httpx

from relevo.hub.proxy import Forwarded
from relevo.settings import Settings

__all__ = ["MAX_ANSWER_BYTES", "HttpBackend", "backend_for"]

#: Largest answer body read from a backend; a longer one is an invalid answer.
MAX_ANSWER_BYTES = 65536


class HttpBackend:
    """POSTs JSON with httpx. No redirects are followed and no proxy or
    ``.netrc`` from the environment is used: the call goes to the configured
    URL and nowhere else."""

    def __init__(self, max_connections: int) -> None:
        self._client = httpx.AsyncClient(
            follow_redirects=False,
            trust_env=False,
            limits=httpx.Limits(max_connections=max_connections),
        )

    async def post(
        self, url: str, body: bytes, headers: Forwarded, timeout: float
    ) -> tuple[int, bytes]:
        sent = [("content-type", "application/json"), ("accept", "application/json"), *headers]
        async with self._client.stream(
            "POST", url, content=body, headers=sent, timeout=timeout
        ) as response:
            data = bytearray()
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) > MAX_ANSWER_BYTES:
                    # Past the cap: not an answer (a status the policy refuses to read).
                    return 413, b""
            return response.status_code, bytes(data)

    async def aclose(self) -> None:
        await self._client.aclose()


def backend_for(settings: Settings) -> HttpBackend | None:
    """A client sized for every configured proxy's concurrency; ``None`` when
    no proxy is configured."""
    if not settings.proxies:
        return None
    return HttpBackend(sum(p.max_concurrency for p in settings.proxies))
