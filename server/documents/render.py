"""One engine for every kind of document: a filled template (``workflows.documents.Filled``)
drawn to PDF with ReportLab in a GB/T 9704-2012-like layout.

Measurements (../shared/DOCUMENTS.md §1, §5): A4; 天头 37 mm, 订口 28 mm, type area
156 × 225 mm (so right 26 mm, bottom 35 mm); body 3号 (16 pt) at 22 lines a page (leading
225 mm / 22 ≈ 29 pt), paragraphs indented two characters; title 2号 (22 pt) centred; page
numbers "— 1 —" in 4号 (14 pt) 7 mm below the type area, odd pages right and even pages left,
one character in. Layouts:

``report`` (文件格式, e.g. a 请示)
    red 发文机关标志 whose top is 35 mm below the type area's top, the 发文字号 two lines
    below it, a red rule 4 mm under the number, the title two lines under the rule.
``letter`` (信函格式, a 函)
    red agency name whose top is 30 mm from the page's top, red double rules (thick over thin)
    4 mm under it and (thin over thick) 20 mm above the page's bottom, 170 mm long; the number
    flush right under the rule; no page number on the first page.
``notice`` (a law-enforcement document)
    the agency's name in black, the document's name as title, the number flush right, the
    party (当事人), the body, the agency and date, and the recipient's receipt lines.

Fonts by role (``server.documents.fonts``): the body, number, 署名 and page numbers in the
仿宋/宋体 stand-in, the title and the 发文机关标志 in the 小标宋 stand-in drawn emboldened, a
first-level heading's sentence (一、) in 黑体, a second-level one's (（一）) in 楷体; each an
embedded, subset TrueType (the canvas starts in the body font, so no base-14 font is named in
the file). Every build holds ``server.dossier.fonts.BUILD_LOCK`` (ReportLab's fonts are not
thread-safe).
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from xml.sax.saxutils import escape

from reportlab.lib import textsplit as _reportlab_textsplit
from reportlab.lib.colors import HexColor, black
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfdoc
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    NextPageTemplate,
    PageTemplate,
    Paragraph,
    Spacer,
)
from reportlab.platypus import paragraph as _reportlab_paragraph

from server.documents.fonts import DocumentFonts
from server.dossier.fonts import BUILD_LOCK
from workflows.documents import Filled

PAGE_W, PAGE_H = A4
TOP, LEFT, RIGHT, BOTTOM = 37 * mm, 28 * mm, 26 * mm, 35 * mm
WIDTH = PAGE_W - LEFT - RIGHT  # 156 mm
BODY = 15.75  # 3号 (16 pt) narrowed by 1.6 % so that 28 characters fill the 156 mm line
LEADING = 225 * mm / 22  # 22 lines a page
TITLE = 22.0  # 2号
PAGE_NO = 14.0  # 4号
RED = HexColor("#D0021B")
CHAR = BODY  # one character of body text
BOLD = 0.025  # the 小标宋 stand-in's emboldening: an outline stroke of 2.5 % of the size


# 避头尾 (GB/T 15834): ReportLab's CJK line breaking keeps a character of ALL_CANNOT_START at the
# end of the line before instead of starting a line with it; its list has 、。） but lacks the
# full-width comma, colon, semicolon, ! and ? of Chinese text, so lines began with "，" or "：".
# The list is read by two splitters: textsplit.wordSplit (a paragraph in one font) and
# paragraph.cjkFragSplit (mixed fonts, e.g. a heading in 黑体).
for _module in (_reportlab_textsplit, _reportlab_paragraph):
    if "，" not in _module.ALL_CANNOT_START:
        _module.ALL_CANNOT_START += "，：；！？"


class _Rule(Flowable):
    """A horizontal rule the width of the type area."""

    def __init__(self, width: float, thickness: float, color: object = black) -> None:
        super().__init__()
        self.width, self.thickness, self.color = width, thickness, color

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.thickness + 2

    def draw(self) -> None:
        self.canv.setStrokeColor(self.color)
        self.canv.setLineWidth(self.thickness)
        self.canv.line(0, 1, self.width, 1)


class _Doc(BaseDocTemplate):
    """The page set of one document: a first page with its layout's header, then plain pages."""

    def __init__(self, buffer: io.BytesIO, filled: Filled, font: DocumentFonts) -> None:
        super().__init__(
            buffer,
            pagesize=A4,
            leftMargin=LEFT,
            rightMargin=RIGHT,
            topMargin=TOP,
            bottomMargin=BOTTOM,
            title=f"{filled.title}（{filled.number}）",
            author=filled.issuer,
            subject=filled.name,
            creator="Duban",
            # the canvas starts in the body font: no unembedded Helvetica named in the file
            initialFontName=font.body.name,
            initialFontSize=BODY,
        )
        self.filled, self.font = filled, font
        header = {"report": _REPORT_HEADER, "letter": _LETTER_HEADER}.get(filled.layout, 0.0)
        first = Frame(LEFT, BOTTOM, WIDTH, 225 * mm - header, id="first", leftPadding=0,
                      rightPadding=0, topPadding=0, bottomPadding=0)  # fmt: skip
        later = Frame(LEFT, BOTTOM, WIDTH, 225 * mm, id="later", leftPadding=0, rightPadding=0,
                      topPadding=0, bottomPadding=0)  # fmt: skip
        self.addPageTemplates(
            [
                PageTemplate("first", [first], onPage=self._first_page),
                PageTemplate("later", [later], onPage=self._later_page),
            ]
        )

    def _page_number(self, canvas: Canvas) -> None:
        page = canvas.getPageNumber()
        text = f"— {page} —"
        canvas.setFont(self.font.name, PAGE_NO)
        canvas.setFillColor(black)
        y = BOTTOM - 7 * mm - PAGE_NO * 0.85
        if page % 2:
            canvas.drawRightString(PAGE_W - RIGHT - PAGE_NO, y, text)
        else:
            canvas.drawString(LEFT + PAGE_NO, y, text)

    def _first_page(self, canvas: Canvas, doc: BaseDocTemplate) -> None:
        canvas.saveState()
        layout = self.filled.layout
        if layout == "report":
            _draw_report_header(canvas, self.filled, self.font)
            self._page_number(canvas)
        elif layout == "letter":
            _draw_letter_header(canvas, self.filled, self.font)
        else:
            self._page_number(canvas)
        canvas.restoreState()

    def _later_page(self, canvas: Canvas, doc: BaseDocTemplate) -> None:
        canvas.saveState()
        if self.filled.layout == "letter":
            _draw_letter_footer(canvas)
        self._page_number(canvas)
        canvas.restoreState()


