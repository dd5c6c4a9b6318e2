"""GB 35181-2017 judgement: catalogue data, script helpers, the DMN table and the CLI parsing."""

from __future__ import annotations

import json
import os
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from workflows import gb35181
from workflows.gb35181 import (
    count_elements,
    has_any,
    judge,
    list_elements,
    load_catalogue,
    parse_cli_args,
)
from workflows.script_env import SAFE_BUILTINS, DubanScriptEngine

EDITION = "GB 35181-2017"
IN_FORCE = date(2025, 10, 31)  # the last day GB 35181-2017 was in force
BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"
DMN_FILE = BPMN_DIR / "gb35181_2017.dmn"
CATALOGUE_FILE = BPMN_DIR / "gb35181_2017_elements.json"

# Every element DOMAIN.md §3 lists, in the standard's order.
DOMAIN_CH6 = [f"6.{i}" for i in range(1, 11)]
DOMAIN_CH7 = (
    [f"7.1.{i}" for i in range(1, 5)]
    + [f"7.2.{i}" for i in range(1, 4)]
    + [f"7.3.{i}" for i in range(1, 13)]
    + [f"7.4.{i}" for i in range(1, 7)]
    + ["7.5"]
    + [f"7.6.{i}" for i in range(1, 4)]
    + [f"7.7.{i}" for i in range(1, 4)]
    + [f"7.8.{i}" for i in range(1, 3)]
    + [f"7.9.{i}" for i in range(1, 6)]
)
CROWDED_A = [f"7.3.{i}" for i in range(1, 10)] + ["7.5", "7.9.3"]
FLAMMABLE_B = ["7.1.1", "7.1.2", "7.1.3", "7.4.5", "7.4.6"]
VERIFIED = (
    set(DOMAIN_CH6)
    | {e for e in DOMAIN_CH7 if e.startswith(("7.1.", "7.2."))}
    | {f"7.3.{i}" for i in range(1, 8)}
    | {"7.5", "7.7.2"}
)

# Chapter 7 elements outside group a) and group b), for padding counts.
OUTSIDE_A_AND_B = ["7.4.1", "7.4.2", "7.6.1", "7.6.2", "7.7.2", "7.8.1", "7.9.1"]


# --------------------------------------------------------------------------- catalogue


def test_catalogue_file_shape() -> None:
    raw = json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))
    assert raw["edition"] == EDITION
    for element in raw["elements"]:
        assert set(element) >= {"id", "chapter", "text", "groups", "verified"}
        assert isinstance(element["verified"], bool)
    assert [x["id"] for x in raw["exclusions"]] == ["a", "b", "c"]
    assert raw["site_categories"] == [
        {"id": "crowded", "name": "人员密集场所"},
        {"id": "flammable", "name": "易燃易爆危险品场所"},
        {"id": "important", "name": "重要场所"},
        {"id": "other", "name": "其他场所"},
    ]
    assert set(raw["groups"]) == {"direct", "chapter7", "crowded_a", "flammable_b"}


def test_catalogue_ids_unique_and_exactly_the_domain_elements_in_order() -> None:
    catalogue = load_catalogue()
    ids = catalogue.element_ids
    assert len(ids) == len(set(ids))
    assert list(ids) == DOMAIN_CH6 + DOMAIN_CH7


def test_catalogue_chapters_texts_and_verification() -> None:
    catalogue = load_catalogue()
    for element in catalogue.elements:
        assert element.chapter == int(element.id.split(".")[0])
        assert re.search(r"[\u4e00-\u9fff]", element.text), element.id
        assert element.verified == (element.id in VERIFIED), element.id
    assert all(re.search(r"[\u4e00-\u9fff]", x.text) for x in catalogue.exclusions)


def test_catalogue_groups_reference_existing_ids_and_match_domain() -> None:
    catalogue = load_catalogue()
    ids = set(catalogue.element_ids)
    for element in catalogue.elements:
        assert set(element.groups) <= set(catalogue.groups), element.id
    for group in catalogue.groups:
        assert catalogue.group_members(group) <= ids
    assert catalogue.group_members("direct") == set(DOMAIN_CH6)
    assert catalogue.group_members("chapter7") == set(DOMAIN_CH7)
    assert catalogue.group_members("crowded_a") == set(CROWDED_A)
    assert catalogue.group_members("flammable_b") == set(FLAMMABLE_B)


