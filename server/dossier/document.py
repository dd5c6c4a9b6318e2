"""The dossier (案卷), set with ReportLab from plain data (no database, no Flask), with the
case's issued documents merged in with pypdf.

:func:`render` turns a :class:`DossierData` into an A4 archive file, in this order:

1. the cover;
2. the 卷内目录 (index): one row per issued document in issue order (文号, 题名, 日期, 页号,
   备注 — a void one marked 作废), then the dossier's own sections;
3. every issued document, its stored PDF pages as issued (the caller re-hashed the bytes against
   the SHA-256 recorded at issue), each page stamped "案卷第 x 页" in its top right corner;
4. the summary (stages passed, open tasks, deadlines met or missed), the process diagram on
   landscape pages (an overview and, when the overview is too small to read, detail sheets),
   the full record with the submitted forms under their Chinese labels, the attachments;
5. 附录：哈希校验 — the verification of the audit chain and every hash (events, documents,
   attachments), which appear nowhere else;
6. the 卷内备考表: how many documents and pages, signature lines for the 承办人 and the 审核人.

The index's page numbers are true: the ReportLab part is set with as many blank "slot" pages as
each document has, set again until every section lands where the index says (two passes; the
index's length does not depend on its numbers), and then each slot page gets the document's
page merged under its stamp. Every page is counted in one "第 x 页 共 y 页" numbering.
"""

from __future__ import annotations

import io
import itertools
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any
from xml.sax.saxutils import escape

from pypdf import PdfReader, PdfWriter
from reportlab.lib.colors import HexColor, white
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    KeepTogether,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from server.audit import ChainCheck
from server.case_view import DeadlineRow, DiagramStates, TimelineEntry, verdict_lines
from server.display import cn_datetime, event_label, to_shanghai
from server.dossier.diagram import (
    SvgPainter,
    diagram_painter,
    draw_legend,
    legend_painter,
    legend_width,
)
from server.dossier.fonts import BUILD_LOCK, DossierFont
from server.overdue import LAPSED, MET_LATE, OVERDUE, STATUS_LABELS
from workflows.diagram_svg import MARGIN, TASK_FONT, Bounds, diagram_geometry

log = logging.getLogger(__name__)
PORTRAIT = A4
LANDSCAPE = landscape(A4)
SIDE = 48.0
TOP = 62.0
BOTTOM = 52.0
RED = HexColor("#c5221f")
RED_BG = HexColor("#fce8e6")
GREEN = HexColor("#1e6b34")
GREEN_BG = HexColor("#e6f4ea")
AMBER = HexColor("#8a5300")
AMBER_BG = HexColor("#fef3d6")
GRID = HexColor("#bdc1c6")
HEAD_BG = HexColor("#f1f3f4")
MUTED = HexColor("#5f6368")
INK = HexColor("#202124")
#: Below this many points per task-name glyph the overview is followed by detail sheets.
READABLE_TASK_FONT = 6.5
MAX_SHEETS = 12


# --- the data ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StageRow:
    """A completed step of the case."""

    label: str
    agency: str
    person: str
    completed_at: datetime | None


@dataclass(frozen=True)
class OpenTaskRow:
    """A step waiting now."""

    label: str
    agency: str
    due: datetime | None
    status: str
    claimed_by: str


@dataclass(frozen=True)
class AttachmentRow:
    """A file attached to the case."""

    filename: str
    mime: str
    size: str
    uploaded_by: str
    uploaded_at: datetime
    sha256: str


@dataclass(frozen=True)
class IssuedDocument:
    """An issued document (文书) of the case, with its stored PDF."""

    number: str
    title: str
    issuer: str
    issued_at: datetime
    void: bool
    sha256: str
    pdf: bytes | None
    """The stored bytes, re-hashed against ``sha256``; None when missing or changed on disk."""
    problem: str = ""
    """Why ``pdf`` is None, in Chinese."""

    @cached_property
    def pages(self) -> int:
        """How many pages it takes in the dossier (one notice page when the file is missing)."""
        if self.pdf is None:
            return 1
        return len(PdfReader(io.BytesIO(self.pdf)).pages)


@dataclass
class DossierData:
    """Everything printed in a dossier, already in words."""

    number: str
    case_no: str | None
    unit_name: str
    address: str
    district: str
    process_name: str
    process_version: str
    status: str
    stage: str
    discoverer: str
    opened_by: str
    opened_at: datetime
    closed_at: datetime | None
    printed_by: str
    """Name, agency and username of the person printing."""
    printer: str
    """Just the name (for the footer)."""
    printed_at: datetime
    check: ChainCheck
    needs_attention: str | None = None
    title: str = "火灾隐患督办案卷"
    """What the dossier is called: by process (see :data:`server.dossier.TITLES`)."""
    verdict: dict[str, Any] | None = None
    stages: list[StageRow] = field(default_factory=list)
    open_tasks: list[OpenTaskRow] = field(default_factory=list)
    deadlines: list[DeadlineRow] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)
    attachments: list[AttachmentRow] = field(default_factory=list)
    documents: list[IssuedDocument] = field(default_factory=list)
    bpmn: str | None = None
    states: DiagramStates = field(default_factory=lambda: DiagramStates((), (), ()))


# --- styles ------------------------------------------------------------------------------------


class Styles:
    """Paragraph styles in the dossier font (CJK line breaking everywhere)."""

    def __init__(self, font: str) -> None:
        """:param font: the registered font name."""
        self.font = font

        def style(name: str, size: float, leading: float | None = None, **kw: Any) -> Any:
            return ParagraphStyle(
                name,
                fontName=font,
                fontSize=size,
                leading=leading or size * 1.45,
                wordWrap="CJK",
                textColor=kw.pop("textColor", INK),
                **kw,
            )

        self.title = style("title", 26, 36, alignment=TA_CENTER, spaceAfter=6)
        self.subtitle = style("subtitle", 12, alignment=TA_CENTER, textColor=MUTED, spaceAfter=18)
        self.h1 = style("h1", 16, 22, spaceBefore=16, spaceAfter=10)
        self.h2 = style("h2", 12, 17, spaceBefore=10, spaceAfter=6)
        self.body = style("body", 10, 15)
        self.small = style("small", 8.5, 12, textColor=MUTED)
        self.cell = style("cell", 9, 12.5)
        self.cell_head = style("cell_head", 9, 12.5, textColor=MUTED)
        self.label = style("label", 9, 12.5, textColor=MUTED)
        self.entry = style("entry", 10.5, 15)
        self.mono = style("mono", 8.5, 11.5)
        self.hash = style("hash", 7, 10)
        self.warn_title = style("warn_title", 15, 21, textColor=RED)
        self.warn = style("warn", 10, 15, textColor=RED)
        self.ok_title = style("ok_title", 13, 18, textColor=GREEN)
        self.note = style("note", 9.5, 14, textColor=AMBER)


