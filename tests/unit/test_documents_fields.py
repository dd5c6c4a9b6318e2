"""Engine features the service and review documents need: alternatives (first non-empty),
``when`` with several values, ``if_set`` paragraphs, the ``time`` filter, the ``settings``
namespace and boolean titles."""

from __future__ import annotations

from pathlib import Path

import pytest

from workflows.documents import (
    TemplateError,
    cn_time,
    fill,
    fill_text,
    load_templates,
    read_template,
)

RECEIPT = load_templates()["service_receipt"]
NOTICE = load_templates()["review_acceptance_notice"]


def test_an_alternative_is_the_first_field_that_is_set() -> None:
    text = "{cause_determination_extended.document_no/cause_investigation.document_no}"
    first = {"cause_investigation": {"document_no": "常消火认字〔2026〕第0005号"}}
    assert fill_text(text, first) == "常消火认字〔2026〕第0005号"
    extended = {
        **first,
        "cause_determination_extended": {"document_no": "常消火认字〔2026〕第0009号"},
    }
    assert fill_text(text, extended) == "常消火认字〔2026〕第0009号"
    # an empty value does not count; the filter applies to the one chosen
    dated = "{cause_determination_extended.determined_on/cause_investigation.determined_on|date}"
    context = {"cause_determination_extended": {"determined_on": ""},
               "cause_investigation": {"determined_on": "2026-03-02"}}  # fmt: skip
    assert fill_text(dated, context) == "2026年3月2日"
    assert fill_text(text, {}) == ""
    # each alternative is checked against its form
    assert ("cause_investigation", "document_no", None) in RECEIPT.fields()
    assert ("cause_determination_extended", "document_no", None) in RECEIPT.fields()


def test_time_filter_writes_hour_and_minute() -> None:
    assert cn_time("09:05") == "9时05分"
    assert cn_time("23:59") == "23时59分"
    assert cn_time("下午") == "下午"
    assert (
        fill_text(
            "{serve_determination.served_time|time}",
            {"serve_determination": {"served_time": "14:30"}},
        )
        == "14时30分"
    )


def test_when_takes_several_values() -> None:
    assert RECEIPT.when == ("serve_determination.method", ("direct", "lodged", "mail"))
    assert RECEIPT.applies({"method": "lodged"})
    assert not RECEIPT.applies({"method": "notice"})


def test_if_set_paragraphs_are_left_out_when_empty() -> None:
    context = {"serve_determination": {"method": "direct", "served_time": "09:30"}}
    paragraphs = fill(RECEIPT, context).paragraphs
    assert not any(p.startswith(("见证人", "备注")) for p in paragraphs)
    context["serve_determination"] |= {"witness": "网格员李某", "remarks": "拒绝签收"}
    paragraphs = fill(RECEIPT, context).paragraphs
    assert "见证人：网格员李某" in paragraphs and "备注：拒绝签收" in paragraphs


def test_boolean_titles_and_paragraphs_and_the_settings_namespace() -> None:
    base = {"review_request": {"applicant": "张某", "received_on": "2026-03-02"},
            "settings": {"fire_review_decision_days": 30}}  # fmt: skip
    accepted = fill(NOTICE, {**base, "review_acceptance": {"accepted": True}})
    assert accepted.title == "火灾事故认定复核申请受理通知书"
    assert "自受理之日起30日内作出复核结论" in accepted.paragraphs[0]
    assert len(accepted.paragraphs) == 1
    refused = fill(NOTICE, {**base, "review_acceptance": {
        "accepted": False, "refusal_ground": "out_of_time", "reason": "逾期"}})  # fmt: skip
    assert refused.title == "火灾事故认定复核申请不予受理通知书"
    assert "属于以下第二项情形" in refused.paragraphs[0]
    assert refused.paragraphs[-1] == "具体情况：逾期"


GOOD = (Path(RECEIPT.path or "")).read_text(encoding="utf-8")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "service_receipt.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ('"lodged", "mail"]', '"lodged", "by_pigeon"]', "'by_pigeon' is not a value of"),
        ('["direct", "lodged", "mail"]]', "[]]", '"when" must be'),
        ('if_set = "serve_determination.witness"', 'if_set = "witness"', '"if_set" must be'),
        ('{issuer.agency}"\nsource', '{settings.no_such_setting}"\nsource', "no such settings"),
        ("/cause_investigation.document_no}", "/cause_investigation.nope}", "no field 'nope'"),
    ],
)
def test_broken_new_features_are_refused(tmp_path: Path, old: str, new: str, problem: str) -> None:
    assert old in GOOD, old
    with pytest.raises(TemplateError, match=problem):
        read_template(_write(tmp_path, GOOD.replace(old, new, 1)))