def test_catalogue_is_cached_and_edition_checked() -> None:
    assert load_catalogue() is load_catalogue(EDITION)
    with pytest.raises(ValueError, match="GB 35181-2025"):
        load_catalogue("GB 35181-2025")
    with pytest.raises(ValueError, match="edition"):
        load_catalogue("GB 50016-2014")


def test_catalogue_lives_next_to_the_package() -> None:
    assert gb35181.BPMN_DIR == BPMN_DIR
    assert gb35181.dmn_path() == DMN_FILE
    assert gb35181.catalogue_path() == CATALOGUE_FILE
    assert gb35181.decision_id() == "gb35181_2017"


# --------------------------------------------------------------------------- helpers


def test_count_elements_ignores_unknown_ids_and_duplicates() -> None:
    assert count_elements(["7.3.1", "7.3.1", "9.9", "7.4.1"], "crowded_a") == 1
    assert count_elements(["6.5", "6.10", "7.3.1"], "direct") == 2
    assert count_elements(["6.5", "7.3.1", "7.4.1"], "chapter7") == 2
    assert count_elements([], "chapter7") == 0
    assert count_elements(None, "chapter7") == 0


def test_count_elements_unknown_group_is_an_error() -> None:
    with pytest.raises(ValueError, match="crowded_x"):
        count_elements(["7.3.1"], "crowded_x")


def test_list_elements_sorts_in_standard_order() -> None:
    assert list_elements(["7.5", "7.3.6", "7.3.1", "7.4.1"], "crowded_a") == "7.3.1、7.3.6、7.5"
    assert list_elements(["7.3.10", "7.5", "7.3.9", "7.3.9"], "chapter7") == "7.3.9、7.3.10、7.5"
    assert list_elements(["6.10", "6.2", "x"], "direct") == "6.2、6.10"
    assert list_elements(["7.4.1"], "crowded_a") == ""


def test_has_any() -> None:
    assert has_any(["other", "important"], "crowded", "important")
    assert not has_any(["other"], "crowded", "flammable", "important")
    assert not has_any(None, "crowded")
    assert not has_any(["crowded"])


# --------------------------------------------------------------------------- judge


def _basis(categories: Any, elements: list[str], **kwargs: Any) -> tuple[bool, str]:
    result = judge(categories, elements, on=IN_FORCE, **kwargs)
    assert result["edition"] == EDITION
    return result["major"], result["basis"]


def test_result_shape() -> None:
    assert judge(["crowded"], ["6.5", "7.3.1"], on=IN_FORCE) == {
        "major": True,
        "basis": "直接判定 6.5",
        "edition": EDITION,
        "applicable_edition": EDITION,
        "superseded": False,
    }


def test_rule_a_boundary_2_vs_3() -> None:
    assert _basis(["crowded"], ["7.3.1", "7.5"]) == (False, "未达到判定条件")
    assert _basis(["crowded"], ["7.5", "7.3.1", "7.9.3"]) == (
        True,
        "综合判定 a): 7.3.1、7.5、7.9.3",
    )


def test_rule_a_counts_only_group_a() -> None:
    # 7.4.1 is a chapter 7 element but not in group a): 2 + 1 is not enough for a).
    assert _basis(["crowded"], ["7.3.1", "7.3.6", "7.4.1"]) == (False, "未达到判定条件")
    # ... but with a fourth chapter 7 element rule c) applies and lists all four.
    assert _basis(["crowded"], ["7.3.1", "7.3.6", "7.4.1", "7.8.1"]) == (
        True,
        "综合判定 c): 7.3.1、7.3.6、7.4.1、7.8.1",
    )


