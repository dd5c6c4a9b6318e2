"""Tests for the task forms (forms/*.json) and their validator (workflows/forms.py)."""

from __future__ import annotations

import copy
import json
import math
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import pytest
from jsonschema import Draft202012Validator

from tests.support import fire_accountability, major_hazard
from workflows import forms
from workflows.forms import (
    FORM_ERROR_KEY,
    FormDefinitionError,
    all_task_ids,
    case_rule_errors,
    check_all_forms,
    load_form,
    read_form_file,
    resolve_form,
    validate_form,
)
from workflows.jurisdiction import DIVISIONS

TODAY = date(2026, 3, 20)
CJK = re.compile(r"[\u4e00-\u9fff]")

# Every user task of docs/major_hazard_process.md.
FIRE_TASKS = {
    "register_fire",
    "simplified_determination",
    "cause_investigation",
    "record_appraisal",
    "amend_casualties",
    "approve_extension",
    "cause_determination_extended",
    "serve_determination",
    "review_request",
    "review_acceptance",
    "review_decision",
    "re_determination",
    "responsibility_investigation",
    "leadership_investigation",
    "publish_warning",
    "report_warning_to_province",
    *fire_accountability.CREDIT_TASKS,
    "notification_evaluation",
}
MAJOR_HAZARD_TASKS = {
    "register_hazard",
    "refer_to_fire_rescue",
    "file_case",
    "expert_review",
    "collective_deliberation",
    "serve_rectification_notice",
    "temporary_sealing",
    "report_to_government",
    "government_decision",
    "set_rectification_plan",
    "enforce_by_fire_rescue",
    "report_rectification_progress",
    "rectification_overdue_measures",
    "reinspection",
    "request_closure",
    "close_case",
    "order_correction",
    "ordinary_reinspection",
    *major_hazard.SEALING_AND_ORDINARY_TASKS,
}
# The reports' submission processes (bpmn/monthly_report.bpmn, bpmn/annual_report.bpmn).
REPORT_TASKS = {
    "submit_monthly_report", "review_monthly_report", "submit_annual_report",
    "review_annual_report",
}  # fmt: skip
PROCESS_TASKS = MAJOR_HAZARD_TASKS | FIRE_TASKS | REPORT_TASKS

# Fields the diagram's expressions read (docs/major_hazard_process.md): they must exist and be
# required, or a gateway or timer would fail on a missing key.
CONTRACT_FIELDS = {
    "register_hazard": [
        "found_on",
        "site_categories",
        "elements",
        "exclusions",
        "can_correct_immediately",
    ],
    "file_case": ["inspected_on", "technically_complex", "sealing"],
    "temporary_sealing": ["decision"],
    # the gateways read the decision, the resubmission timer the review's date
    "review_monthly_report": ["reviewed_on", "decision"],
    "review_annual_report": ["reviewed_on", "decision"],
    "emergency_sealing_decision": ["decision"],
    "sealing_in_force": ["event", "recorded_on"],
    "sealing_continued": ["event", "recorded_on"],
    "lifting_check": ["checked_on"],
    "lifting_decision": ["decision"],
    "await_reinspection_request": ["applied_on"],
    "ordinary_penalty": ["new_correct_by"],
    "collective_deliberation": ["deliberated_on", "outcome", "needs_sealing", "participants"],
    "report_to_government": ["reported_on", "kind"],
    "government_decision": ["decision"],
    "set_rectification_plan": ["rectify_by"],
    "enforce_by_fire_rescue": ["rectify_by"],
    "report_rectification_progress": ["reported_on", "completed"],
    "reinspection": ["result"],
    "order_correction": ["correct_by"],
    "ordinary_reinspection": ["result"],
    "register_fire": [
        "alarm_on",
        "site_type",
        "deaths",
        "serious_injuries",
        "direct_loss",
        "households_affected",
        "major_social_impact",
    ],
    "cause_investigation": ["outcome"],
    "approve_extension": ["approved"],
    "cause_determination_extended": ["determined_on"],
    "serve_determination": ["method"],  # served_on or, for a public notice, its date
    "record_appraisal": ["item", "started_on", "ended_on"],
    "review_request": ["received_on"],
    "review_acceptance": ["decided_on", "accepted"],
    "review_decision": ["outcome"],
}

AGENCIES = [
    ("fire_brigade:wuling", "武陵区消防救援大队"),
    ("culture_tourism:wuling", "武陵区文旅广体局"),
    ("safety_committee:wuling", "武陵区消防安全委员会办公室"),
]
OPTIONS = {"agencies": AGENCIES}


def experts(n: int) -> list[dict[str, str]]:
    """n plausible experts."""
    names = ["王建国", "李明", "张伟", "刘芳", "陈静", "杨帆", "赵磊", "黄勇", "周敏", "吴涛"]
    return [
        {
            "name": names[i % len(names)] + ("" if i < len(names) else str(i)),
            "title": "高级工程师",
            "unit": "湖南省消防救援总队",
        }
        for i in range(n)
    ]


def participants(n: int) -> list[dict[str, str]]:
    """n plausible deliberation participants."""
    people = [
        ("陈立新", "大队长"),
        ("彭晓东", "教导员"),
        ("罗敏", "防火监督员"),
        ("谭伟", "法制员"),
        ("曾丽", "副大队长"),
    ]
    return [{"name": people[i][0], "position": people[i][1]} for i in range(n)]


