"""The engine facade the web app uses: start, load, complete, fire timers, save.

One :class:`Engine` per process (it holds the catalogue, the calendar, the script engine and
the serializer); one :class:`Instance` per case being worked on in a request or a sweep.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import (
    EscalationEventDefinition,
    SignalEventDefinition,
)
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import EventBasedGateway
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from workflows import legal_settings
from workflows.calendar import WorkingCalendar
from workflows.catalog import ProcessCatalog, ProcessVersion
from workflows.script_env import FACT_DEFAULTS, DubanScriptEngine
from workflows.state import StateSerializer, forget_saved_rows
from workflows.timers import (
    WaitingTimer,
    describe_timer,
    follow_facts,
    is_timer,
    next_timer_at,
    publish_facts,
    recompute_provisional,
    shared_facts,
    waiting_timers,
)


class TaskNotReady(Exception):
    """The task does not exist in this case or is not waiting for a person."""


@dataclass(frozen=True)
class HumanTask:
    """A user task waiting for a person."""

    id: str
    name: str  # BPMN id, also the form name in forms/
    label: str  # Chinese name from the diagram
    lane: str  # role, resolved to an agency by workflows.lanes


@dataclass(frozen=True)
class Escalation:
    """An escalation thrown by the process (a missed deadline); nothing in BPMN catches it."""

    code: str
    name: str
    timer: str | None = None  # the BPMN id of the timer whose path threw it
    timer_task_id: str | None = None  # that timer task's id (its deadline)


@dataclass
class StepResult:
    """What one step (a completion or a timer sweep) did."""

    completed: list[str] = field(default_factory=list)  # BPMN ids of tasks run, in order
    fired_timers: list[WaitingTimer] = field(default_factory=list)
    escalations: list[Escalation] = field(default_factory=list)
    # (before, after) of the waiting timers a shared fact moved (e.g. an appraisal period).
    moved_timers: list[tuple[WaitingTimer, WaitingTimer]] = field(default_factory=list)
    # A shared fact changed (e.g. amended casualties re-graded the fire): the lanes of open
    # tasks are to be resolved again.
    facts_changed: bool = False
    # (BPMN id, Chinese name) of the signal events caught, e.g. a simplified determination
    # withdrawn because an amendment turned the fire to the general procedure: the case's
    # timeline records them.
    milestones: list[tuple[str, str]] = field(default_factory=list)


def _timer_ancestor(task: Task) -> Task | None:
    """The timer event on the path that led to ``task`` (within its workflow), if any."""
    current = task.parent
    while current is not None:
        if is_timer(current):
            return current
        current = current.parent
    return None


def _caught_signal(task: Task) -> bool:
    """True when ``task`` is a signal catch event that just caught its signal.

    Behind an event-based gateway the catch events lose their own definitions (SpiffWorkflow
    gives them none): the gateway records the events it saw.
    """
    spec = task.task_spec
    if not isinstance(spec, CatchingEvent) or isinstance(spec, EventBasedGateway):
        return False
    if isinstance(getattr(spec, "event_definition", None), SignalEventDefinition):
        return True
    parent = task.parent
    if parent is None or not isinstance(parent.task_spec, EventBasedGateway):
        return False
    seen = parent._get_internal_data("seen_events") or []
    return bool(seen) and isinstance(seen[-1].event_definition, SignalEventDefinition)


class Instance:
    """One case's workflow, loaded for a step."""

    def __init__(self, engine: Engine, process: ProcessVersion, workflow: BpmnWorkflow) -> None:
        """Wrap a SpiffWorkflow workflow of a known process version."""
        self.engine = engine
        self.process = process
        self.workflow = workflow

    @property
    def process_id(self) -> str:
        """The process id."""
        return self.process.process_id

    @property
    def version(self) -> str:
        """The process version the case runs on."""
        return self.process.version

    @property
    def completed(self) -> bool:
        """True when the process reached its end."""
        return self.workflow.completed

    @property
    def data(self) -> dict[str, Any]:
        """The case data as seen by the most recently completed task, with the case's shared
        facts as last published (another branch may have amended them since)."""
        last = self.workflow.last_task
        data = dict(last.data) if last is not None else dict(self.workflow.data)
        data.update(shared_facts(self.workflow))
        return data

    def timer_due(self, timer: str, data: Mapping[str, Any]) -> str | None:
        """The due time the timer event ``timer`` (its BPMN id) would get now: its expression
        evaluated on the case data overlaid with ``data`` (e.g. a step's form before it is
        completed), in the engine's calendar; None when the process has no such timer or the
        expression cannot be evaluated on that data (a fact not recorded yet).

        A document can thus print the deadline the process is about to set (the new due date
        of an approved extension) without computing it a second time.
        """
        specs = [self.process.spec, *self.process.subprocess_specs.values()]
        for spec in specs:
            task_spec = spec.task_specs.get(timer)
            definition = getattr(task_spec, "event_definition", None)
            if isinstance(definition, TimerEventDefinition):
                context = {**copy.deepcopy(FACT_DEFAULTS), **self.data, **data}
                try:
                    value = self.engine.script_engine.restricted.evaluate(
                        definition.expression, context
                    )
                except Exception:  # a fact not recorded yet (KeyError …): no date to show
                    return None
                return str(value)
        return None

    def task_data(self, task_id: str | UUID) -> dict[str, Any]:
        """The case data as the ready task ``task_id`` sees it (its own branch's data: in a
        parallel branch, the steps done before it there, not the most recently completed task
        of another branch), with the case's shared facts as last published.

        :raises TaskNotReady: when the task is unknown.
        """
        try:
            task = self.workflow.get_task_from_id(UUID(str(task_id)))
        except (ValueError, WorkflowException) as exc:
            raise TaskNotReady(str(task_id)) from exc
        if task is None:
            raise TaskNotReady(str(task_id))
        data = dict(task.data)
        data.update(shared_facts(self.workflow))
        return data

    def _lane_of(self, task: Task) -> str:
        lane = self.process.lanes.get(task.task_spec.name)
        workflow = task.workflow
        while lane is None and workflow.parent_task_id is not None:
            parent = self.workflow.get_task_from_id(workflow.parent_task_id)
            lane = self.process.lanes.get(parent.task_spec.name)
            workflow = parent.workflow
        return lane or ""

    def ready_tasks(self) -> list[HumanTask]:
        """Return the user tasks waiting for a person."""
        return [
            HumanTask(
                id=str(task.id),
                name=task.task_spec.name,
                label=task.task_spec.bpmn_name or task.task_spec.name,
                lane=self._lane_of(task),
            )
            for task in self.workflow.get_tasks(state=TaskState.READY, manual=True)
        ]

    def complete(self, task_id: str | UUID, data: Mapping[str, Any]) -> StepResult:
        """Complete a ready user task with its (already validated) form data, then step.

        The form data is stored under the task's BPMN id in the task data.

        :raises TaskNotReady: when the task is unknown or not ready.
        """
        try:
            task = self.workflow.get_task_from_id(UUID(str(task_id)))
        except (ValueError, WorkflowException) as exc:
            raise TaskNotReady(str(task_id)) from exc
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            raise TaskNotReady(str(task_id))
        task.data[task.task_spec.name] = dict(data)
        result = StepResult()
        task.run()
        result.completed.append(task.task_spec.name)
        self._publish(task, result)
        self._advance(result)
        return result

    def amend_form(self, name: str, original: Mapping[str, Any], amended: Mapping[str, Any]) -> int:
        """Replace a completed step's stored form (``data[name]`` equal to ``original``) by
        ``amended`` in every task that carries it (SpiffWorkflow copies a task's data into the
        tasks after it), sub-processes included. Only the fields that no expression reads may
        differ (the caller checked: ``workflows.routing``), so nothing is stepped and no
        timer moves. Returns the number of tasks changed.
        """
        workflows = [self.workflow, *self.workflow.subprocesses.values()]
        original = dict(original)
        changed = 0
        for workflow in workflows:
            # finished tasks may share one data dict (workflows.state): compare by content
            holders = [workflow.data, *(task.data for task in workflow.tasks.values())]
            for data in holders:
                if data.get(name) == original:
                    data[name] = dict(amended)
                    changed += 1
            forget_saved_rows(workflow)
        return changed

    def fire_timers(self) -> StepResult:
        """Fire every timer that is due now and step the engine (the sweep's work)."""
        result = StepResult()
        self.workflow.refresh_timers()
        self._advance(result)
        return result

    def _publish(self, task: Task, result: StepResult) -> None:
        """Publish the shared facts ``task`` changed and move the timers that read them — before
        the engine refreshes its timers, so that a moved one does not fire on its old date."""
        if publish_facts(task):
            result.facts_changed = True
            result.moved_timers.extend(follow_facts(self.workflow))

    def _advance(self, result: StepResult) -> None:
        def did_complete(task: Task) -> None:
            if not task.task_spec.bpmn_id:  # SpiffWorkflow's own helper tasks
                return
            result.completed.append(task.task_spec.bpmn_id)
            self._publish(task, result)
            if is_timer(task):
                fired = describe_timer(task)
                if fired is not None:
                    result.fired_timers.append(fired)
            if _caught_signal(task):
                spec = task.task_spec
                result.milestones.append((spec.bpmn_id, spec.bpmn_name or spec.bpmn_id))
            definition = getattr(task.task_spec, "event_definition", None)
            if isinstance(definition, EscalationEventDefinition):
                timer = _timer_ancestor(task)
                result.escalations.append(
                    Escalation(
                        definition.code,
                        definition.name,
                        timer.task_spec.bpmn_id if timer is not None else None,
                        str(timer.id) if timer is not None else None,
                    )
                )

        # Firing a timer can open tasks whose own timers are already due (a late step), so
        # step until nothing more is ready for the engine.
        while True:
            # do_engine_steps ends by refreshing the timers (firing those now due).
            self.workflow.do_engine_steps(did_complete_task=did_complete)
            # Uncaught escalations also queue up as external events; they were recorded above,
            # with the timer they belong to, when their throw event completed.
            self.workflow.get_events()
            # do_engine_steps ends by refreshing timers: only a timer that just came due can
            # have left work for the engine.
            if not any(
                task.state == TaskState.READY for task in self.workflow.event_manager.tasks.values()
            ):
                return

    def step_finished(self, task_id: str) -> bool:
        """True when the task (a user task or a sub-process) with this id has finished."""
        try:
            task = self.workflow.get_task_from_id(UUID(task_id))
        except (ValueError, WorkflowException):
            return False
        return task is not None and task.has_state(TaskState.FINISHED_MASK)

    def waiting_timers(self) -> list[WaitingTimer]:
        """Every timer the case waits on, earliest first."""
        return waiting_timers(self.workflow)

    def next_timer_at(self) -> datetime | None:
        """When the earliest waiting timer is due, or None."""
        return next_timer_at(self.workflow)

    def recompute_provisional(self) -> list[tuple[WaitingTimer, WaitingTimer]]:
        """Recount provisional deadlines with the engine's current calendar."""
        return recompute_provisional(self.workflow)

    def dumps(self) -> bytes:
        """The state to store (without the spec)."""
        return self.engine.serializer.dumps(self.workflow)


