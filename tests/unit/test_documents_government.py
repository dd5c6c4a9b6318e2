"""The engine features the government's documents use (issue 17): ``quotes`` (a 批复 quotes the
请示 it answers, as issued), ``signer`` and ``cc``, booleans in ``when``/``title_by``, and the
forms' ``x-prefill``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from workflows import documents
from workflows.documents import Filled, TemplateError, fill, load_templates, quoted_facts
from workflows.forms import _lint_form, load_form, prefill_values

REQUEST = Filled(
    kind="closure_request", name="请示", layout="report",
    title="武陵区消防救援大队关于对星光KTV重大火灾隐患予以销案（摘牌）的请示",
    number="武消请〔2026〕2号", issuer="武陵区消防救援大队", addressee="武陵区人民政府",
    addressee_label="", date="2026年12月21日", paragraphs=("妥否，请批示。",), receipt=(),
    signer="李强",
)  # fmt: skip


def _context(quoted: dict[str, str], delisted: bool = True) -> dict:
    return {
        "case": {"unit_name": "星光KTV", "address": "人民路1号"},
        "issuer": {"agency": "武陵区人民政府"},
        "lane": {"fire_rescue": "武陵区消防救援大队"},
        "document": {"number": "武政复〔2026〕2号"},
        "close_case": {"closed_on": "2026-12-22", "delisted": delisted, "summary": "已整改。"},
        "quoted": quoted,
    }


def test_the_closure_reply_quotes_the_request_as_issued() -> None:
    template = documents.templates()["closure_reply"]
    filled = fill(template, _context(quoted_facts(REQUEST, "ignored", "ignored")))
    assert filled.title == "武陵区人民政府关于同意星光KTV重大火灾隐患予以摘牌销案的批复"
    assert (
        filled.paragraphs[0]
        == f"你单位《{REQUEST.title}》（{REQUEST.number}）收悉。经研究，现批复如下："
    )
    assert "同意对星光KTV重大火灾隐患予以摘牌销案。" in filled.paragraphs
    assert filled.paragraphs[-1] == "特此批复。" and filled.signer == "" and filled.cc == ""


def test_a_case_without_the_quoted_document_says_so_without_a_number() -> None:
    template = documents.templates()["closure_reply"]
    filled = fill(template, _context(quoted_facts(None, "", ""), delisted=False))
    assert filled.title == "武陵区人民政府关于同意星光KTV重大火灾隐患予以销案的批复"
    assert (
        filled.paragraphs[0] == "你单位关于星光KTV重大火灾隐患销案的请示收悉。经研究，现批复如下："
    )
    assert "同意对星光KTV重大火灾隐患予以销案。" in filled.paragraphs
    assert not any("《》" in p for p in filled.paragraphs)


def test_an_older_document_without_stored_text_is_quoted_by_its_row() -> None:
    facts = quoted_facts(None, "某请示", "武消请〔2026〕1号")
    assert facts == {"title": "某请示", "number": "武消请〔2026〕1号", "date": "", "found": "true"}


def test_signer_and_cc_are_filled_and_stored() -> None:
    template = documents.templates()["government_reply"]
    context = _context(quoted_facts(REQUEST, "", ""))
    context["government_decision"] = {"decision": "agree", "listed": True, "cc": "区应急管理局"}
    filled = fill(template, context)
    assert filled.cc == "区应急管理局"
    assert "列为武陵区人民政府挂牌督办重大火灾隐患单位" in "".join(filled.paragraphs)
    assert Filled.from_json(filled.to_json()) == filled
    assert Filled.from_json({"title": "旧文书"}).signer == ""  # rows stored before the field
    request = fill(documents.templates()["government_request"], {"report_to_government": {
        "signer": "张伟", "kind": "listed_supervision"}})  # fmt: skip
    assert request.signer == "张伟"


def test_quotes_must_name_a_kind(tmp_path: Path) -> None:
    for kind in ("closure_reply", "government_reply"):  # the counter it shares, not its 请示
        shutil.copy(documents.DOCUMENTS_DIR / f"{kind}.toml", tmp_path)
    with pytest.raises(TemplateError, match="quotes 'closure_request': no such kind"):
        load_templates(tmp_path)


def test_quoted_fields_only_with_quotes(tmp_path: Path) -> None:
    text = (documents.DOCUMENTS_DIR / "closure_reply.toml").read_text(encoding="utf-8")
    path = tmp_path / "closure_reply.toml"
    path.write_text(text.replace('quotes = "closure_request"\n', ""), encoding="utf-8")
    with pytest.raises(TemplateError, match=r"no form forms/quoted\.json"):
        documents.read_template(path)


def test_prefill_takes_what_an_earlier_step_decided() -> None:
    schema = load_form("set_rectification_plan")
    data = {"government_decision": {"rectify_by": "2026-12-30", "listed": False}}
    assert prefill_values(schema, data) == {"rectify_by": "2026-12-30", "listed": False}
    assert prefill_values(schema, {}) == {}  # an older case, or a refusal: nothing to start with
    closure = prefill_values(load_form("request_closure"), {"reinspection": {"findings": "合格。"}})
    assert closure == {"findings": "合格。"}


def test_prefill_must_name_a_task_field() -> None:
    schema = load_form("request_closure")
    schema["properties"]["findings"]["x-prefill"] = "not a reference"
    assert 'findings: "x-prefill" must be "task.field"' in _lint_form(schema)