def text(value: Any) -> str:
    """Escape for a paragraph; newlines become line breaks."""
    return escape("" if value is None else str(value)).replace("\n", "<br/>")


def when(value: datetime | None, empty: str = "—") -> str:
    """A moment in Asia/Shanghai, in Chinese, with the weekday."""
    return cn_datetime(value) if value is not None else empty


def short(value: datetime | None, empty: str = "—") -> str:
    """A moment in Asia/Shanghai for table cells: ``2026年10月9日 14:05``."""
    moment = to_shanghai(value) if value is not None else None
    if not isinstance(moment, datetime):
        return empty
    return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}"


# --- flowables -------------------------------------------------------------------------------


class Heading(Paragraph):
    """A heading that is also an entry of the PDF outline (bookmarked where it is drawn)."""

    def __init__(self, title: str, style: Any, key: str, level: int = 0) -> None:
        """:param key: unique bookmark name; :param level: outline depth (0 = section)."""
        super().__init__(text(title), style)
        self.outline = (title, key, level)

    def draw(self) -> None:
        """Bookmark, then draw."""
        title, key, level = self.outline
        try:  # jump to the heading itself, not just to its page
            top = self.canv.absolutePosition(0, self.height + 6)[1]
        except ValueError:  # position tracking switched off in ReportLab
            top = None
        self.canv.bookmarkPage(key, fit="XYZ", left=0, top=top)
        self.canv.addOutlineEntry(title, key, level=level, closed=level > 0)
        super().draw()


def box(content: Sequence[Flowable], border: Any, background: Any, width: float,
        line: float = 2.0, *, font: str) -> Table:  # fmt: skip
    """A coloured box around flowables (the verification result, warnings).

    :param font: the dossier font, also for the table's own cell font (ReportLab sets it on
        every cell, even one holding paragraphs: left at its Helvetica default, the PDF would
        carry an unembedded base-14 font).
    """
    table = Table([[list(content)]], colWidths=[width])
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), font),
                ("BOX", (0, 0), (-1, -1), line, border),
                ("BACKGROUND", (0, 0), (-1, -1), background),
                ("LEFTPADDING", (0, 0), (-1, -1), 10),
                ("RIGHTPADDING", (0, 0), (-1, -1), 10),
                ("TOPPADDING", (0, 0), (-1, -1), 8),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
            ]
        )
    )
    return table


class DiagramSheet(Flowable):
    """One landscape page of the process diagram: the part ``view`` scaled to the frame, a
    title above, the legend below; on the overview, the detail sheets' outlines."""

    def __init__(
        self,
        painter: SvgPainter,
        legend: SvgPainter,
        view: Bounds,
        title: str,
        note: str,
        key: str,
        level: int,
        sheets: Sequence[Bounds] = (),
    ) -> None:
        """:param view: the part of the diagram to show (diagram units)."""
        super().__init__()
        self.painter, self.legend, self.view = painter, legend, view
        self.title, self.note = title, note
        self.key, self.level, self.sheets = key, level, list(sheets)

    def wrap(self, aw: float, ah: float) -> tuple[float, float]:
        """The whole frame."""
        self.width, self.height = aw, ah - 1
        return self.width, self.height

    def area(self, aw: float, ah: float) -> tuple[float, float, float]:
        """(scale, width, height) of the drawing in a frame of ``aw`` × ``ah``."""
        avail_h = ah - 34 - 30
        scale = min(aw / self.view.width, avail_h / self.view.height)
        return scale, self.view.width * scale, self.view.height * scale

    def draw(self) -> None:
        """Title, drawing, sheet outlines and legend."""
        c = self.canv
        font = self.painter.font
        c.bookmarkPage(self.key, fit="Fit")
        c.addOutlineEntry(self.title, self.key, level=self.level, closed=True)
        c.setFillColor(INK)
        c.setFont(font.name, 14)
        c.drawString(0, self.height - 16, self.title)
        c.setFont(font.name, 8.5)
        c.setFillColor(MUTED)
        c.drawString(0, self.height - 30, self.note)
        scale, w, h = self.area(self.width, self.height)
        x = (self.width - w) / 2
        top = self.height - 34
        c.setStrokeColor(GRID)
        c.setLineWidth(0.5)
        c.rect(x, top - h, w, h, stroke=1, fill=0)
        self.painter.draw_at(c, self.view, x, top, scale)
        for n, sheet in enumerate(self.sheets, start=1):
            sx = x + (sheet.x - self.view.x) * scale
            sy = top - (sheet.y - self.view.y) * scale
            c.saveState()
            c.setStrokeColor(HexColor("#1a56b0"))
            c.setLineWidth(0.8)
            c.setDash([4, 3], 0)
            c.rect(sx, sy - sheet.height * scale, sheet.width * scale, sheet.height * scale)
            c.setDash([], 0)
            c.setFillColor(HexColor("#1a56b0"))
            c.circle(sx + 9, sy - 9, 7, stroke=0, fill=1)
            c.setFillColor(white)
            c.setFont(font.name, 8)
            c.drawCentredString(sx + 9, sy - 11.8, str(n))
            c.restoreState()
        size = 8.5
        legend = legend_width(self.legend, size)
        baseline = max(6, top - h - 22)
        draw_legend(
            c, self.legend, max(0.0, (self.width - legend) / 2), baseline + size * 0.36, size
        )


