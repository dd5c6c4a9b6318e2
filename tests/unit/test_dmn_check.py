"""Every DMN file declares its expression language (Python) and carries DMNDI."""

from pathlib import Path

import pytest
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.dmn.parser.BpmnDmnParser import BpmnDmnParser

from workflows.catalog import BPMN_DIR
from workflows.dmn_check import check_directory, check_dmn

DMN_FILES = sorted(BPMN_DIR.glob("*.dmn"))

GOOD = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"
    xmlns:dmndi="https://www.omg.org/spec/DMN/20191111/DMNDI/"
    xmlns:dc="http://www.omg.org/spec/DMN/20180521/DC/"
    id="d" name="d" namespace="https://example.org/d" expressionLanguage="python">
  <decision id="one" name="one">
    <decisionTable id="one_table">
      <input id="i1">
        <inputExpression id="i1e" typeRef="integer"><text>x</text></inputExpression>
      </input>
      <output id="o1" name="y" typeRef="integer" />
      <rule id="r1">
        <inputEntry id="r1i1"><text>&gt;= 1</text></inputEntry>
        <outputEntry id="r1o1"><text>1</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
  <dmndi:DMNDI>
    <dmndi:DMNDiagram id="diagram">
      <dmndi:DMNShape id="shape" dmnElementRef="one">
        <dc:Bounds height="80" width="180" x="160" y="100" />
      </dmndi:DMNShape>
    </dmndi:DMNDiagram>
  </dmndi:DMNDI>
</definitions>
"""


@pytest.mark.parametrize("path", DMN_FILES, ids=lambda p: p.name)
def test_every_dmn_file_of_the_project_keeps_the_conventions(path: Path):
    assert check_dmn(path.name, path.read_bytes()) == []


def test_the_project_has_its_dmn_files():
    assert {p.name for p in DMN_FILES} >= {
        "fire_level.dmn",
        "fire_investigation_mode.dmn",
        "fire_investigating_level.dmn",
        "fire_warning_scope.dmn",
        "gb35181_2017.dmn",
    }
    assert check_directory(BPMN_DIR) == []


def test_a_good_file_passes():
    assert check_dmn("good.dmn", GOOD) == []


def test_a_missing_or_wrong_expression_language_is_named():
    (problem,) = check_dmn("x.dmn", GOOD.replace(' expressionLanguage="python"', ""))
    assert problem.startswith("x.dmn: ") and "found none" in problem
    (problem,) = check_dmn(
        "x.dmn", GOOD.replace('expressionLanguage="python"', 'expressionLanguage="FEEL"')
    )
    assert "'FEEL'" in problem


def test_missing_dmndi_and_missing_shapes_are_named():
    without = GOOD[: GOOD.index("  <dmndi:DMNDI>")] + "</definitions>\n"
    assert check_dmn("x.dmn", without) == [
        "x.dmn: no DMNDI (a dmndi:DMNDI block with a DMNDiagram)"
    ]
    other = GOOD.replace('dmnElementRef="one"', 'dmnElementRef="two"')
    assert check_dmn("x.dmn", other) == [
        "x.dmn: DMNDI has no DMNShape with dc:Bounds for decision one"
    ]
    no_bounds = GOOD.replace('<dc:Bounds height="80" width="180" x="160" y="100" />', "")
    assert len(check_dmn("x.dmn", no_bounds)) == 1


def test_broken_xml_and_other_roots_are_reported_not_raised():
    assert "not well-formed" in check_dmn("x.dmn", "<definitions")[0]
    assert "not a DMN 1.3" in check_dmn("x.dmn", "<other/>")[0]


@pytest.mark.parametrize("path", DMN_FILES, ids=lambda p: p.name)
def test_spiffworkflow_accepts_the_attribute_and_the_dmndi(path: Path):
    # Spiff 3.2 validates against its DMN 1.3 XSD (which admits both) and ignores them.
    parser = BpmnDmnParser(validator=BpmnValidator())
    parser.add_dmn_file(str(path))
    (dmn,) = parser.dmn_parsers.values()
    dmn.parse()
    assert dmn.decision.decisionTables[0].rules