# A KTV in 武陵区 followed through the whole process, one valid example per form.
EXAMPLES: dict[str, dict[str, Any]] = {
    "register_hazard": {
        "unit_name": "武陵区星光KTV",
        "address": "常德市武陵区人民路2188号3楼",
        "district": "wuling",
        "street": "穿紫河街道",
        "industry": "entertainment",
        "campaign_area": "crowded_places",
        "site_categories": ["crowded"],
        "found_on": "2026-03-02",
        "description": (
            "三楼包厢区仅设一个安全出口，另一出口被杂物堵塞并上锁；\n自动喷水灭火系统未安装。"
        ),
        "elements": ["6.5", "6.6", "7.3.1"],
        "exclusions": [],
        "can_correct_immediately": False,
        "contact_person": "刘经理",
        "contact_phone": "13907361234",
    },
    "refer_to_fire_rescue": {
        "letter_no": "穿紫河街函〔2026〕8号",
        "referred_on": "2026-03-04",
        "contents": "武陵区星光KTV存在安全出口数量不足、未设自动喷水灭火系统等隐患，"
        "依据GB 35181第6.5、6.6条初步判定为重大火灾隐患，请依法立案查处。",
    },
    "file_case": {
        "case_no": "常消隐〔2026〕17号",
        "filed_on": "2026-03-05",
        "inspected_on": "2026-03-05",
        "inspectors": [
            {"name": "罗敏", "cert_no": "湘消监0731021"},
            {"name": "谭伟", "cert_no": "湘消监0731022"},
        ],
        "verification": "现场核查属实：三楼包厢区仅一个安全出口可用，未设置自动喷水灭火系统。",
        "technically_complex": True,
        "sealing": "none",
    },
    "expert_review": {
        "reviewed_on": "2026-03-10",
        "experts": experts(7),
        "agreeing": 6,
        "conclusion": "major",
        "opinion": "疏散条件和灭火设施均不满足规范要求，构成重大火灾隐患。",
        "stakeholders_heard": "听取了业主刘某的陈述。",
    },
    "collective_deliberation": {
        "deliberated_on": "2026-03-11",
        "participants": participants(3),
        "outcome": "major",
        "override": False,
        "needs_sealing": True,
        "minutes": "一致认定为重大火灾隐患，三楼包厢区临时查封。",
    },
    "serve_rectification_notice": {
        "notice_no": "常武消隐字〔2026〕第0017号",
        "served_on": "2026-03-13",
        "recipient": "武陵区星光KTV（签收人：刘经理）",
        "service_method": "direct",
        "requirements": (
            "1. 增设安全出口；\n2. 按规范设置自动喷水灭火系统。\t限2026年6月30日前完成。"
        ),
        "served_time": "15:20",
        "place": "武陵区星光KTV前台",
        "receiver": "刘经理",
        "receiver_relation": "单位负责人",
        "server_1": "李明",
        "server_2": "张伟",
    },
    "report_to_government": {
        "report_no": "常武消〔2026〕21号",
        "reported_on": "2026-03-16",
        "kind": "listed_supervision",
        "opinion": "建议对武陵区星光KTV重大火灾隐患挂牌督办，由区文旅广体局督促整改。",
        "signer": "张某",
    },
    "government_decision": {
        "decision": "agree",
        "decided_on": "2026-03-18",
        "document_no": "武政办函〔2026〕12号",
        "listed": True,
        "responsible_person": "法定代表人 刘某",
        "rectify_by": "2026-06-30",
        "supervising_departments": "区文旅广体局牵头督促整改。",
        "notice_addressees": "区文旅广体局",
        "comments": "同意挂牌督办。",
    },
    "set_rectification_plan": {
        "decided_on": "2026-03-19",
        "rectify_by": "2026-06-30",
        "listed": True,
        "responsible_leader": "武陵区副区长 张某",
        "supervising_agency": "culture_tourism:wuling",
        "measures": "区文旅广体局牵头，每月督查一次；消防救援大队提供技术指导。",
        "funding": "区财政对喷淋改造给予补贴。",
        "funding_amount": 12.5,
    },
    "enforce_by_fire_rescue": {
        "decided_on": "2026-03-19",
        "measures": ["order_correction", "fine"],
        "rectify_by": "2026-05-31",
        "supervising_agency": "fire_brigade:wuling",
        "details": "常武消行罚决字〔2026〕0009号，罚款五万元。",
    },
    "report_rectification_progress": {
        "reported_on": "2026-03-20",
        "progress": "已清理堵塞出口，喷淋系统完成设计。",
        "percent": 40,
        "completed": False,
    },
    "rectification_overdue_measures": {
        "measure": "interview",
        "taken_on": "2026-03-20",
        "notes": "区政府约谈星光KTV法定代表人及区文旅广体局分管负责人。",
    },
    "reinspection": {
        "reinspected_on": "2026-03-20",
        "result": "fail",
        "findings": "喷淋系统尚未安装完毕。",
        "new_rectify_by": "2026-04-30",
    },
    "request_closure": {
        "request_no": "常武消〔2026〕22号",
        "requested_on": "2026-03-20",
        "signer": "张某",
        "findings": "喷淋系统已安装并调试合格。",
    },
    "close_case": {
        "closed_on": "2026-03-20",
        "document_no": "武政消销〔2026〕3号",
        "delisted": True,
        "summary": "增设安全出口一处，安装自动喷水灭火系统，复查合格，予以销案摘牌。",
    },
    "order_correction": {
        "order_no": "常武消限字〔2026〕第0101号",
        "issued_on": "2026-03-06",
        "correct_by": "2026-03-20",
        "requirements": "清理疏散通道杂物，更换损坏的应急照明灯。",
    },
    "ordinary_reinspection": {
        "reinspected_on": "2026-03-20",
        "result": "pass",
        "findings": "已全部改正。",
    },
}
# A factory fire in 鼎城区, one valid example per form of the accountability process.
EXAMPLES.update({task: fire_accountability.sample(task, date(2026, 3, 2)) for task in FIRE_TASKS})
_SUBMITTED = {
    "filled_on": "2026-03-19",
    "preparer": "张伟",
    "reviewer": "李强",
    "contact_phone": "0736-7223119",
    "work_summary": "本月按计划推进专项整治。",
}
_REVIEWED = {"reviewed_on": "2026-03-20", "decision": "return", "reason": "请补充约谈情况。"}
for _kind in ("monthly", "annual"):
    EXAMPLES[f"submit_{_kind}_report"] = _SUBMITTED
    EXAMPLES[f"review_{_kind}_report"] = _REVIEWED
EXAMPLES.update(
    {
        task: major_hazard.sample(task, date(2026, 3, 12))
        for task in major_hazard.SEALING_AND_ORDINARY_TASKS | {"temporary_sealing"}
    }
)


def example(task_id: str, **changes: Any) -> dict[str, Any]:
    """A deep copy of the task's example with some fields changed (None removes a field)."""
    data = copy.deepcopy(EXAMPLES[task_id])
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def check(
    task_id: str, data: Any, today: date = TODAY, context: dict[str, Any] | None = None
) -> dict[str, str]:
    """Validate with the test's today and agency options (and the case data, if given).

    With the case data, data valid without it gets from ``case_rule_errors`` alone (what a
    completion checks under the case's lock) the same answer as from the whole validation."""
    errors = validate_form(task_id, data, today=today, options=OPTIONS, context=context)
    if context is not None and not validate_form(task_id, data, today=today, options=OPTIONS):
        assert case_rule_errors(task_id, data, today=today, context=context) == errors
    return errors