# --- page furniture --------------------------------------------------------------------------


def numbered_canvas(font: str, case_number: str, *, chain_ok: bool = True) -> type[Canvas]:
    """A canvas class that holds pages back until the end, then writes "第 x 页 共 y 页"
    on each (and the bookmarks of each page, which must be made while it is current).

    A slot page (the place of an issued document's page, see :class:`SlotPage`) gets its number
    as an archive stamp in the top right corner instead: the document's own page number
    ("— 1 —") stays where the document put it. When the audit chain failed, the stamp says so in
    red, as every other page's header does.
    """

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._held: list[tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]] = []
            self._marks: list[tuple[str, dict[str, Any]]] = []
            self.slot = False

        def bookmarkPage(self, key: str, **kwargs: Any) -> None:
            self._marks.append((key, kwargs))

        def showPage(self) -> None:
            marks, self._marks = self._marks, []
            self._held.append((dict(self.__dict__), marks))
            self.slot = False
            self._startPage()

        def save(self) -> None:
            total = len(self._held)
            for number, (state, marks) in enumerate(self._held, start=1):
                self.__dict__.update(state)
                for key, kwargs in marks:
                    Canvas.bookmarkPage(self, key, **kwargs)
                width, height = self._pagesize
                self.setFont(font, 9)
                self.setFillColor(MUTED)
                if state.get("slot"):
                    stamp = f"{case_number} 案卷 第 {number} 页 共 {total} 页"
                    if not chain_ok:
                        stamp = "审计链校验未通过 · " + stamp
                        self.setFillColor(RED)
                    self.setStrokeColor(GRID if chain_ok else RED)
                    self.setLineWidth(0.6)
                    w = stringWidth(stamp, font, 9) + 12
                    self.rect(width - 24 - w, height - 30, w, 16, stroke=1, fill=0)
                    self.drawRightString(width - 30, height - 25, stamp)
                else:
                    self.drawCentredString(width / 2, 24, f"第 {number} 页 共 {total} 页")
                Canvas.showPage(self)
            Canvas.save(self)

    return NumberedCanvas


class SlotPage(Flowable):
    """The place of one page of an issued document: nothing drawn, the page marked a slot (its
    number becomes a stamp) and, on the document's first page, bookmarked."""

    def __init__(self, outline: tuple[str, str] | None = None) -> None:
        """:param outline: (title, key) of the bookmark on the document's first page."""
        super().__init__()
        self.outline = outline

    def wrap(self, aw: float, ah: float) -> tuple[float, float]:
        """Takes no room."""
        return 0.0, 0.0

    def draw(self) -> None:
        """Mark the page."""
        self.canv.slot = True
        if self.outline:
            title, key = self.outline
            self.canv.bookmarkPage(key, fit="Fit")
            self.canv.addOutlineEntry(title, key, level=1, closed=True)


class Mark(Flowable):
    """Where a part of the dossier starts (its page is recorded for the index)."""

    def __init__(self, key: str) -> None:
        """:param key: the part's key in :attr:`DossierDoc.marks`."""
        super().__init__()
        self.key = key

    def wrap(self, aw: float, ah: float) -> tuple[float, float]:
        """Takes no room."""
        return 0.0, 0.0

    def draw(self) -> None:
        """Nothing to draw: the document template records the page."""


class DossierDoc(BaseDocTemplate):
    """Portrait and landscape A4 pages with the case number above and the printer below."""

    def __init__(self, buffer: io.BytesIO, data: DossierData, font: DossierFont) -> None:
        """:param buffer: where the PDF goes."""
        keywords = [
            "督办案卷",
            data.number,
            f"审计链校验：{'通过' if data.check.ok else '未通过'}",
            f"链头哈希 {data.check.head}",
            f"字体：{font.description}（{font.family}）",
        ]
        super().__init__(
            buffer,
            pagesize=PORTRAIT,
            leftMargin=SIDE,
            rightMargin=SIDE,
            topMargin=TOP,
            bottomMargin=BOTTOM,
            title=f"{data.title} {data.number} {data.unit_name}",
            author=data.printed_by,
            subject=f"常德市消防安全隐患督办系统 案卷 {data.number}",
            creator="督办 Duban",
            keywords=keywords,
            lang="zh-CN",
            initialFontName=font.name,
        )
        self.data, self.font = data, font
        portrait = Frame(SIDE, BOTTOM, PORTRAIT[0] - 2 * SIDE, PORTRAIT[1] - TOP - BOTTOM, id="p")
        wide = Frame(
            36, BOTTOM - 8, LANDSCAPE[0] - 72, LANDSCAPE[1] - TOP - BOTTOM + 12, id="l",
            leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0,
        )  # fmt: skip
        slot = Frame(0, 0, PORTRAIT[0], PORTRAIT[1], id="s")
        self.addPageTemplates(
            [
                PageTemplate("portrait", [portrait], onPage=self.furniture, pagesize=PORTRAIT),
                PageTemplate("landscape", [wide], onPage=self.furniture, pagesize=LANDSCAPE),
                PageTemplate("slot", [slot], pagesize=PORTRAIT),
            ]
        )
        #: part key → page where it starts (filled while building)
        self.marks: dict[str, int] = {}

    def afterFlowable(self, flowable: Flowable) -> None:
        """Record where each :class:`Mark` landed."""
        if isinstance(flowable, Mark):
            self.marks.setdefault(flowable.key, self.page)

    def beforeDocument(self) -> None:
        """Open the PDF with its outline (the bookmarks of the sections) shown."""
        self.canv.showOutline()

    def furniture(self, canvas: Canvas, doc: Any) -> None:
        """Header (case number, unit, a red mark when the chain failed) and footer (printer)."""
        data = self.data
        width, height = canvas._pagesize
        left = 36 if width > height else SIDE
        right = width - left
        canvas.saveState()
        canvas.setFont(self.font.name, 9)
        canvas.setFillColor(MUTED)
        number = data.number + (f"（{data.case_no}）" if data.case_no else "")
        canvas.drawString(left, height - 34, f"{data.title}  {number}")
        unit = data.unit_name if len(data.unit_name) <= 24 else data.unit_name[:23] + "…"
        if not data.check.ok:
            canvas.setFillColor(RED)
            canvas.roundRect(right - 92, height - 39, 92, 16, 3, stroke=0, fill=1)
            canvas.setFillColor(white)
            canvas.drawCentredString(right - 46, height - 34, "审计链校验未通过")
            canvas.setFillColor(MUTED)
            canvas.drawRightString(right - 100, height - 34, unit)
        else:
            canvas.drawRightString(right, height - 34, unit)
        canvas.setStrokeColor(GRID)
        canvas.setLineWidth(0.6)
        canvas.line(left, height - 42, right, height - 42)
        canvas.line(left, 36, right, 36)
        canvas.setFont(self.font.name, 7.5)
        canvas.drawString(left, 24, f"{data.printer} 打印于 {short(data.printed_at)}")
        canvas.drawRightString(right, 24, "常德市消防安全隐患督办系统")
        canvas.restoreState()


