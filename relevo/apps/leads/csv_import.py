"""Reading a CSV of new leads: every row checked, every bad one reported by
its line, before anything is written.

Pure functions (no database): :func:`parse_leads_csv` turns the file's bytes
into clean rows and line errors; the service then checks the clean rows
against existing leads and writes the good ones in one transaction.

Accepted: UTF-8 (with or without BOM) or Windows-1252 (Excel's "CSV" on a
Spanish Windows), separated by ``,`` ``;`` or tab, with a header row. Header
names are matched without case or accents: ``nombre`` (or cliente, name),
``telefono`` (celular, phone), ``documento`` (dni, doc), ``campana``
(campaña, campaign), ``fuente`` (origen, source).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "MAX_BYTES",
    "MAX_ROWS",
    "CsvProblem",
    "LineError",
    "ParsedCsv",
    "clean_lead",
    "normalize_phone",
    "parse_leads_csv",
]

MAX_BYTES = 4 * 1024 * 1024
MAX_ROWS = 10_000

_ALIASES = {
    "nombre": "nombre",
    "cliente": "nombre",
    "name": "nombre",
    "nombres": "nombre",
    "telefono": "telefono",
    "celular": "telefono",
    "phone": "telefono",
    "movil": "telefono",
    "documento": "documento",
    "dni": "documento",
    "doc": "documento",
    "ruc": "documento",
    "campana": "campana",
    "campaign": "campana",
    "fuente": "fuente",
    "origen": "fuente",
    "source": "fuente",
}
_LIMITS = {"nombre": 120, "campana": 60, "fuente": 60}
_DOC = re.compile(r"^[A-Za-z0-9-]{5,20}$")


class CsvProblem(ValueError):
    """The file as a whole cannot be read (no header, no nombre column, too big)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class LineError:
    line: int
    """1-based line of the file (the header is line 1)."""
    code: str
    """missing | invalid | too_long | duplicate | exists"""
    message: str
    field: str | None = None
    ref: str | None = None
    """The other line (duplicate) or lead id (exists) it clashes with."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "code": self.code,
            "field": self.field,
            "message": self.message,
            "ref": self.ref,
        }


@dataclass
class ParsedCsv:
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    """(line, clean lead fields) of the rows that passed every check."""
    errors: list[LineError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    total: int = 0
    """Data rows read (blank lines not counted)."""


def _key(header: str) -> str:
    text = unicodedata.normalize("NFKD", header.strip().lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^a-z]", "", text)


def normalize_phone(text: str) -> str | None:
    """``"(01) 445-2210"`` → ``"014452210"``; ``+51 987 654 321`` keeps its ``+``.
    None when it is not 6 to 15 digits."""
    raw = text.strip()
    digits = re.sub(r"[\s().-]", "", raw)
    plus = digits.startswith("+")
    digits = digits[1:] if plus else digits
    if not digits.isdigit() or not 6 <= len(digits) <= 15:
        return None
    return ("+" if plus else "") + digits


def clean_lead(values: dict[str, str], line: int = 0) -> tuple[dict[str, str], list[LineError]]:
    """One lead's fields checked and normalised (shared by the CSV and the
    "Nuevo lead" form)."""
    out: dict[str, str] = {}
    errors: list[LineError] = []
    nombre = " ".join(values.get("nombre", "").split())
    if not nombre:
        errors.append(LineError(line, "missing", "nombre is empty", "nombre"))
    out["nombre"] = nombre
    tel = values.get("telefono", "").strip()
    if not tel:
        errors.append(LineError(line, "missing", "telefono is empty", "telefono"))
    else:
        phone = normalize_phone(tel)
        if phone is None:
            errors.append(
                LineError(line, "invalid", f"telefono {tel!r}: 6 to 15 digits", "telefono")
            )
        else:
            out["telefono"] = phone
    doc = values.get("documento", "").strip()
    if doc:
        if not _DOC.match(doc):
            errors.append(
                LineError(
                    line, "invalid", f"documento {doc!r}: 5 to 20 letters or digits", "documento"
                )
            )
        out["documento"] = doc.upper()
    for name in ("campana", "fuente"):
        value = " ".join(values.get(name, "").split())
        if value:
            out[name] = value
    for name, limit in _LIMITS.items():
        if len(out.get(name, "")) > limit:
            errors.append(LineError(line, "too_long", f"{name} is over {limit} characters", name))
    return out, errors


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _dialect(text: str) -> str:
    first = text.split("\n", 1)[0]
    counts = {sep: first.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] else ","


def parse_leads_csv(data: bytes) -> ParsedCsv:
    """Check every row; raise :class:`CsvProblem` only for a file-level problem."""
    if len(data) > MAX_BYTES:
        raise CsvProblem("too_large", f"the file is over {MAX_BYTES // (1024 * 1024)} MB")
    text = _decode(data)
    if not text.strip():
        raise CsvProblem("empty", "the file is empty")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_dialect(text))
    try:
        header = next(reader)
    except csv.Error as exc:
        raise CsvProblem("unreadable", f"line 1: {exc}") from None
    columns: list[str | None] = []
    result = ParsedCsv()
    for name in header:
        target = _ALIASES.get(_key(name))
        if target is not None and target in columns:
            raise CsvProblem("bad_header", f"column {target} appears twice in the header")
        columns.append(target)
        if target is None and name.strip():
            result.ignored_columns.append(name.strip())
    if "nombre" not in columns or "telefono" not in columns:
        raise CsvProblem(
            "bad_header", "the first line must name the columns; nombre and telefono are required"
        )
    seen_phone: dict[str, int] = {}
    seen_doc: dict[str, int] = {}
    line = reader.line_num
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            result.errors.append(LineError(reader.line_num, "invalid", f"unreadable row: {exc}"))
            break
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        result.total += 1
        if result.total > MAX_ROWS:
            raise CsvProblem("too_many_rows", f"the file has over {MAX_ROWS} rows")
        if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns) :]):
            result.errors.append(
                LineError(line, "invalid", f"{len(cells)} cells but {len(columns)} columns")
            )
            continue
        values = {col: cell for col, cell in zip(columns, cells, strict=False) if col is not None}
        clean, errors = clean_lead(values, line)
        phone, doc = clean.get("telefono"), clean.get("documento")
        if not errors and phone in seen_phone:
            ref = str(seen_phone[phone])
            errors.append(
                LineError(line, "duplicate", f"telefono repeats line {ref}", "telefono", ref)
            )
        if not errors and doc and doc in seen_doc:
            ref = str(seen_doc[doc])
            errors.append(
                LineError(line, "duplicate", f"documento repeats line {ref}", "documento", ref)
            )
        if errors:
            result.errors.extend(errors)
            continue
        if phone:
            seen_phone[phone] = line
        if doc:
            seen_doc[doc] = line
        result.rows.append((line, clean))
    return result