NOT_MAJOR_AFTER_REVIEW = (
    "专家论证结论为不构成重大火灾隐患（含未达到规定比例的专家同意），集体讨论只能认定为不构成"
)
CLAIMED_C = "发现单位主张了排除情形 c)，请确认或不予确认"
EDITION_RULE = "判定要素、场所类别或排除情形须属于发现日期适用的 GB 35181 版本"

#: The case data of a hazard judged under GB 35181-2017 (its 4.2/4.3 minimums).
CASE_2017 = {
    "hazard_procedure": {
        "deliberation_min_participants": 3,
        "expert_panel_min": 7,
        "expert_agreement_numerator": 2,
        "expert_agreement_denominator": 3,
    }
}


def iter_properties(schema: dict[str, Any], where: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every property of a schema, nested ones (array items) included."""
    found = []
    for name, prop in schema.get("properties", {}).items():
        path = f"{where}.{name}" if where else name
        found.append((path, prop))
        items = prop.get("items")
        if isinstance(items, dict) and "properties" in items:
            found.extend(iter_properties(items, path + "[]"))
    return found


# --------------------------------------------------------------------------- the forms


def test_every_process_task_has_a_form() -> None:
    assert set(all_task_ids()) == PROCESS_TASKS
    assert set(EXAMPLES) == PROCESS_TASKS


def test_check_all_forms_loads_every_form() -> None:
    assert sorted(check_all_forms()) == sorted(PROCESS_TASKS)


@pytest.mark.parametrize("task_id", sorted(PROCESS_TASKS))
def test_form_is_a_valid_closed_schema(task_id: str) -> None:
    schema = load_form(task_id)
    Draft202012Validator.check_schema(schema)
    Draft202012Validator.check_schema(resolve_form(task_id, OPTIONS))
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) <= set(schema["properties"])
    assert sorted(schema["x-order"]) == sorted(schema["properties"])


@pytest.mark.parametrize("task_id", sorted(PROCESS_TASKS))
def test_form_and_every_property_have_chinese_title_and_description(task_id: str) -> None:
    schema = load_form(task_id)
    assert CJK.search(schema["title"]), task_id
    assert CJK.search(schema["description"]), task_id
    for path, prop in iter_properties(schema):
        assert CJK.search(prop.get("title", "")), f"{task_id}.{path} title"
        assert CJK.search(prop.get("description", "")), f"{task_id}.{path} description"


@pytest.mark.parametrize("task_id", sorted(PROCESS_TASKS))
def test_strings_are_bounded_and_dates_are_dates(task_id: str) -> None:
    schema = load_form(task_id)
    for path, prop in iter_properties(schema):
        node = prop["items"] if prop.get("type") == "array" else prop
        if node.get("type") == "string":
            assert isinstance(node.get("maxLength"), int), f"{task_id}.{path}"
        if prop.get("type") == "array":
            assert isinstance(prop.get("maxItems"), int), f"{task_id}.{path}"
        if path.endswith(("_on", "_by")):
            assert prop.get("format") == "date", f"{task_id}.{path}"
        for choice in node.get("oneOf", []):
            assert CJK.search(choice["title"]), f"{task_id}.{path} {choice}"


@pytest.mark.parametrize("task_id", sorted(CONTRACT_FIELDS))
def test_fields_read_by_the_diagram_are_required(task_id: str) -> None:
    schema = load_form(task_id)
    for field in CONTRACT_FIELDS[task_id]:
        assert field in schema["required"], f"{task_id}.{field}"


def test_choice_values_match_the_process_contract() -> None:
    def consts(task_id: str, field: str) -> set[Any]:
        prop = load_form(task_id)["properties"][field]
        node = prop["items"] if prop["type"] == "array" else prop
        return {c["const"] for c in node["oneOf"]}

    assert consts("report_to_government", "kind") == {
        "listed_supervision",
        "regional_hazard",
        "suspension",
    }
    assert consts("government_decision", "decision") == {"agree", "disagree"}
    assert consts("reinspection", "result") == {"pass", "fail"}
    assert consts("ordinary_reinspection", "result") == {"pass", "fail"}
    assert consts("expert_review", "conclusion") == {"major", "not_major"}
    assert consts("collective_deliberation", "outcome") == {"major", "not_major"}
    assert consts("file_case", "technically_complex") == {True, False}


def test_site_categories_match_the_gb35181_catalogue() -> None:
    from workflows.gb35181 import load_catalogue

    prop = resolve_form("register_hazard")["properties"]["site_categories"]
    assert (
        load_form("register_hazard")["properties"]["site_categories"]["items"]["x-options"]
        == "gb35181_site_categories"
    )
    ours = [(c["const"], c["title"]) for c in prop["items"]["oneOf"]]
    assert ours == [(c.id, c.name) for c in load_catalogue().site_categories]


# --------------------------------------------------------------------------- loading


def test_unknown_task_id_is_a_key_error() -> None:
    for bad in ("no_such_task", "../forms/register_hazard", "Register_Hazard", "", 3, None):
        with pytest.raises(KeyError):
            load_form(bad)
    with pytest.raises(KeyError):
        validate_form("no_such_task", {}, today=TODAY)


def test_load_form_returns_a_copy() -> None:
    schema = load_form("register_hazard")
    schema["properties"].clear()
    assert load_form("register_hazard")["properties"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "invalid JSON at line 1"),
        ("[]", "top level must be a JSON object"),
        ('{"type": "object", "properties": {"a": {"type": 5}}}', "not a valid JSON Schema"),
        (
            '{"type": "object", "title": "表", "description": "说明",'
            ' "additionalProperties": false,'
            ' "properties": {"a": {"type": "string", "title": "甲", "description": "说明"}}}',
            'a string needs "maxLength"',
        ),
        (
            '{"type": "object", "title": "表", "description": "说明",'
            ' "additionalProperties": false,'
            ' "properties": {"a": {"type": "integer", "title": "甲", "description": "说明"}},'
            ' "x-rules": [{"rule": "lte", "field": "a", "other": "b", "message": "甲"}]}',
            "'b' is not a number or array property",
        ),
        (
            '{"type": "object", "title": "表", "description": "说明",'
            ' "additionalProperties": false,'
            ' "properties": {"a": {"type": "integer", "title": "甲", "description": "说明"}},'
            ' "x-rules": [{"rule": "bigger", "field": "a", "message": "甲"}]}',
            "unknown rule 'bigger'",
        ),
        (
            '{"type": "object", "title": "表", "description": "说明",'
            ' "properties": {"a": {"type": "integer", "title": "甲"}}}',
            '"additionalProperties" must be false',
        ),
    ],
)
def test_broken_form_file_raises_naming_the_file(
    tmp_path: Path, content: str, problem: str
) -> None:
    path = tmp_path / "broken_task.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(FormDefinitionError) as info:
        read_form_file(path)
    assert "broken_task.json" in str(info.value)
    assert problem in str(info.value)


def test_broken_form_in_forms_dir_stops_check_all_forms(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "bad_form.json").write_text('{"type": "object",}', encoding="utf-8")
    monkeypatch.setattr(forms, "FORMS_DIR", tmp_path)
    forms._load_cached.cache_clear()
    try:
        with pytest.raises(FormDefinitionError, match=r"bad_form\.json"):
            check_all_forms()
    finally:
        forms._load_cached.cache_clear()


# --------------------------------------------------------------------------- options


def test_resolve_districts_from_jurisdiction() -> None:
    prop = resolve_form("register_hazard")["properties"]["district"]
    assert prop["oneOf"] == [{"const": d.code, "title": d.name} for d in DIVISIONS]
    assert {"const": "wuling", "title": "武陵区"} in prop["oneOf"]


def test_resolve_gb35181_elements_and_exclusions() -> None:
    from workflows.gb35181 import load_catalogue

    catalogue = load_catalogue()
    props = resolve_form("register_hazard")["properties"]
    elements = props["elements"]["items"]["oneOf"]
    assert [c["const"] for c in elements] == [e.id for e in catalogue.elements]
    assert all(c["title"].startswith(c["const"]) for c in elements)
    exclusions = props["exclusions"]["items"]["oneOf"]
    assert [c["const"] for c in exclusions] == [x.id for x in catalogue.exclusions]


def test_agencies_come_from_the_caller_or_stay_plain_strings() -> None:
    resolved = resolve_form("set_rectification_plan", OPTIONS)["properties"]
    assert resolved["supervising_agency"]["oneOf"][0] == {
        "const": "fire_brigade:wuling",
        "title": "武陵区消防救援大队",
    }
    plain = resolve_form("set_rectification_plan")["properties"]["supervising_agency"]
    assert "oneOf" not in plain
    assert plain["type"] == "string"
    assert plain["maxLength"] == 200
    # without a provider any agency text is accepted; with one, only listed agencies
    data = example("set_rectification_plan", supervising_agency="区文旅广体局")
    assert validate_form("set_rectification_plan", data, today=TODAY) == {}
    assert "supervising_agency" in check("set_rectification_plan", data)


def test_caller_options_override_builtins_and_may_be_empty() -> None:
    narrowed = {"districts": [("wuling", "武陵区")]}
    data = example("register_hazard", district="dingcheng")
    errors = validate_form("register_hazard", data, today=TODAY, options=narrowed)
    assert errors == {"district": "“所在县市区”不是可选的值"}
    nothing = {"agencies": []}
    schema = resolve_form("enforce_by_fire_rescue", nothing)
    Draft202012Validator.check_schema(schema)
    errors = validate_form(
        "enforce_by_fire_rescue", EXAMPLES["enforce_by_fire_rescue"], today=TODAY, options=nothing
    )
    assert set(errors) == {"supervising_agency"}


def test_resolve_form_does_not_change_the_cached_form() -> None:
    resolve_form("set_rectification_plan", OPTIONS)
    assert "oneOf" not in load_form("set_rectification_plan")["properties"]["supervising_agency"]


# --------------------------------------------------------------------------- valid data


@pytest.mark.parametrize("task_id", sorted(PROCESS_TASKS))
def test_example_is_valid(task_id: str) -> None:
    assert check(task_id, EXAMPLES[task_id]) == {}


@pytest.mark.parametrize("task_id", sorted(PROCESS_TASKS))
def test_only_required_fields_is_valid(task_id: str) -> None:
    required = load_form(task_id)["required"]
    data = {k: v for k, v in EXAMPLES[task_id].items() if k in required}
    if task_id == "reinspection":  # a failed re-inspection needs its new deadline
        data["result"] = "pass"
    # Choices that need no further particulars.
    data.update(
        {
            "temporary_sealing": {"decision": "no_seal"},
            "sealing_in_force": {"event": "not_eliminated"},
            "sealing_continued": {"event": "not_eliminated"},
            "emergency_sealing_decision": {"decision": "lift"},
            "review_monthly_report": {"decision": "accept"},
            "review_annual_report": {"decision": "accept"},
        }.get(task_id, {})
    )
    if task_id == "emergency_sealing_decision":
        assert check(task_id, data) == {"lifted_on": "不予查封的，必须填写解除日期"}
        return
    if task_id == "government_decision":  # an agreement states the reply's terms
        terms = {"listed", "responsible_person", "rectify_by", "supervising_departments"}
        assert set(check(task_id, data)) == terms
        return
    if task_id == "cause_investigation":  # a determination made needs its particulars
        assert set(check(task_id, data)) == {
            "determined_on",
            "cause",
            "ignition_time",
            "ignition_location",
            "burnt_area",
            "evidence",
            "parties",
        }  # the 认定书's number is generated, not typed (docs/documents-engine.md)
        return
    # served on a date and hour, at a place, to a receiver, by two officers (送达回证), or by a
    # notice published on a date
    service = {"served_time", "place", "receiver", "receiver_relation", "server_1", "server_2"}
    if task_id == "serve_determination":
        assert set(check(task_id, data)) == {"served_on"} | service
        assert check(task_id, {**data, "method": "notice"}) == {"notice_published_on": ANY}
        return
    if task_id == "serve_rectification_notice":
        assert set(check(task_id, data)) == service
        assert check(task_id, {**data, "service_method": "public"}) == {}
        return
    assert check(task_id, data) == {}


def test_today_may_be_a_datetime() -> None:
    now = datetime(2026, 3, 2, 10, 30)
    assert validate_form("register_hazard", EXAMPLES["register_hazard"], today=now) == {}


@pytest.mark.parametrize(
    "phone", ["13907361234", "0736-7223119", "07367223119", "010-12345678", "0736-7223119-801"]
)
def test_phone_numbers_accepted(phone: str) -> None:
    assert check("register_hazard", example("register_hazard", contact_phone=phone)) == {}


@pytest.mark.parametrize(
    "phone",
    [
        "1390736123",
        "12907361234",
        "7223119",
        "0736 7223119",
        "１３９０７３６１２３４",
        "13907361234\n",
        "+8613907361234x",
    ],
)
def test_phone_numbers_rejected(phone: str) -> None:
    errors = check("register_hazard", example("register_hazard", contact_phone=phone))
    assert set(errors) == {"contact_phone"}


@pytest.mark.parametrize("case_no", ["常消隐〔2026〕17号", "常消隐〔2026〕1号"])
def test_case_number_accepted(case_no: str) -> None:
    assert check("file_case", example("file_case", case_no=case_no)) == {}


@pytest.mark.parametrize(
    "case_no",
    [
        "常消隐[2026]17号",
        "常消隐〔26〕17号",
        "常消隐〔2026〕号",
        "常消隐〔２０２６〕17号",
        "x常消隐〔2026〕17号",
    ],
)
def test_case_number_rejected(case_no: str) -> None:
    errors = check("file_case", example("file_case", case_no=case_no))
    assert errors == {"case_no": "“立案编号”格式应为“常消隐〔2026〕17号”"}


def test_trailing_newline_does_not_sneak_past_a_pattern() -> None:
    # Python's "$" also matches before a final newline; single-line fields reject newlines
    errors = check("file_case", example("file_case", case_no="常消隐〔2026〕17号\n"))
    assert errors == {"case_no": "“立案编号”含有不允许的控制字符"}


# --------------------------------------------------------------------------- schema errors


def test_required_field_missing() -> None:
    errors = check("register_hazard", example("register_hazard", found_on=None))
    assert errors == {"found_on": "“发现日期”为必填项"}


def test_empty_data_lists_every_required_field() -> None:
    errors = check("file_case", {})
    assert set(errors) == set(load_form("file_case")["required"])


def test_additional_properties_rejected() -> None:
    errors = check("close_case", example("close_case", secret="x"))
    assert errors == {"secret": "不允许填写字段“secret”"}
    errors = check(
        "expert_review",
        example(
            "expert_review",
            experts=[*experts(6), {"name": "孙强", "unit": "中南大学", "phone": "13907361234"}],
        ),
    )
    assert errors == {"experts.6.phone": "不允许填写字段“phone”"}


def test_many_or_huge_extra_keys_are_reported_briefly() -> None:
    data = example("close_case")
    data.update({f"k{i}": i for i in range(500)})
    data["x" * 100_000] = 1
    errors = check("close_case", data)
    assert len(errors) <= 22
    assert "表单含有501个不允许的字段" in errors[FORM_ERROR_KEY]
    assert all(len(key) < 100 for key in errors)


def test_bad_date_format() -> None:
    for bad in (
        "2026/03/02",
        "2026-3-2",
        "20260302",
        "2026-03-02T00:00:00",
        "明天",
        "２０２６-０３-０２",
    ):
        errors = check("register_hazard", example("register_hazard", found_on=bad))
        assert errors == {"found_on": "“发现日期”不是有效日期"}, bad


def test_impossible_date_rejected() -> None:
    errors = check("register_hazard", example("register_hazard", found_on="2026-02-30"))
    assert errors == {"found_on": "“发现日期”不是有效日期"}
    errors = check("order_correction", example("order_correction", correct_by="2026-13-01"))
    assert errors == {"correct_by": "“改正期限”不是有效日期"}


def test_wrong_enum_value() -> None:
    errors = check("government_decision", example("government_decision", decision="maybe"))
    assert errors == {"decision": "“决定”不是可选的值"}
    errors = check("register_hazard", example("register_hazard", site_categories=["school"]))
    assert errors == {"site_categories.0": "“场所类别”第1项不是可选的值"}
    errors = check("register_hazard", example("register_hazard", district="changsha"))
    assert errors == {"district": "“所在县市区”不是可选的值"}
    errors = check("register_hazard", example("register_hazard", elements=["6.5", "8.1"]))
    assert errors == {"elements.1": "“判定要素”第2项不是可选的值"}


def test_repeated_choice_rejected() -> None:
    errors = check(
        "register_hazard", example("register_hazard", site_categories=["crowded", "crowded"])
    )
    assert errors == {"site_categories": "“场所类别”有重复的选项"}


def test_empty_choice_list_rejected_where_one_is_needed() -> None:
    errors = check("register_hazard", example("register_hazard", site_categories=[]))
    assert errors == {"site_categories": "“场所类别”至少需要1项"}


@pytest.mark.parametrize(
    ("task_id", "field", "value", "message"),
    [
        ("expert_review", "agreeing", "6", "“认为构成重大火灾隐患的专家人数”应为整数"),
        ("expert_review", "agreeing", True, "“认为构成重大火灾隐患的专家人数”应为整数"),
        ("expert_review", "agreeing", 5.5, "“认为构成重大火灾隐患的专家人数”应为整数"),
        ("file_case", "technically_complex", "true", "“是否需要专家论证”应为“是”或“否”"),
        ("file_case", "technically_complex", 1, "“是否需要专家论证”应为“是”或“否”"),
        ("register_hazard", "elements", "6.5", "“判定要素”应为列表"),
        ("register_hazard", "unit_name", 42, "“单位名称”应为文字"),
        ("register_hazard", "found_on", 20260302, "“发现日期”应为文字"),
        ("collective_deliberation", "participants", {"name": "陈立新"}, "“参加人员”应为列表"),
        ("report_rectification_progress", "percent", 101, "“完成比例（%）”不能大于100"),
        ("report_rectification_progress", "percent", -1, "“完成比例（%）”不能小于0"),
        ("set_rectification_plan", "funding_amount", -3, "“安排资金（万元）”不能小于0"),
    ],
)
def test_wrong_types_and_ranges(task_id: str, field: str, value: Any, message: str) -> None:
    errors = check(task_id, example(task_id, **{field: value}))
    assert errors == {field: message}


def test_non_finite_numbers_rejected() -> None:
    for value in (math.nan, math.inf, -math.inf):
        errors = check(
            "set_rectification_plan", example("set_rectification_plan", funding_amount=value)
        )
        assert errors == {"funding_amount": "“安排资金（万元）”不是有效的数字"}, value


def test_nested_item_errors_name_the_item() -> None:
    people = participants(3)
    people[2] = {"position": "法制员"}
    people[1]["name"] = 7
    errors = check(
        "collective_deliberation", example("collective_deliberation", participants=people)
    )
    assert errors == {
        "participants.2.name": "“参加人员”第3项的“姓名”为必填项",
        "participants.1.name": "“参加人员”第2项的“姓名”应为文字",
    }
    people = participants(3)
    people[0] = "陈立新"
    errors = check(
        "collective_deliberation", example("collective_deliberation", participants=people)
    )
    assert errors == {"participants.0": "“参加人员”第1项应为对象"}


def test_blank_text_counts_as_empty() -> None:
    for blank in ("", "   ", "\u3000\u3000"):
        errors = check("close_case", example("close_case", summary=blank))
        assert errors == {"summary": "“整改总结”不能为空"}, repr(blank)


def test_huge_strings_rejected_without_echo() -> None:
    huge = "火" * 1_000_000
    errors = check("close_case", example("close_case", summary=huge, document_no=huge))
    assert errors == {
        "summary": "“整改总结”不能超过4000个字",
        "document_no": "“销案文号”不能超过100个字",
    }
    errors = check("register_hazard", example("register_hazard", unit_name="星" * 201))
    assert errors == {"unit_name": "“单位名称”不能超过200个字"}
    assert check("register_hazard", example("register_hazard", unit_name="星" * 200)) == {}


@pytest.mark.parametrize("bad", ["\x00", "\x1b[31m", "\x7f", "\r", "\u202e", "\u2028", "\ud800"])
def test_control_characters_rejected(bad: str) -> None:
    errors = check("close_case", example("close_case", summary=f"整改完成{bad}。"))
    assert errors == {"summary": "“整改总结”含有不允许的控制字符"}
    errors = check("close_case", example("close_case", document_no=f"武政消销{bad}3号"))
    assert errors == {"document_no": "“销案文号”含有不允许的控制字符"}
    people = participants(3)
    people[1]["name"] = f"彭{bad}晓东"
    errors = check(
        "collective_deliberation", example("collective_deliberation", participants=people)
    )
    assert errors == {"participants.1.name": "“参加人员”第2项的“姓名”含有不允许的控制字符"}


def test_newlines_and_tabs_only_in_multiline_text() -> None:
    text = "第一行\n第二行\r\n\t第三行"
    assert check("close_case", example("close_case", summary=text)) == {}
    for bad in ("武政消销\n3号", "武政消销\t3号"):
        errors = check("close_case", example("close_case", document_no=bad))
        assert errors == {"document_no": "“销案文号”含有不允许的控制字符"}


@pytest.mark.parametrize("data", [None, [], "register", 42, 3.5, True, b"{}", ["found_on"]])
def test_non_dict_data(data: Any) -> None:
    assert check("register_hazard", data) == {FORM_ERROR_KEY: "表单数据必须是由字段和值组成的对象"}


def test_junk_in_every_field_never_raises() -> None:
    junk: list[Any] = [
        None,
        True,
        0,
        -1,
        10**40,
        1.5,
        math.nan,
        "",
        "x" * 5000,
        "2026-02-30",
        [],
        [None],
        [[[]]],
        {},
        {"a": {"b": []}},
        "\x00",
        ["\ud800"],
        {1: 2},
    ]
    for task_id in sorted(PROCESS_TASKS):
        for field in load_form(task_id)["properties"]:
            for value in junk:
                data = example(task_id)
                data[field] = value
                errors = check(task_id, data)
                assert isinstance(errors, dict)
                assert all(isinstance(k, str) and isinstance(v, str) for k, v in errors.items())


def test_deeply_nested_junk_never_raises() -> None:
    deep: Any = []
    for _ in range(5000):
        deep = [deep]
    for data in (
        example("register_hazard", elements=[deep], extra=deep),
        example("register_hazard", elements=[deep, deep]),
        example("collective_deliberation", participants=[deep, deep, deep]),
    ):
        errors = check("register_hazard" if "elements" in data else "collective_deliberation", data)
        assert errors


# --------------------------------------------------------------------------- legal rules


@pytest.mark.parametrize(("count", "ok"), [(6, False), (7, True), (12, True)])
@pytest.mark.parametrize("context", [CASE_2017, {}])  # {}: a case older than hazard_procedure
def test_at_least_seven_experts(count: int, ok: bool, context: dict[str, Any]) -> None:
    data = example("expert_review", experts=experts(count), agreeing=count)
    errors = check("expert_review", data, context=context)
    if ok:
        assert errors == {}
    else:
        assert errors == {"experts": "专家论证的专家组不得少于7人"}
    assert check("expert_review", data) == {}  # without the case: checked when completing


def test_the_expert_minimum_is_the_cases_setting() -> None:
    context = {"hazard_procedure": {**CASE_2017["hazard_procedure"], "expert_panel_min": 9}}
    data = example("expert_review", experts=experts(8), agreeing=8)
    assert check("expert_review", data, context=context) == {
        "experts": "专家论证的专家组不得少于9人"
    }


def test_agreeing_may_not_exceed_experts() -> None:
    errors = check("expert_review", example("expert_review", experts=experts(7), agreeing=8))
    assert errors == {"agreeing": "“认为构成重大火灾隐患的专家人数”不能多于专家人数"}
    assert check("expert_review", example("expert_review", experts=experts(7), agreeing=7)) == {}


MAJORITY_MESSAGE = (
    "结论须与表决相符：{total}名专家中至少{min}人认为构成时结论为“构成重大火灾隐患”，"
    "否则为“不构成”（本次{votes}人认为构成）"
)


@pytest.mark.parametrize(
    ("total", "agreeing", "reached"),
    [
        (7, 5, True),
        (7, 4, False),
        (8, 6, True),
        (8, 5, False),
        (9, 6, True),
        (9, 5, False),
        (10, 7, True),
        (10, 6, False),
        (12, 8, True),
        (12, 7, False),
    ],
)
def test_two_thirds_of_experts_decide_and_a_short_panel_is_recorded_as_not_major(
    total: int, agreeing: int, reached: bool
) -> None:
    major = example("expert_review", experts=experts(total), agreeing=agreeing)
    not_major = example(
        "expert_review", experts=experts(total), agreeing=agreeing, conclusion="not_major"
    )
    message = MAJORITY_MESSAGE.format(total=total, min=math.ceil(2 * total / 3), votes=agreeing)
    if reached:
        assert check("expert_review", major, context=CASE_2017) == {}
        assert check("expert_review", not_major, context=CASE_2017) == {"conclusion": message}
    else:
        assert check("expert_review", major, context=CASE_2017) == {"conclusion": message}
        assert check("expert_review", not_major, context=CASE_2017) == {}


@pytest.mark.parametrize(("count", "ok"), [(2, False), (3, True), (5, True)])
def test_at_least_three_deliberation_participants(count: int, ok: bool) -> None:
    errors = check(
        "collective_deliberation",
        example("collective_deliberation", participants=participants(count)),
        context=CASE_2017,
    )
    assert errors == ({} if ok else {"participants": "集体讨论的参加人员不得少于3人"})


def test_deliberation_follows_a_not_major_expert_review_and_answers_exclusion_c() -> None:
    after_review = {**CASE_2017, "expert_review": {"conclusion": "not_major"}}
    data = example("collective_deliberation")
    assert check("collective_deliberation", data, context=after_review) == {
        "outcome": NOT_MAJOR_AFTER_REVIEW
    }
    claimed_c = {**CASE_2017, "register_hazard": {"exclusions": ["c"]}}
    assert check("collective_deliberation", data, context=claimed_c) == {
        "exclusion_c_review": CLAIMED_C
    }
    rejected = example("collective_deliberation", exclusion_c_review="rejected")
    assert check("collective_deliberation", rejected, context=claimed_c) == {}


def test_at_least_two_inspectors() -> None:
    errors = check(
        "file_case", example("file_case", inspectors=[{"name": "罗敏", "cert_no": "湘消监0731021"}])
    )
    assert errors == {"inspectors": "现场核查应当由两名以上消防监督检查人员进行"}


def test_override_needs_a_reason() -> None:
    data = example("collective_deliberation", override=True)
    assert check("collective_deliberation", data) == {
        "override_reason": "认定结论与初步判定不一致时，必须写明理由"
    }
    data["override_reason"] = "专家组认为消防车道被占用情形严重，综合判定为重大火灾隐患。"
    assert check("collective_deliberation", data) == {}


def test_sealing_may_be_decided_for_a_hazard_found_not_major() -> None:
    # 消防监督检查规定 §22 ¶1: the grounds for temporary sealing are not limited to major hazards.
    data = example("collective_deliberation", outcome="not_major", needs_sealing=True)
    assert check("collective_deliberation", data) == {}


def test_failed_reinspection_needs_new_deadline() -> None:
    errors = check("reinspection", example("reinspection", new_rectify_by=None))
    assert errors == {"new_rectify_by": "复查不合格时必须确定新的整改期限"}
    passed = example("reinspection", result="pass", new_rectify_by=None)
    assert check("reinspection", passed) == {}


def test_disagreement_needs_reasons() -> None:
    errors = check(
        "government_decision",
        example("government_decision", decision="disagree", comments=None, listed=None),
    )
    assert errors == {"comments": "不同意时必须写明理由"}


def test_agreement_states_the_terms_of_the_reply_and_a_refusal_lists_nothing() -> None:
    bare = example("government_decision", listed=None, responsible_person=None, rectify_by=None)
    message = "同意时必须写明是否挂牌督办、整改责任人、整改期限和督办部门"
    assert check("government_decision", bare) == {
        "listed": message,
        "responsible_person": message,
        "rectify_by": message,
    }
    listed = example("government_decision", notice_addressees=None)
    assert check("government_decision", listed) == {
        "notice_addressees": "挂牌督办时必须写明通知的主送机关"
    }
    refused = example("government_decision", decision="disagree", listed=True)
    assert check("government_decision", refused) == {"listed": "不同意时不能挂牌督办"}
    early = example("government_decision", rectify_by="2026-03-18")
    assert check("government_decision", early) == {"rectify_by": "“整改期限”应当晚于“决定日期”"}


def test_completed_rectification_is_one_hundred_percent() -> None:
    data = example("report_rectification_progress", completed=True, percent=90)
    assert check("report_rectification_progress", data) == {
        "percent": "已完成整改时，完成比例应为100%"
    }
    data["percent"] = 100
    assert check("report_rectification_progress", data) == {}


# (task, changes, field, message) for every x-rule of every form.
DATE_RULE_CASES = [
    ("register_hazard", {"found_on": "2026-03-21"}, "found_on", "“发现日期”不能晚于今天"),
    (
        "refer_to_fire_rescue",
        {"referred_on": "2026-04-01"},
        "referred_on",
        "“函告日期”不能晚于今天",
    ),
    ("file_case", {"filed_on": "2026-03-21"}, "filed_on", "“立案日期”不能晚于今天"),
    ("file_case", {"inspected_on": "2027-01-01"}, "inspected_on", "“现场核查日期”不能晚于今天"),
    ("file_case", {"sealed_on": "2026-03-21"}, "sealed_on", "“当场查封日期”不能晚于今天"),
    ("expert_review", {"reviewed_on": "2026-03-21"}, "reviewed_on", "“论证日期”不能晚于今天"),
    (
        "collective_deliberation",
        {"deliberated_on": "2026-03-21"},
        "deliberated_on",
        "“讨论日期”不能晚于今天",
    ),
    (
        "serve_rectification_notice",
        {"served_on": "2026-03-21"},
        "served_on",
        "“送达日期”不能晚于今天",
    ),
    (
        "report_to_government",
        {"reported_on": "2026-03-21"},
        "reported_on",
        "“报告日期”不能晚于今天",
    ),
    ("government_decision", {"decided_on": "2026-03-21"}, "decided_on", "“决定日期”不能晚于今天"),
    (
        "government_decision",
        {"rectify_by": "2026-03-18"},
        "rectify_by",
        "“整改期限”应当晚于“决定日期”",
    ),
    (
        "request_closure",
        {"requested_on": "2026-03-21"},
        "requested_on",
        "“请示日期”不能晚于今天",
    ),
    (
        "set_rectification_plan",
        {"decided_on": "2026-03-21"},
        "decided_on",
        "“部署日期”不能晚于今天",
    ),
    (
        "set_rectification_plan",
        {"rectify_by": "2026-03-19"},
        "rectify_by",
        "“整改期限”应当晚于“部署日期”",
    ),
    (
        "set_rectification_plan",
        {"rectify_by": "2026-03-01"},
        "rectify_by",
        "“整改期限”应当晚于“部署日期”",
    ),
    (
        "enforce_by_fire_rescue",
        {"decided_on": "2026-03-21", "rectify_by": "2026-05-31"},
        "decided_on",
        "“决定日期”不能晚于今天",
    ),
    (
        "enforce_by_fire_rescue",
        {"rectify_by": "2026-03-19"},
        "rectify_by",
        "“整改期限”应当晚于“决定日期”",
    ),
    (
        "report_rectification_progress",
        {"reported_on": "2026-03-21"},
        "reported_on",
        "“报送日期”不能晚于今天",
    ),
    (
        "rectification_overdue_measures",
        {"taken_on": "2026-03-21"},
        "taken_on",
        "“采取措施日期”不能晚于今天",
    ),
    (
        "reinspection",
        {"reinspected_on": "2026-03-21", "new_rectify_by": "2026-04-30"},
        "reinspected_on",
        "“复查日期”不能晚于今天",
    ),
    (
        "reinspection",
        {"new_rectify_by": "2026-03-20"},
        "new_rectify_by",
        "“新的整改期限”应当晚于“复查日期”",
    ),
    ("close_case", {"closed_on": "2026-03-21"}, "closed_on", "“销案日期”不能晚于今天"),
    (
        "order_correction",
        {"issued_on": "2026-03-21", "correct_by": "2026-04-01"},
        "issued_on",
        "“送达日期”不能晚于今天",
    ),
    (
        "order_correction",
        {"correct_by": "2026-03-06"},
        "correct_by",
        "“改正期限”应当晚于“送达日期”",
    ),
    (
        "ordinary_reinspection",
        {"reinspected_on": "2026-03-21"},
        "reinspected_on",
        "“复查日期”不能晚于今天",
    ),
]


def _fire_date_rule_cases() -> list[tuple[str, dict[str, Any], str, str]]:
    """One case per date rule of the generated examples (dated 3-02 and 3-12)."""
    cases = []
    generated = FIRE_TASKS | major_hazard.SEALING_AND_ORDINARY_TASKS | {"temporary_sealing"}
    for task_id in sorted(generated):
        for rule in load_form(task_id).get("x-rules", []):
            if rule["other"] == "$today":
                day = "2026-03-21"
            elif rule["rule"] == "date_not_after":  # later than another date of the form
                day = "2026-03-13"
            else:
                day = "2026-03-01"
            cases.append((task_id, {rule["field"]: day}, rule["field"], rule["message"]))
    return cases


DATE_RULE_CASES += _fire_date_rule_cases()
DATE_RULE_CASES += [
    (task, {field: "2026-03-21"}, field, message)
    for task, field, message in [
        (f"{step}_{kind}_report", field, message)
        for kind in ("monthly", "annual")
        for step, field, message in (
            ("submit", "filled_on", "“填报日期”不能晚于今天"),
            ("review", "reviewed_on", "“审核日期”不能晚于今天"),
        )
    ]
]


@pytest.mark.parametrize(("task_id", "changes", "field", "message"), DATE_RULE_CASES)
def test_date_rule_triggers(
    task_id: str, changes: dict[str, Any], field: str, message: str
) -> None:
    errors = check(task_id, example(task_id, **changes))
    assert errors[field] == message
    # a decision dated tomorrow makes its service date "tomorrow" too: nothing else may fail
    assert all("今天" in m or m == message for m in errors.values())


def test_every_x_rule_is_exercised() -> None:
    covered = {(task, field, message) for task, _, field, message in DATE_RULE_CASES}
    covered.add(("expert_review", "agreeing", "“认为构成重大火灾隐患的专家人数”不能多于专家人数"))
    covered.add(("expert_review", "conclusion", MAJORITY_MESSAGE))
    covered.add(("expert_review", "experts", "专家论证的专家组不得少于{min}人"))
    covered.add(("collective_deliberation", "participants", "集体讨论的参加人员不得少于{min}人"))
    covered.add(
        (
            "collective_deliberation",
            "outcome",
            NOT_MAJOR_AFTER_REVIEW,
        )
    )
    covered.add(
        (
            "collective_deliberation",
            "exclusion_c_review",
            CLAIMED_C,
        )
    )
    covered.add(
        (
            "register_hazard",
            "elements",
            EDITION_RULE,
        )
    )
    for task_id in sorted(PROCESS_TASKS):
        for rule in load_form(task_id).get("x-rules", []):
            assert (task_id, rule["field"], rule["message"]) in covered, (task_id, rule)


def test_date_rules_allow_the_boundary() -> None:
    assert check("register_hazard", example("register_hazard", found_on="2026-03-20")) == {}
    same_day = example("temporary_sealing", decided_on="2026-03-12", served_on="2026-03-12")
    assert check("temporary_sealing", same_day) == {}
    same_day = example("temporary_sealing", notified_on="2026-03-12", sealed_on="2026-03-12")
    assert check("temporary_sealing", same_day) == {}
    next_day = example("set_rectification_plan", decided_on="2026-03-19", rectify_by="2026-03-20")
    assert check("set_rectification_plan", next_day) == {}


def test_today_is_the_callers() -> None:
    data = example("register_hazard", found_on="2026-03-21")
    assert validate_form("register_hazard", data, today=date(2026, 3, 21)) == {}
    assert validate_form("register_hazard", data, today=date(2026, 3, 20)) != {}


def test_rules_skip_fields_that_already_have_errors() -> None:
    errors = check(
        "set_rectification_plan",
        example("set_rectification_plan", decided_on="2026-02-30", rectify_by="x"),
    )
    assert errors == {
        "decided_on": "“部署日期”不是有效日期",
        "rectify_by": "“整改期限”不是有效日期",
    }
    errors = check(
        "expert_review", example("expert_review", experts=experts(6), agreeing=9), context=CASE_2017
    )
    assert errors == {
        "agreeing": "“认为构成重大火灾隐患的专家人数”不能多于专家人数",
        "experts": "专家论证的专家组不得少于7人",
    }


def test_forms_are_json_round_trippable() -> None:
    for task_id in sorted(PROCESS_TASKS):
        schema = resolve_form(task_id, OPTIONS)
        assert json.loads(json.dumps(schema, ensure_ascii=False)) == schema