# --- the story -------------------------------------------------------------------------------


def _table(rows: list[list[Any]], widths: Sequence[float], st: Styles, *,
           head: bool = True, zebra: bool = False) -> Table:  # fmt: skip
    """A grid of paragraphs; the first row is the header (repeated on every page)."""
    cells = [
        [c if isinstance(c, Flowable) else Paragraph(text(c), st.cell_head if head and r == 0
                                                    else st.cell) for c in row]
        for r, row in enumerate(rows)
    ]  # fmt: skip
    table = Table(cells, colWidths=list(widths), repeatRows=1 if head else 0, splitInRow=1)
    style: list[tuple[Any, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), st.font),
        ("GRID", (0, 0), (-1, -1), 0.5, GRID),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]
    if head:
        style.append(("BACKGROUND", (0, 0), (-1, 0), HEAD_BG))
    if zebra:
        style += [
            ("BACKGROUND", (0, r), (-1, r), HexColor("#fafafa")) for r in range(2, len(rows), 2)
        ]
    table.setStyle(TableStyle(style))
    return table


def _facts(pairs: list[tuple[str, str]], st: Styles, width: float) -> Table:
    """Label | value rows (the cover's facts, a form's fields)."""
    label_w = 96.0
    rows = [[Paragraph(text(k), st.label), Paragraph(text(v), st.cell)] for k, v in pairs]
    table = Table(rows, colWidths=[label_w, width - label_w], splitInRow=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), st.font),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, GRID),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 4),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return table


def verification_box(data: DossierData, st: Styles, width: float, *, full: bool) -> Table:
    """The result of verifying the audit chain: green when intact, red listing the problems."""
    check = data.check
    if check.ok:
        content: list[Flowable] = [
            Paragraph("审计链校验：通过", st.ok_title),
            Paragraph(
                text(f"本案 {check.events} 个审计事件的哈希链完整，未发现改动、删除或顺序调整。"),
                st.body,
            ),
        ]
        if full:
            content.append(Paragraph(text(f"链头哈希（SHA-256）：{check.head}"), st.mono))
        else:
            content.append(Paragraph("各事件、文书和附件的哈希见“附录：哈希校验”。", st.small))
        return box(content, GREEN, GREEN_BG, width, 1.5, font=st.font)
    content = [
        Paragraph("审计链校验未通过", st.warn_title),
        Paragraph(
            text(
                "本案的审计记录与哈希链不符：数据库中的事件在记录之后被改动、删除或调整了顺序。"
                "本案卷所载内容不能作为可信记录使用，请立即报告系统管理员和纪检监察部门。"
            ),
            st.warn,
        ),
    ]
    problems = check.problems if full else check.problems[:6]
    content += [Paragraph(text(f"• {p}"), st.warn) for p in problems]
    if len(problems) < len(check.problems):
        more = len(check.problems) - len(problems)
        content.append(Paragraph(text(f"……另有 {more} 处问题，见“附录：哈希校验”。"), st.warn))
    if full:
        content.append(
            Paragraph(
                text(f"共 {check.events} 个事件；按现存记录计算的链头哈希：{check.head}"),
                st.mono,
            )
        )
    return box(content, RED, RED_BG, width, 3.0, font=st.font)


def cover(data: DossierData, font: DossierFont, st: Styles, width: float) -> list[Flowable]:
    """The cover: what the case is, who printed it when, and whether its record is intact."""
    story: list[Flowable] = [
        Spacer(1, 18),
        Heading(data.title, st.title, "cover"),
        Paragraph("常德市消防安全隐患督办系统", st.subtitle),
    ]
    if not data.check.ok:
        story += [verification_box(data, st, width, full=False), Spacer(1, 12)]
    version = data.process_version[:12]
    story.append(
        _facts(
            [
                ("督办编号", data.number),
                ("立案编号", data.case_no or "（尚未立案）"),
                ("单位名称", data.unit_name),
                ("地址", data.address),
                ("辖区", data.district),
                ("办理流程", f"{data.process_name}（版本 {version}）"),
                ("案件状态", data.status),
                ("当前环节", data.stage or "—"),
                ("登记单位", f"{data.discoverer}（登记人：{data.opened_by}）"),
                ("登记时间", when(data.opened_at)),
                ("办结时间", when(data.closed_at, "（尚未办结）")),
                ("打印人", data.printed_by),
                ("打印时间", f"{when(data.printed_at)}（北京时间）"),
            ],
            st,
            width,
        )
    )
    story.append(Spacer(1, 14))
    if data.check.ok:
        story.append(verification_box(data, st, width, full=False))
    if data.needs_attention:
        story += [
            Spacer(1, 8),
            box(
                [Paragraph(text(f"系统提示：{data.needs_attention}"), st.note)],
                AMBER,
                AMBER_BG,
                width,
                font=st.font,
            ),
        ]
    if not font.embedded:
        story += [
            Spacer(1, 8),
            box(
                [
                    Paragraph(
                        text(
                            "字体提示：本机未找到可嵌入的中文 TrueType 字体，本案卷使用 PDF 阅读器"
                            f"内置的{font.display_name}，字体未嵌入本文件，不同电脑上显示可能不同。"
                            "请系统管理员安装中文 TrueType 字体（如文泉驿微米黑）后重新打印。"
                        ),
                        st.note,
                    )
                ],
                AMBER,
                AMBER_BG,
                width,
                font=st.font,
            ),
        ]
    story += [
        Spacer(1, 12),
        Paragraph(
            text(
                "说明：本案卷由系统根据案件数据库记录生成，时间均为北京时间。打印时逐一重算本案审计"
                "事件的哈希链并载明结果；本次打印本身作为审计事件（"
                + event_label("dossier_printed")
                + "）记入本案，"
                "在校验之后追加，不影响上述校验结果。"
            ),
            st.small,
        ),
        Paragraph(text(f"本案卷字体：{font.description}"), st.small),
    ]
    return story


