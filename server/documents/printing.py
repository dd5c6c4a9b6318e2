"""Printing an issued document (打印), audited like a dossier print.

Downloading (``GET …/documents/{id}.pdf``) hands out the stored original, byte for byte, and
writes nothing. Printing is a POST: it re-hashes the stored PDF, appends ``document_printed``
(who, the document's number, its SHA-256, the print count, the SHA-256 of the copy handed out)
to the case's hash chain, and answers a copy with a print mark in the bottom margin of every
page ("打印件 第2次 打印人 张三 2026年12月8日 10:05"), stamped on the stored PDF with pypdf and
a ReportLab overlay set in the documents' embedded CJK font.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import UTC, datetime

from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError
from reportlab.lib.colors import HexColor
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import select

from server.audit import append_event
from server.documents import document_content, document_facts
from server.dossier import dossier_font
from server.dossier.fonts import BUILD_LOCK
from server.extensions import db
from server.models import Document, Event, User
from server.operations import Conflict, _transaction, lock_case
from workflows.calendar import SHANGHAI

#: The print mark's size and its baseline above the page's bottom edge (in the bottom margin,
#: under the page number and a letter's lower rules).
MARK_SIZE = 9.0
MARK_BASELINE = 10 * mm
MARK_COLOR = HexColor("#555555")


@dataclass(frozen=True)
class PrintedDocument:
    """A printed copy of an issued document."""

    document: Document
    pdf: bytes
    count: int
    sha256: str


def print_mark(count: int, user: User, at: datetime) -> str:
    """The line stamped on each page: ``打印件 第2次 打印人 张三（单位） 2026年12月8日 10:05``."""
    local = at.astimezone(SHANGHAI)
    when = f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
    return f"打印件 第{count}次 打印人 {user.name}（{user.agency.name}） {when}"


def stamp(content: bytes, mark: str) -> bytes:
    """The PDF ``content`` with ``mark`` centred in the bottom margin of every page."""
    font = dossier_font()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(content)))
    with BUILD_LOCK:
        for page in writer.pages:
            width, height = float(page.mediabox.width), float(page.mediabox.height)
            buffer = io.BytesIO()
            canvas = Canvas(buffer, pagesize=(width, height), initialFontName=font.name)
            canvas.setFont(font.name, MARK_SIZE)
            canvas.setFillColor(MARK_COLOR)
            text_width = stringWidth(mark, font.name, MARK_SIZE)
            canvas.drawString((width - text_width) / 2, MARK_BASELINE, mark)
            canvas.showPage()
            canvas.save()
            overlay = PdfReader(io.BytesIO(buffer.getvalue())).pages[0]
            page.merge_page(overlay)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def print_count(document: Document) -> int:
    """How often the document was printed (its ``document_printed`` events)."""
    kinds = db.session.scalars(
        select(Event.data).where(
            Event.case_id == document.case_id, Event.kind == "document_printed"
        )
    )
    return sum(
        1 for data in kinds if isinstance(data, dict) and data.get("document") == document.id
    )


def print_document(user: User, document: Document, now: datetime | None = None) -> PrintedDocument:
    """Print ``document`` (of a case the caller scoped): record ``document_printed`` in the
    case's chain (committed) and answer the stamped copy.

    :raises Conflict: the document is void.
    :raises server.attachments.AttachmentTampered: its file is missing or changed (409).
    """
    if document.void:
        raise Conflict("该文书已作废，不能打印；请打印更正后的文书")
    original = document_content(document)  # re-hashed against the SHA-256 issued
    now = now or datetime.now(UTC)
    with _transaction():
        lock_case(document.case_id)  # print counts are taken one at a time
        count = print_count(document) + 1
        try:
            pdf = stamp(original, print_mark(count, user, now))
        except PyPdfError as exc:  # a stored file that is no readable PDF: nothing recorded
            raise Conflict("文书文件无法读取，不能打印") from exc
        digest = hashlib.sha256(pdf).hexdigest()
        append_event(
            document.case_id,
            "document_printed",
            actor=user,
            task_name=document.task_name,
            data={
                **document_facts(document),
                "sha256": document.sha256,
                "count": count,
                "printed_sha256": digest,
            },
            at=now,
        )
    return PrintedDocument(document, pdf, count, digest)
