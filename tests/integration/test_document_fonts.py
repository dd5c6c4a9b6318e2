"""Every font of every issued document and of the dossier is embedded, subset and one of the
configured fonts (``pdffonts``): no base-14 font, no font the reader must supply.

Every template in ``documents/`` is rendered (the directory is read, so a kind added later is
checked too), filled from a synthetic case: the forms' realistic test data
(``tests.support``) where there is some, else a value made from the form's schema. Without
the font packages the tests skip, saying which are missing; with ``DUBAN_E2E_REQUIRED=1`` (set
by ``.ci/run``, which installs them) they fail instead.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from server.documents.fonts import PACKAGES, UKAI, UMING, WQY, DocumentFonts, document_fonts
from server.documents.render import render
from server.dossier import dossier_font
from tests.integration.test_dossier_print import printed_dossier
from tests.support import fire_accountability, major_hazard
from workflows.documents import DOCUMENTS_DIR, Filled, Template, fill, read_template
from workflows.forms import resolve_form

FONT_FILES = {UMING: "fonts-arphic-uming", UKAI: "fonts-arphic-ukai", WQY: "fonts-wqy-microhei"}
BASE14 = ("Helvetica", "Times", "Courier", "Symbol", "ZapfDingbats")
ON = date(2026, 3, 5)
TEXT = "二层包厢区安全出口数量不足，疏散通道被货物堵塞，自动喷水灭火系统处于关闭状态。"


def require(missing: list[str], hint: str) -> None:
    """Skip (or, with ``DUBAN_E2E_REQUIRED=1``, fail) when something is missing."""
    if missing:
        reason = f"{', '.join(missing)} not installed ({hint})"
        if os.environ.get("DUBAN_E2E_REQUIRED") == "1":
            pytest.fail(f"required (DUBAN_E2E_REQUIRED=1) but {reason}")
        pytest.skip(reason)


@pytest.fixture(autouse=True)
def installed() -> None:
    packages = sorted({pkg for path, pkg in FONT_FILES.items() if not Path(path).is_file()})
    require(packages, f"apt-get install {' '.join(PACKAGES)}")
    tools = ["pdffonts"] if shutil.which("pdffonts") is None else []
    require(tools, "apt-get install poppler-utils")


def pdffonts(pdf: bytes, tmp_path: Path) -> list[list[str]]:
    path = tmp_path / "fonts.pdf"
    path.write_bytes(pdf)
    listing = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True)
    return [line.split() for line in listing.stdout.splitlines()[2:]]


def assert_embedded_subsets(pdf: bytes, families: set[str], tmp_path: Path) -> set[str]:
    """Every font of ``pdf`` is an embedded subset of one of ``families``; returns those used."""
    rows = pdffonts(pdf, tmp_path)
    assert rows, "no font at all"
    used = set()
    for row in rows:
        name, kind, emb, sub = row[0], row[1], row[-5], row[-4]
        assert (kind, emb, sub) == ("TrueType", "yes", "yes"), row
        # ReportLab names a subset TAG+Family-N (N: the subset's number)
        match = re.fullmatch(r"[A-Z]{6}\+(\S+?)(-\d+)?", name)
        assert match and match.group(1) in families, (name, families)
        used.add(match.group(1))
    for base14 in BASE14:
        assert f"/{base14}".encode() not in pdf, base14
    return used


def _schema_value(schema: dict[str, Any], title: str) -> Any:
    """A value for a field no test sample knows: its first choice, a date, or a sentence."""
    if schema.get("type") == "array":
        return [_schema_value(schema.get("items", {}), title)]
    choices = [c["const"] for c in schema.get("oneOf", []) if "const" in c]
    if choices or "enum" in schema:
        return (choices or schema["enum"])[0]
    if schema.get("format") == "date":
        return ON.isoformat()
    if schema.get("type") == "boolean":
        return True
    if schema.get("type") in ("integer", "number"):
        return 3
    return f"{title}：{TEXT}"


def _form_sample(task: str) -> dict[str, Any]:
    """The test samples' data for ``task`` where they know it, over values made from the
    form's schema (a read-only number field, which the server fills, gets a number)."""
    props = resolve_form(task).get("properties", {})
    data = {
        name: "武消字〔2026〕第0001号"
        if node.get("readOnly")
        else _schema_value(node, node.get("title", name))
        for name, node in props.items()
    }
    for support in (major_hazard, fire_accountability):
        try:
            known = support.sample(task, ON)
        except KeyError:
            continue
        data.update({k: v for k, v in known.items() if v not in ("", None)})
        break
    return data


# Namespaces that are not a form: decision outputs, timers' due dates, a quoted document.
DERIVED: dict[str, dict[str, str]] = {
    "process": {},
    "timer": {},
    "settings": {},
    "computed": {},
    "quoted": {
        "found": "true",
        "title": "常德市武陵区消防救援大队关于提请对常德市武陵区星光娱乐有限公司"
        "重大火灾隐患挂牌督办的请示",
        "number": "武消请〔2026〕3号",
        "date": "2026-11-02",
    },
}


DERIVED_DEFAULT = {
    "process": "一般火灾",
    "timer": "2026-12-31",
    "settings": "30",
    "computed": "2026-12-31",
    "quoted": "",
}