def deadline_result(d: DeadlineRow) -> str:
    """Met or missed, in words (:data:`server.overdue.STATUS_LABELS`)."""
    return STATUS_LABELS[d.status]


def summary(data: DossierData, st: Styles, width: float) -> list[Flowable]:
    """Stages passed with dates, what waits now, every deadline met or missed."""
    story: list[Flowable] = [
        PageBreak(),
        Mark("summary"),
        Heading("一、办理摘要", st.h1, "summary"),
    ]
    for line in verdict_lines(data.verdict):
        story.append(
            Paragraph(
                text(
                    f"{line.label}：{line.value}" + (f"；依据：{line.basis}" if line.basis else "")
                ),
                st.body,
            )
        )
    story.append(Heading("已办结环节", st.h2, "summary-stages", 1))
    if data.stages:
        rows: list[list[Any]] = [["序号", "环节", "承办单位", "办理人", "完成时间"]]
        rows += [
            [str(n), s.label, s.agency, s.person, short(s.completed_at)]
            for n, s in enumerate(data.stages, start=1)
        ]
        story.append(_table(rows, [26, 150, 130, 78, width - 384], st))
    else:
        story.append(Paragraph("尚无办结的环节。", st.body))
    story.append(Heading("当前待办", st.h2, "summary-open", 1))
    if data.open_tasks:
        rows = [["环节", "承办单位", "截止时间", "状态", "认领人"]]
        rows += [[t.label, t.agency, short(t.due), t.status, t.claimed_by] for t in data.open_tasks]
        story.append(_table(rows, [150, 130, 100, 70, width - 450], st))
    elif data.closed_at is not None:
        story.append(
            Paragraph(text(f"案件已于{when(data.closed_at)}办结，没有待办环节。"), st.body)
        )
    else:
        story.append(Paragraph("目前没有待办环节，案件正在等待期限或系统处理。", st.body))
    story.append(Heading("法定期限", st.h2, "summary-deadlines", 1))
    if data.deadlines:
        rows = [["期限", "责任单位", "截止时间", "完成时间", "结果", "逾期工作日"]]
        for d in data.deadlines:
            label = d.label + ("（暂定：该年度放假安排尚未录入）" if d.provisional else "")
            rows.append([label, d.agency or "—", short(d.due), short(d.finished),
                         deadline_result(d), str(d.late) if d.late else "—"])  # fmt: skip
        story.append(_table(rows, [116, 100, 82, 82, 56, width - 436], st))
        missed = sum(1 for d in data.deadlines if d.status in (OVERDUE, MET_LATE, LAPSED))
        still = sum(1 for d in data.deadlines if d.status == OVERDUE)
        story.append(Spacer(1, 4))
        story.append(
            Paragraph(
                text(
                    f"共 {len(data.deadlines)} 个期限，其中逾期 {missed} 个"
                    + (f"（{still} 个逾期未办）" if still else "")
                    + "。"
                ),
                st.small,
            )
        )
    else:
        story.append(Paragraph("本案没有计时的法定期限。", st.body))
    return story


def diagram_pages(data: DossierData, font: DossierFont, st: Styles) -> list[Flowable]:
    """The process diagram on landscape pages: the overview, then detail sheets if needed."""
    story: list[Flowable] = [NextPageTemplate("landscape"), PageBreak(), Mark("diagram")]
    painter = None
    nodes: list[Bounds] = []
    if data.bpmn:
        try:
            geometry = diagram_geometry(data.bpmn)
            nodes = [
                sh.bounds
                for sh in geometry.shapes
                if not sh.is_lane and sh.kind not in ("participant", "lane", "subProcess")
            ]
            if geometry.shapes:
                painter = diagram_painter(
                    data.bpmn, font, done=data.states.done, current=data.states.current,
                    overdue=data.states.overdue,
                )  # fmt: skip
        except Exception:  # a drawing problem must not stop the dossier
            log.exception("diagram of dossier %s failed", data.number)
            painter = None
    if painter is None:
        story += [
            Heading("二、办理流程图", st.h1, "diagram"),
            Paragraph(
                "本案流程版本的流程图暂不可用。当前环节：" + text(data.stage or "—"), st.body
            ),
        ]
        return [*story, NextPageTemplate("portrait"), PageBreak()]
    frame_w = LANDSCAPE[0] - 72
    frame_h = LANDSCAPE[1] - TOP - BOTTOM + 12 - 1
    full = painter.extent
    legend = legend_painter(font)
    overview = DiagramSheet(painter, legend, full, "", "", "", 0)
    scale, _, _ = overview.area(frame_w, frame_h)
    sheets = _swept(full, _sheets(full, frame_w, frame_h - 64, scale), nodes)
    note = (
        f"{data.process_name}（版本 {data.process_version[:12]}）。绿色打 ✓ 为已办结环节，"
        "蓝色标 ● 为当前待办环节，红框标“逾期”为错过期限的环节。"
    )
    if sheets:
        note += f"流程图较大，其后分 {len(sheets)} 幅放大（虚线框为各幅范围）。"
    story.append(DiagramSheet(painter, legend, full, "二、办理流程图", note, "diagram", 0, sheets))
    for n, sheet in enumerate(sheets, start=1):
        story += [
            PageBreak(),
            DiagramSheet(painter, legend, sheet, f"办理流程图 分幅 {n}/{len(sheets)}",
                         f"{data.number} · 比例为总览的 {_ratio(sheet, full)} 倍",
                         f"diagram-{n}", 1),
        ]  # fmt: skip
    return [*story, NextPageTemplate("portrait"), PageBreak()]


