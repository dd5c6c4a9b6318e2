"""Workflow state without its spec: what is stored per case.

SpiffWorkflow's default serializer writes the whole process spec into every workflow. A case
only needs its task tree and data; the spec is stored once per process version (see
:mod:`workflows.catalog`) and handed back on load. The stored form is zlib-compressed JSON,
which keeps a case at its longest wait state well under 10 KB.
"""

from __future__ import annotations

import json
import zlib
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import VERSION, BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from workflows.catalog import ProcessVersion

FORMAT = "duban-state/1"


class StateError(Exception):
    """A stored state cannot be read (corrupt, or of an unknown format)."""


class SpeclessWorkflowConverter(BpmnWorkflowConverter):
    """Converts a top-level workflow without its process and subprocess specs."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        """Return the workflow as a dict, specs left out."""
        dct = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any], process: ProcessVersion | None = None) -> BpmnWorkflow:
        """Rebuild a workflow from ``dct`` on the specs of ``process``."""
        if process is None:
            raise StateError("a process version is needed to restore a workflow")
        workflow = self.target_class(process.spec, process.subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _registry():
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = SpeclessWorkflowConverter
    return BpmnWorkflowSerializer.configure(config)


class StateSerializer:
    """Turns workflows into compact bytes and back, given their process version."""

    def __init__(self) -> None:
        """Build the converter registry once; it is reused for every case."""
        self.serializer = BpmnWorkflowSerializer(registry=_registry())

    def dumps(self, workflow: BpmnWorkflow) -> bytes:
        """Serialize ``workflow`` (without spec) to compressed bytes."""
        dct = self.serializer.to_dict(workflow)
        dct[BpmnWorkflowSerializer.VERSION_KEY] = VERSION
        dct["format"] = FORMAT
        text = json.dumps(dct, ensure_ascii=False, separators=(",", ":"))
        return zlib.compress(text.encode("utf-8"), 6)

    def loads(self, state: bytes, process: ProcessVersion, script_engine) -> BpmnWorkflow:
        """Restore a workflow from bytes made by :meth:`dumps` on the specs of ``process``.

        :raises StateError: when the bytes are not a readable state.
        """
        try:
            dct = json.loads(zlib.decompress(state).decode("utf-8"))
        except (zlib.error, UnicodeDecodeError, json.JSONDecodeError, TypeError) as exc:
            raise StateError(f"unreadable workflow state: {exc}") from exc
        if not isinstance(dct, dict) or dct.pop("format", None) != FORMAT:
            raise StateError("workflow state of an unknown format")
        try:
            self.serializer.migrate(dct)
            workflow = self.serializer.from_dict(dct, process=process)
        except Exception as exc:  # a state that does not fit its spec must not crash callers
            raise StateError(f"workflow state does not fit its process: {exc}") from exc
        workflow.script_engine = script_engine
        return workflow
