"""Mutations of cases and tasks, as plain functions. Views and API call these; nothing else writes.

Every mutation runs in one transaction: the workflow state, the task rows (the inbox), the
deadline rows, ``case.next_timer_at`` and the audit events are written together or not at all.
A concurrent change of the same case fails on the case's row version and answers 409.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import bindparam, delete, exists, insert, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload
from sqlalchemy.orm.attributes import NO_VALUE, set_committed_value
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.instrumentation import manager_of_class
from sqlalchemy.orm.state import InstanceState

from server.audit import append_event
from server.engine import get_engine
from server.extensions import db
from server.models import Agency, Case, Deadline, Notification, Task, TaskDraft, User
from server.notifications import notify_escalation, notify_follow_up
from server.overdue import task_is_overdue
from server.public_warnings import record_warning
from workflows import fire_grading
from workflows.calendar import SHANGHAI, today_shanghai
from workflows.engine import Instance, StepResult, TaskNotReady
from workflows.forms import (
    case_rule_errors,
    has_forbidden_chars,
    needs_case_data,
    resolve_form,
    validate_form,
    with_case_minimums,
)
from workflows.jurisdiction import CITY
from workflows.lanes import (
    SYSTEM_STARTED,
    LaneResolutionError,
    escalation_targets,
    may_start,
    resolve_lane,
)
from workflows.state import StateError

if TYPE_CHECKING:  # server.attachments imports this module
    from server.attachments import Upload

log = logging.getLogger(__name__)


class OperationError(Exception):
    """A refused operation; ``status`` is the HTTP status the caller should answer."""

    status = 400

    def __init__(self, message: str, fields: Mapping[str, str] | None = None) -> None:
        """:param message: Chinese message for the user; :param fields: field errors."""
        super().__init__(message)
        self.message = message
        self.fields = dict(fields or {})


class FormInvalid(OperationError):
    """Form data does not pass the task's schema (422)."""

    status = 422


class Conflict(OperationError):
    """The case or task changed meanwhile, or is not in a state that allows this (409)."""

    status = 409


class Forbidden(OperationError):
    """The user may see the object but not do this (403)."""

    status = 403


class NotFound(OperationError):
    """The object does not exist, or the caller may not see it (404)."""

    status = 404


def agency_options() -> list[tuple[str, str]]:
    """(code, name) of every agency, for forms that name a responsible agency."""
    return [(code, name) for code, name in db.session.execute(_AGENCY_OPTIONS)]


def industry_agency_options() -> list[tuple[str, str]]:
    """(code, name) of the industry departments (行业主管部门), for a hazard's responsible
    department."""
    return [(code, name) for code, name in db.session.execute(_INDUSTRY_AGENCY_OPTIONS)]


# Built once (the case page resolves the forms of its steps with them: building a statement
# per request cost more than running it).
_AGENCY_OPTIONS = select(Agency.code, Agency.name).order_by(Agency.id)
_INDUSTRY_AGENCY_OPTIONS = _AGENCY_OPTIONS.where(Agency.kind == "industry")


class FormOptions(Mapping[str, list[tuple[str, str]]]):
    """Dynamic option lists of the forms that depend on the database, each read only when a
    form names it (most forms name none) and then once."""

    _LOADERS: ClassVar[dict[str, Callable[[], list[tuple[str, str]]]]] = {
        "agencies": agency_options,
        "industry_agencies": industry_agency_options,
    }

    def __init__(self) -> None:
        self._lists: dict[str, list[tuple[str, str]]] = {}

    def __getitem__(self, name: str) -> list[tuple[str, str]]:
        if name not in self._lists:
            self._lists[name] = self._LOADERS[name]()
        return self._lists[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._LOADERS)

    def __len__(self) -> int:
        return len(self._LOADERS)


def form_options() -> FormOptions:
    """Dynamic option lists of the forms that depend on the database."""
    return FormOptions()


_AGENCY_ID = select(Agency.__table__.c.id).where(Agency.__table__.c.code == bindparam("code"))


class _Agencies:
    """Agency ids by code, each read once per mutation (a step often routes several tasks to
    the same agency). Reads do not flush the session: nothing pending changes an agency."""

    def __init__(self, actor: User | None = None) -> None:
        self._ids: dict[str, int] = {}
        if actor is not None and "agency" in sa_inspect(actor).dict:  # loaded with the user
            self._ids[actor.agency.code] = actor.agency_id  # a step often stays with it

    def id_of(self, code: str) -> int:
        if code not in self._ids:
            # a Core statement on the session's connection: no ORM round, no autoflush
            found = db.session.connection().execute(_AGENCY_ID, {"code": code}).scalar()
            if found is None:
                raise Conflict(f"无法确定承办单位：系统中没有机构 {code}")
            self._ids[code] = found
        return self._ids[code]

    def of_lane(self, case: Case, lane: str, data: Mapping[str, Any]) -> int:
        try:
            return self.id_of(resolve_lane(lane, case.district, data))
        except LaneResolutionError as exc:
            raise Conflict(f"无法确定“{lane}”泳道的承办单位") from exc


@contextmanager
def _transaction(*, keep_loaded: bool = False) -> Iterator[None]:
    """Run a mutation and commit it; a concurrent change anywhere in it becomes a Conflict.

    Flushes happen before the commit too (queries autoflush), so the whole block is guarded.
    Any other error rolls back and propagates.

    :param keep_loaded: the session's objects keep the values just committed instead of being
        read again on their next use: for callers that answer with the changed case at once.
    """
    session = db.session()  # this request's session: its expire_on_commit is set per commit
    expire = session.expire_on_commit
    try:
        yield
        for obj in session.dirty:
            if isinstance(obj, Case):
                _write_case_row(obj)
        session.expire_on_commit = expire and not keep_loaded
        db.session.commit()
    except (StaleDataError, IntegrityError) as exc:
        db.session.rollback()
        raise Conflict("案件已被他人更新，请刷新后重试") from exc
    except BaseException:
        db.session.rollback()
        raise
    finally:
        session.expire_on_commit = expire


_MAPPED: dict[Any, Any] = {model.__table__: model for model in (Case, Task, Deadline)}
_CASE = Case.__table__
_CASE_COLUMNS = {attr.key: attr.columns[0].name for attr in Case.__mapper__.column_attrs}


