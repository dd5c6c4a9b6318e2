"""CSV export of any list, for Excel: UTF-8 with BOM, formulas neutralised."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from flask import Response

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # A cell starting like a formula would run in a spreadsheet (CSV injection).
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_text(columns: Sequence[tuple[str, str]], rows: Iterable[dict[str, Any]]) -> str:
    """CSV with a header of Chinese column titles; ``columns`` = (key, title)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([title for _key, title in columns])
    for row in rows:
        writer.writerow([_cell(row.get(key)) for key, _title in columns])
    return "\ufeff" + buffer.getvalue()


def csv_response(
    filename: str, columns: Sequence[tuple[str, str]], rows: Iterable[dict]
) -> Response:
    """A download response with the CSV."""
    from urllib.parse import quote

    response = Response(csv_text(columns, rows), mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=export.csv; filename*=UTF-8''{quote(filename)}"
    )
    return response
