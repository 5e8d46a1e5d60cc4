"""CSV exports the apps answer: cells a spreadsheet shows as text (never as
a formula), UTF-8 with a BOM (so spreadsheets read accents), CRLF lines,
downloaded as an attachment and never cached."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from starlette.responses import Response

__all__ = ["csv_cell", "csv_response", "csv_text"]


def csv_cell(value: Any) -> str:
    """A cell starting with ``= + - @`` (or a tab / carriage return) would
    run as a formula in a spreadsheet, so it gets a leading ``'``."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_text(header: Sequence[str], rows: Iterable[Iterable[Any]]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(header)
    for row in rows:
        w.writerow([csv_cell(v) for v in row])
    return out.getvalue()


def csv_response(text: str, filename: str) -> Response:
    return Response(
        text.encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