def sample_filled(template: Template) -> Filled:
    """The template filled from a synthetic case: every field it names has a value."""
    context: dict[str, Any] = {
        "case": {
            "number": "DB2026-000017",
            "case_no": "武消立字〔2026〕第0017号",
            "unit_name": "常德市武陵区星光娱乐有限公司",
            "address": "常德市武陵区南坪街道人民路88号",
            "district": "武陵区",
        },
        "issuer": {"agency": "常德市武陵区消防救援大队", "agency_short": "武消", "officer": "李强"},
        "lane": {},
        "document": {"number": "武消字〔2026〕第0017号", "name": template.name},
    }
    for ns, name in sorted({(ns, name) for ns, name, _ in template.fields()}):
        if ns == "lane":
            context["lane"][name] = "常德市武陵区人民政府"
        elif ns in DERIVED:
            context.setdefault(ns, {})[name] = DERIVED[ns].get(name, DERIVED_DEFAULT[ns])
        elif ns not in context:
            context[ns] = _form_sample(ns)
    return fill(template, context)


def characters(filled: Filled) -> set[str]:
    texts = [filled.title, filled.number, filled.issuer, filled.addressee, filled.date]
    return {ch for text in [*texts, *filled.paragraphs, *filled.receipt] for ch in text}


def families(fonts: DocumentFonts) -> set[str]:
    return {font.family for font in fonts.all()}


TEMPLATES = sorted(DOCUMENTS_DIR.glob("*.toml"))


def test_the_roles_get_the_debian_fonts(app: Flask) -> None:
    with app.app_context():
        fonts = document_fonts()
    assert fonts.embedded
    assert (fonts.body.path, fonts.title.path) == (UMING, UMING)
    assert (fonts.hei.path, fonts.kai.path) == (WQY, UKAI)
    assert families(fonts) == {"UMingCN", "WenQuanYiMicroHei", "UKaiCN"}


@pytest.mark.parametrize("path", TEMPLATES, ids=[p.stem for p in TEMPLATES])
def test_every_template_embeds_subsets_of_the_configured_fonts(
    app: Flask, tmp_path: Path, path: Path
) -> None:
    template = read_template(path)
    filled = sample_filled(template)
    with app.app_context():
        fonts = document_fonts()
        pdf = render(filled, fonts)
    used = assert_embedded_subsets(pdf, families(fonts), tmp_path)
    assert fonts.body.family in used and fonts.title.family in used
    # the body's face draws every character of the filled document (no blank boxes)
    missing = sorted(ch for ch in characters(filled) if not fonts.body.has_glyph(ch))
    assert not missing, missing


def test_headings_use_the_hei_and_kai_faces(app: Flask, tmp_path: Path) -> None:
    template = read_template(DOCUMENTS_DIR / "government_request.toml")
    filled = sample_filled(template)
    headed = replace(
        filled,
        paragraphs=("一、基本情况。" + TEXT, "（一）隐患部位。" + TEXT, *filled.paragraphs),
    )
    with app.app_context():
        fonts = document_fonts()
        pdf = render(headed, fonts)
    used = assert_embedded_subsets(pdf, families(fonts), tmp_path)
    assert used == families(fonts) == {"UMingCN", "WenQuanYiMicroHei", "UKaiCN"}


def test_a_role_falls_back_to_the_dossier_font_when_its_font_is_missing(
    app: Flask, tmp_path: Path
) -> None:
    app.config["DOCUMENT_FONT_BODY"] = str(tmp_path / "missing.ttf")
    app.config["DOCUMENT_FONT_SEARCH"] = {"body": (WQY,), "title": (), "hei": (WQY,), "kai": ()}
    app.config["DOCUMENT_FONT_KAI"] = f"{UKAI}#0"
    with app.app_context():
        fonts = document_fonts()
    assert fonts.body.path == WQY and "missing.ttf" in fonts.body.problem
    assert fonts.kai.path == UKAI
    assert not fonts.title.embedded and fonts.title.family == "STSong-Light"


def test_every_font_of_a_dossier_is_one_of_its_configured_fonts(app: Flask, tmp_path: Path) -> None:
    pdf = printed_dossier(app, tmp_path).read_bytes()
    with app.app_context():
        font = dossier_font()
        documents = families(document_fonts())
    assert font.embedded
    # the record in the dossier's font; the issued documents it includes in theirs, as issued
    used = assert_embedded_subsets(pdf, {font.family} | documents, tmp_path)
    assert font.family in used


def test_a_one_sentence_numbered_item_is_body_text(app: Flask, tmp_path: Path) -> None:
    """A 批复's "一、原则同意…。" is an item, not a heading: the body face only."""
    template = read_template(DOCUMENTS_DIR / "government_request.toml")
    filled = replace(sample_filled(template), paragraphs=("一、原则同意你单位提出的处理意见。",))
    with app.app_context():
        fonts = document_fonts()
        pdf = render(filled, fonts)
    assert "WenQuanYiMicroHei" not in assert_embedded_subsets(pdf, families(fonts), tmp_path)


def test_no_line_starts_with_a_comma_or_colon(app: Flask, tmp_path: Path) -> None:
    """避头尾: a full-width comma or colon that falls at a line's start hangs on the line before."""
    template = read_template(DOCUMENTS_DIR / "rectification_notice.toml")
    # the first line holds 26 characters after the two-character indent: the 27th is the mark
    paragraphs = tuple(f"{'隐' * 26}{mark}{'患' * 40}" for mark in "，：；")
    filled = replace(sample_filled(template), paragraphs=paragraphs)
    with app.app_context():
        pdf = render(filled, document_fonts())
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout  # fmt: skip
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert any(line.endswith(("隐，", "隐：", "隐；")) for line in lines), lines
    assert not [line for line in lines if line[0] in "，：；！？"]
