"""The records HTTP API under ``/api/records``.

The caller is the JWT user (``Authorization: Bearer <token>``; roles and
claims from the token, the same ones channel permissions use) or, with the
API key, the backend acting as ``system`` with every role. Errors are
``{"code", "message", "retry", ...}`` with the stable codes of
:mod:`relevo.protocol.errors`; ``locked`` adds ``holder``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from relevo.protocol.errors import AuthError, ProtocolError, RelevoError
from relevo.records.kinds import Kind
from relevo.records.model import SYSTEM, Actor, HistoryEntry, Record
from relevo.records.service import Records
from relevo.records.visibility import asks_proxies
from relevo.web import error_response, json_response, read_json, require_api_key

__all__ = ["actor_of_request", "parse_filter", "records_routes"]

MAX_BODY = 1_048_576
Handler = Callable[[Request, Records, Actor], Awaitable[Response]]
_decode_obj = msgspec.json.Decoder(dict[str, Any])


def actor_of_request(request: Request, records: Records) -> Actor:
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        if records.hub is None:
            raise AuthError("tokens cannot be checked: the records layer has no hub")
        return Actor.from_identity(records.hub.verifier.verify(auth[7:].strip()))
    if auth[:7].lower() == "apikey " or request.headers.get("x-api-key"):
        require_api_key(request)
        return SYSTEM
    raise AuthError("send Authorization: Bearer <JWT>, or the API key")


def _endpoint(records: Records, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            actor = actor_of_request(request, records)
            if request.method != "GET" and "id" in request.path_params:
                await _may_change(request, records, actor)
            return await handler(request, records, actor)
        except RelevoError as exc:
            return error_response(exc)

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint


async def _may_change(request: Request, records: Records, actor: Actor) -> None:
    """A change of an existing record, where a namespace leaves the last
    word to the app's backend: ask it (as a read would) before the change's
    transaction, which checks only the rules, under the row lock."""
    if records.hub is not None and not actor.privileged and asks_proxies(records.hub):
        await records.read(request.path_params["kind"], request.path_params["id"], actor=actor)


async def _body(request: Request) -> dict[str, Any]:
    return await read_json(request, MAX_BODY)


def _only(body: dict[str, Any], *allowed: str) -> dict[str, Any]:
    """``body``, if it has no key but ``allowed``. A key the server sets
    (``state``, ``version``, ``lease``, ``created_at``...) is refused, not
    dropped: a client that thinks it set one learns at once it did not."""
    extra = sorted(set(body) - set(allowed))
    if extra:
        raise ProtocolError(
            f"the body takes {', '.join(allowed)}; not {', '.join(extra)} "
            "(the server sets a record's state, version, lease and times)"
        )
    return body


def _int(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProtocolError(f"{name} must be an integer")
    return value


def _obj(body: dict[str, Any], name: str) -> dict[str, Any]:
    value = body.get(name) or {}
    if not isinstance(value, dict):
        raise ProtocolError(f"{name} must be an object")
    return value


def _view(records: Records, kind: str, actor: Actor, rec: Record) -> dict[str, Any]:
    """What ``actor`` sees of ``rec``: users its public fields, the backend
    (API key) all of them."""
    k = records.kind(kind)
    return k.full(rec) if actor.is_system else k.public(rec)


def _entry_view(k: Kind, actor: Actor, entry: HistoryEntry) -> dict[str, Any]:
    """A history entry as ``actor`` may see it: the input and changes it
    records hold private fields too (``leads_user.email``, a turno's name)."""
    out = entry.as_dict()
    keep = k.known_fields if actor.is_system else k.public_fields
    parts: dict[str, Any] = {}
    for part in ("input", "changes"):
        value = entry.data.get(part)
        if isinstance(value, Mapping):
            parts[part] = keep(value)
        elif not actor.is_system:
            parts[part] = {}
    # the backend sees private fields, not secret ones (Field.secret)
    out["data"] = {**entry.data, **parts} if actor.is_system else parts
    return out


def _path(request: Request) -> tuple[str, str]:
    return request.path_params["kind"], request.path_params["id"]


_NEWEST = {"1": "created", "true": "created", "created": "created",
           "updated": "updated", "0": None, "false": None}  # fmt: skip
"""``?newest=``: its spellings, to ``Records.query(newest=...)``."""


def parse_filter(k: Kind, params: Any) -> tuple[dict[str, Any], int | None, str | None]:
    """``?asesor_id=4&state=derivado,en_gestion&limit=50&newest=1`` → filter,
    limit, and which rows a window past the limit keeps (``newest``: ``1`` or
    ``created``, ``updated``; absent or ``0``: the oldest)."""
    where: dict[str, Any] = {}
    limit: int | None = None
    newest: str | None = None
    for name, text in params.multi_items():
        if name == "newest":
            if text not in _NEWEST:
                raise ProtocolError("newest is 1 (or created), updated, or 0")
            newest = _NEWEST[text]
            continue
        if name == "limit":
            try:
                limit = int(text)
            except ValueError:
                raise ProtocolError("limit must be an integer") from None
            if not 0 < limit <= 10_000:
                raise ProtocolError("limit must be between 1 and 10000")
            continue
        if "\x00" in text:  # PostgreSQL cannot hold one in text; nowhere is it meaningful
            raise ProtocolError(f"filter {name} must not contain NUL characters")
        parts = text.split(",") if "," in text else [text]
        if name in ("id", "state"):
            values: list[Any] = parts
        else:
            f = k.fields.get(name)
            if f is None:
                raise ProtocolError(f"{k.name} has no field {name}")
            try:
                values = [f.parse(name, p) for p in parts]
            except ValueError as exc:
                raise ProtocolError(str(exc)) from None
        where[name] = values if len(values) > 1 else values[0]
    return where, limit, newest


async def list_records(request: Request, records: Records, actor: Actor) -> Response:
    """A live query: matching rows plus the channel position read before them."""
    kind = request.path_params["kind"]
    where, limit, newest = parse_filter(records.kind(kind), request.query_params)
    snap = await records.query(kind, where, actor=actor, limit=limit, newest=newest)
    return json_response(snap.as_dict())


async def get_record(request: Request, records: Records, actor: Actor) -> Response:
    kind, id = _path(request)
    rec = await records.read(kind, id, actor=actor)
    return json_response(_view(records, kind, actor, rec))


async def create_record(request: Request, records: Records, actor: Actor) -> Response:
    kind = request.path_params["kind"]
    body = _only(await _body(request), "id", "data")
    rid = body.get("id")
    if rid is not None and not isinstance(rid, str | int):
        raise ProtocolError("id must be a string")
    rec = await records.create(
        kind, _obj(body, "data"), by=actor, id=None if rid is None else str(rid)
    )
    return json_response(_view(records, kind, actor, rec), 201)


async def update_record(request: Request, records: Records, actor: Actor) -> Response:
    kind, id = _path(request)
    body = _only(await _body(request), "data", "version", "fencing_token")
    rec = await records.update(
        kind, id, _obj(body, "data"), by=actor,
        version=_int(body, "version"), fencing_token=_int(body, "fencing_token"),
    )  # fmt: skip
    return json_response(_view(records, kind, actor, rec))


async def run_transition(request: Request, records: Records, actor: Actor) -> Response:
    kind, id = _path(request)
    body = _only(await _body(request), "data", "version", "fencing_token", "reason")
    reason = body.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise ProtocolError("reason must be a string")
    rec = await records.transition(
        kind, id, request.path_params["name"], _obj(body, "data"), by=actor,
        version=_int(body, "version"), fencing_token=_int(body, "fencing_token"), reason=reason,
    )  # fmt: skip
    return json_response(_view(records, kind, actor, rec))


def _ttl(body: dict[str, Any]) -> float | None:
    ttl = body.get("ttl")
    if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int | float)):
        raise ProtocolError("ttl must be a number of seconds")
    return None if ttl is None else float(ttl)