@lru_cache(maxsize=256)
def _update_statement(table: Any, keys: tuple[str, ...], *, versioned: bool = False) -> Any:
    """``UPDATE table SET <keys> WHERE id = :row_id``, every value a bound parameter named
    ``v_<attribute>`` (:func:`_set_values`), built once per set of columns (building one per
    row costs more than running it). ``versioned`` also requires ``row_version =
    :row_version`` and sets it to ``:new_version``. Only the columns named are written: a
    concurrent change to another column of the row survives."""
    columns = {attr.key: attr.columns[0] for attr in _MAPPED[table].__mapper__.column_attrs}
    values = {columns[key]: bindparam(f"v_{key}", type_=columns[key].type) for key in keys}
    statement = update(table).where(table.c.id == bindparam("row_id"))
    if versioned:
        statement = statement.where(table.c.row_version == bindparam("row_version"))
        values[table.c.row_version] = bindparam("new_version")
    return statement.values(values)


def _set_values(changes: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters of :func:`_update_statement` for the changed attributes."""
    return {f"v_{key}": value for key, value in changes.items()}


def _write_case_row(case: Case) -> None:
    """Write what changed in a loaded case row by one Core UPDATE that also requires the row
    version read (and bumps it, as the mapper's ``version_id_col`` does): the unit of work's
    flush of a versioned row costs several times more. A change that is not a plain column
    (a relationship set) is left to the unit of work.

    :raises Conflict: the row changed or went since it was read.
    """
    state: InstanceState[Case] = sa_inspect(case)
    if not state.persistent or state.committed_state.keys() - _CASE_COLUMNS.keys():
        return
    values = {key: state.dict[key] for key in state.committed_state if key in state.dict}
    values.pop("row_version", None)  # the version is this function's to set
    changes = {
        key: value
        for key, value in values.items()
        if (old := state.committed_state[key]) is NO_VALUE or old != value
    }
    if changes:
        version = case.row_version
        written = db.session.connection().execute(
            _update_statement(_CASE, tuple(changes), versioned=True),
            {
                **_set_values(changes),
                "row_id": case.id,
                "row_version": version,
                "new_version": version + 1,
            },
        )
        if written.rowcount != 1:
            raise Conflict("案件已被他人更新，请刷新后重试")
        set_committed_value(case, "row_version", version + 1)
    # The row now holds every value (some were set to what they were): nothing is left for
    # the unit of work, which marks a row it flushed the same way (SQLAlchemy's own step).
    state._commit_all(state.dict, db.session().identity_map)


def lock_case(case_id: int) -> Case:
    """The case, read again and locked until the commit (PostgreSQL: ``FOR UPDATE``).

    Every mutation of a case takes it before writing: completions of different tasks then
    queue instead of failing on the row version (the second loads the workflow as the first
    left it), and an append to the case's audit chain starts from its current head (kept on the
    case row). SQLite runs one writer at a time; there the row version alone catches an overlap.

    :raises Conflict: when the case is gone.
    """
    locking = db.session.get_bind().dialect.name == "postgresql"
    case = db.session.scalar(_LOCK_CASE[locking], {"case_id": case_id})
    if case is None:
        raise Conflict("案件已不存在")
    return case


# Built once (per mutation, building the statement and its cache key costs more than running
# it): without and with FOR UPDATE.
_READ_CASE = (
    select(Case)
    .where(Case.id == bindparam("case_id"))
    .options(lazyload(Case.discoverer_agency))  # read from the session when needed
    .execution_options(populate_existing=True)
)
_LOCK_CASE = {False: _READ_CASE, True: _READ_CASE.with_for_update(of=Case)}


_TASKS = Task.__table__
_DEADLINES = Deadline.__table__
_TASK_COLUMNS = tuple(attr.key for attr in Task.__mapper__.column_attrs)
_DEADLINE_COLUMNS = tuple(attr.key for attr in Deadline.__mapper__.column_attrs)
# Built once (a statement's construction costs more than its cached compilation).
_DRAFTS = TaskDraft.__table__
# Each task row with whether a draft of it is kept (a completion deletes them only then).
_SELECT_TASKS = select(
    _TASKS, exists().where(_DRAFTS.c.task_id == _TASKS.c.id).label("has_draft")
).where(_TASKS.c.case_id == bindparam("case_id"))
_SELECT_DEADLINES = select(_DEADLINES).where(_DEADLINES.c.case_id == bindparam("case_id"))
_MARK_COMPLETED = (
    update(_TASKS)
    .where(_TASKS.c.id == bindparam("row_id"), _TASKS.c.state == "ready")
    .values(state="completed", completed_at=bindparam("at"), completed_by_id=bindparam("by"))
)
_INSERT_TASKS = insert(_TASKS)
_INSERT_DEADLINE = insert(_DEADLINES).returning(_DEADLINES.c.id)
_DELETE_DRAFTS = delete(_DRAFTS).where(_DRAFTS.c.task_id == bindparam("task_id"))


class _Stored:
    """Rows of one table read by a Core statement as plain (transient) model objects, with the
    values read, so that what the caller changed in them is written back by Core statements:
    the session never holds them and its unit of work has nothing to track."""

    def __init__(self, model: type[Task] | type[Deadline], table: Any, case_id: int) -> None:
        self.model, self.table = model, table
        rows = db.session.connection().execute(
            _SELECT_TASKS if model is Task else _SELECT_DEADLINES, {"case_id": case_id}
        )
        self.read: dict[Any, dict[str, Any]] = {}
        self.objects: list[Any] = []
        self.drafted: set[Any] = set()  # the task rows with a draft kept
        new_instance = manager_of_class(model).new_instance
        for row in rows:
            values = row._asdict()
            if values.pop("has_draft", False):
                self.drafted.add(values["id"])
            self.read[values["id"]] = values
            # As the ORM's loading does: a new instance (no constructor, no attribute events)
            # holding the values read; later changes to it are tracked as usual.
            obj = new_instance()
            obj.__dict__.update(values)
            self.objects.append(obj)

    def write_changes(self) -> None:
        """One UPDATE per changed row, setting only the columns that changed; a copy of the row
        the session holds (loaded earlier by the caller) takes the values written."""
        session = db.session()
        connection = session.connection()
        mapper = sa_inspect(self.model)
        for obj in self.objects:
            stored = self.read.get(obj.id)
            if stored is None:
                continue
            changes = {
                key: value
                for key, value in ((key, getattr(obj, key)) for key in stored)
                if value != stored[key]
            }
            if changes:
                connection.execute(
                    _update_statement(self.table, tuple(changes)),
                    {**_set_values(changes), "row_id": obj.id},
                )
                stored.update(changes)
                held = session.identity_map.get(mapper.identity_key_from_primary_key((obj.id,)))
                for key, value in changes.items() if held is not None else ():
                    set_committed_value(held, key, value)


def _case_tasks(case_id: int) -> _Stored:
    """Every task row of a case as stored (plain objects: the session's rows are left alone)."""
    return _Stored(Task, _TASKS, case_id)


def load_instance(case: Case) -> Instance:
    """Load a case's workflow; a state that cannot be read marks the case for attention.

    :raises Conflict: when the state cannot be loaded.
    """
    try:
        return get_engine().load(case.process_id, case.process_version, case.state)
    except (StateError, KeyError) as exc:
        db.session.rollback()
        mark_attention(case.id, f"工作流状态无法读取：{exc}")
        raise Conflict("案件的流程状态无法读取，已提交管理员处理") from exc


def task_form(task: Task) -> dict[str, Any]:
    """The form of a task as its page and the API offer it: option lists filled in, and the
    minimum rows the case's own settings require (e.g. the expert panel's size)."""
    schema = resolve_form(task.name, form_options())
    if needs_case_data(schema):
        # an unreadable state: the form shows its defaults, completing will refuse
        with suppress(Conflict):
            schema = with_case_minimums(schema, load_instance(task.case).data)
    return schema


def mark_attention(case_id: int, reason: str) -> None:
    """Record (in its own transaction) that a case needs an administrator."""
    case = db.session.get(Case, case_id)
    if case is not None:
        case.needs_attention = reason[:2000]
        case.row_version += 0  # the version column still guards concurrent writers
        try:
            db.session.commit()
        except (StaleDataError, IntegrityError):
            db.session.rollback()


# --- keeping the tables in step with the workflow ---------------------------------------------


@dataclass
class Synced:
    """What :func:`sync_case` wrote: the task rows it opened in this step, and every deadline
    row of the case (pending, met, missed)."""

    opened: list[Task] = field(default_factory=list)
    deadlines: list[Deadline] = field(default_factory=list)


@dataclass
class Completion:
    """A completed task's outcome: the case as committed and what the step opened (the rows
    keep their committed values: the API answers with them without reading them again), with
    the code and name of every agency they name."""

    case: Case
    opened: list[Task]
    deadlines: list[Deadline]
    agencies: dict[int, tuple[str, str]]


_AGENCY = Agency.__table__
_AGENCIES_NAMED = select(_AGENCY.c.id, _AGENCY.c.code, _AGENCY.c.name).where(
    _AGENCY.c.id.in_(bindparam("ids", expanding=True))
)


def _agencies_named(rows: Sequence[Task | Deadline]) -> dict[int, tuple[str, str]]:
    """Code and name of the agencies ``rows`` name (one Core statement, in the caller's
    transaction)."""
    ids = sorted({row.agency_id for row in rows if row.agency_id is not None})
    if not ids:
        return {}
    found = db.session.connection().execute(_AGENCIES_NAMED, {"ids": ids})
    return {agency_id: (code, name) for agency_id, code, name in found}


def sync_case(
    case: Case,
    instance: Instance,
    result: StepResult,
    *,
    actor: User | None,
    completed: Task | None = None,
    tasks: _Stored | None = None,
    now: datetime | None = None,
) -> Synced:
    """Write the workflow state and everything derived from it.

    The case's task and deadline rows are each read once by a Core statement and worked on in
    memory as plain objects; what changed in them, and the rows the step adds, are written by
    Core statements on the session's connection (same transaction) before the escalations are
    notified. The case row itself is written when the transaction ends
    (:func:`_write_case_row`: its changed columns, on the row version read, which guards
    concurrent writers).

    :param completed: the task row the user just completed (its data is in the events).
    :param tasks: the case's task rows (:func:`_case_tasks`), when the caller has just read
        them.
    """
    now = now or datetime.now(UTC)
    data = instance.data
    agencies = _Agencies(actor)
    case.state = instance.dumps()
    # Stored in UTC: SQLite drops the offset, so Shanghai wall-clock digits would be misread.
    waiting = instance.waiting_timers()  # earliest first (windows too: they fire as well)
    case.next_timer_at = waiting[0].due.astimezone(UTC) if waiting else None

    stored_tasks = tasks if tasks is not None else _case_tasks(case.id)
    stored_deadlines = _Stored(Deadline, _DEADLINES, case.id)
    task_rows: list[Task] = stored_tasks.objects
    deadline_rows: list[Deadline] = list(stored_deadlines.objects)
    new_deadlines: list[Deadline] = []

    # Tasks: the inbox rows follow the ready user tasks.
    ready = instance.ready_tasks()
    ready_ids = {t.id for t in ready}
    open_rows = {row.id: row for row in task_rows if row.state == "ready"}
    if completed is not None:
        _mark_completed(completed, actor, now)
        open_rows.pop(completed.id, None)
    for row_id, row in open_rows.items():
        if row_id not in ready_ids:
            row.state = "cancelled"
            row.completed_at = now
    rows_by_name: dict[str, Task] = {}
    opened: list[Task] = []
    for human in ready:
        task_row = open_rows.get(human.id)
        if task_row is not None and result.facts_changed:
            _reroute(case, task_row, agencies.of_lane(case, human.lane, data), deadline_rows, now)
        if task_row is None:
            task_row = Task(
                id=human.id,
                case_id=case.id,
                name=human.name,
                label=human.label,
                lane=human.lane,
                agency_id=agencies.of_lane(case, human.lane, data),
                state="ready",
                created_at=now,
            )  # not added to the session: inserted below with the others in one statement
            opened.append(task_row)
        rows_by_name[human.name] = task_row

    # Deadlines: pending while the timer waits, missed when it fired, met when it went away.
    pending = {row.timer_task_id: row for row in deadline_rows if row.state == "pending"}
    # Windows (an interrupting timer closing e.g. the review period) are not deadlines.
    timers = [t for t in waiting if not t.window]
    fired = [t for t in result.fired_timers if not t.window]
    fired_ids = {t.task_id for t in fired}
    for timer in [*timers, *fired]:
        deadline = pending.get(timer.task_id)
        if deadline is None:
            deadline = Deadline(
                case_id=case.id,
                timer_task_id=timer.task_id,
                timer=timer.timer,
                label=timer.label,
                guards=timer.guards,
                task_id=timer.guarded_task_id,
                agency_id=_responsible_agency(case, instance, timer.guards, rows_by_name, agencies),
                state="pending",
            )  # not added to the session: inserted below by a Core statement
            new_deadlines.append(deadline)
            deadline_rows.append(deadline)
            pending[timer.task_id] = deadline
        deadline.due_at = timer.due.astimezone(UTC)
        deadline.provisional = timer.provisional
    waiting_ids = {t.task_id for t in timers}
    for task_id, deadline in pending.items():
        if task_id in fired_ids:
            deadline.state, deadline.missed_at = "missed", now
            append_event(
                case.id,
                "deadline_missed",
                task_name=deadline.guards,
                data={
                    "timer": deadline.timer,
                    "label": deadline.label,
                    "due": deadline.due_at.isoformat(),
                },
                at=now,
            )
        elif task_id not in waiting_ids:
            deadline.state, deadline.met_at = "met", now

    # A deadline missed earlier is met (late) once the step it guards has finished: a user
    # task, or a sub-process such as the rectification.
    for deadline in deadline_rows:
        unmet = deadline.state == "missed" and deadline.met_at is None
        if unmet and deadline.task_id is not None and instance.step_finished(deadline.task_id):
            deadline.met_at = now

    # A task is due when the earliest deadline guarding it (met or not) is.
    for row in rows_by_name.values():
        dues = [d.due_at for d in deadline_rows if d.task_id == row.id]
        row.due_at = min(dues) if dues else None
    _insert_tasks(opened)
    stored_tasks.write_changes()
    stored_deadlines.write_changes()
    _insert_deadlines(new_deadlines)

    # Case facts shown in lists.
    case.stage = "、".join(sorted({t.label for t in ready})) or (
        "已办结" if instance.completed else ""
    )

    # Signals caught (e.g. a simplified determination withdrawn or superseded because an
    # amendment turned the fire to the general procedure) join the case's timeline.
    for bpmn_id, label in result.milestones:
        append_event(case.id, "process_milestone", task_name=bpmn_id, data={"label": label}, at=now)

    # After the stage is known: the notification names it.
    for escalation in result.escalations:
        missed = next(
            (d for d in deadline_rows if d.timer_task_id == escalation.timer_task_id), None
        )
        agency_id = missed.agency_id if missed is not None else None
        agency = db.session.get(Agency, agency_id) if agency_id is not None else None
        targets = escalation_targets(agency.code, case.district) if agency else []
        append_event(
            case.id,
            "escalation",
            data={"code": escalation.code, "name": escalation.name, "targets": targets},
            at=now,
        )
        notify_escalation(case, escalation.name, missed, now)

    filed = data.get("file_case")
    if isinstance(filed, dict) and filed.get("case_no"):
        case.case_no = filed["case_no"]
    if instance.completed and case.status != "closed":
        case.status, case.closed_at = "closed", now
        append_event(case.id, "case_closed", actor=actor, at=now)
    return Synced(opened, deadline_rows)


def _mark_completed(row: Task, actor: User | None, now: datetime) -> None:
    """Record a task row as completed. A stored row is updated by one Core statement that
    also requires it still ready (a completion that got past every earlier check but lost the
    race: Conflict), and the object takes the values as committed (nothing left for the unit of
    work); a row inserted in this transaction (a registration) just takes them."""
    values = {
        "state": "completed",
        "completed_at": now,
        "completed_by_id": actor.id if actor is not None else None,
    }
    if not sa_inspect(row).persistent:
        for key, value in values.items():
            setattr(row, key, value)
        return
    done = db.session.connection().execute(
        _MARK_COMPLETED,
        {"row_id": row.id, "at": values["completed_at"], "by": values["completed_by_id"]},
    )
    if done.rowcount != 1:
        raise Conflict("该任务已办结")
    for key, value in values.items():
        set_committed_value(row, key, value)


def _insert_tasks(rows: Sequence[Task]) -> None:
    """Insert new task rows in one Core statement (the unit of work would track each object
    through the flush; nothing reads them back in this transaction but the caller's answer).
    The rows stay transient objects holding what was written; the session never holds them,
    a later query loads them as stored."""
    if rows:
        values = [{key: getattr(row, key) for key in _TASK_COLUMNS} for row in rows]
        db.session.connection().execute(_INSERT_TASKS, values)


def _insert_deadlines(rows: Sequence[Deadline]) -> None:
    """Insert new deadline rows by Core statements; each object takes its new id (the answer
    to a completion names them). The session never holds them."""
    connection = db.session.connection()
    for row in rows:
        values = {key: getattr(row, key) for key in _DEADLINE_COLUMNS if key != "id"}
        values["provisional"] = bool(values["provisional"])
        inserted = connection.execute(_INSERT_DEADLINE, values)
        row.id = inserted.scalar_one()


def _reroute(
    case: Case, row: Task, agency_id: int, deadline_rows: list[Deadline], now: datetime
) -> None:
    """Give an open task to the agency its lane now resolves to (a re-graded fire: e.g. a county
    investigation that became a city one moves to the detachment), with its pending deadlines;
    a claim by the previous agency's officer lapses."""
    if row.agency_id == agency_id:
        return
    previous = row.agency_id
    row.agency_id, row.claimed_by_id, row.claimed_at = agency_id, None, None
    for deadline in deadline_rows:
        if deadline.task_id == row.id and deadline.state == "pending":
            deadline.agency_id = agency_id
    before = db.session.get(Agency, previous) if previous is not None else None
    after = db.session.get(Agency, agency_id)
    append_event(
        case.id,
        "task_rerouted",
        task_name=row.name,
        data={
            "label": row.label,
            "from": before.code if before else None,
            "to": after.code if after else None,
        },
        at=now,
    )


def _responsible_agency(
    case: Case,
    instance: Instance,
    guards: str | None,
    rows: Mapping[str, Task],
    agencies: _Agencies,
) -> int | None:
    """The agency answerable for a deadline: the one working the task it guards."""
    if guards is None:
        return None
    if guards in rows:
        return rows[guards].agency_id
    lane = instance.process.lanes.get(guards)
    return agencies.of_lane(case, lane, instance.data) if lane else None


# --- operations ---------------------------------------------------------------------------


_START_TASKS: dict[tuple[str, str], tuple[str, str]] = {}


def _start_task(process_id: str) -> tuple[str, str]:
    """(BPMN id, lane) of the first user task of the current version of a process."""
    engine = get_engine()
    key = (process_id, engine.catalog.latest(process_id).version)
    if key not in _START_TASKS:
        first = engine.start(process_id, {"discoverer_agency": "", "district": ""}).ready_tasks()[0]
        _START_TASKS[key] = (first.name, first.lane)
    return _START_TASKS[key]


def start_form(process_id: str) -> str:
    """The BPMN id of the first user task of a process (its form is the start form)."""
    return _start_task(process_id)[0]


def may_start_in(user: User, process_id: str, district: str | None) -> bool:
    """Whether ``user`` may open a case of the process (in ``district``, when given).

    The first task's lane decides: the discoverer lane is open to officers of agencies that
    discover hazards, any other lane to the agency it resolves to (a brigade in its own
    division) or the city-level agency of that line (:func:`workflows.lanes.may_start`).
    """
    if not user.has_role("officer") or process_id in SYSTEM_STARTED:
        return False
    lane = _start_task(process_id)[1]
    if lane == "discoverer":
        return bool(user.agency.can_discover)
    where = district or (CITY if user.agency.is_city_level else user.agency.division)
    return may_start(lane, user.agency.code, where, {})


def startable_processes(user: User) -> list[str]:
    """The process ids ``user`` may open cases of, in catalogue order."""
    return [pid for pid in get_engine().catalog.process_ids() if may_start_in(user, pid, None)]


def _check_registration(user: User, process_id: str, data: Mapping[str, Any]) -> str | None:
    """Check that ``user`` may register ``data`` as a case of ``process_id``; its district.

    :raises Forbidden: when the user's agency may not open cases of the process.
    :raises FormInvalid: with field errors.
    """
    if process_id not in get_engine().catalog.process_ids():
        raise FormInvalid("未知的流程", {"process": "未知的流程"})
    if not may_start_in(user, process_id, None):
        raise Forbidden("本单位无权登记此类案件")
    form = start_form(process_id)
    errors = validate_form(form, data, today=today_shanghai(), options=form_options())
    district = data.get("district") if isinstance(data, Mapping) else None
    if not errors and not user.agency.is_city_level and district != user.agency.division:
        errors["district"] = "只能登记本辖区内的案件"
    if errors:
        raise FormInvalid("表单有误，请按提示修改", errors)
    return district


def preview_registration(user: User, process_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The decisions a registration would record (the GB 35181 judgement of a hazard with its
    edition; the grading of a fire), without opening a case: the process runs its registration
    in memory, exactly as :func:`start_case` would, and nothing is written.

    :raises Forbidden: when the user's agency may not open cases of the process.
    :raises FormInvalid: with field errors.
    """
    from server.admin.legal_settings import effective_settings  # it imports this module

    district = _check_registration(user, process_id, data)
    case = {"discoverer_agency": user.agency.code, "district": district}
    instance = get_engine().start(process_id, case, effective_settings())
    instance.complete(instance.ready_tasks()[0].id, dict(data))
    return _decisions(instance)


def _classification(data: Mapping[str, Any]) -> dict[str, Any]:
    """The campaign area and responsible department columns of a registration (validated
    already: the department is one of the industry agencies offered)."""
    area = data.get("campaign_area")
    department = data.get("responsible_department")
    department_id = None
    if isinstance(department, str) and department:
        department_id = db.session.scalar(
            select(Agency.id).where(Agency.code == department, Agency.kind == "industry")
        )
    return {
        "campaign_area": area if isinstance(area, str) and area else None,
        "responsible_department_id": department_id,
    }


def add_case(instance: Instance, now: datetime, **facts: Any) -> Case:
    """Add the row of a case just started (``facts``: its district, unit, address, agencies …)
    and give it its 督办编号 ``DB<year>-<id>``, which needs the id: inside a transaction."""
    case = Case(
        number=f"p-{uuid.uuid4().hex}",  # replaced once the id is known
        process_id=instance.process_id,
        process_version=instance.version,
        state=b"",
        status="open",
        opened_at=now,
        **facts,
    )
    db.session.add(case)
    db.session.flush()
    case.number = f"DB{now.astimezone(SHANGHAI).year}-{case.id:06d}"
    return case


def start_case(
    user: User, process_id: str, data: Mapping[str, Any], uploads: Sequence[Upload] = ()
) -> Case:
    """Open a case: start the process and complete its registration with ``data``.

    :param uploads: photos and scans sent with the registration (checked by
        :func:`server.attachments.check_form_uploads`), attached in the same transaction.

    :raises Forbidden: when the user's agency may not open cases of the process.
    :raises FormInvalid: with field errors.
    """
    from server.admin.legal_settings import effective_settings  # it imports this module

    engine = get_engine()
    district = _check_registration(user, process_id, data)
    with _transaction(keep_loaded=True):
        now = datetime.now(UTC)
        settings = effective_settings()
        instance = engine.start(
            process_id, {"discoverer_agency": user.agency.code, "district": district}, settings
        )
        first = instance.ready_tasks()[0]
        case = add_case(
            instance,
            now,
            district=str(district),
            unit_name=str(data.get("unit_name", "")),
            address=str(data.get("address", "")),
            discoverer_agency_id=user.agency_id,
            opened_by_id=user.id,
            **_classification(data),
        )
        append_event(case.id, "case_opened", actor=user, data={"process": process_id,
                     "version": instance.version, "number": case.number,
                     "settings": settings}, at=now)  # fmt: skip
        registration = Task(
            id=first.id,
            case_id=case.id,
            name=first.name,
            label=first.label,
            lane=first.lane,
            agency_id=user.agency_id,
            state="ready",
            created_at=now,
        )
        db.session.add(registration)
        result = instance.complete(first.id, dict(data))
        append_event(
            case.id,
            "task_completed",
            actor=user,
            task_name=first.name,
            data={"label": first.label, "form": dict(data), "result": _decisions(instance)},
            at=now,
        )
        sync_case(case, instance, result, actor=user, completed=registration, now=now)
        _attach(user, case, uploads, now, registration)
    return case


#: Outputs of the processes' decision tables, recorded with the registration that led to them.
DECISION_OUTPUTS = (
    "judgement_major",
    "judgement_basis",
    "judgement_edition",
    "judgement_applicable_edition",
    "judgement_superseded",
    *(name for name in fire_grading.DECISION_OUTPUTS if name != "fire_level_rank"),
)


def _decisions(instance: Instance) -> dict[str, Any]:
    data = instance.data
    return {k: data[k] for k in DECISION_OUTPUTS if k in data}


def _check_officer_of(user: User, task: Task) -> None:
    # Callers find tasks through server.scoping; this guards against a caller that did not.
    if not user.has_role("officer") or task.agency_id != user.agency_id:
        raise Forbidden("该任务不属于本单位")


def _lock_ready_task(task: Task) -> None:
    """Lock the task's case and read the task again: a request ahead of us may have completed
    or claimed it meanwhile.

    :raises Conflict: when it is no longer ready.
    """
    lock_case(task.case_id)
    db.session.refresh(task)
    if task.state != "ready":
        raise Conflict("该任务已办结")


def claim_task(user: User, task: Task) -> None:
    """Take a ready task so that colleagues see who works on it."""
    _check_officer_of(user, task)
    if task.state != "ready":
        raise Conflict("该任务已办结")
    if task.claimed_by_id not in (None, user.id):
        raise Conflict(f"该任务已由{task.claimed_by.name if task.claimed_by else '他人'}认领")
    if task.claimed_by_id == user.id:
        return  # already the user's: claiming again (a double click, a retry) changes nothing
    with _transaction():
        _lock_ready_task(task)
        if task.claimed_by_id is not None:  # a colleague was quicker
            raise Conflict(f"该任务已由{task.claimed_by.name if task.claimed_by else '他人'}认领")
        task.claimed_by_id, task.claimed_at = user.id, datetime.now(UTC)
        append_event(task.case_id, "task_claimed", actor=user, task_name=task.name)


def release_task(user: User, task: Task) -> None:
    """Give a claimed task back to the agency's pool."""
    _check_officer_of(user, task)
    if task.state != "ready":
        raise Conflict("该任务已办结")
    if task.claimed_by_id != user.id:
        raise Conflict("只能退回本人认领的任务")
    with _transaction():
        _lock_ready_task(task)
        if task.claimed_by_id != user.id:
            raise Conflict("只能退回本人认领的任务")
        task.claimed_by_id, task.claimed_at = None, None
        append_event(task.case_id, "task_released", actor=user, task_name=task.name)


#: Most tasks claimed at once (the inbox's page size is far below).
MAX_BULK_CLAIM = 100


def claim_tasks(user: User, tasks: list[Task]) -> list[Task]:
    """Claim several ready tasks of the user's agency at once, all or nothing.

    Tasks the user holds already count as claimed. The cases are locked in id order (two bulk
    claims cannot deadlock) and every task is read again under the lock.

    :raises Conflict: naming the tasks done or claimed by a colleague meanwhile; then nothing
        is claimed.
    """
    for task in tasks:
        _check_officer_of(user, task)
    refused: list[str] = []
    with _transaction():
        for case_id in sorted({t.case_id for t in tasks}):
            lock_case(case_id)
        now = datetime.now(UTC)
        for task in tasks:
            db.session.refresh(task)
            if task.state != "ready":
                refused.append(f"{task.case.number} {task.label}（已办结）")
            elif task.claimed_by_id not in (None, user.id):
                holder = task.claimed_by.name if task.claimed_by else "他人"
                refused.append(f"{task.case.number} {task.label}（已由{holder}认领）")
        if refused:
            raise Conflict("未认领任何任务：" + "；".join(refused))
        for task in tasks:
            if task.claimed_by_id is None:
                task.claimed_by_id, task.claimed_at = user.id, now
                append_event(task.case_id, "task_claimed", actor=user, task_name=task.name)
    return tasks


def reassign_task(user: User, task: Task, colleague: User | None) -> None:
    """转办: hand a task the user claimed to a colleague (an active officer of the same agency),
    recorded in the case's chain and notified to the colleague.

    :raises Conflict: the task is done, or not claimed by the user (checked first).
    :raises NotFound: ``colleague`` is None or not an active officer of the user's agency.
    :raises FormInvalid: ``colleague`` is the user.
    """
    _check_officer_of(user, task)
    if task.state != "ready":
        raise Conflict("该任务已办结")
    if task.claimed_by_id != user.id:
        raise Conflict("只能转办本人认领的任务")
    if (
        colleague is None
        or colleague.agency_id != user.agency_id
        or not colleague.active
        or not colleague.has_role("officer")
    ):
        raise NotFound("未找到该同事（只能转办给本单位的办理人员）")
    if colleague.id == user.id:
        raise FormInvalid("不能转办给自己", {"to": "不能转办给自己"})
    with _transaction():
        _lock_ready_task(task)
        if task.claimed_by_id != user.id:
            raise Conflict("只能转办本人认领的任务")
        now = datetime.now(UTC)
        task.claimed_by_id, task.claimed_at = colleague.id, now
        append_event(
            task.case_id,
            "task_reassigned",
            actor=user,
            task_name=task.name,
            data={"label": task.label, "to": colleague.username, "to_name": colleague.name},
        )
        db.session.add(
            Notification(
                user_id=colleague.id,
                case_id=task.case_id,
                kind="reassigned",
                title=f"转办：{task.case.number} {task.label}",
                body=f"{user.name}把{task.case.unit_name}的“{task.label}”转给您办理。",
                created_at=now,
            )
        )


#: The longest reason for lateness (逾期原因) accepted.
LATE_REASON_MAX = 500
LATE_REASON = "late_reason"


def late_reason_error(task: Task, late_reason: Any, now: datetime) -> str | None:
    """Why ``late_reason`` does not do for completing ``task`` at ``now`` (None: it does)."""
    if late_reason is not None and not isinstance(late_reason, str):
        return "逾期原因应为文字"
    reason = (late_reason or "").strip()
    if len(reason) > LATE_REASON_MAX:
        return f"逾期原因不能超过{LATE_REASON_MAX}字"
    if not reason and task_is_overdue(task, now):
        return "本环节已超过办理期限，请填写逾期原因"
    return None


def _lateness(task: Task, late_reason: Any, now: datetime) -> dict[str, Any]:
    """What the ``task_completed`` event records of a late completion given a reason (nothing
    if on time or without a reason)."""
    if not late_reason or not task_is_overdue(task, now) or task.due_at is None:
        return {}
    days = get_engine().calendar.working_days_between(task.due_at, now)
    return {
        LATE_REASON: str(late_reason).strip(),
        "due": task.due_at.isoformat(),
        "working_days_late": days,
    }


def _attach(
    user: User, case: Case, uploads: Sequence[Upload], now: datetime, task: Task | None
) -> None:
    """Store the form's uploads and record each in the case's chain (caller's transaction)."""
    if not uploads:
        return
    from server.attachments import record_upload  # it imports this module

    for upload in uploads:
        record_upload(user, case, upload, now, task)


def complete_task(
    user: User,
    task: Task,
    data: Any,
    *,
    late_reason: Any = None,
    require_late_reason: bool = False,
    uploads: Sequence[Upload] = (),
) -> Completion:
    """Complete a ready task with form data and advance the case.

    :param late_reason: why the step is late (逾期原因), recorded in the ``task_completed``
        event with the missed due date and the working days late.
    :param require_late_reason: refuse an overdue task without ``late_reason`` (the task page
        and the API do; the demo's seeding and the test drivers replay steps without one).
    :param uploads: photos and scans sent with the form (checked by
        :func:`server.attachments.check_form_uploads`), attached in the same transaction.
    :raises Conflict: task already done, claimed by someone else, or the case changed.
    :raises FormInvalid: with field errors (nothing is changed); ``late_reason`` names a
        missing reason for lateness.
    """
    _check_officer_of(user, task)
    if task.state != "ready":
        raise Conflict("该任务已办结")
    if task.claimed_by_id not in (None, user.id):
        raise Conflict("该任务已由他人认领")
    errors = validate_form(task.name, data, today=today_shanghai(), options=form_options())
    late_error = late_reason_error(task, late_reason, datetime.now(UTC))
    if late_error and (require_late_reason or late_reason):
        errors = {**errors, LATE_REASON: late_error}
    if errors:
        raise FormInvalid("表单有误，请按提示修改", errors)
    with _transaction(keep_loaded=True):
        case = lock_case(task.case_id)
        tasks = _case_tasks(case.id)  # the task completed by a request ahead of us is seen so
        stored = tasks.read.get(task.id)
        if stored is None or stored["state"] != "ready":  # completed by a request ahead of us
            raise Conflict("该任务已办结")
        for key, value in stored.items():  # the object takes the row as stored
            set_committed_value(task, key, value)
        instance = load_instance(case)
        # Rules that read the case (the minimum numbers in force for it, an expert review's
        # conclusion): checked against the case's own data (the rest passed above); raising
        # rolls everything back.
        errors = case_rule_errors(task.name, data, today=today_shanghai(), context=instance.data)
        if errors:
            raise FormInvalid("表单有误，请按提示修改", errors)
        now = datetime.now(UTC)
        # documents (文书) of the step: numbered, rendered and stored in this transaction; the
        # form gains their numbers (server.documents imports server.attachments, which imports
        # this module)
        from server.documents import issue_documents

        data = issue_documents(
            user, case, task, instance.task_data(task.id), dict(data), now, instance
        )
        try:
            result = instance.complete(task.id, dict(data))
        except TaskNotReady as exc:
            raise Conflict("该任务已不在待办状态") from exc
        details: dict[str, Any] = {"label": task.label, "form": dict(data)}
        details.update(_lateness(task, late_reason, now))
        append_event(
            case.id, "task_completed", actor=user, task_name=task.name, data=details, at=now
        )
        synced = sync_case(case, instance, result, actor=user, completed=task, tasks=tasks, now=now)
        record_warning(case, task, dict(data), instance.data, now)
        from server.report_cases import record_report_step  # it imports this module

        record_report_step(case, task, dict(data), now)
        _attach(user, case, uploads, now, task)
        if task.id in tasks.drafted:  # drafts of the step (every officer's) are done with
            db.session.connection().execute(_DELETE_DRAFTS, {"task_id": task.id})
        agencies = _agencies_named([*synced.opened, *synced.deadlines])
    return Completion(case, synced.opened, synced.deadlines, agencies)


# --- drafts of task forms ---------------------------------------------------------------------

#: The largest draft stored (its JSON, in characters).
MAX_DRAFT_CHARS = 200_000


def save_draft(user: User, task: Task, data: Any, late_reason: Any = None) -> TaskDraft:
    """Keep an unfinished task form for ``user`` (保存草稿): not validated, replaced by the next
    save, deleted when the task is completed.

    :raises FormInvalid: when ``data`` is not an object, ``late_reason`` not text, or the draft
        too large (``data`` / ``late_reason`` named).
    :raises Conflict: when the task is no longer ready or a colleague claimed it.
    """
    _check_officer_of(user, task)
    if task.state != "ready":
        raise Conflict("该任务已办结")
    if task.claimed_by_id not in (None, user.id):
        raise Conflict("该任务已由他人认领")
    if not isinstance(data, dict):
        raise FormInvalid("草稿内容有误", {"data": "表单数据必须是由字段和值组成的对象"})
    if late_reason is not None and not isinstance(late_reason, str):
        raise FormInvalid("草稿内容有误", {LATE_REASON: "逾期原因应为文字"})
    if len(json.dumps(data, ensure_ascii=False)) > MAX_DRAFT_CHARS:
        raise FormInvalid("草稿内容过多", {"data": "草稿内容过多，无法保存"})
    with _transaction(keep_loaded=True):
        draft = db.session.get(TaskDraft, (task.id, user.id))
        if draft is None:
            draft = TaskDraft(task_id=task.id, user_id=user.id)
            db.session.add(draft)
        draft.data = dict(data)
        draft.late_reason = (late_reason or "")[:LATE_REASON_MAX] or None
        draft.saved_at = datetime.now(UTC)
    return draft


def delete_draft(user: User, task: Task) -> bool:
    """Discard ``user``'s draft of ``task``; whether there was one."""
    with _transaction():
        deleted = db.session.execute(
            delete(TaskDraft).where(TaskDraft.task_id == task.id, TaskDraft.user_id == user.id)
        )
    return bool(getattr(deleted, "rowcount", 0))


def fire_due_timers(case: Case, now: datetime | None = None) -> StepResult:
    """Fire the due timers of one case and persist (the sweep's work for a case)."""
    with _transaction():
        instance = load_instance(case)
        result = instance.fire_timers()
        for timer in result.fired_timers:
            append_event(
                case.id,
                "timer_fired",
                task_name=timer.guards,
                data={"timer": timer.timer, "label": timer.label, "due": timer.due.isoformat()},
                at=now,
            )
        sync_case(case, instance, result, actor=None, now=now)
    return result


def text_error(value: Any, label: str, limit: int) -> str | None:
    """The error of a required free text (a note, a reason) of at most ``limit`` characters,
    or None: present, not blank, not too long, no control characters."""
    if not isinstance(value, str) or not value.strip():
        return f"请填写{label}"
    if len(value) > limit:
        return f"{label}不能超过{limit}字"
    if has_forbidden_chars(value, multiline=True):
        return f"{label}含有不允许的控制字符"
    return None


FOLLOW_UP_ACTIONS = {"supervise": "督办", "urge": "催办", "interview": "约谈", "expose": "曝光"}


def record_follow_up(
    user: User, case: Case, action: Any, note: Any, now: datetime | None = None
) -> list[str]:
    """A supervisor's follow-up on a case (督办, 催办, 约谈, 曝光): it joins the case timeline
    and notifies the agencies answerable for the late steps and their supervisors
    (:func:`server.notifications.notify_follow_up`).

    :raises Forbidden: for users who are not supervisors.
    :raises FormInvalid: for an unknown action or an empty / overlong note.
    :returns: the names of the agencies notified.
    """
    if not user.has_role("supervisor"):
        raise Forbidden("只有督办人可以记录督办措施")
    if case.status != "open":
        raise Conflict("案件已办结，不能再记录督办措施")
    fields = {}
    if not isinstance(action, str) or action not in FOLLOW_UP_ACTIONS:
        fields["action"] = "请选择督办、催办、约谈或曝光"
    if error := text_error(note, "督办情况", 2000):
        fields["note"] = error
    if fields:
        raise FormInvalid("表单有误，请按提示修改", fields)
    now = now or datetime.now(UTC)
    with _transaction():
        if lock_case(case.id).status != "open":  # closed meanwhile
            raise Conflict("案件已办结，不能再记录督办措施")
        label = FOLLOW_UP_ACTIONS[action]
        _sent, agencies = notify_follow_up(case, label, action, note.strip(), user, now)
        append_event(
            case.id,
            "follow_up",
            actor=user,
            data={"action": action, "label": label, "note": note.strip(), "notified": agencies},
            at=now,
        )
    return agencies


#: The process whose cases carry a campaign area (专项整治领域) and a responsible department.
CLASSIFIED_PROCESS = "major_hazard"


def reclassify_case(
    user: User, case: Case, area: Any, department: Any, reason: Any, now: datetime | None = None
) -> bool:
    """A supervisor corrects a hazard's campaign area and responsible industry department
    (行业主管部门), which the 两个清单 and the monthly table group by: e.g. a case the
    classification migration put under 其他. Recorded on the case's chain as
    ``case_reclassified`` with the old and new values and the reason.

    :param department: an industry agency's code, or "" for none.
    :raises Forbidden: for users who are not supervisors.
    :raises Conflict: for a case that is not a hazard case.
    :raises FormInvalid: naming ``campaign_area``, ``responsible_department`` or ``reason``.
    :returns: False when nothing changed (nothing is written).
    """
    from workflows import campaign_areas

    if not user.has_role("supervisor"):
        raise Forbidden("只有督办人可以修改隐患分类")
    if case.process_id != CLASSIFIED_PROCESS:
        raise Conflict("只有火灾隐患案件有专项整治领域分类")
    fields: dict[str, str] = {}
    if not isinstance(area, str) or area not in dict(campaign_areas.options()):
        fields["campaign_area"] = "请从列表中选择专项整治领域"
    department_id = None
    if not isinstance(department, str):
        fields["responsible_department"] = "请从列表中选择行业主管部门"
    elif department:
        department_id = db.session.scalar(
            select(Agency.id).where(Agency.code == department, Agency.kind == "industry")
        )
        if department_id is None:
            fields["responsible_department"] = "请从列表中选择行业主管部门"
    if error := text_error(reason, "修改原因", 500):
        fields["reason"] = error
    if fields:
        raise FormInvalid("表单有误，请按提示修改", fields)
    now = now or datetime.now(UTC)
    with _transaction():
        locked = lock_case(case.id)
        before = {
            "campaign_area": locked.campaign_area,
            "responsible_department": _agency_code(locked.responsible_department_id),
        }
        after = {"campaign_area": area, "responsible_department": department or None}
        if before == after:
            return False
        locked.campaign_area = area
        locked.responsible_department_id = department_id
        append_event(
            case.id,
            "case_reclassified",
            actor=user,
            data={"from": before, "to": after, "reason": str(reason).strip()},
            at=now,
        )
    return True


def _agency_code(agency_id: int | None) -> str | None:
    if agency_id is None:
        return None
    return db.session.scalar(select(Agency.code).where(Agency.id == agency_id))


def save_calendar_year(user: User, year: int, entry_data: Mapping[str, Any]) -> dict[str, int]:
    """Store an administrator year, then recount the provisional deadlines of open cases.

    :param entry_data: ``{"holidays": [...], "workdays": [...]}`` as ISO dates.
    :raises FormInvalid: when the dates do not make a valid year.
    :returns: how many cases and deadlines were recomputed.
    """
    from server.engine import refresh_calendar
    from server.models import CalendarYear
    from workflows.calendar import parse_year_entry

    if not user.has_role("admin"):
        raise Forbidden("只有管理员可以维护节假日")
    try:
        entry = parse_year_entry(entry_data, year=year)
    except ValueError as exc:
        raise FormInvalid(str(exc), {"calendar": str(exc)}) from exc
    with _transaction():
        row = db.session.get(CalendarYear, year)
        previous = {"holidays": row.holidays, "workdays": row.workdays} if row else None
        if row is None:
            row = CalendarYear(year=year)
            db.session.add(row)
        row.holidays = sorted(d.isoformat() for d in entry.holidays)
        row.workdays = sorted(d.isoformat() for d in entry.workdays)
        row.updated_at = datetime.now(UTC)
        row.updated_by_id = user.id
        append_event(
            None,
            "calendar_changed",
            actor=user,
            data={"year": year, "holidays": row.holidays, "workdays": row.workdays,
                  "previous": previous},
        )  # fmt: skip
    refresh_calendar()
    return recompute_provisional_deadlines(user)


def _pending_provisional(due_before: datetime | None = None) -> Any:
    query = (
        select(Deadline.case_id)
        .join(Case, Deadline.case_id == Case.id)
        .where(Deadline.state == "pending", Deadline.provisional.is_(True), Case.status == "open")
    )
    return query if due_before is None else query.where(Deadline.due_at < due_before)


def recompute_provisional_deadlines(
    user: User | None = None, due_before: datetime | None = None
) -> dict[str, int]:
    """Recount the pending provisional deadlines of open cases with the current calendar.

    :param due_before: only the cases with such a deadline due before this moment.
    """
    case_ids = db.session.scalars(_pending_provisional(due_before).group_by(Deadline.case_id)).all()
    cases = changed = failed = 0
    for case_id in case_ids:
        case = db.session.get(Case, case_id)
        if case is None:
            continue
        try:
            changes = _recompute_case(case, user)
        except Conflict:
            failed += 1  # marked for attention (or changed meanwhile); the others go on
            continue
        cases += 1 if changes else 0
        changed += changes
    return {"cases": cases, "deadlines": changed, "failed": failed}


def recompute_outdated_provisional_deadlines() -> dict[str, int] | None:
    """Recount the provisional deadlines whose years have got the State Council's schedule
    other than through :func:`save_calendar_year` — an upgrade of the ``chinese-calendar``
    package that brings the year (or an entry made by another server meanwhile).

    A provisional deadline examined a year without a schedule, and the days it examined all
    precede its due date. So once every year up to the due date has a schedule the deadline is
    outdated: one indexed query finds those, due before the first year still without one from
    last year on. None when there are none (the usual case: the sweep calls this every tick).
    """
    calendar = get_engine().calendar
    year = today_shanghai().year - 1
    while year < 9999 and calendar.has_data(year):
        year += 1
    first_unscheduled = datetime(year, 1, 1, tzinfo=SHANGHAI)
    if db.session.scalar(_pending_provisional(first_unscheduled).limit(1)) is None:
        return None
    result = recompute_provisional_deadlines(None, due_before=first_unscheduled)
    log.info("provisional deadlines due before %s recomputed: %s", year, result)
    return result


def _recompute_case(case: Case, user: User | None) -> int:
    """Recount one case's provisional deadlines; returns how many changed."""
    with _transaction():
        instance = load_instance(case)
        changes = instance.recompute_provisional()
        if changes:
            append_event(
                case.id,
                "deadlines_recomputed",
                actor=user,
                data={
                    "changes": [
                        {
                            "label": after.label,
                            "before": before.due.isoformat(),
                            "after": after.due.isoformat(),
                            "provisional": after.provisional,
                        }
                        for before, after in changes
                    ]
                },
            )
            sync_case(case, instance, StepResult(), actor=user)
    return len(changes)
