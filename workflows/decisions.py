"""Run one DMN decision table outside a process, through SpiffWorkflow's own DMN engine.

The processes run their decision tables as business rule tasks; the CLI, the registration
forms' previews and the tests run the very same tables through :func:`evaluate`, so the rules
live in the DMN files only and the two can never disagree.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
from SpiffWorkflow.dmn.parser.BpmnDmnParser import BpmnDmnParser


class _StandaloneSpec:
    """Stand-in for a workflow spec / task spec: Spiff's error reporting reads these names."""

    def __init__(self, name: str, file: str) -> None:
        self.name = name
        self.bpmn_name = name
        self.file = file


class _StandaloneWorkflow:
    """Stand-in for a BpmnWorkflow: the DMN engine needs only ``script_engine``."""

    def __init__(self, script_engine: PythonScriptEngine, file: str) -> None:
        self.script_engine = script_engine
        self.spec = _StandaloneSpec(Path(file).stem, file)
        self.top_workflow = self
        self.parent_workflow = None


class _DecisionTask:
    """Minimal task-like object for ``DMNEngine.result``: ``.data`` and ``.workflow``."""

    def __init__(self, data: dict[str, Any], workflow: _StandaloneWorkflow, name: str) -> None:
        self.data = data
        self.workflow = workflow
        self.task_spec = _StandaloneSpec(name, workflow.spec.file)


@cache
def decision_engine(path: Path, decision_id: str) -> DMNEngine:
    """Parse (once, schema-validated) the DMN file and return the engine of one decision.

    :raises ValueError: when the file does not exist.
    """
    if not path.is_file():
        raise ValueError(f"no decision table file {path.name}")
    # A truthy validator makes BpmnDmnParser validate the DMN against Spiff's DMN 1.3 XSD.
    parser = BpmnDmnParser(validator=BpmnValidator())
    parser.add_dmn_file(str(path))
    return parser.get_engine(decision_id, None)


def evaluate(
    path: Path,
    decision_id: str,
    data: dict[str, Any],
    script_engine: PythonScriptEngine,
    label: str | None = None,
) -> dict[str, Any]:
    """Run decision ``decision_id`` of the DMN file at ``path`` on task ``data``.

    Returns the outputs of the first matching rule (or of every matching rule, for COLLECT)
    as a dict; expression errors raise SpiffWorkflow's WorkflowTaskException.
    """
    workflow = _StandaloneWorkflow(script_engine, str(path))
    task = _DecisionTask(data, workflow, label or decision_id)
    return dict(decision_engine(path, decision_id).result(task))