def test_rule_a_needs_a_crowded_place() -> None:
    assert _basis(["other"], ["7.3.1", "7.3.6", "7.5"]) == (False, "未达到判定条件")
    assert _basis(["important"], ["7.3.1", "7.3.6", "7.5"]) == (False, "未达到判定条件")


def test_rule_a_basis_lists_only_group_a_elements() -> None:
    assert _basis(["crowded"], ["7.4.1", "7.3.10", "7.3.9", "7.3.2", "7.3.1"]) == (
        True,
        "综合判定 a): 7.3.1、7.3.2、7.3.9",
    )


def test_rule_b_boundary_2_vs_3() -> None:
    assert _basis(["flammable"], ["7.1.1", "7.4.6"]) == (False, "未达到判定条件")
    assert _basis(["flammable"], ["7.4.6", "7.1.1", "7.4.5"]) == (
        True,
        "综合判定 b): 7.1.1、7.4.5、7.4.6",
    )


def test_rule_b_counts_only_group_b() -> None:
    # 7.3.1 and 7.1.4 are chapter 7 elements outside group b).
    assert _basis(["flammable"], ["7.1.1", "7.1.2", "7.3.1"]) == (False, "未达到判定条件")
    assert _basis(["flammable"], ["7.1.1", "7.1.2", "7.1.4"]) == (False, "未达到判定条件")


def test_rule_b_needs_a_flammable_site() -> None:
    assert _basis(["crowded"], ["7.1.1", "7.1.2", "7.1.3"]) == (False, "未达到判定条件")


@pytest.mark.parametrize("category", ["crowded", "flammable", "important"])
def test_rule_c_boundary_3_vs_4(category: str) -> None:
    three, four = OUTSIDE_A_AND_B[:3], OUTSIDE_A_AND_B[:4]
    assert _basis([category], three) == (False, "未达到判定条件")
    assert _basis([category], four) == (True, "综合判定 c): 7.4.1、7.4.2、7.6.1、7.6.2")


def test_rule_c_does_not_apply_to_other_sites() -> None:
    assert _basis(["other"], OUTSIDE_A_AND_B[:4]) == (False, "未达到判定条件")


def test_rule_d_boundary_5_vs_6() -> None:
    assert _basis(["other"], OUTSIDE_A_AND_B[:5]) == (False, "未达到判定条件")
    assert _basis(["other"], OUTSIDE_A_AND_B[:6]) == (
        True,
        "综合判定 d): 7.4.1、7.4.2、7.6.1、7.6.2、7.7.2、7.8.1",
    )


def test_rule_d_applies_without_category() -> None:
    assert _basis([], OUTSIDE_A_AND_B[:6])[0] is True
    assert _basis([], OUTSIDE_A_AND_B[:5])[0] is False


def test_chapter6_elements_do_not_count_for_comprehensive_judgement() -> None:
    # Only chapter 7 counts for c) and d): 6.x are direct elements.
    assert count_elements(DOMAIN_CH6, "chapter7") == 0


def test_multiple_categories_any_matching_rule_wins() -> None:
    # other alone needs 6; adding important makes 4 enough (rule c).
    assert _basis(["other", "important"], OUTSIDE_A_AND_B[:4])[1].startswith("综合判定 c)")
    # crowded + flammable: group b) reaches 3 while group a) has none.
    assert _basis(["crowded", "flammable"], FLAMMABLE_B[:3]) == (
        True,
        "综合判定 b): 7.1.1、7.1.2、7.1.3",
    )
    # crowded + flammable: group a) reaches 3 while group b) has none.
    assert _basis(["flammable", "crowded"], ["7.3.1", "7.3.2", "7.3.3"]) == (
        True,
        "综合判定 a): 7.3.1、7.3.2、7.3.3",
    )
    # both a) and b) match: the first rule of the table (a) names the basis.
    both = ["7.3.1", "7.3.2", "7.3.3", "7.1.1", "7.1.2", "7.1.3"]
    assert _basis(["flammable", "crowded"], both) == (True, "综合判定 a): 7.3.1、7.3.2、7.3.3")


