"""Due soon: the one definition of a deadline or task that is about to fall due.

A due date is **due soon** when it has not passed and at most N working days of the engine's
calendar remain before it (the working days d with today < d <= the due date: a date due
today has 0 left, one due on the next working day 1). N is the administrators' application
setting ``due_soon_working_days`` (default 3, ``server/app_settings.json``). The inbox badges,
the supervision dashboard and the API's ``due_soon`` flag all ask this module.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_

from server import app_settings
from server.engine import get_engine
from workflows.calendar import WorkingCalendar

SETTING = "due_soon_working_days"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def due_soon_days() -> int:
    """N: how many working days before a due date it counts as due soon."""
    return int(app_settings.value(SETTING))


def working_days_left(due: datetime, now: datetime) -> int:
    """Working days left before ``due`` (0 when due today or already past)."""
    return get_engine().calendar.working_days_between(_aware(now), _aware(due))


def working_days_overdue(due: datetime, now: datetime) -> int:
    """Working days ``due`` is overdue at ``now`` (0 when not past, or past only today)."""
    return get_engine().calendar.working_days_between(_aware(due), _aware(now))


def due_soon_before(now: datetime) -> datetime:
    """The first moment that is no longer due soon at ``now``: the start (Asia/Shanghai) of
    the (N+1)-th working day after today. A due date before it has at most N working days left.
    """
    calendar = get_engine().calendar
    first_not_soon = calendar.working_days_after(_aware(now), due_soon_days() + 1).due
    return first_not_soon.replace(hour=0, minute=0, second=0, microsecond=0)


def is_due_soon(
    due: datetime | None, now: datetime, calendar: WorkingCalendar | None = None
) -> bool:
    """Whether ``due`` is due soon at ``now`` (False without a due date or once it passed).

    :param calendar: the working calendar to count with (the engine's by default).
    """
    if due is None:
        return False
    due, now = _aware(due), _aware(now)
    calendar = calendar or get_engine().calendar
    return now <= due and calendar.working_days_between(now, due) <= due_soon_days()


def due_soon_clause(column: Any, now: datetime) -> Any:
    """A SQL condition on a due-date ``column``: due soon at ``now``."""
    now = _aware(now)
    return and_(column >= now, column < due_soon_before(now))