class Engine:
    """Starts and loads cases of the processes in a catalogue."""

    def __init__(self, catalog: ProcessCatalog, calendar: WorkingCalendar | None = None) -> None:
        """:param catalog: the process versions; :param calendar: the working-day calendar."""
        self.catalog = catalog
        self.script_engine = DubanScriptEngine(calendar)
        self.serializer = StateSerializer()

    @property
    def calendar(self) -> WorkingCalendar:
        """The working-day calendar deadlines are counted in."""
        return self.script_engine.calendar

    def set_calendar(self, calendar: WorkingCalendar) -> None:
        """Count deadlines computed from now on in ``calendar``."""
        self.script_engine.set_calendar(calendar)

    def start(
        self,
        process_id: str,
        case: Mapping[str, Any],
        settings: Mapping[str, Any] | None = None,
    ) -> Instance:
        """Start a case on the current version of a process and run to the first wait.

        :param case: facts about the case every expression may read as ``case`` (e.g. the
            discovering agency and the district).
        :param settings: the effective legal settings (``workflows.legal_settings``), kept by
            the case as ``settings`` for its whole life; the documented defaults when None.
        """
        process = self.catalog.latest(process_id)
        workflow = BpmnWorkflow(
            process.spec, process.subprocess_specs, script_engine=self.script_engine
        )
        workflow.task_tree.data["case"] = dict(case)
        workflow.task_tree.data["settings"] = dict(
            legal_settings.defaults() if settings is None else settings
        )
        instance = Instance(self, process, workflow)
        instance._advance(StepResult())
        return instance

    def load(self, process_id: str, version: str, state: bytes) -> Instance:
        """Load a stored case on the process version it started on.

        :raises workflows.state.StateError: when the state cannot be read.
        :raises KeyError: when the version is unknown.
        """
        process = self.catalog.get(process_id, version)
        workflow = self.serializer.loads(state, process, self.script_engine)
        return Instance(self, process, workflow)
