"""Computing one deadline outside any workflow (behind ``flask --app server deadline``)."""

from __future__ import annotations

from typing import Any

from workflows.calendar import WorkingCalendar, parse_moment


def compute_deadline(
    start: str, n: int, *, calendar_days: bool = False, calendar: WorkingCalendar | None = None
) -> dict[str, Any]:
    """Return the deadline ``n`` working (or calendar) days after ``start`` as a JSON-ready dict.

    :param start: a date ``YYYY-MM-DD`` or an ISO datetime.
    :param n: the number of days, at least 1.
    :param calendar_days: count calendar days (rolled off rest days) instead of working days.
    :param calendar: the calendar with administrator entries; statutory data only if omitted.
    :raises ValueError: on a bad start or n.
    """
    calendar = calendar or WorkingCalendar()
    moment = parse_moment(start)
    if calendar_days:
        deadline = calendar.calendar_days_after(moment, n)
    else:
        deadline = calendar.working_days_after(moment, n)
    unit = "日" if calendar_days else "个工作日"
    return {
        "start": moment.date().isoformat(),
        "days": n,
        "kind": "calendar_days" if calendar_days else "working_days",
        "label": f"{n}{unit}",
        "due": deadline.iso(),
        "provisional": deadline.provisional,
    }
