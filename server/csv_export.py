"""The app's one CSV writer, for Excel: UTF-8 with BOM, formulas neutralised.

Every CSV the app hands out goes through :func:`csv_rows` — the supervision dashboard's lists
(:func:`csv_response`) and the manifest of the auditors' batch export
(:mod:`server.exports`) — so that no user-entered text (a unit's name, an address) runs as a
formula when the file is opened in a spreadsheet.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from flask import Response

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> str:
    """A cell's text, with a leading ``'`` when it would start like a formula."""
    text = "" if value is None else str(value)
    # A cell starting like a formula would run in a spreadsheet (CSV injection).
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_rows(rows: Iterable[Sequence[Any]]) -> str:
    """Rows of cells as CSV for Excel (BOM first), every cell neutralised: the app's one CSV
    writer (dashboard lists and the export manifest)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([neutralise(value) for value in row])
    return "\ufeff" + buffer.getvalue()


def csv_text(columns: Sequence[tuple[str, str]], rows: Iterable[dict[str, Any]]) -> str:
    """CSV with a header of Chinese column titles; ``columns`` = (key, title)."""
    header = [title for _key, title in columns]
    return csv_rows([header, *([row.get(key) for key, _title in columns] for row in rows)])


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
