"""Rows ↔ records, and filters as SQL over the shared table.

A filter on ``id``, ``state`` or an indexed field becomes SQL on the slot
columns; a filter on any other field is applied in Python to the rows the
SQL part returns (correct, but it reads the kind's rows: index what you
filter on often).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
import sqlalchemy as sa

from relevo.protocol.errors import ProtocolError
from relevo.records import schema as s
from relevo.records.kinds import Kind
from relevo.records.model import Lease, Record

__all__ = ["Filter", "apply_filter", "record_from_row", "slot_values"]

_decode = msgspec.json.Decoder(dict[str, Any])


def record_from_row(row: Any) -> Record:
    m = row._mapping
    holder = m["lease_holder"]
    lease = (
        Lease(holder, int(m["lease_token"]), float(m["lease_expires"]))
        if holder is not None
        else None
    )
    return Record(
        kind=m["kind"],
        id=m["id"],
        version=int(m["version"]),
        state=m["state"],
        data=_decode.decode(m["data"]),
        created_at=float(m["created_at"]),
        updated_at=float(m["updated_at"]),
        lease=lease,
        fence=int(m["lease_token"]),
    )


def _slot(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    return value


def slot_values(k: Kind, data: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {c: None for c in ("s1", "s2", "s3", "s4", "n1", "n2")}
    for field, slot in k.slots.items():
        value = _slot(data.get(field))
        if isinstance(value, str):
            value = value[:191]
        values[slot] = value
    return values


class Filter:
    """``where`` split into SQL conditions and Python ones, plus an order."""

    def __init__(
        self,
        kind: Kind,
        where: Mapping[str, Any],
        order_by: Sequence[str] = (),
        *,
        sql_only: bool = False,
    ) -> None:
        self.kind = kind
        self.where = dict(where)
        r = s.records.c
        self.conditions: list[sa.ColumnElement[bool]] = [r.kind == kind.name]
        self.python: dict[str, Any] = {}
        for field, value in self.where.items():
            col = self._column(field)
            if col is None:
                if field not in kind.fields:
                    raise ProtocolError(f"{kind.name} has no field {field}")
                if sql_only:
                    raise ProtocolError(f"{kind.name}.{field} is not indexed")
                self.python[field] = value
                continue
            if field == "id":
                value = [str(v) for v in value] if isinstance(value, list) else str(value)
            if isinstance(value, list | tuple | set | frozenset):
                vals = [_slot(v) for v in value]
                self.conditions.append(col.in_(vals))
            elif value is None:
                self.conditions.append(col.is_(None))
            else:
                self.conditions.append(col == _slot(value))
        self.order: list[sa.UnaryExpression[Any] | sa.ColumnElement[Any]] = []
        for spec in order_by:
            desc = spec.startswith("-")
            name = spec.lstrip("-+")
            col = r[name] if name in ("created_at", "updated_at", "seq") else self._column(name)
            if col is None:
                raise ProtocolError(f"{kind.name}.{name} is not indexed; it cannot order a query")
            self.order.append(col.desc() if desc else col.asc())
        self.order.append(r.seq.asc())

    def _column(self, field: str) -> sa.ColumnElement[Any] | None:
        r = s.records.c
        if field == "id":
            return r.id
        if field == "state":
            return r.state
        slot = self.kind.slots.get(field)
        return None if slot is None else r[slot]

    def select(self, limit: int) -> sa.Select[Any]:
        stmt = sa.select(s.records).where(*self.conditions).order_by(*self.order)
        if not self.python and limit > 0:
            stmt = stmt.limit(limit)
        return stmt

    def matches(self, rec: Record) -> bool:
        for field, want in self.python.items():
            have = rec.data.get(field)
            if isinstance(want, list | tuple | set | frozenset):
                if have not in want:
                    return False
            elif have != want:
                return False
        return True


def apply_filter(flt: Filter, recs: list[Record], limit: int) -> list[Record]:
    if not flt.python:
        return recs
    out = [r for r in recs if flt.matches(r)]
    return out[:limit] if limit > 0 else out