def _ratio(sheet: Bounds, full: Bounds) -> str:
    return f"{min(full.width / sheet.width, full.height / sheet.height):.1f}"


def _swept(full: Bounds, grid: list[Bounds], nodes: Sequence[Bounds]) -> list[Bounds]:
    """Detail sheets placed where the elements are, so no page shows bare lanes.

    The grid's rows of sheets stay; along each row, a sheet starts just left of the leftmost
    element not yet shown whole, until every element lying in the row is on a sheet (an element
    across two rows is swept with the row holding its centre). Rows without elements get none,
    and a sheet whose every element another sheet shows whole is left out.

    :param grid: the evenly spread sheets of :func:`_sheets` (their size and rows are kept).
    :param nodes: the boxes of the diagram's flow elements (not lanes or pools).
    """
    if not grid or not nodes:
        return grid
    width, height = grid[0].width, grid[0].height
    bands = sorted({sheet.y for sheet in grid})

    def band_of(node: Bounds) -> float:
        inside = [y for y in bands if node.y >= y and node.y + node.height <= y + height]
        if inside:
            return inside[0]
        centre = node.y + node.height / 2
        return min(bands, key=lambda y: abs(y + height / 2 - centre))

    placed: list[Bounds] = []
    for y in bands:
        here = sorted((n for n in nodes if band_of(n) == y), key=lambda n: n.x)
        while here:
            left = min(max(here[0].x - MARGIN, full.x), max(full.x, full.right - width))
            placed.append(Bounds(left, y, width, height))
            rest = [n for n in here if n.right > left + width]
            here = rest if len(rest) < len(here) else here[1:]

    def shows(sheet: Bounds, n: Bounds) -> bool:
        return (sheet.x <= n.x and n.right <= sheet.right
                and sheet.y <= n.y and n.y + n.height <= sheet.y + sheet.height)  # fmt: skip

    # rows overlap: a sheet whose every element another sheet shows whole is left out
    kept = list(placed)
    for sheet in sorted(placed, key=lambda b: sum(shows(b, n) for n in nodes)):
        others = [k for k in kept if k is not sheet]
        if all(any(shows(o, n) for o in others) for n in nodes if shows(sheet, n)):
            kept = others
    return [sheet for sheet in placed if sheet in kept]


def _sheets(full: Bounds, aw: float, ah: float, overview_scale: float) -> list[Bounds]:
    """Detail sheets covering the diagram at a readable scale (none when the overview is)."""
    if overview_scale * TASK_FONT >= READABLE_TASK_FONT:
        return []
    wanted = READABLE_TASK_FONT / TASK_FONT
    cols = max(1, math.ceil(full.width * wanted / aw))
    rows = max(1, math.ceil(full.height * wanted / ah))
    while cols * rows > MAX_SHEETS:
        wanted *= 0.9
        cols = max(1, math.ceil(full.width * wanted / aw))
        rows = max(1, math.ceil(full.height * wanted / ah))
    overlap = MARGIN * 2
    # each sheet has the frame's proportions, so it fills the page
    width = (full.width + overlap * (cols - 1)) / cols
    height = (full.height + overlap * (rows - 1)) / rows
    if width / height > aw / ah:
        height = width * ah / aw
    else:
        width = height * aw / ah
    sheets = []
    for r in range(rows):
        for col in range(cols):
            x = full.x + (full.width - width) * (col / (cols - 1) if cols > 1 else 0.5)
            y = full.y + (full.height - height) * (r / (rows - 1) if rows > 1 else 0.5)
            sheets.append(Bounds(x, y, width, height))
    return sheets


def timeline_section(data: DossierData, st: Styles, width: float) -> list[Flowable]:
    """Every event of the chain, oldest first, with the submitted forms under their labels."""
    story: list[Flowable] = [Mark("timeline"), Heading("三、办理记录", st.h1, "timeline")]
    story.append(
        Paragraph(
            text(
                f"按审计链顺序列出本案全部 {len(data.timeline)} 个事件（时间为北京时间）；"
                "各事件的哈希见附录。"
            ),
            st.small,
        )
    )
    story.append(Spacer(1, 6))
    for entry in data.timeline:
        who = entry.actor + (f" · {entry.agency}" if entry.agency else "")
        head = [
            Paragraph(
                f'<font color="#5f6368">#{entry.seq}</font>&nbsp;&nbsp;{text(entry.title)}',
                st.entry,
            ),
            Paragraph(text(f"{when(entry.at)}　{who}"), st.small),
        ]
        for line in entry.lines:
            head.append(Paragraph(text(line), st.cell))
        for verdict in verdict_lines(entry.verdict):
            head.append(
                Paragraph(
                    text(
                        f"{verdict.label}：{verdict.value}"
                        + (f"（{verdict.basis}）" if verdict.basis else "")
                    ),
                    st.cell,
                )
            )
        block: list[Flowable] = [CondPageBreak(80), KeepTogether(head)]
        if entry.shown:
            pairs = [(s.label, "\n".join(s.values)) for s in entry.shown]
            table = _facts(pairs, st, width - 12)
            table.hAlign = "RIGHT"
            block += [Spacer(1, 3), table]
        block.append(Spacer(1, 10))
        story += block
    return story


def attachments_section(data: DossierData, st: Styles, width: float) -> list[Flowable]:
    """The attached files with size, uploader and time (their SHA-256 in the appendix)."""
    story: list[Flowable] = [
        CondPageBreak(120),
        Mark("attachments"),
        Heading("四、附件", st.h1, "attachments"),
    ]
    if not data.attachments:
        return [*story, Paragraph("本案没有附件。", st.body)]
    rows: list[list[Any]] = [["序号", "文件名", "大小", "上传人", "上传时间"]]
    for n, a in enumerate(data.attachments, start=1):
        rows.append([str(n), a.filename, a.size, a.uploaded_by, short(a.uploaded_at)])
    story.append(_table(rows, [26, width - 240, 56, 74, 84], st))
    story.append(Spacer(1, 4))
    story.append(Paragraph("各附件的 SHA-256 见附录。", st.small))
    return story


