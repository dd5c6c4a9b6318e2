"""Workflow state without its spec: what is stored per case.

SpiffWorkflow's default serializer writes the whole process spec into every workflow and
converts each task through a generic registry, copying every task's data from its parent on
the way back. A case only needs its task tree and data: the spec is stored once per process
version (see :mod:`workflows.catalog`) and handed back on load.

The format here is a compact table per (sub)workflow, tasks in tree pre-order with their
child counts; task data is stored as the top-level keys that differ from the parent's.
Finished tasks never change again, so on load they share the decoded data; tasks that can still
run get their own copy. The bytes are zstd-compressed JSON (orjson): a case at its longest wait
state stays well under 10 KB, and loading plus saving costs a fraction of one engine step.
"""

from __future__ import annotations

import threading
from typing import Any
from uuid import UUID, SafeUUID

import orjson
import zstandard
from SpiffWorkflow.bpmn.serializer.workflow import VERSION, BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from workflows.catalog import ProcessVersion

FORMAT = "duban-state/3"
SAME_AS_PARENT = 0
EMPTY = 1  # predicted tasks carry no data until they become ready
# A finished task keeps the row it was loaded or saved with (finished tasks never change).
_ROW = "_duban_state_row"
_FINISHED = TaskState.FINISHED_MASK


class StateError(Exception):
    """A stored state cannot be read (corrupt, of an unknown format, or not fitting its spec)."""


def _preorder(workflow) -> list[Task]:
    tasks = workflow.tasks
    order, stack = [], [workflow.task_tree]
    while stack:
        task = stack.pop()
        order.append(task)
        stack.extend(tasks[child] for child in reversed(task._children))
    return order


def forget_saved_rows(workflow) -> None:
    """Make the next :meth:`StateSerializer.dumps` write every task of ``workflow`` afresh: for
    the rare change to finished tasks' data (a correction, 更正, amending a completed step's
    form), which the cached rows of finished tasks would otherwise hide."""
    for task in workflow.tasks.values():
        task.__dict__.pop(_ROW, None)


_UNKNOWN_SAFETY = SafeUUID.unknown
_set = object.__setattr__


def _uuid(hex_: str) -> UUID:
    # UUID(hex=...) validates and normalises its input in Python; these ids were written by
    # uuid.hex and are read on every load, so build the object directly (twice as fast).
    uuid = object.__new__(UUID)
    _set(uuid, "int", int(hex_, 16))
    _set(uuid, "is_safe", _UNKNOWN_SAFETY)
    return uuid


