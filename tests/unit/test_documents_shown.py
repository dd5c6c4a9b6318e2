"""What a step is shown of the case's documents (workflows.documents.SHOWN_TO_TASK) and the
filled text stored with an issued document (Filled.to_json / from_json)."""

from __future__ import annotations

import json

from workflows.documents import (
    SHOWN_TO_TASK,
    Filled,
    check_shown,
    kinds_shown_to,
    templates,
)
from workflows.forms import all_task_ids


def test_decision_steps_are_shown_what_they_decide_on() -> None:
    assert kinds_shown_to("government_decision") == ("government_request",)
    assert kinds_shown_to("file_case") == ("hazard_referral_letter",)
    assert kinds_shown_to("register_hazard") == ()
    assert check_shown(set(templates()), set(all_task_ids())) == []


def test_check_shown_names_an_unknown_task_and_kind() -> None:
    known_kinds = {kind for kinds in SHOWN_TO_TASK.values() for kind in kinds}
    problems = check_shown(
        known_kinds - {"hazard_referral_letter"}, set(SHOWN_TO_TASK) - {"file_case"}
    )
    assert "SHOWN_TO_TASK: task 'file_case' has no form in forms/" in problems
    assert "SHOWN_TO_TASK: file_case: no template documents/hazard_referral_letter.toml" in (
        problems
    )
    assert len(problems) == 2 and {"file_case", "government_decision"} <= set(SHOWN_TO_TASK)


def test_filled_text_round_trips_through_json() -> None:
    filled = Filled(
        kind="government_request",
        name="请示",
        layout="report",
        title="关于提请对某单位重大火灾隐患挂牌督办的请示",
        number="武消请〔2026〕1号",
        issuer="武陵区消防救援大队",
        addressee="武陵区人民政府",
        addressee_label="",
        date="2026年10月9日",
        paragraphs=("事实。", "处理意见。", "妥否，请批示。"),
        receipt=(),
    )
    stored = json.loads(json.dumps(filled.to_json(), ensure_ascii=False))
    assert stored["paragraphs"] == ["事实。", "处理意见。", "妥否，请批示。"]
    assert Filled.from_json(stored) == filled
    # a row stored before a field existed reads it empty
    del stored["receipt"], stored["addressee_label"]
    older = Filled.from_json(stored)
    assert older.receipt == () and older.addressee_label == "" and older.number == filled.number
