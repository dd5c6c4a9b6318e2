"""The one definition of "overdue" (逾期), used by every list, the API, the dashboard and the
dossier (docs/overdue.md).

A statutory **deadline** is in exactly one of these states at a moment ``now``:

- ``pending`` (未到期): its timer waits and ``now`` is before its due time;
- ``overdue`` (逾期未办): its case is open and the step it guards is not done although the
  deadline has passed — the timer fired (state ``missed``, ``met_at`` empty) or is past due and
  the sweep has not fired it yet (state ``pending``, ``due_at < now``);
- ``met`` (按期办结): the step was done in time (state ``met``, ``met_at <= due_at``);
- ``met_late`` (逾期后办结): the step was done after the deadline (state ``missed`` with
  ``met_at``, or — when the sweep had not fired the timer yet — state ``met`` with
  ``met_at > due_at``): history, nobody needs pressing;
- ``lapsed`` (逾期未办，案件已办结): missed, never met, and the case is closed (e.g. another
  branch ended it): history, not a present duty.

A **case** is overdue when one of its deadlines is; a **task** (an inbox row) is overdue when a
deadline guarding it is. Closed cases are therefore never overdue. The SQL clauses below and
:func:`deadline_status` are the two faces of the same rule; tests/integration/
test_one_overdue.py checks that the case list, the inbox, the API, the dashboard and the dossier
agree on the same data.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select

from server.extensions import db
from server.models import Case, Deadline, Task

PENDING, OVERDUE, MET, MET_LATE, LAPSED = "pending", "overdue", "met", "met_late", "lapsed"

#: Chinese names of the states (the dossier and the case page use them).
STATUS_LABELS = {
    PENDING: "未到期",
    OVERDUE: "逾期未办",
    MET: "按期办结",
    MET_LATE: "逾期后办结",
    LAPSED: "逾期未办，案件已办结",
}


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def deadline_status(
    state: str,
    due_at: datetime | None,
    met_at: datetime | None,
    case_open: bool,
    now: datetime,
) -> str:
    """The state of one deadline at ``now`` (one of the constants above)."""
    due, met = _aware(due_at), _aware(met_at)
    if state == "met":
        # met after its time: the sweep had not fired the timer yet when the step was done
        return MET_LATE if met is not None and due is not None and met > due else MET
    if state == "missed" and met is not None:
        return MET_LATE
    late = state == "missed" or (state == "pending" and due is not None and due < _aware(now))  # type: ignore[operator]
    if not late:
        return PENDING
    return OVERDUE if case_open else LAPSED


def is_overdue(deadline: Deadline, now: datetime, case_open: bool | None = None) -> bool:
    """Whether ``deadline`` is overdue at ``now`` (its case read unless ``case_open`` given)."""
    if case_open is None:
        case_open = deadline.case.status == "open"
    return (
        deadline_status(deadline.state, deadline.due_at, deadline.met_at, case_open, now) == OVERDUE
    )


def _late(now: datetime) -> ColumnElement[bool]:
    """Deadline rows past their time and not met (regardless of the case's status)."""
    return or_(
        and_(Deadline.state == "missed", Deadline.met_at.is_(None)),
        and_(Deadline.state == "pending", Deadline.due_at < now),
    )


def deadline_clause(now: datetime) -> ColumnElement[bool]:
    """WHERE clause on ``Deadline`` selecting the overdue ones; the query must join ``Case``."""
    return and_(Case.status == "open", _late(now))


def case_clause(now: datetime) -> ColumnElement[bool]:
    """WHERE clause on ``Case``: the case has an overdue deadline."""
    return and_(
        Case.status == "open",
        exists().where(Deadline.case_id == Case.id, _late(now)),
    )


def task_clause(now: datetime) -> ColumnElement[bool]:
    """WHERE clause on ``Task``: a ready task guarded by an overdue deadline; the query must
    join ``Case``.

    A ready task's step is not done, so every deadline guarding it is unmet and its ``due_at``
    is the earliest of their due times (:mod:`server.operations` keeps it so): the clause
    reads the task's ``due_at`` (the inbox index) and its case's status.
    test_one_overdue.py checks this against :func:`deadline_clause`.
    """
    return and_(
        Task.state == "ready", Task.due_at.is_not(None), Task.due_at < now, Case.status == "open"
    )


def _late_at(moment: datetime) -> ColumnElement[bool]:
    """Deadline rows that were past their time and not met at ``moment`` (a past moment), read
    from the recorded times: due before ``moment`` and not met by then (``met_at`` empty or
    later). At ``moment = now`` this is :func:`_late` (a ``met`` row always has ``met_at <=
    now``; a ``missed`` row with ``met_at`` is met). A row has no creation time: a deadline
    guarding a user task created at or after ``moment`` did not exist yet and is left out;
    one guarding a sub-process (the rectification) is taken to exist since its case did.
    """
    created_later = exists().where(Task.id == Deadline.task_id, Task.created_at >= moment)
    return and_(
        Deadline.due_at < moment,
        or_(Deadline.met_at.is_(None), Deadline.met_at >= moment),
        ~created_later,
    )


def case_clause_at(moment: datetime) -> ColumnElement[bool]:
    """WHERE clause on ``Case``: the case was overdue at ``moment`` — the rule of
    :func:`case_clause` evaluated as at a past moment (the monthly report's "overdue at the
    period's end", server/report_figures.py): opened before ``moment``, not closed by then, and
    one of its deadlines late then."""
    return and_(
        Case.opened_at < moment,
        or_(Case.closed_at.is_(None), Case.closed_at >= moment),
        exists().where(Deadline.case_id == Case.id, _late_at(moment)),
    )


def overdue_case_ids(case_ids: Iterable[int], now: datetime | None = None) -> set[int]:
    """Those of ``case_ids`` that are overdue (one query)."""
    ids = list(set(case_ids))
    if not ids:
        return set()
    now = now or datetime.now(UTC)
    return set(db.session.scalars(select(Case.id).where(Case.id.in_(ids), case_clause(now))))


def task_is_overdue(task: Any, now: datetime | None = None) -> bool:
    """Whether a Task row (its case loaded) is overdue at ``now``: :func:`task_clause` in Python
    (completing it then asks for a reason for lateness)."""
    now = now or datetime.now(UTC)
    due = _aware(task.due_at)
    return task.state == "ready" and due is not None and due < now and task.case.status == "open"


def task_columns_overdue(
    state: str, due_at: datetime | None, case_status: str, now: datetime
) -> bool:
    """:func:`task_is_overdue` from the columns of a task and its case (a plain row of the
    inbox, :func:`server.queries.inbox_rows`)."""
    due = _aware(due_at)
    return state == "ready" and due is not None and due < now and case_status == "open"


def overdue_task_ids(tasks: Iterable[Any], now: datetime) -> set[str]:
    """Ids of those ``tasks`` (Task rows, their case loaded) that are overdue at ``now``."""
    return {task.id for task in tasks if task_is_overdue(task, now)}