@pytest.mark.parametrize("exclusion", ["a", "b", "c"])
def test_each_exclusion_is_not_major(exclusion: str) -> None:
    assert _basis(["crowded"], ["6.5", "7.3.1"], exclusions=[exclusion]) == (
        False,
        f"排除情形 5.1.3 {exclusion})",
    )


def test_several_exclusions_are_named_sorted() -> None:
    assert _basis(["crowded"], ["6.5"], exclusions=["c", "a", "c"]) == (
        False,
        "排除情形 5.1.3 a)、c)",
    )


def test_exclusion_applies_even_without_elements() -> None:
    assert _basis(["other"], [], exclusions=["b"]) == (False, "排除情形 5.1.3 b)")


def test_can_correct_immediately_comes_first() -> None:
    basis = "可立即改正，不判定为重大火灾隐患"
    assert _basis(["crowded"], ["6.5"], can_correct_immediately=True) == (False, basis)
    assert _basis(["crowded"], ["6.5"], exclusions=["a"], can_correct_immediately=True) == (
        False,
        basis,
    )
    assert _basis(["crowded"], ["6.5"], can_correct_immediately=False) == (True, "直接判定 6.5")


def test_direct_judgement_lists_elements_sorted() -> None:
    assert _basis(["other"], ["6.10", "7.3.1", "6.2", "6.5"]) == (True, "直接判定 6.2、6.5、6.10")


@pytest.mark.parametrize("element", DOMAIN_CH6)
def test_every_direct_element_alone_is_major(element: str) -> None:
    assert _basis(["other"], [element]) == (True, f"直接判定 {element}")


def test_direct_judgement_precedes_comprehensive() -> None:
    assert _basis(["crowded"], ["7.3.1", "7.3.2", "7.3.3", "6.8"]) == (True, "直接判定 6.8")


def test_no_elements_is_not_major() -> None:
    assert _basis(["crowded", "flammable", "important"], []) == (False, "未达到判定条件")


def test_unknown_element_ids_are_ignored() -> None:
    assert _basis(["crowded"], ["7.3.1", "7.3.2", "7.3.99"]) == (False, "未达到判定条件")


def test_judge_accepts_a_single_category_string() -> None:
    assert _basis("crowded", ["7.3.1", "7.3.2", "7.3.3"])[0] is True


def test_judge_unknown_edition() -> None:
    with pytest.raises(ValueError, match="edition"):
        judge(["crowded"], ["6.5"], edition="GB 35181-1999")


# --------------------------------------------------------------------------- DMN file


def test_dmn_parses_with_spiff_bpmn_parser_and_validates() -> None:
    parser = SpiffBpmnParser(validator=VALIDATOR)  # validates against Spiff's DMN 1.3 XSD
    parser.add_dmn_file(str(DMN_FILE))
    assert "gb35181_2017" in parser.dmn_parsers
    assert "重大火灾隐患判定 GB 35181-2017" in parser.dmn_parsers_by_name
    table = parser.get_engine("gb35181_2017", None).decision_table
    assert table.hit_policy in {"FIRST", "UNIQUE"}
    assert [o.name for o in table.outputs] == [
        "judgement_major",
        "judgement_basis",
        "judgement_edition",
    ]
    assert len(table.rules) == 8
    last = table.rules[-1]  # the catch-all rule
    assert all(entry.lhs == [None] for entry in last.inputEntries)


def test_dmn_has_a_decision_shape() -> None:
    root = etree.parse(str(DMN_FILE)).getroot()
    ns = {
        "dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/",
        "dmndi": "https://www.omg.org/spec/DMN/20191111/DMNDI/",
        "dc": "http://www.omg.org/spec/DMN/20180521/DC/",
    }
    decision = root.find("dmn:decision", ns)
    assert decision is not None and decision.get("id") == "gb35181_2017"
    shapes = root.findall(".//dmndi:DMNShape", ns)
    assert [s.get("dmnElementRef") for s in shapes] == ["gb35181_2017"]
    assert shapes[0].find("dc:Bounds", ns) is not None


