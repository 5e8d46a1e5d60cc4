"""Asking the app's own backend: the connect and subscribe proxies.

``[proxy.connect]`` is asked when a client connects without a token: relevo
POSTs to it with the client's allow-listed cookies and headers, and the
backend answers who the client is (``{"allow": true, "user": ..., "roles":
..., "tenant": ..., "expire_at": ...}``) or refuses. A namespace with
``subscribe_proxy = "NAME"`` has ``[proxy.NAME]`` asked before each subscribe
its rules allow (``{"user", "roles", "tenant", "channel"}`` → ``{"allow":
true|false}``). See docs/proxies.md.

What this module owns is the policy: which answers mean what, a short cache
of yes and no answers keyed by exactly what was asked, one call per question
in flight (the same question asked meanwhile waits for it), a bound on calls
in flight per backend, and a deadline on all of it. The HTTP call itself is
injected (:class:`Backend`; the server gives an httpx one): the hub does no
HTTP of its own and never imports the layers above it.

Answers: a refusal (``{"allow": false}``, or HTTP 401/403) is ``unauthorized``
on connect, ``forbidden`` on subscribe, and is cached. Anything else — the
backend down, slower than ``timeout``, another status, a body that is not
the answer described — is ``unavailable`` (retry), logged, and not cached.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import Any, Protocol, TypeVar

import msgspec
from prometheus_client import Counter

from relevo.hub.auth import Identity, identity_from_claims
from relevo.protocol.errors import AuthError, PermissionDenied, RelevoError, Unavailable
from relevo.settings import CONNECT_PROXY, ProxySettings

__all__ = ["Backend", "Forwarded", "Proxies", "Proxy"]

log = logging.getLogger("relevo.proxy")

#: Headers (and the one ``cookie`` header) passed on to the connect proxy,
#: lower-case names, in the order configured.
Forwarded = tuple[tuple[str, str], ...]

#: Longest value of one forwarded header (the cookie header included).
MAX_FORWARDED_VALUE = 8192

A = TypeVar("A")


class Backend(Protocol):
    """The HTTP call, injected: POST ``body`` (JSON) to ``url`` with ``headers``
    within ``timeout`` seconds; the status and the body (capped by the
    implementation). Any exception means the backend could not be asked."""

    async def post(
        self, url: str, body: bytes, headers: Forwarded, timeout: float
    ) -> tuple[int, bytes]: ...

    async def aclose(self) -> None: ...


class _Invalid(Exception):
    """The backend answered, but not what a proxy answers."""


class Proxy:
    """One ``[proxy.NAME]``: its cache, its calls in flight and their bound."""

    def __init__(
        self,
        settings: ProxySettings,
        backend: Callable[[], Backend | None],
        clock: Callable[[], float],
        answers: Counter,
    ) -> None:
        self.settings = settings
        self._backend = backend
        self._clock = clock
        self._answers = answers
        self._cache: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._inflight: dict[Hashable, asyncio.Task[Any]] = {}
        self._slots = asyncio.Semaphore(settings.max_concurrency)
        self._headers: Forwarded = tuple((k.lower(), v) for k, v in settings.headers.items())

    @property
    def name(self) -> str:
        return self.settings.name

    def forget(self, key: Hashable) -> None:
        self._cache.pop(key, None)

    async def ask(
        self, key: Hashable, body: bytes, headers: Forwarded, parse: Callable[[int, bytes], A]
    ) -> A:
        """The answer to the question ``key`` (``body`` and ``headers`` are it,
        on the wire): from the cache, from the call already asking it, or
        from a new call. ``parse`` turns a status and body into the answer,
        raising :class:`_Invalid` for anything else."""
        now = self._clock()
        hit = self._cache.get(key)
        if hit is not None:
            if hit[0] > now:
                self._cache.move_to_end(key)
                self._answers.labels(self.name, "cached").inc()
                answer: A = hit[1]
                return answer
            del self._cache[key]
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._call(key, body, headers, parse))
            self._inflight[key] = task
            task.add_done_callback(lambda t: self._done(key, t))
        # Shielded: a client that goes away must not cancel the call that
        # others asking the same question wait for. The call has its own
        # deadline; this one is a second guard.
        try:
            async with asyncio.timeout(self.settings.timeout + 0.5):
                result: A = await asyncio.shield(task)
        except TimeoutError:
            raise self._unavailable("did not answer in time") from None
        return result

    def _done(self, key: Hashable, task: asyncio.Task[Any]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # retrieved: every asker may have left

    async def _call(
        self, key: Hashable, body: bytes, headers: Forwarded, parse: Callable[[int, bytes], A]
    ) -> A:
        s = self.settings
        backend = self._backend()
        if backend is None:
            raise self._unavailable("no HTTP client was given to the hub", detail=True)
        try:
            # The deadline covers the wait for a free slot too: under a flood a
            # subscribe gets its answer (or unavailable) within ``timeout``.
            async with asyncio.timeout(s.timeout):
                async with self._slots:
                    status, data = await backend.post(
                        s.url, body, self._headers + headers, s.timeout
                    )
        except TimeoutError:
            raise self._unavailable(f"did not answer within {s.timeout:g} s") from None
        except Exception as exc:  # an unreachable backend is an answer: unavailable
            raise self._unavailable(f"could not be reached ({type(exc).__name__})") from None
        try:
            answer = parse(status, data)
        except _Invalid as exc:
            raise self._unavailable(f"gave an invalid answer: {exc}", detail=True) from None
        self._answers.labels(self.name, "allowed" if answer else "refused").inc()
        if s.cache_ttl > 0:
            self._cache[key] = (self._clock() + s.cache_ttl, answer)
            self._cache.move_to_end(key)
            while len(self._cache) > s.cache_size:
                self._cache.popitem(last=False)
        return answer

    def _unavailable(self, why: str, *, detail: bool = False) -> Unavailable:
        self._answers.labels(self.name, "unavailable").inc()
        log.warning("proxy %s (%s) %s", self.name, self.settings.url, why)
        # The client is told what kind of failure, never the backend's URL or body.
        shown = why.split(":", 1)[0] if detail else why
        return Unavailable(f"the app's backend {shown}; try again")


def _json_object(status: int, data: bytes) -> dict[str, Any] | None:
    """``None`` for a refusal; the answer's object for a 200; else :class:`_Invalid`."""
    if status in (401, 403):
        return None
    if status != 200:
        raise _Invalid(f"HTTP {status}")
    try:
        obj = msgspec.json.decode(data)
    except msgspec.DecodeError:
        raise _Invalid("not JSON") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("allow"), bool):
        raise _Invalid('not an object with "allow": true or false')
    return obj if obj["allow"] else None