#: The dossier's own parts after the documents, as the index names them (key, title).
PARTS: tuple[tuple[str, str], ...] = (
    ("summary", "办理摘要"),
    ("diagram", "办理流程图"),
    ("timeline", "办理记录"),
    ("attachments", "附件目录"),
    ("appendix", "附录：哈希校验"),
    ("backnote", "卷内备考表"),
)


def day(value: datetime) -> str:
    """A date in Asia/Shanghai: ``2026年10月9日``."""
    moment = to_shanghai(value)
    if not isinstance(moment, datetime):
        return "—"
    return f"{moment.year}年{moment.month}月{moment.day}日"


def page_range(pages: dict[str, int], key: str) -> str:
    """``3`` or ``3–5`` for a part, ``…`` before the pages are known (the first pass)."""
    first, last = pages.get(key), pages.get(f"{key}-end")
    if first is None or last is None:
        return "…"
    return str(first) if last <= first else f"{first}–{last}"


def index_section(
    data: DossierData, st: Styles, width: float, pages: dict[str, int]
) -> list[Flowable]:
    """卷内目录: every issued document in issue order, then the dossier's own parts."""
    story: list[Flowable] = [
        PageBreak(),
        Mark("index"),
        Heading("卷内目录", st.title, "index"),
        Paragraph(text(f"{data.title} {data.number}　{data.unit_name}"), st.subtitle),
    ]
    rows: list[list[Any]] = [["序号", "文号", "文件题名", "日期", "页号", "备注"]]
    for n, d in enumerate(data.documents, start=1):
        title = Paragraph(
            f"{text(d.title)}<br/><font size=7.5 color='#5f6368'>{text(d.issuer)}</font>",
            st.cell,
        )
        remark = "作废" if d.void else ""
        if d.pdf is None:
            remark = "、".join(r for r in (remark, "文件缺失") if r)
        rows.append([str(n), d.number, title, day(d.issued_at),
                     page_range(pages, f"doc-{n}"), remark])  # fmt: skip
    for n, (key, title) in enumerate(PARTS, start=len(data.documents) + 1):
        rows.append([str(n), "—", title, day(data.printed_at), page_range(pages, key), ""])
    story.append(_table(rows, [26, 134, width - 326, 74, 40, 52], st))
    story += [
        Spacer(1, 6),
        Paragraph(
            text(
                "页号为本案卷统一编排的页码（文书页右上角的“案卷第 x 页”）；"
                "文书按签发顺序收录，保持签发时的原样，作废文书保留原文号并注明“作废”；"
                "无文号的各项为本系统按案件记录生成的部分，日期为生成日期。"
            ),
            st.small,
        ),
    ]
    return story


def documents_section(data: DossierData, st: Styles, width: float) -> list[Flowable]:
    """The issued documents' places: one slot page per page of each stored PDF (the pages are
    merged in afterwards); a notice page for a document whose file is missing or changed."""
    story: list[Flowable] = []
    for n, d in enumerate(data.documents, start=1):
        outline = f"文书 {n}：{d.title}（{d.number}）" + ("（作废）" if d.void else "")
        key = f"doc-{n}"
        if d.pdf is None:
            story += [
                NextPageTemplate("portrait"),
                PageBreak(),
                Mark(key),
                Heading(outline, st.h1, key, 1),
                box(
                    [
                        Paragraph("文书文件未能收入本案卷", st.warn_title),
                        Paragraph(text(d.problem or "文书文件缺失或已被改动。"), st.warn),
                    ],
                    RED,
                    RED_BG,
                    width,
                    3.0,
                    font=st.font,
                ),
                Mark(f"{key}-end"),
            ]
            continue
        story += [NextPageTemplate("slot"), PageBreak(), Mark(key), SlotPage((outline, key))]
        for _ in range(d.pages - 1):
            story += [PageBreak(), SlotPage()]
        story.append(Mark(f"{key}-end"))
    return [*story, NextPageTemplate("portrait")]


def appendix_section(data: DossierData, st: Styles, width: float) -> list[Flowable]:
    """附录：哈希校验 — how the chain was verified, what came out, and every hash of the case."""
    check = data.check
    story: list[Flowable] = [
        CondPageBreak(260),
        Mark("appendix"),
        Heading("附录：哈希校验", st.h1, "verification"),
        Paragraph(
            text(
                "本案每个审计事件的哈希为 SHA-256(前一事件哈希 + 本事件内容的规范 JSON)，"
                "第一个事件的前一哈希为 64 个 0。打印时按序号逐一重算：任何事件在记录后被改动、"
                "删除或调换顺序，都会使其哈希或后续事件的前序哈希不符。文书和附件按其内容的 "
                "SHA-256 存放，收入本案卷前逐一重算核对。"
            ),
            st.body,
        ),
        Spacer(1, 8),
        verification_box(data, st, width, full=True),
        Spacer(1, 8),
        Paragraph(
            text(
                f"校验时间：{when(data.printed_at)}；校验事件数：{check.events}。本次打印在校验之后"
                f"作为新的审计事件（{event_label('dossier_printed')}）追加到链尾，"
                "记录打印人、本校验结果和链头哈希。"
            ),
            st.small,
        ),
    ]
    if data.documents:
        story.append(Heading("文书", st.h2, "appendix-documents", 1))
        rows: list[list[Any]] = [["序号", "文号", "SHA-256", "核对"]]
        for n, d in enumerate(data.documents, start=1):
            state = "与签发时一致" if d.pdf is not None else "文件缺失或已改动"
            rows.append([str(n), d.number, Paragraph(text(d.sha256), st.hash), state])
        story.append(_table(rows, [26, width - 369, 263, 80], st))
    if data.attachments:
        story.append(Heading("附件", st.h2, "appendix-attachments", 1))
        rows = [["序号", "文件名", "SHA-256"]]
        rows += [
            [str(n), a.filename, Paragraph(text(a.sha256), st.hash)]
            for n, a in enumerate(data.attachments, start=1)
        ]
        story.append(_table(rows, [26, width - 289, 263], st))
    if data.timeline:
        story.append(Heading("审计事件", st.h2, "appendix-events", 1))
        rows = [["序号", "事件", "时间", "事件哈希"]]
        rows += [
            [str(e.seq), e.title, short(e.at), Paragraph(text(e.hash), st.hash)]
            for e in data.timeline
        ]
        story.append(_table(rows, [30, width - 371, 78, 263], st))
    return [*story, Mark("appendix-end")]


