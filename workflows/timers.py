"""Waiting timers of a workflow: deadline extraction and provisional recomputation.

Deadlines are modelled as timer events (mostly non-interrupting boundary timers on the task they
guard). After every step the engine lists them so that the web app can keep an indexed deadline
table and a case's ``next_timer_at`` without deserialising workflows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from workflows.calendar import SHANGHAI


@dataclass(frozen=True)
class WaitingTimer:
    """One timer a workflow is waiting on."""

    task_id: str  # the timer task's id (stable while it waits)
    timer: str  # the timer event's BPMN id, e.g. ``referral_deadline``
    label: str  # its Chinese name, e.g. ``函告消防救援机构 5个工作日``
    guards: str | None  # the BPMN id of the task a boundary timer is attached to
    due: datetime  # Asia/Shanghai
    provisional: bool
    guarded_task_id: str | None = None  # that task's id in this workflow
    # An interrupting boundary timer closes a window (e.g. the 15 days to request a review):
    # its firing is the normal path, not a missed deadline.
    window: bool = False


def _guarded_task(task: Task) -> Task | None:
    if not isinstance(task.task_spec, BoundaryEvent) or task.parent is None:
        return None
    for sibling in task.parent.children:
        if not isinstance(sibling.task_spec, BoundaryEvent):
            return sibling
    return None


def _due_of(task: Task) -> datetime | None:
    value = task._get_internal_data("event_value")
    if isinstance(value, dict):  # cycle timers keep {"cycles", "next", "duration"}
        value = value.get("next") if value.get("cycles") != 0 else None
    if not isinstance(value, str):
        return None
    return TimerEventDefinition.get_datetime(value).astimezone(SHANGHAI)


def timer_tasks(workflow: BpmnWorkflow) -> list[Task]:
    """Return the timer tasks (top workflow and sub-processes) that are waiting."""
    return [
        task
        for task in workflow.event_manager.tasks.values()
        if isinstance(task.task_spec.event_definition, TimerEventDefinition)
        and task.state == TaskState.WAITING
    ]


def is_timer(task: Task) -> bool:
    """True when ``task`` is a timer event."""
    return isinstance(getattr(task.task_spec, "event_definition", None), TimerEventDefinition)


def describe_timer(task: Task) -> WaitingTimer | None:
    """Describe a timer task (waiting, or just fired); None before its expression ran."""
    due = _due_of(task)
    if due is None:
        return None
    spec = task.task_spec
    guarded = _guarded_task(task)
    return WaitingTimer(
        task_id=str(task.id),
        timer=spec.bpmn_id or spec.name,
        label=spec.bpmn_name or spec.event_definition.name or spec.name,
        guards=guarded.task_spec.name if guarded is not None else None,
        due=due,
        provisional=bool(task._get_internal_data("deadline_provisional", False)),
        guarded_task_id=str(guarded.id) if guarded is not None else None,
        window=isinstance(spec, BoundaryEvent) and bool(spec.cancel_activity),
    )


def waiting_timers(workflow: BpmnWorkflow) -> list[WaitingTimer]:
    """List every waiting timer with what it guards and when it is due, earliest first."""
    timers = [t for t in map(describe_timer, timer_tasks(workflow)) if t is not None]
    return sorted(timers, key=lambda t: (t.due, t.timer))


def next_timer_at(workflow: BpmnWorkflow) -> datetime | None:
    """Return when the earliest waiting timer is due (for an indexed column), or None."""
    timers = waiting_timers(workflow)
    return timers[0].due if timers else None


def recompute_provisional(workflow: BpmnWorkflow) -> list[tuple[WaitingTimer, WaitingTimer]]:
    """Re-evaluate provisional date timers with the script engine's current calendar.

    Call after an administrator entered a year's holidays. Returns (before, after) pairs of
    the timers whose due date or provisional flag changed.
    """
    before = {t.task_id: t for t in waiting_timers(workflow)}
    for task in timer_tasks(workflow):
        definition = task.task_spec.event_definition
        if isinstance(definition, CycleTimerEventDefinition) or not isinstance(
            definition, TimeDateEventDefinition
        ):
            continue
        if not task._get_internal_data("deadline_provisional", False):
            continue
        value = workflow.script_engine.evaluate(task, definition.expression)
        task._set_internal_data(event_value=value)
    after = {t.task_id: t for t in waiting_timers(workflow)}
    return [
        (before[task_id], timer)
        for task_id, timer in after.items()
        if task_id in before and before[task_id] != timer
    ]
