"""Which fields of a task's form decide the case's routing.

A correction (更正) of an issued document amends the issuing step's stored form data; it must
never change where the case went or when its timers fire: a routing error is not a document
correction. The fields that decide routing are those the process reads:

- BPMN expressions: sequence-flow conditions, timer dates/durations/cycles, script tasks;
- DMN decision tables (input expressions and rule entries);
- the case's shared facts (``workflows.timers.SHARED_FACTS``: a task published as a fact is
  read by timers, lanes and decisions as a whole).

An expression reads ``task["field"]`` or ``task.get("field", …)`` (that field); any other use
of the task's name (``x = task``, ``f(task)``) reads the whole form, and every field of it
decides routing. Pure Python, no Flask: the XML of a process version is passed in.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from workflows.bpmn_xml import parse
from workflows.timers import SHARED_FACTS

#: Local names (namespace stripped) of the XML elements whose text is an expression.
EXPRESSION_ELEMENTS = frozenset(
    {"conditionExpression", "timeDate", "timeDuration", "timeCycle", "script", "text"}
)
#: Stands for "every field of the form" in :class:`Reads`.
WHOLE = "*"


@dataclass(frozen=True)
class Reads:
    """The fields of each task's form that a process version reads: task → field names
    (:data:`WHOLE` when the form is read as a whole)."""

    fields: Mapping[str, frozenset[str]]

    def routing_fields(self, task: str) -> frozenset[str]:
        """The fields of ``task``'s form that decide routing (may hold :data:`WHOLE`)."""
        found = set(self.fields.get(task, frozenset()))
        if task in SHARED_FACTS:
            found.add(WHOLE)
        return frozenset(found)

    def decides_routing(self, task: str, name: str) -> bool:
        """Whether the field ``name`` of ``task``'s form is read by the process."""
        fields = self.routing_fields(task)
        return WHOLE in fields or name in fields


def _parse(text: str) -> ast.AST | None:
    """An expression, a script, or a DMN unary test (``>= 10``) as a syntax tree."""
    for source, mode in ((text, "eval"), (text, "exec"), (f"_ {text}", "eval")):
        try:
            return ast.parse(source.strip(), mode=mode)
        except SyntaxError:
            continue
    return None


def expression_reads(text: str) -> dict[str, set[str]]:
    """The names an expression reads, each with the keys it subscripts (``WHOLE`` when the
    name is used otherwise).

    >>> expression_reads('file_case["sealing"] == "none" and x.get("y") == 1 and f(z)')
    {'file_case': {'sealing'}, 'x': {'y'}, 'f': {'*'}, 'z': {'*'}}
    """
    tree = _parse(text)
    if tree is None:
        return {}
    keyed: set[int] = set()
    reads: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Name)
            and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, str)
        ):
            reads.setdefault(node.value.id, set()).add(node.slice.value)
            keyed.add(id(node.value))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and isinstance(node.func.value, ast.Name)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            reads.setdefault(node.func.value.id, set()).add(node.args[0].value)
            keyed.add(id(node.func.value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and id(node) not in keyed and node.id != "_":
            reads.setdefault(node.id, set()).add(WHOLE)
    return reads


def process_reads(files: Mapping[str, str]) -> Reads:
    """What the expressions of a process version's files (``ProcessVersion.files``: BPMN and
    DMN XML by name) read."""
    return _process_reads(tuple(sorted(files.items())))


@cache
def _process_reads(files: tuple[tuple[str, str], ...]) -> Reads:
    found: dict[str, set[str]] = {}
    for name, content in files:
        if not name.endswith((".bpmn", ".dmn")):
            continue
        root = parse(content)  # no entities resolved, no network
        for element in root.iter():
            if not isinstance(element.tag, str):  # comments, processing instructions
                continue
            tag = element.tag.rpartition("}")[2]
            if tag not in EXPRESSION_ELEMENTS or not (element.text or "").strip():
                continue
            for variable, keys in expression_reads(element.text or "").items():
                found.setdefault(variable, set()).update(keys)
    return Reads({task: frozenset(keys) for task, keys in found.items()})
