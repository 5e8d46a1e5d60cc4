"""What an app (or the records layer) adds to the server: routes, start and
stop hooks, index links, and its routes' OpenAPI paths — as data the server
composes, so no layer below the server reaches up into it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.routing import BaseRoute

__all__ = ["Extension"]


@dataclass
class Extension:
    name: str
    routes: list[BaseRoute] = field(default_factory=list)
    startup: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    shutdown: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)
    """(label, url) pairs for the index page."""
    openapi_paths: dict[str, Any] = field(default_factory=dict)
    """OpenAPI ``paths`` entries of its routes, merged into /api/openapi.json."""
    state: dict[str, Any] = field(default_factory=dict)
    """Objects the server puts on ``app.state`` for routes of other extensions
    (the sign-in service, ``app.state.sign_in``)."""
    openapi_schemas: dict[str, Any] = field(default_factory=dict)
    """``components/schemas`` its paths refer to; one name, one schema across extensions."""
