"""Checks of what callers send the inbox: tenant ids, phones, texts, and the
caller's own tenant. Each failure is a ``bad_request`` / ``forbidden`` with
the field it is about and a Spanish ``mensaje``."""

from __future__ import annotations

import re
from typing import Any

from relevo.records import Actor

from ..kit.errors import bad_request, forbidden
from .kinds import AGENT_ROLES

__all__ = ["agent_tenant", "phone", "supervisor_tenant", "tenant_id", "text"]

_TENANT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_PHONE = re.compile(r"^\+?[0-9]{6,15}$")


def tenant_id(value: Any) -> str:
    """1-32 lowercase letters, digits, ``_`` or ``-``: never a ``:``, so a
    tenant id cannot reach into another tenant's channel names."""
    if not isinstance(value, str) or not _TENANT.match(value):
        raise bad_request(
            "tenant must be 1-32 lowercase letters, digits, _ or -",
            "Identificador de empresa inválido.",
            field="tenant",
        )
    return value


def agent_tenant(actor: Actor) -> str:
    """The tenant of an agent's token (its ``tenant`` claim)."""
    if not actor.roles & AGENT_ROLES:
        raise forbidden(
            f"user {actor.user} has no inbox role (agente, supervisor)",
            "Tu usuario no es agente de la bandeja.",
        )
    if not actor.tenant or not _TENANT.match(actor.tenant):
        raise forbidden(
            f"user {actor.user}'s token has no valid tenant claim",
            "Tu sesión no indica tu empresa (claim tenant).",
        )
    return actor.tenant


def supervisor_tenant(
    actor: Actor,
    what: str,
    mensaje: str = "Solo un supervisor puede hacer o cancelar envíos masivos.",
) -> str:
    """The tenant of a supervisor's token; anyone else is ``forbidden`` (said
    before any record is read, so the denial tells nothing about one)."""
    tenant = agent_tenant(actor)
    if "supervisor" not in actor.roles:
        raise forbidden(f"only a supervisor may {what}", mensaje)
    return tenant


def phone(value: Any, field: str = "from") -> str:
    """``+51 987-654-321`` → ``+51987654321``: 6 to 15 digits, an optional ``+``."""
    if isinstance(value, str):
        cleaned = re.sub(r"[\s().-]", "", value)
        if _PHONE.match(cleaned):
            return cleaned
    raise bad_request(
        f"{field} must be a phone number (6-15 digits, optional +)",
        "Número de teléfono inválido.",
        field=field,
    )


def text(
    value: Any, max_len: int, field: str = "text", what: tuple[str, str] = ("El mensaje", "vacío")
) -> str:
    """Required text up to ``max_len``; ``what``: its Spanish name and "empty"
    in its gender (``("La nota", "vacía")``)."""
    if not isinstance(value, str) or not value.strip():
        raise bad_request(f"{field} is required", f"{what[0]} está {what[1]}.", field=field)
    if len(value) > max_len:
        raise bad_request(
            f"{field} is longer than {max_len} characters",
            f"{what[0]} supera los {max_len} caracteres.",
            field=field,
        )
    return value.strip()


def optional_str(value: Any, field: str, max_len: int = 120) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_len:
        raise bad_request(f"{field} must be text up to {max_len}", "Dato inválido.", field=field)
    return value.strip() or None