class StateSerializer:
    """Turns workflows into compact bytes and back, given their process version."""

    def __init__(self) -> None:
        """Build SpiffWorkflow's converter registry once (used for workflow data and events)."""
        self.registry = BpmnWorkflowSerializer.configure(dict(SPIFF_CONFIG))
        self._local = threading.local()

    def _codec(self):
        # zstd (de)compressor objects are not thread-safe; keep one pair per thread.
        local = self._local
        if not hasattr(local, "compressor"):
            local.compressor = zstandard.ZstdCompressor(level=1)
            local.decompressor = zstandard.ZstdDecompressor()
        return local

    # --- saving -----------------------------------------------------------------------------

    def _workflow_record(self, workflow) -> dict[str, Any]:
        tasks = _preorder(workflow)
        if len(tasks) != len(workflow.tasks):
            raise StateError("workflow has tasks outside its tree")
        rows = []
        for task in tasks:
            fields = task.__dict__
            row = fields.get(_ROW)
            if row is not None and row[1] == len(task._children) and row[3] == task._state:
                rows.append(row)  # a finished task, unchanged since it was loaded or saved
                continue
            parent = workflow.tasks.get(task._parent) if task._parent is not None else None
            if not task.data:
                delta: Any = EMPTY
            elif parent is None:
                delta = [task.data, []]
            elif task.data == parent.data:
                delta = SAME_AS_PARENT
            else:
                # Store only what changed against the parent: top-level keys are the forms.
                before, after = parent.data, task.data
                updates = {k: v for k, v in after.items() if k not in before or before[k] != v}
                delta = [updates, [k for k in before if k not in after]]
            row = [
                task.id.hex,
                len(task._children),
                task.task_spec.name,
                task._state,
                1 if task.triggered else 0,
                task.last_state_change,
                delta,
                # Internal data holds timer values, flags and event payloads; an event-based
                # gateway also keeps the events it has seen (``seen_events``), converted here.
                self.registry.convert(task.internal_data) if task.internal_data else 0,
            ]
            if task._state & _FINISHED:
                fields[_ROW] = row
            rows.append(row)
        last = workflow.last_task
        return {
            "tasks": rows,
            "data": self.registry.convert(self.registry.clean(workflow.data)),
            "correlations": workflow.correlations,
            "last_task": last.id.hex if last is not None else None,
            "success": workflow.success,
            "completed": workflow.completed,
        }

    def dumps(self, workflow: BpmnWorkflow) -> bytes:
        """Serialize ``workflow`` (without spec) to compressed bytes.

        :raises StateError: when task data holds values that are not plain JSON.
        """
        record = self._workflow_record(workflow)
        subprocesses = []
        for parent_id, sub in workflow.subprocesses.items():
            sub_record = self._workflow_record(sub)
            sub_record["parent_task"] = parent_id.hex
            sub_record["depth"] = sub.depth
            subprocesses.append(sub_record)
        subprocesses.sort(key=lambda r: r["depth"])
        document = {
            "format": FORMAT,
            "spiff": VERSION,
            "workflow": record,
            "subprocesses": subprocesses,
            "events": self.registry.convert(workflow.bpmn_events),
        }
        try:
            text = orjson.dumps(document)
        except TypeError as exc:
            raise StateError(f"workflow data is not plain JSON: {exc}") from exc
        return self._codec().compressor.compress(text)

    # --- loading ----------------------------------------------------------------------------

    def _restore_tasks(self, workflow, record: dict[str, Any]) -> None:
        specs = workflow.spec.task_specs
        top = workflow.top_workflow
        by_id: dict[UUID, Task] = {}
        new_task = Task.__new__
        # Rows are in tree pre-order with their child counts: a stack of parents still
        # expecting children rebuilds the tree.
        open_parents: list[list[Any]] = []
        root = None
        for row in record["tasks"]:
            task_hex, n_children, spec_name, state, triggered, changed, delta, internal = row
            if open_parents:
                slot = open_parents[-1]
                parent, parent_id, data = slot[0], slot[0].id, slot[0].data
                slot[1] -= 1
            else:
                parent, parent_id, data = None, None, {}
            if delta == EMPTY:
                data = {}
            elif delta != SAME_AS_PARENT:
                updates, deletions = delta
                data = {**data, **updates}
                for key in deletions:
                    data.pop(key, None)
            if data and not state & _FINISHED:
                # Finished tasks never change again and may share data; live ones get a copy.
                data = orjson.loads(orjson.dumps(data))
            task = new_task(Task)
            task.__dict__.update(
                id=_uuid(task_hex),
                workflow=workflow,
                task_spec=specs[spec_name],
                _state=state,
                triggered=bool(triggered),
                last_state_change=changed,
                thread_id=0,
                _children=[],
                _parent=parent_id,
                internal_data=self.registry.restore(internal) if internal else {},
                data=data,
            )
            if state & _FINISHED:
                task.__dict__[_ROW] = row
            if parent is not None:
                parent._children.append(task.id)
            else:
                root = task
            by_id[task.id] = task
            if state == TaskState.WAITING and isinstance(task.task_spec, CatchingEvent):
                top.event_manager.add_task(task)
            open_parents.append([task, n_children])
            while open_parents and open_parents[-1][1] == 0:
                open_parents.pop()
        if root is None or open_parents:
            raise StateError("truncated task tree")
        workflow.tasks = by_id
        workflow.task_tree = root
        last = record["last_task"]
        workflow.last_task = by_id[_uuid(last)] if last is not None else None
        workflow.data = self.registry.restore(record["data"])
        workflow.correlations = record["correlations"]
        workflow.success = record["success"]
        workflow.completed = record["completed"]

    def loads(self, state: bytes, process: ProcessVersion, script_engine) -> BpmnWorkflow:
        """Restore a workflow from bytes made by :meth:`dumps` on the specs of ``process``.

        :raises StateError: when the bytes are not a readable state of this process.
        """
        try:
            document = orjson.loads(self._codec().decompressor.decompress(state))
        except (zstandard.ZstdError, orjson.JSONDecodeError, TypeError) as exc:
            raise StateError(f"unreadable workflow state: {exc}") from exc
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise StateError("workflow state of an unknown format")
        try:
            workflow = BpmnWorkflow(
                process.spec,
                process.subprocess_specs,
                script_engine=script_engine,
                deserializing=True,
            )
            self._restore_tasks(workflow, document["workflow"])
            for record in document["subprocesses"]:
                parent = workflow.get_task_from_id(_uuid(record["parent_task"]))
                sub = BpmnSubWorkflow(
                    workflow.subprocess_specs[parent.task_spec.spec],
                    parent.id,
                    workflow,
                    deserializing=True,
                )
                self._restore_tasks(sub, record)
                workflow.subprocesses[parent.id] = sub
                sub.completed_event.connect(parent.task_spec._on_subworkflow_completed, parent)
            workflow.bpmn_events = self.registry.restore(document["events"])
        except StateError:
            raise
        except Exception as exc:  # a state that does not fit its spec must not crash callers
            raise StateError(f"workflow state does not fit its process: {exc!r}") from exc
        return workflow