def test_dmn_uses_only_whitelisted_names() -> None:
    """Input and output expressions may only use the task data and the script_env helpers."""
    root = etree.parse(str(DMN_FILE)).getroot()
    allowed = set(SAFE_BUILTINS) | {"count_elements", "list_elements", "has_any"}
    allowed |= {"register_hazard", "get", "join", "e", "for", "in", "if", "else", "or", "and"}
    allowed |= {"not", "True", "False", "None"}
    for text in root.iter("{https://www.omg.org/spec/DMN/20191111/MODEL/}text"):
        code = re.sub(r'"[^"]*"', '""', text.text or "")
        names = set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", code))
        assert names <= allowed, (text.text, names - allowed)


def test_dmn_expressions_pass_the_script_env_checker() -> None:
    """The process evaluates the table in workflows/script_env.py's restricted environment."""
    script_env = pytest.importorskip("workflows.script_env")
    check_source = getattr(script_env, "check_source", None)
    if check_source is None:
        pytest.skip("workflows.script_env has no check_source")
    parser = SpiffBpmnParser()
    parser.add_dmn_file(str(DMN_FILE))
    table = parser.get_engine("gb35181_2017", None).decision_table
    for column in table.inputs:
        check_source(column.expression, "eval")
    for rule in table.rules:
        for entry in rule.inputEntries:
            for lhs in entry.lhs:
                if lhs is not None:
                    # Spiff evaluates "(input) == (cell)" or, for "> 0" cells, "input > 0".
                    check_source(
                        f"(v) == ({lhs})" if lhs.strip()[0] not in "<>=!" else f"v {lhs}", "eval"
                    )
        for entry in rule.outputEntries:
            check_source(entry.text, "eval")


BPMN_WITH_RULE_TASK = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="defs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="judge_only" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:businessRuleTask id="preliminary_judgement" name="初步判定">
      <bpmn:extensionElements>
        <spiffworkflow:calledDecisionId>gb35181_2017</spiffworkflow:calledDecisionId>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="preliminary_judgement"/>
    <bpmn:sequenceFlow id="f2" sourceRef="preliminary_judgement" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.mark.parametrize(
    ("categories", "elements", "exclusions", "can_correct"),
    [
        (["crowded"], ["7.3.1", "7.3.6", "7.5"], [], False),
        (["other"], OUTSIDE_A_AND_B[:6], [], False),
        (["crowded"], ["6.5", "6.2"], [], False),
        (["crowded"], ["6.5"], ["b"], False),
        (["crowded"], ["6.5"], [], True),
        (["important"], ["7.3.1"], [], False),
    ],
)
def test_business_rule_task_in_a_process_agrees_with_judge(
    categories: list[str], elements: list[str], exclusions: list[str], can_correct: bool
) -> None:
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(BPMN_WITH_RULE_TASK.encode("utf-8"))
    parser.add_dmn_file(str(DMN_FILE))
    spec = parser.get_spec("judge_only")
    workflow = BpmnWorkflow(spec, script_engine=DubanScriptEngine())
    register_hazard = {
        "unit_name": "某商场",
        "site_categories": categories,
        "elements": elements,
        "exclusions": exclusions,
        "can_correct_immediately": can_correct,
    }
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data["register_hazard"] = register_hazard
    workflow.do_engine_steps()
    assert workflow.completed
    data = workflow.data
    expected = judge(
        categories, elements, exclusions, can_correct_immediately=can_correct, on=IN_FORCE
    )
    assert {
        "major": data["judgement_major"],
        "basis": data["judgement_basis"],
        "edition": data["judgement_edition"],
    } == {k: expected[k] for k in ("major", "basis", "edition")}


# --------------------------------------------------------------------------- CLI parsing


def test_parse_cli_args_valid() -> None:
    assert parse_cli_args("crowded", "6.5,7.3.1", None) == (("crowded",), ("6.5", "7.3.1"), ())
    assert parse_cli_args("important, crowded", "7.3.10,7.3.9,7.3.9", "c,a") == (
        ("crowded", "important"),
        ("7.3.9", "7.3.10"),
        ("a", "c"),
    )
    assert parse_cli_args("other", "", "") == (("other",), (), ())
    assert parse_cli_args("crowded", "6.5，7.3.1", "b") == (("crowded",), ("6.5", "7.3.1"), ("b",))


