"""CSV for spreadsheets, one way for every app's export.

Excel and LibreOffice run a cell that starts with ``= + - @`` (or a tab or a
carriage return) as a formula — "CSV injection": a lead named
``=HYPERLINK(...)`` would become a link on the supervisor's machine. Such a
cell gets a leading ``'`` and is shown as the text it was. Lines end in CRLF
(RFC 4180); the caller adds a BOM where Excel needs one to see UTF-8.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["cell", "spreadsheet_csv"]

_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    """A value as a cell a spreadsheet shows as text (``None`` is empty)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def spreadsheet_csv(header: Sequence[str], rows: Iterable[Iterable[Any]]) -> str:
    """``header`` then ``rows`` as CSV text, every cell through :func:`cell`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return out.getvalue()