def parse_connect(status: int, data: bytes) -> Identity | None:
    """The identity the backend vouches for, or ``None`` for a refusal."""
    obj = _json_object(status, data)
    if obj is None:
        return None
    claims = obj.get("claims", {})
    if not isinstance(claims, dict):
        raise _Invalid("claims must be an object")
    expire_at = obj.get("expire_at")
    fields = {
        **claims,
        "sub": obj.get("user"),
        "roles": obj.get("roles") or [],
        "tenant": obj.get("tenant") or "",
        "exp": expire_at,
    }
    if not isinstance(fields["tenant"], str):
        raise _Invalid("tenant must be a string")
    try:
        return identity_from_claims(fields)
    except AuthError as exc:
        raise _Invalid(exc.message.replace("claim sub", "user")) from None


def parse_subscribe(status: int, data: bytes) -> bool:
    return _json_object(status, data) is not None


class Proxies:
    """Every configured proxy of one hub, and the questions relevo asks them."""

    def __init__(
        self,
        proxies: tuple[ProxySettings, ...],
        backend: Backend | None,
        clock: Callable[[], float],
        answers: Counter,
        *,
        wall: Callable[[], float] = time.time,
    ) -> None:
        """``clock`` times the answers' cache (monotonic); ``wall`` is the
        hub's time of day, which a connect answer's ``expire_at`` is read on."""
        self.backend = backend
        self._wall = wall
        self._by_name = {p.name: Proxy(p, self._get_backend, clock, answers) for p in proxies}
        self.connect_proxy = self._by_name.get(CONNECT_PROXY)
        self._encoder = msgspec.json.Encoder()

    def _get_backend(self) -> Backend | None:
        return self.backend

    @property
    def configured(self) -> bool:
        return bool(self._by_name)

    @property
    def tokens_refused(self) -> bool:
        """``[proxy.connect] always``: only the backend lets a client in."""
        return self.connect_proxy is not None and self.connect_proxy.settings.always

    def forwarded(self, headers: Mapping[str, str]) -> Forwarded:
        """What of a client's request the connect proxy is sent: the
        allow-listed headers and cookies, nothing else; ``()`` without a
        connect proxy. ``headers`` has lower-case names."""
        proxy = self.connect_proxy
        if proxy is None:
            return ()
        out: list[tuple[str, str]] = []
        for name in proxy.settings.forward_headers:
            value = headers.get(name.lower(), "")
            if value and len(value) <= MAX_FORWARDED_VALUE:
                out.append((name.lower(), value))
        wanted = proxy.settings.forward_cookies
        if wanted:
            found: dict[str, str] = {}
            # Cookie values hold no ";" or "," (RFC 6265), and a second
            # Cookie header arrives joined to the first with ", ".
            for part in headers.get("cookie", "").replace(",", ";").split(";"):
                name, eq, value = part.strip().partition("=")
                if eq and name in wanted and name not in found:
                    found[name] = value.strip()
            cookie = "; ".join(f"{n}={found[n]}" for n in wanted if n in found)
            if cookie and len(cookie) <= MAX_FORWARDED_VALUE:
                out.append(("cookie", cookie))
        return tuple(out)

    async def connect(self, forwarded: Forwarded) -> Identity:
        """Ask the connect proxy who the client with these credentials is."""
        proxy = self.connect_proxy
        if proxy is None or not forwarded:
            raise AuthError("token is required")
        key = ("connect", forwarded)
        for _ in range(2):
            identity = await proxy.ask(key, b"{}", forwarded, parse_connect)
            if identity is None:
                raise AuthError("the app's backend refused the connection")
            if identity.expires is None or identity.expires > self._wall():
                return identity
            proxy.forget(key)  # a cached answer that has since expired: ask again
        raise proxy._unavailable("gave an invalid answer: expire_at is past", detail=True)

    async def check_subscribe(self, name: str, identity: Identity, channel: str) -> None:
        """Ask ``[proxy.NAME]`` whether ``identity`` may subscribe to ``channel``."""
        proxy = self._by_name.get(name)
        if proxy is None:  # the config's validation makes this unreachable
            raise RelevoError(f"no [proxy.{name}] is configured")
        body = self._encoder.encode(
            {
                "user": identity.user,
                "roles": sorted(identity.roles),
                "tenant": identity.tenant,
                "channel": channel,
            }
        )
        if not await proxy.ask(body, body, (), parse_subscribe):
            raise PermissionDenied(f"the app's backend refused {channel}")

    async def close(self) -> None:
        backend, self.backend = self.backend, None
        if backend is not None:
            await backend.aclose()