# The report's header: mark top 35 mm below the type area, mark ~30 pt, number two lines below,
# red rule 4 mm under the number; the body starts under the rule.
_MARK = 30.0
_REPORT_NUMBER_BASELINE = TOP + 35 * mm + _MARK + 2 * LEADING + BODY * 0.85
_REPORT_HEADER = _REPORT_NUMBER_BASELINE - TOP + 4 * mm + 2
# The letter's header: name top 30 mm from the page top, double rule 4 mm under it.
_LETTER_MARK = 26.0
_LETTER_RULE = 30 * mm + _LETTER_MARK + 4 * mm
_LETTER_HEADER = max(_LETTER_RULE + 3 * mm - TOP, 0.0)


def _fit(text: str, font: str, size: float, width: float) -> float:
    """The font size at which ``text`` fits ``width`` (at most ``size``)."""
    needed = stringWidth(text, font, size)
    return size if needed <= width else size * width / needed


def _draw_mark(canvas: Canvas, text: str, font: str, size: float, top: float) -> None:
    """The red 发文机关标志, its top ``top`` below the page's top, emboldened (小标宋)."""
    canvas.setFillColor(RED)
    canvas.setStrokeColor(RED)
    canvas.setLineWidth(size * BOLD)
    canvas.setFont(font, size)
    canvas.drawCentredString(PAGE_W / 2, PAGE_H - (top + size * 0.88), text, mode=2)


def _draw_report_header(canvas: Canvas, filled: Filled, font: DocumentFonts) -> None:
    size = _fit(filled.issuer, font.title.name, _MARK, WIDTH)
    _draw_mark(canvas, filled.issuer, font.title.name, size, TOP + 35 * mm)
    canvas.setFillColor(black)
    canvas.setFont(font.body.name, BODY)
    y = PAGE_H - _REPORT_NUMBER_BASELINE
    if filled.signer:  # GB/T 9704 §7.2.4: the number left, 签发人 right, one character in
        canvas.drawString(LEFT + CHAR, y, filled.number)
        canvas.drawRightString(LEFT + WIDTH - CHAR, y, f"签发人：{filled.signer}")
    else:
        canvas.drawCentredString(PAGE_W / 2, y, filled.number)
    canvas.setStrokeColor(RED)
    canvas.setLineWidth(1.5)
    canvas.line(LEFT, y - 4 * mm, LEFT + WIDTH, y - 4 * mm)


