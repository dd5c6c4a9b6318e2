"""Document templates (documents/*.toml): loading, checking, numbering and filling."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from workflows import __main__ as cli
from workflows import documents
from workflows.documents import (
    NUMBER_PENDING,
    TemplateError,
    check_numbering,
    cn_date,
    default_agency_short,
    fill,
    format_number,
    load_templates,
    read_template,
    templates_for_task,
)

GOOD = (documents.DOCUMENTS_DIR / "rectification_notice.toml").read_text(encoding="utf-8")


def _write(tmp_path: Path, text: str, kind: str = "rectification_notice") -> Path:
    path = tmp_path / f"{kind}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_template_of_documents_loads() -> None:
    loaded = load_templates()
    # the kinds of the major-hazard path (other kinds are tested by their own files)
    assert set(loaded) >= {
        "hazard_referral_letter",
        "rectification_notice",
        "government_request",
        "temporary_sealing_decision",
        "temporary_sealing_decision_on_site",
        "sealing_lifting_decision",
        "correction_order",
        "reinspection_opinion",
        "ordinary_reinspection_opinion",
        "government_reply",
        "listed_supervision_notice",
        "closure_request",
        "closure_reply",
        "service_receipt",
        "service_receipt_rectification",
        "review_acceptance_notice",
        "fire_review_decision",
        "fire_warning_notice",
        "credit_referral_letter_development_reform",
        "credit_referral_letter_housing",
        "credit_referral_letter_finance",
        "credit_referral_letter_market_regulation",
    }
    # the notice first: its receipt prints the number generated for it in the same completion
    assert [t.kind for t in templates_for_task("serve_rectification_notice")] == [
        "rectification_notice",
        "service_receipt_rectification",
    ]
    assert templates_for_task("file_case") == []
    for template in loaded.values():
        # every paragraph says what its wording rests on
        assert all(p.source.strip() for p in template.paragraphs)


def test_numbering_law_enforcement_and_official_documents() -> None:
    assert format_number("{agency_short}隐改字〔{year}〕第{seq:04d}号", "武消", 2026, 17) == (
        "武消隐改字〔2026〕第0017号"
    )
    official = format_number("{agency_short}请〔{year}〕{seq}号", "武消", 2026, 17)
    assert official == "武消请〔2026〕17号"
    assert check_numbering("{agency_short}〔{year}〕{seq}号") is None
    assert "needs {year} and {seq}" in (check_numbering("{agency_short}〔2026〕{seq}号") or "")
    assert "unknown field" in (check_numbering("{agency}〔{year}〕{seq}号") or "")
    assert check_numbering("{agency_short}〔{year}〕{seq:04q}号") is not None
    assert check_numbering("{agency_short}〔{year}〕{seq号") is not None


@pytest.mark.parametrize(
    ("name", "kind", "short"),
    [
        ("武陵区消防救援大队", "fire_brigade", "武消"),
        ("武陵区人民政府", "government", "武政"),
        ("武陵区南坪街道", "street", "武南"),
        ("津市市襄阳街街道", "street", "津襄"),
        ("常德市住建局", "industry", "常住"),
        ("武陵区消防安全委员会办公室", "safety_office", "武消委"),
    ],
)
def test_default_agency_short(name: str, kind: str, short: str) -> None:
    assert default_agency_short(name, kind) == short


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("{case.unit_name}", "{case.unit}"), "{case.unit}: no such case fact"),
        (("{register_hazard.description}", "{register_hazard.nothing}"), "has no field 'nothing'"),
        (("{collective_deliberation.deliberated_on|date}", "{nope.x}"), "no form forms/nope.json"),
        (('layout = "notice"', 'layout = "poster"'), "unknown layout 'poster'"),
        (("第{seq:04d}号", "第{number}号"), "unknown field(s) ['number']"),
        (("{case.address}", "{case.address|upper}"), "unknown filter 'upper'"),
        (('addressee = "{case.unit_name}"', 'addressee = "{lane.nowhere}"'), "no such lane"),
        (('tasks = ["serve_rectification_notice"]', 'tasks = ["no_task"]'), "has no form"),
        (
            (
                'number_field = "serve_rectification_notice.notice_no"',
                'number_field = "serve_rectification_notice.recipient"',
            ),
            "must be readOnly",
        ),
        (("现责令你单位予以整改消除：", "现责令{你单位"), "a brace that is not a field"),
        (('source = "the officer', 'sauce = "the officer'), '"source" must be a non-empty'),
    ],
)
def test_a_broken_template_is_refused_naming_the_file(
    tmp_path: Path, change: tuple[str, str], problem: str
) -> None:
    assert change[0] in GOOD
    path = _write(tmp_path, GOOD.replace(change[0], change[1], 1))
    with pytest.raises(TemplateError) as raised:
        read_template(path)
    assert str(raised.value).startswith("rectification_notice.toml: ")
    assert problem in str(raised.value)


def test_the_kind_is_the_file_name(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="must be the file's name"):
        read_template(_write(tmp_path, GOOD, kind="other_name"))


def test_check_command_fails_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path, GOOD.replace("{case.address}", "{case.street}", 1))
    monkeypatch.setattr(documents, "DOCUMENTS_DIR", tmp_path)
    err, out = io.StringIO(), io.StringIO()
    with redirect_stderr(err), redirect_stdout(out):
        assert cli.main(["check"]) == 1
    assert "rectification_notice.toml" in err.getvalue()
    assert "{case.street}" in err.getvalue()


def test_check_command_lists_the_documents() -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        assert cli.main(["check"]) == 0
    assert "document rectification_notice (重大火灾隐患整改通知书, notice)" in out.getvalue()


CONTEXT = {
    "case": {
        "unit_name": "武陵区星光KTV",
        "address": "武陵区人民路88号",
        "case_no": "常消隐〔2026〕17号",
    },
    "issuer": {"agency": "武陵区消防救援大队", "agency_short": "武消", "officer": "李强"},
    "lane": {"fire_rescue": "武陵区消防救援大队", "government": "武陵区人民政府"},
    "document": {"number": "武消请〔2026〕3号"},
    "register_hazard": {
        "found_on": "2026-09-04",
        "description": "安全出口数量不足。",
        "elements": [],
        "site_categories": ["crowded"],
    },
    "file_case": {"inspected_on": "2026-09-29", "verification": "核查属实。"},
    "collective_deliberation": {"deliberated_on": "2026-09-30"},
    "serve_rectification_notice": {
        "served_on": "2026-10-08",
        "notice_no": "武消隐改字〔2026〕第0001号",
        "recipient": "王经理",
        "service_method": "lodged",
        "requirements": "增设安全出口。",
    },
    "report_to_government": {
        "reported_on": "2026-10-09",
        "kind": "suspension",
        "opinion": "停业。",
    },
    "refer_to_fire_rescue": {"referred_on": "2026-09-05", "contents": "请依法处理。"},
}


def test_fill_the_request_by_its_kind() -> None:
    filled = fill(load_templates()["government_request"], CONTEXT)
    assert filled.title == "武陵区消防救援大队关于提请责令武陵区星光KTV停产停业整改的请示"
    assert filled.number == "武消请〔2026〕3号"
    assert filled.addressee == "武陵区人民政府"
    assert filled.date == "2026年10月9日"
    text = "".join(filled.paragraphs)
    assert "2026年9月4日" in text and "武消隐改字〔2026〕第0001号" in text
    assert "停产停业整改" in text and "挂牌督办" not in text  # one request, one matter
    assert filled.paragraphs[-1] == "妥否，请批示。"


def test_fill_labels_lists_and_the_pending_number() -> None:
    context = {**CONTEXT, "document": {"number": ""}}
    letter = fill(load_templates()["hazard_referral_letter"], context)
    assert letter.number == NUMBER_PENDING
    assert "人员密集场所" in letter.paragraphs[1]  # a choice by its title
    assert "判定要素：（无）" in letter.paragraphs[1]  # an empty list says so
    notice = fill(load_templates()["rectification_notice"], context)
    assert notice.addressee_label == "当事人" and notice.addressee == "武陵区星光KTV"
    assert "留置送达" in notice.receipt[0] and "王经理" in notice.receipt[0]


def test_cn_date_has_no_padding() -> None:
    assert cn_date("2026-01-07") == "2026年1月7日"
    assert cn_date("not a date") == "not a date"


def test_a_listed_label_that_is_a_sentence_loses_its_full_stop() -> None:
    context = {**CONTEXT, "document": {"number": ""}}
    context["register_hazard"] = {**context.get("register_hazard", {}), "elements": ["6.5"]}
    letter = fill(load_templates()["hazard_referral_letter"], context)
    assert "。。" not in letter.paragraphs[1]
    assert "80%。经初步判定" in letter.paragraphs[1]


def test_a_template_with_when_is_issued_only_for_that_value() -> None:
    assert [t.kind for t in templates_for_task("temporary_sealing", {"decision": "seal"})] == [
        "temporary_sealing_decision"
    ]
    assert templates_for_task("temporary_sealing", {"decision": "no_seal"}) == []
    assert templates_for_task("emergency_sealing_decision", {"decision": "lift"}) == []
    # without a form: every template the task may issue (the task page says which)
    assert [t.kind for t in templates_for_task("emergency_sealing_decision")] == [
        "temporary_sealing_decision_on_site"
    ]


def test_one_kind_issued_by_two_tasks_counts_one_sequence() -> None:
    loaded = load_templates()
    assert loaded["temporary_sealing_decision_on_site"].counter_kind == "temporary_sealing_decision"
    assert loaded["temporary_sealing_decision"].counter_kind == "temporary_sealing_decision"
    assert loaded["ordinary_reinspection_opinion"].counter_kind == "reinspection_opinion"
    assert (
        loaded["temporary_sealing_decision_on_site"].name
        == loaded["temporary_sealing_decision"].name
        == "临时查封决定书"
    )


def test_broken_when_and_counter_are_refused(tmp_path: Path) -> None:
    bad_when = GOOD.replace(
        'layout = "notice"', 'when = ["file_case.sealing", "none"]\nlayout = "notice"'
    )
    with pytest.raises(TemplateError, match="not a field of its tasks"):
        read_template(_write(tmp_path, bad_when))
    bad_value = GOOD.replace(
        'layout = "notice"',
        'when = ["serve_rectification_notice.service_method", "x"]\nlayout = "notice"',
    )
    with pytest.raises(TemplateError, match="is not a value of"):
        read_template(_write(tmp_path, bad_value))
    folder = tmp_path / "docs"
    folder.mkdir()
    _write(folder, GOOD.replace('layout = "notice"', 'counter = "nothing"\nlayout = "notice"'))
    with pytest.raises(TemplateError, match="counter 'nothing': no such kind"):
        load_templates(folder)


def test_law_enforcement_kinds_keep_di_and_four_digits() -> None:
    for kind in (
        "temporary_sealing_decision",
        "sealing_lifting_decision",
        "correction_order",
        "reinspection_opinion",
    ):
        template = load_templates()[kind]
        assert template.layout == "notice"
        assert "第{seq:04d}号" in template.numbering, kind
        # the number the officer used to type is now generated into a read-only field
        assert template.number_field
