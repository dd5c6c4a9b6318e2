"""Engine features used by the accountability path's documents: ``[computed]`` expressions,
a ``when`` on a field of a list's rows, the day of issue as 成文日期 and multi-line paragraphs."""

from __future__ import annotations

from pathlib import Path

import pytest

from workflows import documents
from workflows.calendar import WorkingCalendar
from workflows.documents import (
    ComputeError,
    TemplateError,
    compute,
    fill,
    holds,
    read_template,
    templates,
)
from workflows.script_env import Helpers, RestrictedEnvironment

LETTER = (documents.DOCUMENTS_DIR / "credit_referral_letter_housing.toml").read_text("utf-8")
PARTIES = [
    {"name": "甲公司", "responsibility": "principal", "facts": "未整改。", "credit_referral": True},
    {"name": "乙局", "responsibility": "supervisory", "facts": "失察。", "credit_referral": False},
]
REGISTRATION = {
    "alarm_on": "2026-09-01",
    "unit_name": "甲公司",
    "address": "某路1号",
    "deaths": 1,
    "serious_injuries": 0,
    "minor_injuries": 2,
    "direct_loss": 850_000,
}


def _write(tmp_path: Path, text: str, kind: str = "credit_referral_letter_housing") -> Path:
    path = tmp_path / f"{kind}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _evaluate(expression: str, scope: dict) -> object:
    return RestrictedEnvironment(Helpers(WorkingCalendar())).evaluate(expression, scope)


def _context(settings: dict | None = None, **extra: object) -> dict:
    return {
        "register_fire": REGISTRATION,
        "responsibility_investigation": {"completed_on": "2026-09-18", "parties": PARTIES},
        "issuer": {"agency": "常德市消防救援支队"},
        "lane": {"housing": "常德市住建局"},
        "document": {"number": "常消函〔2026〕3号", "date": "2026-09-18", "name": "函"},
        "settings": settings if settings is not None else {"credit_reply_working_days": 10},
        **extra,
    }


def test_a_list_row_when_holds_if_any_row_has_the_value() -> None:
    assert holds({"parties": PARTIES}, "parties[].credit_referral", "true")
    refused = [{**p, "credit_referral": False} for p in PARTIES]
    assert not holds({"parties": refused}, "parties[].credit_referral", "true")
    assert not holds({}, "parties[].credit_referral", "true")
    letter = templates()["credit_referral_letter_housing"]
    assert letter.applies({"parties": PARTIES}) and not letter.applies({"parties": refused})


def test_computed_values_fill_the_letter_and_the_reply_date_counts_working_days() -> None:
    letter = templates()["credit_referral_letter_housing"]
    context = _context()
    context["computed"] = compute(letter, context, _evaluate)
    filled = fill(letter, context)
    text = "".join(filled.paragraphs)
    assert "造成1人死亡、2人轻伤，直接财产损失85万元" in text
    assert "甲公司（主体责任，未整改）" in text and "乙局" not in text
    # Fri 2026-09-18 + 10 working days: the National Day holidays (10-01…10-07) do not count
    expected = WorkingCalendar().working_days_after("2026-09-18", 10).iso()[:10]
    assert f"请于{documents.cn_date(expected)}前" in text
    assert "已作出火灾事故认定" not in text  # no determination yet: no such paragraph
    assert filled.date == "2026年9月18日"  # the day of issue (date = "document.date")
    assert filled.addressee == "常德市住建局"
    # the reply period is the legal setting
    context = _context({"credit_reply_working_days": 5})
    assert compute(letter, context, _evaluate)["reply_days"] == 5


def test_a_determination_made_is_cited_with_its_number() -> None:
    letter = templates()["credit_referral_letter_housing"]
    determination = {"determined_on": "2026-09-20", "document_no": "常消火认字〔2026〕第5号"}
    context = _context(determination=determination)
    context["computed"] = compute(letter, context, _evaluate)
    text = "".join(fill(letter, context).paragraphs)
    assert "2026年9月20日，已作出火灾事故认定（常消火认字〔2026〕第5号）。" in text


def test_a_failing_expression_names_the_template() -> None:
    letter = templates()["credit_referral_letter_housing"]
    with pytest.raises(ComputeError, match="credit_referral_letter_housing: computed"):
        compute(letter, {"settings": {}}, _evaluate)


def test_a_multi_line_paragraph_becomes_one_paragraph_a_line() -> None:
    notice = templates()["fire_warning_notice"]
    context = {
        "register_fire": {**REGISTRATION, "summary": "概况。"},
        "publish_warning": {
            "title": "通报",
            "text": "一、甲。\n\n 二、乙。 ",
            "published_on": "2026-09-02",
        },
        "computed": {"cause_status": "pending", "addressee": "各单位"},
    }
    paragraphs = fill(notice, context).paragraphs
    assert paragraphs[-2:] == ("一、甲。", "二、乙。")
    assert "起火原因正在调查中。" in paragraphs


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("reply_days = '", 'reply_days = \'__import__("os") or '), "computed 'reply_days'"),
        (("reply_days = '", "reply_days = 'x.__class__ or "), "attribute '__class__'"),
        (("{computed.reply_by|date}", "{computed.nothing|date}"), "not in the template's"),
        (
            (
                'when = ["responsibility_investigation.parties[].credit_referral"',
                'when = ["responsibility_investigation.parties[].nothing"',
            ),
            "has no field",
        ),
    ],
)
def test_broken_computed_and_row_fields_are_refused(
    tmp_path: Path, change: tuple[str, str], problem: str
) -> None:
    assert change[0] in LETTER
    with pytest.raises(TemplateError) as raised:
        read_template(_write(tmp_path, LETTER.replace(change[0], change[1], 1)))
    assert problem in str(raised.value)