def _draw_letter_header(canvas: Canvas, filled: Filled, font: DocumentFonts) -> None:
    size = _fit(filled.issuer, font.title.name, _LETTER_MARK, WIDTH)
    _draw_mark(canvas, filled.issuer, font.title.name, size, 30 * mm)
    canvas.setStrokeColor(RED)
    x0, x1 = (PAGE_W - 170 * mm) / 2, (PAGE_W + 170 * mm) / 2
    y = PAGE_H - _LETTER_RULE
    canvas.setLineWidth(2)
    canvas.line(x0, y, x1, y)
    canvas.setLineWidth(0.6)
    canvas.line(x0, y - 2.5, x1, y - 2.5)
    _draw_letter_footer(canvas)


def _draw_letter_footer(canvas: Canvas) -> None:
    canvas.setStrokeColor(RED)
    x0, x1 = (PAGE_W - 170 * mm) / 2, (PAGE_W + 170 * mm) / 2
    y = 20 * mm
    canvas.setLineWidth(0.6)
    canvas.line(x0, y + 2.5, x1, y + 2.5)
    canvas.setLineWidth(2)
    canvas.line(x0, y, x1, y)


class _Emboldened(Flowable):
    """A flowable drawn with its glyphs filled and outlined (text render mode 2): the 小标宋
    stand-in's weight, from a regular-weight Song face."""

    def __init__(self, inner: Flowable, stroke: float) -> None:
        super().__init__()
        self.inner, self.stroke = inner, stroke

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        self.width, self.height = self.inner.wrap(available_width, available_height)
        return self.width, self.height

    def split(self, available_width: float, available_height: float) -> list[Flowable]:
        return []  # a title is kept whole

    def draw(self) -> None:
        self.canv.saveState()
        self.canv.setStrokeColor(black)
        self.canv.setLineWidth(self.stroke)
        self.canv.addLiteral("2 Tr")
        self.inner.drawOn(self.canv, 0, 0)
        self.canv.restoreState()


