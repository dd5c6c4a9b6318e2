"""The engine features the determination documents use: ``process.<output>`` and
``timer.<id>`` fields, a key of each item of an array of objects, booleans in ``when``; the
determination templates filled from a case's data; ``Instance.timer_due``."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.support.driver import CaseDriver
from workflows import documents
from workflows.documents import TemplateError, fill, load_templates, read_template

GOOD = (documents.DOCUMENTS_DIR / "fire_determination.toml").read_text(encoding="utf-8")

REGISTER = {
    "unit_name": "常德市鼎城区某纺织有限公司",
    "address": "常德市鼎城区玉霞街道工业大道8号",
    "alarm_on": "2026-09-01",
    "alarm_time": "14:35",
    "deaths": 0,
    "serious_injuries": 0,
    "minor_injuries": 1,
    "direct_loss": 850000,
    "households_affected": 0,
    "summary": "厂房二楼仓库起火。",
}
DETERMINATION = {
    "outcome": "determined",
    "determined_on": "2026-09-20",
    "cause": "电气线路短路引燃可燃物。",
    "ignition_time": "2026年9月1日14时20分许",
    "ignition_location": "二楼仓库配电箱处",
    "burnt_area": 300.0,
    "evidence": [{"item": "现场勘验笔录"}, {"item": "询问笔录"}, {"item": ""}],
    "parties": [{"name": "某纺织有限公司"}, {"name": "张某"}],
}


def _context(level: str) -> dict:
    return {
        "register_fire": REGISTER,
        "cause_investigation": DETERMINATION,
        "process": {"fire_level_name": "一般火灾", "investigating_level": level},
        "lane": {"fire_rescue": "鼎城区消防救援大队", "reviewer": "常德市消防救援支队"},
        "issuer": {"agency": "鼎城区消防救援大队"},
        "document": {"number": "鼎消火认字〔2026〕第0001号"},
    }


def test_the_determination_fills_items_process_values_and_the_reviewer_by_level() -> None:
    template = load_templates()["fire_determination"]
    filled = fill(template, _context("county"))
    assert filled.addressee == "某纺织有限公司、张某"  # the name of each party
    text = "\n".join(filled.paragraphs)
    assert "过火面积300平方米，属于一般火灾" in text  # 300.0 prints as 300
    assert "以上事实有现场勘验笔录、询问笔录等证据证实。" in text  # an empty item is left out
    assert "向常德市消防救援支队提出书面复核申请" in text
    city = "\n".join(fill(template, _context("city")).paragraphs)
    assert "向上一级消防救援机构提出书面复核申请" in city and "常德市消防救援支队" not in city
    assert template.item_fields() == {
        ("cause_investigation", "evidence", "item"),
        ("cause_investigation", "parties", "name"),
    }


def test_a_boolean_when_of_a_paragraph_reads_true_and_false() -> None:
    template = load_templates()["determination_extension_approval"]
    assert template.timers() == {"extended_determination_deadline"}
    context = {
        "register_fire": REGISTER,
        "cause_investigation": {"requested_on": "2026-09-25", "extension_reason": "需检验。"},
        "approve_extension": {"approved": False, "decided_on": "2026-09-28", "opinion": "否。"},
        "timer": {"extended_determination_deadline": "2026-10-08T23:59:59+08:00"},
        "process": {"fire_level_name": "一般火灾"},
    }
    text = "\n".join(fill(template, context).paragraphs)
    assert "不予批准延长。火灾事故认定期限仍为2026年10月8日前" in text
    assert "批准延长三十日" not in text
    context["approve_extension"] = {**context["approve_extension"], "approved": True}
    assert "批准延长三十日。火灾事故认定期限延长至2026年10月8日" in "\n".join(
        fill(template, context).paragraphs
    )


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "fire_determination.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("{process.fire_level_name}", "{process.fire_grade}"), "no such process fact"),
        (
            ("{lane.reviewer}", "{timer.review_deadline_x}"),
            "{timer.review_deadline_x}: no such timer fact",
        ),
        (
            ("evidence.item|list", "evidence.title|list"),
            "cause_investigation.evidence is no array of objects with 'title'",
        ),
        (
            ("evidence.item|list", "cause.item|list"),
            "cause_investigation.cause is no array of objects with 'item'",
        ),
    ],
)
def test_unknown_process_values_timers_and_item_keys_are_refused(
    tmp_path: Path, change: tuple[str, str], problem: str
) -> None:
    assert change[0] in GOOD
    with pytest.raises(TemplateError) as raised:
        read_template(_write(tmp_path, GOOD.replace(change[0], change[1], 1)))
    assert problem in str(raised.value)


def test_the_namespaces_list_the_decision_outputs_and_the_timers() -> None:
    assert {"fire_level_name", "investigating_level"} <= documents.decision_outputs()
    assert {"extended_determination_deadline", "determination_deadline"} <= (
        documents.timer_events()
    )


def test_timer_due_is_the_deadline_the_process_sets(engine, clock) -> None:
    case = CaseDriver(
        engine,
        clock,
        date(2026, 9, 1),
        {"discoverer_agency": "fire_brigade:dingcheng", "district": "dingcheng"},
        process="fire_accountability",
    )
    case.do("register_fire", date(2026, 9, 1))
    case.do("cause_investigation", date(2026, 9, 25), outcome="request_extension")
    approval = {"approved": True, "decided_on": "2026-09-28"}
    timer = "extended_determination_deadline"
    due = case.instance.timer_due(timer, {"approve_extension": approval})
    refused = case.instance.timer_due(
        "extended_determination_deadline", {"approve_extension": {**approval, "approved": False}}
    )
    assert case.instance.timer_due("no_such_timer", {}) is None
    # a fact not recorded yet: no date
    assert case.instance.timer_due("extended_determination_deadline", {}) is None
    case.do("approve_extension", date(2026, 9, 28))
    assert case.timers()["extended_determination_deadline"] == due
    # 60 days from 09-01 end on Sat 10-31: moved to Mon 11-02; 30 days end on 10-01, in the
    # National Day holiday: moved to the first working day after it
    assert due == "2026-11-02T23:59:59+08:00"
    assert refused is not None and "2026-10-01" < refused < due