@pytest.mark.parametrize(
    ("category", "elements", "exclusion", "bad"),
    [
        ("crowed", "6.5", None, "crowed"),
        ("crowded,hotel", "6.5", None, "hotel"),
        ("crowded", "6.5,7.3.13", None, "7.3.13"),
        ("crowded", "6.11", None, "6.11"),
        ("crowded", "7.1", None, "7.1"),
        ("crowded", "6.5", "d", "d"),
        ("crowded", "6.5", "a,B", "B"),
    ],
)
def test_parse_cli_args_names_the_bad_value(
    category: str, elements: str, exclusion: str | None, bad: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(bad))):
        parse_cli_args(category, elements, exclusion)


def test_parse_cli_args_requires_a_category() -> None:
    with pytest.raises(ValueError, match="category"):
        parse_cli_args(" ", "6.5", None)


def test_main_prints_the_judgement(capsys: pytest.CaptureFixture[str]) -> None:
    on = ["--on", IN_FORCE.isoformat()]
    assert gb35181.main(["--category", "crowded", "--elements", "6.5,7.3.1", *on]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "major": True,
        "basis": "直接判定 6.5",
        "edition": EDITION,
        "applicable_edition": EDITION,
        "superseded": False,
    }
    gb35181.main(["--category", "crowded", "--elements", "6.5", "--exclusion", "b", *on])
    assert json.loads(capsys.readouterr().out)["basis"] == "排除情形 5.1.3 b)"