def _styles(fonts: DocumentFonts) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle(
        "body",
        fontName=fonts.body.name,
        fontSize=BODY,
        leading=LEADING,
        alignment=TA_JUSTIFY,
        wordWrap="CJK",
        firstLineIndent=2 * CHAR,
    )
    return {
        "body": base,
        "flush": ParagraphStyle("flush", parent=base, firstLineIndent=0, alignment=TA_LEFT),
        "title": ParagraphStyle(
            "title",
            parent=base,
            fontName=fonts.title.name,
            fontSize=TITLE,
            leading=TITLE * 1.45,
            alignment=TA_CENTER,
            firstLineIndent=0,
        ),
        "agency": ParagraphStyle(
            "agency",
            parent=base,
            fontName=fonts.title.name,
            fontSize=18,
            leading=26,
            alignment=TA_CENTER,
            firstLineIndent=0,
        ),
        "number": ParagraphStyle("number", parent=base, alignment=TA_RIGHT, firstLineIndent=0),
        "small": ParagraphStyle(
            "small", parent=base, fontSize=14, leading=24, firstLineIndent=0, alignment=TA_LEFT
        ),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


def _bold(text: str, style: ParagraphStyle) -> Flowable:
    return _Emboldened(_p(text, style), style.fontSize * BOLD)


# Heading numbers (GB/T 9704 §7.3.3): "一、" first level in 黑体, "（一）" second level in 楷体.
_LEVELS = (re.compile(r"[一二三四五六七八九十]+、"), re.compile(r"（[一二三四五六七八九十]+）"))


#: The longest line without 。 still read as a heading of its own (characters).
_HEADING_LINE = 30


def _body(text: str, style: ParagraphStyle, fonts: DocumentFonts) -> Paragraph:
    """A body paragraph; one that opens with a heading number has its heading in the level's
    face: the words up to the first 。 when text follows them (段首标题 "一、总体要求。…"), or a
    short line without 。 (a heading on its own line). A numbered item that is one sentence
    (a 批复's "一、原则同意…。") is body text, not a heading."""
    for pattern, font in zip(_LEVELS, (fonts.hei, fonts.kai), strict=True):
        if pattern.match(text):
            head, stop, rest = text.partition("。")
            if rest.strip() or (not stop and len(head) <= _HEADING_LINE):
                markup = f'<font name="{font.name}">{escape(head + stop)}</font>{escape(rest)}'
                return Paragraph(markup, style)
            break
    return _p(text, style)


def _signature(filled: Filled, font: str) -> list[Flowable]:
    """署名 and 成文日期 without a seal (GB/T 9704 §7.3.5.2): the signature two characters from
    the right, the date one line below starting two characters right of the signature."""
    sig_w = stringWidth(filled.issuer, font, BODY)
    date_w = stringWidth(filled.date, font, BODY)
    sig_right = 2 * CHAR
    date_right = sig_right + sig_w - date_w - 2 * CHAR
    if date_right < 2 * CHAR:
        sig_right += 2 * CHAR - date_right
        date_right = 2 * CHAR
    sig = ParagraphStyle("sig", fontName=font, fontSize=BODY, leading=LEADING,
                         alignment=TA_RIGHT, rightIndent=sig_right, wordWrap="CJK")  # fmt: skip
    day = ParagraphStyle("day", parent=sig, rightIndent=date_right)
    return [Spacer(1, LEADING), _p(filled.issuer, sig), _p(filled.date or "　", day)]


def story(filled: Filled, fonts: DocumentFonts) -> list[Flowable]:
    """The flowables of a document's body (the headers are drawn on the first page)."""
    font = fonts.body.name
    st = _styles(fonts)
    parts: list[Flowable] = [NextPageTemplate("later")]
    if filled.layout == "notice":
        parts += [_bold(filled.issuer, st["agency"]), Spacer(1, 6)]
        parts += [_bold(filled.title, st["title"]), Spacer(1, 6), _p(filled.number, st["number"])]
        parts += [Spacer(1, LEADING / 2)]
    elif filled.layout == "letter":
        parts += [_p(filled.number, st["number"]), Spacer(1, LEADING)]
        parts += [_bold(filled.title, st["title"]), Spacer(1, LEADING / 2)]
    else:  # report
        parts += [Spacer(1, 2 * LEADING - 4 * mm)]
        parts += [_bold(filled.title, st["title"]), Spacer(1, LEADING / 2)]
    label = f"{filled.addressee_label}：" if filled.addressee_label else ""
    parts.append(_p(f"{label}{filled.addressee}" + ("" if label else "："), st["flush"]))
    body = [_body(text, st["body"], fonts) for text in filled.paragraphs if text.strip()]
    # the last paragraph goes with the 署名 and date: never a page of signature without text
    # (GB/T 9704 §7.3.5: no "此页无正文", ../shared/DOCUMENTS.md §5)
    parts += body[:-1]
    parts.append(KeepTogether(body[-1:] + _signature(filled, font)))
    if filled.cc:  # 版记: 抄送 between two rules (GB/T 9704 §7.4)
        cc = [Spacer(1, LEADING), _Rule(WIDTH, 0.5), _p(f"抄送：{filled.cc}。", st["small"])]
        parts.append(KeepTogether([*cc, _Rule(WIDTH, 0.5)]))
    if filled.receipt:
        receipt: list[Flowable] = [Spacer(1, LEADING / 3), _Rule(WIDTH, 0.5)]
        receipt += [_p(line, st["small"]) for line in filled.receipt]
        parts.append(KeepTogether(receipt))
    return parts


#: The zlib level of a document's Flate streams. Nearly all of a one-page document's compressed
#: bytes are its font subset (~110 kB of TrueType glyphs, which deflate only halves at any
#: level); ReportLab's default, level 6, spent ~3 ms on it against ~1.6 ms at level 1, for a
#: file ~10 % smaller (53 kB against 59 kB). The decoded content is the same at every level.
FLATE_LEVEL = 1


@contextmanager
def _flate_level(level: int) -> Iterator[None]:
    """ReportLab's one Flate filter compresses at ``level`` (the caller holds ``BUILD_LOCK``:
    no other build runs meanwhile)."""
    compress = pdfdoc.PDFZCompress

    def encode(text: bytes | str) -> bytes:
        return zlib.compress(text.encode("utf8") if isinstance(text, str) else text, level)

    compress.encode = encode
    try:
        yield
    finally:
        del compress.encode  # the class's method again


def render(filled: Filled, font: DocumentFonts) -> bytes:
    """The document as PDF bytes (one build at a time: ``BUILD_LOCK``)."""
    with BUILD_LOCK, _flate_level(FLATE_LEVEL):
        buffer = io.BytesIO()
        doc = _Doc(buffer, filled, font)
        doc.build(story(filled, font))
        return buffer.getvalue()
