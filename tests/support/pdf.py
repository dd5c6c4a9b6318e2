"""PDFs read back as a reader's tools see them: poppler's ``pdftotext`` and ``pdffonts``
(Debian's poppler-utils)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from tests.support.api import Api


def _run(tool: list[str], pdf: bytes, tmp_path: Path, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(pdf)
    args = [*tool, str(path), *(["-"] if tool[0] == "pdftotext" else [])]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def pdf_text(pdf: bytes, tmp_path: Path, layout: bool = True, squeeze: bool = True) -> str:
    """The PDF's text by ``pdftotext`` (``-layout`` unless told), every whitespace removed
    (only the spaces with ``squeeze=False``: the lines stay)."""
    text = _run(["pdftotext", *(["-layout"] if layout else [])], pdf, tmp_path, "text.pdf")
    return "".join(text.split()) if squeeze else text.replace(" ", "")


def pdf_fonts(pdf: bytes, tmp_path: Path) -> list[list[str]]:
    """The rows of ``pdffonts``: name type encoding emb sub uni object ID, split at spaces."""
    out = _run(["pdffonts"], pdf, tmp_path, "fonts.pdf")
    return [line.split() for line in out.splitlines()[2:]]


def assert_fonts_embedded(rows: list[list[str]], subset: bool = False, what: Any = None) -> None:
    """At least one font, every one embedded (the emb column) and, with ``subset``, subset too
    (the sub column)."""
    assert rows, ("no font listed", what)
    for row in rows:
        assert row[-5] == "yes", (what, row)
        if subset:
            assert row[-4] == "yes", (what, row)


def document_pdf(api: Api, user: str, item: dict, tmp_path: Path) -> tuple[str, list[list[str]]]:
    """The text (whitespace removed) and the font rows of an issued document's PDF, an item of
    ``GET /api/v1/cases/{id}/documents`` fetched by its url as ``user``."""
    pdf = api.get(user, item["url"].removeprefix("/api/v1"))
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf", (item["kind"], pdf)
    return pdf_text(pdf.data, tmp_path), pdf_fonts(pdf.data, tmp_path)


def document_text(api: Api, user: str, item: dict, tmp_path: Path) -> str:
    """The text (whitespace removed) of an issued document's PDF, after checking that every font
    is embedded."""
    text, fonts = document_pdf(api, user, item, tmp_path)
    assert_fonts_embedded(fonts, what=item["kind"])
    return text
