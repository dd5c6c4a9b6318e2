"""Waiting timers of a workflow: deadline extraction and provisional recomputation.

Deadlines are modelled as timer events (mostly non-interrupting boundary timers on the task they
guard). After every step the engine lists them so that the web app can keep an indexed deadline
table and a case's ``next_timer_at`` without deserialising workflows.
"""

from __future__ import annotations

import ast
import copy
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

from workflows import fire_grading
from workflows.calendar import SHANGHAI
from workflows.script_env import FACTS

#: Case facts that one branch of a process sets and every other branch must see at once: the
#: fire's registration (its casualties can be amended within 7 days, 国务院令第493号 第十三条),
#: the four grading decisions run again on an amendment, the determination in force, and the
#: testing and appraisal periods
#: an officer records while the determination clock runs (《火灾事故调查规定》第十八条).
#: SpiffWorkflow gives each parallel branch its own copy of the data; a step that changes one of
#: these names publishes it to the case (the top workflow's ``data["facts"]``), waiting timers
#: whose expressions read it are counted again, and lanes are resolved with it.
SHARED_FACTS = frozenset(
    {"register_fire", "appraisal_periods", "determination", *fire_grading.DECISION_OUTPUTS}
)
_MISSING = object()


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


def shared_facts(workflow: BpmnWorkflow) -> dict:
    """The case's shared facts as last published (see :data:`SHARED_FACTS`)."""
    return workflow.data.get(FACTS, {})


def publish_facts(task: Task) -> bool:
    """Publish the shared facts ``task`` changed (compared with its parent's data).

    Returns True when a fact changed.
    """
    parent = task.parent.data if task.parent is not None else {}
    facts = task.workflow.top_workflow.data.setdefault(FACTS, {})
    changed = False
    for name in SHARED_FACTS:
        value = task.data.get(name, _MISSING)
        if value is _MISSING or parent.get(name, _MISSING) == value:
            continue
        if facts.get(name, _MISSING) != value:
            facts[name] = copy.deepcopy(value)
            changed = True
    return changed


def _reads(expression: str) -> set[str]:
    return {node.id for node in ast.walk(ast.parse(expression, mode="eval")) if isinstance(
        node, ast.Name)}  # fmt: skip


def follow_facts(workflow: BpmnWorkflow) -> list[tuple[WaitingTimer, WaitingTimer]]:
    """Count again the waiting date timers whose expressions read a shared fact that changed.

    E.g. the determination deadline ``calendar_days_after(alarm_on, 30 +
    days_covered(appraisal_periods))`` moves when an appraisal period is recorded in the
    parallel branch. Returns (before, after) pairs of the timers that moved.
    """
    facts = shared_facts(workflow)
    if not facts:
        return []
    changes = []
    for task in timer_tasks(workflow):
        definition = task.task_spec.event_definition
        if isinstance(definition, CycleTimerEventDefinition) or not isinstance(
            definition, TimeDateEventDefinition
        ):
            continue
        names = _reads(definition.expression) & facts.keys()
        if not names or all(task.data.get(name, _MISSING) == facts[name] for name in names):
            continue
        before = describe_timer(task)
        value = workflow.script_engine.evaluate(task, definition.expression)  # reads the facts
        task._set_internal_data(event_value=value)
        after = describe_timer(task)
        if before is not None and after is not None and before != after:
            changes.append((before, after))
    return changes