async def acquire_lease(request: Request, records: Records, actor: Actor) -> Response:
    kind, id = _path(request)
    body = _only(await _body(request), "ttl")
    lease = await records.acquire_lease(kind, id, by=actor, ttl=_ttl(body))
    return json_response(lease.as_dict())


async def heartbeat_lease(request: Request, records: Records, actor: Actor) -> Response:
    kind, id = _path(request)
    body = _only(await _body(request), "fencing_token", "ttl")
    token = _int(body, "fencing_token")
    if token is None:
        raise ProtocolError("fencing_token is required")
    lease = await records.heartbeat(kind, id, by=actor, fencing_token=token, ttl=_ttl(body))
    return json_response(lease.as_dict())


async def release_lease(request: Request, records: Records, actor: Actor) -> Response:
    kind, id = _path(request)
    body = _only(await _body(request), "fencing_token")
    token = _int(body, "fencing_token")
    if token is None and "fencing_token" in request.query_params:
        try:
            token = int(request.query_params["fencing_token"])
        except ValueError:
            raise ProtocolError("fencing_token must be an integer") from None
    rec = await records.release_lease(kind, id, by=actor, fencing_token=token)
    return json_response(_view(records, kind, actor, rec))


async def record_history(request: Request, records: Records, actor: Actor) -> Response:
    kind, id = _path(request)
    await records.read(kind, id, actor=actor)
    try:
        limit = int(request.query_params.get("limit", "100"))
    except ValueError:
        raise ProtocolError("limit must be an integer") from None
    if not 0 < limit <= 1000:
        raise ProtocolError("limit must be between 1 and 1000")
    k = records.kind(kind)
    entries = [_entry_view(k, actor, e) for e in await records.history(kind, id, limit=limit)]
    return json_response({"kind": kind, "id": id, "entries": entries})


async def record_activity(request: Request, records: Records, actor: Actor) -> Response:
    kind, id = _path(request)
    await records.read(kind, id, actor=actor)
    deadline = await records.touch(kind, id, by=actor)
    return json_response({"deadline": None if deadline is None else int(deadline * 1000)})


def records_routes(records: Records) -> list[Route]:
    base = "/api/records/{kind}"
    one = base + "/{id}"

    def route(path: str, handler: Handler, method: str) -> Route:
        return Route(path, _endpoint(records, handler), methods=[method])

    return [
        route(base, list_records, "GET"),
        route(base, create_record, "POST"),
        route(one, get_record, "GET"),
        route(one, update_record, "PATCH"),
        route(one + "/transitions/{name}", run_transition, "POST"),
        route(one + "/lease", acquire_lease, "POST"),
        route(one + "/lease/heartbeat", heartbeat_lease, "POST"),
        route(one + "/lease", release_lease, "DELETE"),
        route(one + "/history", record_history, "GET"),
        route(one + "/activity", record_activity, "POST"),
    ]
