"""The printed dossier as a reader's tools see it: the diagram drawn from the case page's SVG,
every font embedded and subset (``pdffonts``), and a cover in plain Chinese (``pdftotext``): no
server path, no English event codes."""

from __future__ import annotations

import io
import math
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from flask import Flask
from pypdf import PdfReader
from reportlab.pdfgen.canvas import Canvas

from server.dossier.diagram import (
    SvgPainter,
    UnsupportedSvg,
    _transform,
    diagram_painter,
    draw_legend,
    legend_painter,
    legend_width,
)
from server.dossier.fonts import find_font
from server.extensions import db
from server.models import Case
from tests.integration.test_dossier import WQY, filed_case, user
from workflows.catalog import BPMN_DIR
from workflows.diagram_svg import diagram_geometry

SVG_HEAD = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 50">'


def printed_dossier(app: Flask, tmp_path: Path) -> Path:
    """A filed case's dossier, printed through the application, written to a file."""
    case_id = filed_case(app)
    with app.app_context():
        from server.dossier import print_dossier

        printed = print_dossier(user("city.auditor"), db.session.get(Case, case_id))
    out = tmp_path / "dossier.pdf"
    out.write_bytes(printed.pdf)
    return out


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (apt-get install poppler-utils)")
    return found


def pdftotext(path: Path, *pages: int) -> str:
    first_last = ["-f", str(pages[0]), "-l", str(pages[-1])] if pages else []
    done = subprocess.run(
        [tool("pdftotext"), *first_last, str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --------------------------------------------------------------------------- the dossier


def test_every_font_of_a_dossier_is_embedded_and_subset(app: Flask, tmp_path: Path):
    if not WQY.is_file():
        pytest.skip(f"{WQY} is not installed (apt-get install fonts-wqy-microhei)")
    pdffonts = tool("pdffonts")
    path = printed_dossier(app, tmp_path)
    listing = subprocess.run(
        [pdffonts, str(path)], capture_output=True, text=True, check=True
    ).stdout
    lines = listing.splitlines()[2:]  # below the header and its rule
    assert lines, listing
    for line in lines:
        name, *_, emb, sub, _uni, _obj, _gen = line.split()
        assert (emb, sub) == ("yes", "yes"), listing
        assert re.fullmatch(r"[A-Z]{6}\+\S+", name), listing  # a subset's tag
    assert "Helvetica" not in listing


def test_the_cover_names_no_path_and_no_english_code(app: Flask, tmp_path: Path):
    if not WQY.is_file():
        pytest.skip(f"{WQY} is not installed (apt-get install fonts-wqy-microhei)")
    path = printed_dossier(app, tmp_path)
    cover = squeeze(pdftotext(path, 1))
    assert "本案卷字体：文泉驿微米黑（已嵌入本文件）" in cover
    assert "本次打印本身作为审计事件（打印案卷）记入本案" in cover
    everything = pdftotext(path)
    for leaked in ("/usr/", ".ttc", ".ttf", "dossier_printed", "WenQuanYi", "TrueType"):
        assert leaked not in everything, leaked
    # no snake_case code anywhere a reader looks
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", everything)
    assert "作为新的审计事件（打印案卷）追加到链尾" in squeeze(everything)


def test_without_an_embeddable_font_the_cover_says_so_in_chinese(app: Flask, tmp_path: Path):
    app.config["DOSSIER_FONT"] = str(tmp_path / "missing.ttf")
    app.config["DOSSIER_FONT_SEARCH"] = ()
    path = printed_dossier(app, tmp_path)
    cover = squeeze(pdftotext(path, 1))
    assert "华文宋体（PDF阅读器内置字体，未嵌入本文件）" in cover
    assert "请系统管理员安装中文TrueType字体（如文泉驿微米黑）后重新打印" in cover
    assert "missing.ttf" not in cover and "fonts-wqy" not in cover


def test_the_diagram_pages_carry_the_case_pages_words(app: Flask, tmp_path: Path):
    if not WQY.is_file():
        pytest.skip(f"{WQY} is not installed (apt-get install fonts-wqy-microhei)")
    path = printed_dossier(app, tmp_path)
    reader = PdfReader(path)
    overview = next(
        item
        for item in reader.outline
        if not isinstance(item, list) and str(item.title) == "二、办理流程图"
    )
    first = 1 + reader.get_destination_page_number(overview)
    text = squeeze(pdftotext(path, first + 1))  # the first detail sheet
    # task and gateway names, the lane name with its 、, the badge and the legend
    for words in ("发现登记", "函告消防", "是否重大火灾隐患", "乡镇", "逾期", "图例", "当前待办"):
        assert words in text, words


# --------------------------------------------------------------------------- the translator


@pytest.mark.parametrize("path", sorted(BPMN_DIR.glob("*.bpmn")), ids=lambda p: p.stem)
def test_every_process_is_drawn_from_its_svg(path: Path):
    """Every element and attribute the SVG of a repository process uses (in every state) is
    one the PDF translator draws; an unknown one would raise UnsupportedSvg."""
    font = find_font(None)
    bpmn = path.read_text(encoding="utf-8")
    ids = [s.id for s in diagram_geometry(bpmn).shapes if not s.is_container]
    painter = diagram_painter(bpmn, font, done=ids[::3], current=ids[1::3], overdue=ids[2::3])
    legend = legend_painter(font)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, initialFontName=font.name)
    e = painter.extent
    painter.draw_at(canvas, e, 20, 800, 500 / e.width)
    draw_legend(canvas, legend, 20, 40, 8.5)
    canvas.showPage()
    canvas.save()
    words = squeeze("".join(p.extract_text() for p in PdfReader(buffer).pages))
    for name in (s.name for s in diagram_geometry(bpmn).shapes if s.is_activity and s.name):
        assert squeeze(name)[:2] in words, name
    assert legend_width(legend, 8.5) == pytest.approx(legend.extent.width * 8.5 / 16)


def test_unknown_svg_is_refused_not_dropped():
    font = find_font(None)
    canvas = Canvas(io.BytesIO(), initialFontName=font.name)
    for body in (
        '<ellipse cx="1" cy="1" rx="2" ry="1"/>',
        '<path d="M0,0 A5,5 0 0 1 10,10"/>',
        '<rect width="5" height="5" fill="red"/>',
        '<g transform="skewX(10)"><rect width="5" height="5"/></g>',
        '<path d="M0,0 L5,5" marker-end="url(#nowhere)"/>',
    ):
        painter = SvgPainter(f"{SVG_HEAD}{body}</svg>", font)
        with pytest.raises(UnsupportedSvg):
            painter.draw_at(canvas, painter.extent, 0, 100, 1)


def test_transforms_map_points_as_svg_does():
    def apply(m, x, y):
        a, b, c, d, e, f = m
        return a * x + c * y + e, b * x + d * y + f

    rotated = _transform("rotate(-90 50 20)")
    assert apply(rotated, 50, 20) == pytest.approx((50, 20))  # the centre stays
    assert apply(rotated, 60, 20) == pytest.approx((50, 10))  # right of it goes up (y down)
    both = _transform("translate(10 5) scale(2)")
    assert apply(both, 1, 1) == pytest.approx((12, 7))
    assert apply(_transform("rotate(90)"), 1, 0) == pytest.approx((0, 1))
    assert math.isclose(apply(_transform("matrix(1 0 0 1 3 4)"), 0, 0)[1], 4)
