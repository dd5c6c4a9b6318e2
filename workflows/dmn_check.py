"""Checks that a DMN file can be read by the world's tools, not only by SpiffWorkflow.

Our decision tables are written in Python (SpiffWorkflow evaluates every cell with its Python
script engine). A DMN file that does not say so is read as FEEL by dmn-js, Camunda and other
engines, which then get every answer wrong; and a file without DMNDI shows no decision diagram
in dmn-js. So every ``*.dmn`` file in ``bpmn/`` must

* declare ``expressionLanguage="python"`` on its ``<definitions>`` element, and
* hold a ``dmndi:DMNDI`` block with a ``DMNDiagram`` that has a ``DMNShape`` (with
  ``dc:Bounds``) for every decision of the file.

SpiffWorkflow 3.2 itself ignores both (its DMN 1.3 schema admits them). ``python -m workflows
check`` runs :func:`check_directory` and fails naming the file.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

DMN_NS = "https://www.omg.org/spec/DMN/20191111/MODEL/"
DMNDI_NS = "https://www.omg.org/spec/DMN/20191111/DMNDI/"
DC_NS = "http://www.omg.org/spec/DMN/20180521/DC/"
EXPRESSION_LANGUAGE = "python"


def check_dmn(name: str, text: str | bytes) -> list[str]:
    """The convention problems of one DMN file (empty when it is fine), each naming the file.

    :param name: the file name, used in the messages.
    :param text: the file's XML.
    """
    try:
        root = etree.fromstring(text.encode("utf-8") if isinstance(text, str) else text)
    except etree.XMLSyntaxError as exc:
        return [f"{name}: not well-formed XML: {exc}"]
    if root.tag != f"{{{DMN_NS}}}definitions":
        return [f"{name}: the root element is not a DMN 1.3 <definitions>"]
    problems: list[str] = []
    language = root.get("expressionLanguage")
    if language != EXPRESSION_LANGUAGE:
        found = "none" if language is None else repr(language)
        problems.append(
            f'{name}: <definitions> must declare expressionLanguage="{EXPRESSION_LANGUAGE}" '
            f"(the expressions are Python, not FEEL); found {found}"
        )
    decisions = [d.get("id") for d in root.findall(f"{{{DMN_NS}}}decision")]
    diagrams = root.findall(f"{{{DMNDI_NS}}}DMNDI/{{{DMNDI_NS}}}DMNDiagram")
    if not diagrams:
        problems.append(f"{name}: no DMNDI (a dmndi:DMNDI block with a DMNDiagram)")
        return problems
    shaped = {
        shape.get("dmnElementRef")
        for diagram in diagrams
        for shape in diagram.findall(f"{{{DMNDI_NS}}}DMNShape")
        if shape.find(f"{{{DC_NS}}}Bounds") is not None
    }
    for decision in decisions:
        if decision not in shaped:
            problems.append(f"{name}: DMNDI has no DMNShape with dc:Bounds for decision {decision}")
    return problems


def check_directory(directory: Path) -> list[str]:
    """The convention problems of every ``*.dmn`` file in ``directory``."""
    problems: list[str] = []
    for path in sorted(directory.glob("*.dmn")):
        problems.extend(check_dmn(path.name, path.read_bytes()))
    return problems