def test_main_rejects_bad_values(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        gb35181.main(["--category", "crowded", "--elements", "7.3.13"])
    assert exc.value.code == 2
    assert "7.3.13" in capsys.readouterr().err


# --------------------------------------------------------------------------- editions as data

FIXTURE_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "gb35181"


@pytest.fixture
def fixture_edition(monkeypatch: pytest.MonkeyPatch) -> None:
    """Install the test-only edition GB 35181-2099 next to bpmn/ (two files, no code)."""
    monkeypatch.setenv(gb35181.PATH_ENV, f"{BPMN_DIR}{os.pathsep}{FIXTURE_DIR}")


def test_the_2017_catalogue_declares_its_validity_and_successor() -> None:
    catalogue = load_catalogue()
    assert catalogue.valid_to == date(2025, 10, 31)
    assert catalogue.superseded_by == "GB 35181-2025"
    assert catalogue.element_exclusions == ()
    assert [x.id for x in catalogue.exclusions if x.fire_agency_confirms] == ["c"]


@pytest.mark.parametrize(
    ("on", "edition", "applicable", "superseded"),
    [
        (date(2024, 5, 1), "GB 35181-2017", "GB 35181-2017", False),
        (date(2025, 10, 31), "GB 35181-2017", "GB 35181-2017", False),
        (date(2025, 11, 1), "GB 35181-2017", "GB 35181-2025", True),
        (date(2026, 12, 7), "GB 35181-2017", "GB 35181-2025", True),
    ],
)
def test_edition_by_date_without_the_2025_text(
    on: date, edition: str, applicable: str, superseded: bool
) -> None:
    result = judge(["crowded"], ["6.5"], on=on)
    assert (result["edition"], result["applicable_edition"], result["superseded"]) == (
        edition,
        applicable,
        superseded,
    )
    assert result["major"] is True
    aid = "按已被代替的 GB 35181-2017 要素初判，仅供参考"
    assert result["basis"].startswith(aid) == superseded


def test_a_fixture_edition_is_chosen_by_date_and_named(fixture_edition: None) -> None:
    assert [c.edition for c in gb35181.installed_editions()] == ["GB 35181-2017", "GB 35181-2099"]
    before = judge(["other"], ["7.4.1"], on=date(2098, 12, 31))
    assert (before["edition"], before["applicable_edition"], before["superseded"]) == (
        "GB 35181-2017", "GB 35181-2025", True,
    )  # fmt: skip
    after = judge(["other"], ["2099:6.1", "2099:6.2"], on=date(2099, 1, 1))
    assert after == {
        "major": True,
        "basis": "综合判定 6.1、6.2",
        "edition": "GB 35181-2099",
        "applicable_edition": "GB 35181-2099",
        "superseded": False,
    }


def test_a_fixture_edition_removes_excluded_elements_before_counting(
    fixture_edition: None,
) -> None:
    pair = [{"element": "2099:6.2", "exclusion": "2099:x"}]
    result = judge(
        ["other"], ["2099:6.1", "2099:6.2"], on=date(2099, 1, 1), element_exclusions=pair
    )
    assert result["major"] is False
    assert result["basis"] == "未达到判定条件；不作为判定要素：6.2（x）"
    kept = judge(
        ["other"],
        ["2099:6.1", "2099:6.2", "2099:6.3"],
        on=date(2099, 1, 1),
        element_exclusions=pair,
    )
    assert kept["major"] is True
    assert kept["basis"].startswith("综合判定 6.1、6.3")
    # GB 35181-2017 declares no element exclusions: the pair is refused at registration.
    errors = gb35181.registration_errors(
        {"found_on": "2025-01-01", "elements": ["6.5"], "element_exclusions": pair}
    )
    assert "element_exclusions" in errors


def test_registration_elements_must_belong_to_the_edition_of_the_date(
    fixture_edition: None,
) -> None:
    assert gb35181.registration_errors({"found_on": "2099-02-01", "elements": ["2099:5.1"]}) == {}
    errors = gb35181.registration_errors({"found_on": "2099-02-01", "elements": ["6.5"]})
    assert errors == {"elements": "发现日期适用 GB 35181-2099，以下判定要素不属于该版本：6.5"}
    errors = gb35181.registration_errors(
        {"found_on": "2026-02-01", "elements": ["2099:5.1"], "site_categories": ["important"]}
    )
    assert set(errors) == {"elements"}
    judged = gb35181.judge_registration(
        {"found_on": "2099-02-01", "site_categories": ["other"], "elements": [],
         "exclusions": ["2099:c"]}
    )  # fmt: skip
    assert judged["confirm_exclusions"] == ["2099:c"]
    assert judged["procedure"]["basis"].startswith("法定设置")


def test_element_ids_carry_their_edition() -> None:
    assert gb35181.qualified("6.5") == "GB 35181-2017 6.5"
    assert gb35181.qualified("2025:5.1") == "GB 35181-2025 5.1"
    assert gb35181.edition_of("2099:x") == "GB 35181-2099"


def test_an_edition_with_unprefixed_ids_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = json.loads((FIXTURE_DIR / "gb35181_2099_elements.json").read_text(encoding="utf-8"))
    raw["elements"][0]["id"] = "5.1"
    (tmp_path / "gb35181_2099_elements.json").write_text(json.dumps(raw), encoding="utf-8")
    (tmp_path / "gb35181_2099.dmn").write_bytes((FIXTURE_DIR / "gb35181_2099.dmn").read_bytes())
    monkeypatch.setenv(gb35181.PATH_ENV, f"{BPMN_DIR}{os.pathsep}{tmp_path}")
    with pytest.raises(ValueError, match="prefixed '2099:'"):
        gb35181.installed_editions()


def test_overlapping_editions_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = json.loads((FIXTURE_DIR / "gb35181_2099_elements.json").read_text(encoding="utf-8"))
    raw["valid_from"] = "2025-10-01"
    (tmp_path / "gb35181_2099_elements.json").write_text(json.dumps(raw), encoding="utf-8")
    (tmp_path / "gb35181_2099.dmn").write_bytes((FIXTURE_DIR / "gb35181_2099.dmn").read_bytes())
    monkeypatch.setenv(gb35181.PATH_ENV, f"{BPMN_DIR}{os.pathsep}{tmp_path}")
    with pytest.raises(ValueError, match="overlap"):
        gb35181.installed_editions()