def signature_line(st: Styles, width: float) -> Table:
    """签名：＿＿＿＿ 日期：＿＿年＿月＿日, the blanks ruled for a hand to fill."""
    cells = ["签名：", "", "日期：", "", "年", "", "月", "", "日"]
    widths = [40, width - 232, 40, 52, 18, 30, 18, 30, 4]
    widths[-1] = width - sum(widths[:-1])
    table = Table([[Paragraph(c, st.entry) if c else "" for c in cells]], colWidths=widths)
    table.setStyle(
        TableStyle(
            [("FONTNAME", (0, 0), (-1, -1), st.font)]
            + [("LINEBELOW", (i, 0), (i, 0), 0.8, INK) for i in (1, 3, 5, 7)]
            + [("LEFTPADDING", (0, 0), (-1, -1), 1), ("RIGHTPADDING", (0, 0), (-1, -1), 1)]
        )
    )
    return table


def backnote_section(
    data: DossierData, st: Styles, width: float, total: int | None
) -> list[Flowable]:
    """卷内备考表: what the file holds, and lines for the 承办人 and the 审核人 to sign and date."""
    void = sum(1 for d in data.documents if d.void)
    pages = f"{total}" if total else "…"
    summary_text = (
        f"本卷共有文书 {len(data.documents)} 件"
        + (f"（其中作废 {void} 件）" if void else "")
        + f"，连同封面、卷内目录、办理记录、附录和本表，共 {pages} 页。"
        + f"审计链校验{'通过' if data.check.ok else '未通过'}（{data.check.events} 个事件）。"
        + f"本卷由系统于{when(data.printed_at)}生成，打印人：{data.printed_by}。"
    )
    rows = [
        [Paragraph("本卷情况说明", st.label), Paragraph(text(summary_text), st.entry)],
        [Paragraph("承办人（立卷人）", st.label), signature_line(st, width - 126)],
        [Paragraph("审核人（检查人）", st.label), signature_line(st, width - 126)],
    ]
    table = Table(rows, colWidths=[110, width - 110], rowHeights=[260, 70, 70])
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), st.font),
                ("GRID", (0, 0), (-1, -1), 0.8, INK),
                ("VALIGN", (0, 0), (-1, 0), "TOP"),
                ("VALIGN", (0, 1), (-1, -1), "BOTTOM"),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, -1), 8),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 12),
            ]
        )
    )
    return [
        PageBreak(),
        Mark("backnote"),
        Heading("卷内备考表", st.title, "backnote"),
        Paragraph(text(f"{data.title} {data.number}　{data.unit_name}"), st.subtitle),
        table,
        Mark("backnote-end"),
    ]


def render(data: DossierData, font: DossierFont) -> tuple[bytes, int]:
    """The dossier as PDF bytes, and its number of pages.

    One build at a time per process (:data:`~server.dossier.fonts.BUILD_LOCK`): ReportLab's
    shared font objects are not thread-safe.
    """
    with BUILD_LOCK:
        return _render(data, font)


#: Passes until the index's page numbers are where the parts landed (two in practice).
MAX_PASSES = 4


def _render(data: DossierData, font: DossierFont) -> tuple[bytes, int]:
    pages: dict[str, int] = {}
    total: int | None = None
    for _ in range(MAX_PASSES):
        pdf, marks, count = _build(data, font, pages, total)
        if marks == pages and count == total:
            break
        pages, total = marks, count
    return _merge(pdf, data, pages), count


def _build(
    data: DossierData, font: DossierFont, pages: dict[str, int], total: int | None
) -> tuple[bytes, dict[str, int], int]:
    """One pass: the ReportLab part with the index numbered from ``pages``; returns it with
    where each part landed and the page count."""
    buffer = io.BytesIO()
    doc = DossierDoc(buffer, data, font)
    st = Styles(font.name)
    width = PORTRAIT[0] - 2 * SIDE
    story: list[Flowable] = []
    story += cover(data, font, st, width)
    story += index_section(data, st, width, pages)
    story += documents_section(data, st, width)
    story += summary(data, st, width)
    story += [Mark("summary-end")]
    story += diagram_pages(data, font, st)
    story += [*timeline_section(data, st, width), Mark("timeline-end")]
    story += [*attachments_section(data, st, width), Mark("attachments-end")]
    story += appendix_section(data, st, width)
    story += backnote_section(data, st, width, total)
    doc.build(story, canvasmaker=numbered_canvas(font.name, data.number, chain_ok=data.check.ok))
    marks = dict(doc.marks)
    for (key, _), (following, _) in itertools.pairwise(PARTS):
        if f"{key}-end" not in marks and following in marks:
            marks[f"{key}-end"] = marks[following] - 1
    return buffer.getvalue(), marks, doc.page


def _merge(pdf: bytes, data: DossierData, pages: dict[str, int]) -> bytes:
    """Each issued document's pages, as stored, under the stamps of their slot pages."""
    if not any(d.pdf for d in data.documents):
        return pdf
    writer = PdfWriter(clone_from=io.BytesIO(pdf))
    for n, d in enumerate(data.documents, start=1):
        if d.pdf is None:
            continue
        first = pages[f"doc-{n}"]
        for i, page in enumerate(PdfReader(io.BytesIO(d.pdf)).pages):
            writer.pages[first - 1 + i].merge_page(page, over=False)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
