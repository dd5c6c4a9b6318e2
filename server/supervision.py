"""Supervision figures: overdue and due-soon deadlines, compliance rates, monthly trend.

Everything is read from the ``deadline`` and ``case`` tables (never from workflow states) and
filtered with :func:`server.scoping.case_filter`, so a county supervisor sees their county and
the city office sees the city.

- **overdue**: :mod:`server.overdue` (the one definition): a deadline of an open case, past and
  not met — missed and its step not done, or pending and past due (the sweep has not fired it);
- **due soon**: a pending deadline due soon (:mod:`server.due`: at most N working days left,
  an administrators' setting, default 3);
- **compliance** of a stage over a period: of the deadlines of that stage due in the period and
  already decided (met or missed), the share met on time.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased

from server.due import due_soon_clause
from server.engine import get_engine
from server.extensions import db
from server.models import Agency, Case, Deadline, User
from server.overdue import MET, MET_LATE, deadline_status
from server.overdue import deadline_clause as overdue_deadline_clause
from server.queries import in_district_and_process
from server.scoping import case_filter
from workflows.calendar import SHANGHAI
from workflows.jurisdiction import division_name


@dataclass(frozen=True)
class Filters:
    """Dashboard filters; empty values mean "all"."""

    district: str = ""
    agency: str = ""  # agency code
    process: str = ""
    start: date | None = None  # period (by due date), inclusive
    end: date | None = None


@dataclass(frozen=True)
class DeadlineRow:
    """One deadline as the supervision lists show it."""

    id: int
    case_id: int
    case_number: str
    unit_name: str
    district: str
    district_name: str
    agency_code: str
    agency_name: str
    label: str
    stage: str
    due_at: datetime
    state: str
    met_at: datetime | None
    missed_at: datetime | None
    provisional: bool
    overdue_days: int  # working days late (0 when on time or not yet due)


def _base(user: User, filters: Filters):
    agency = aliased(Agency)
    query = (
        select(Deadline, Case, agency)
        .join(Case, Deadline.case_id == Case.id)
        .outerjoin(agency, Deadline.agency_id == agency.id)
        .where(case_filter(user))
    )
    query = in_district_and_process(query, filters.district, filters.process)
    if filters.agency:
        query = query.where(agency.code == filters.agency)
    return query, agency


def _period(query, filters: Filters):
    if filters.start:
        query = query.where(Deadline.due_at >= datetime.combine(filters.start, time(), SHANGHAI))
    if filters.end:
        end = datetime.combine(filters.end + timedelta(days=1), time(), SHANGHAI)
        query = query.where(Deadline.due_at < end)
    return query


def _row(deadline: Deadline, case: Case, agency: Agency | None, now: datetime) -> DeadlineRow:
    calendar = get_engine().calendar
    late = calendar.working_days_between(deadline.due_at, deadline.met_at or now)
    return DeadlineRow(
        id=deadline.id,
        case_id=case.id,
        case_number=case.number,
        unit_name=case.unit_name,
        district=case.district,
        district_name=division_name(case.district),
        agency_code=agency.code if agency else "",
        agency_name=agency.name if agency else "—",
        label=deadline.label,
        stage=stage_of(deadline.label),
        due_at=deadline.due_at,
        state=deadline.state,
        met_at=deadline.met_at,
        missed_at=deadline.missed_at,
        provisional=deadline.provisional,
        overdue_days=late,
    )


def stage_of(label: str) -> str:
    """The stage name of a deadline label: ``函告消防救援机构 5个工作日`` → ``函告消防救援机构``."""
    return label.split(" ")[0]


def overdue(user: User, filters: Filters, now: datetime | None = None) -> list[DeadlineRow]:
    """Overdue deadlines visible to ``user``, worst (earliest due) first."""
    now = now or datetime.now(UTC)
    query, _agency = _base(user, filters)
    query = (
        _period(query, filters)
        .where(overdue_deadline_clause(now))
        .order_by(Deadline.due_at, Case.id)
    )
    return [_row(d, c, a, now) for d, c, a in db.session.execute(query)]


def due_soon(user: User, filters: Filters, now: datetime | None = None) -> list[DeadlineRow]:
    """Pending deadlines of open cases due soon (:mod:`server.due`), soonest first."""
    now = now or datetime.now(UTC)
    query, _agency = _base(user, filters)
    query = _period(query, filters).where(
        Case.status == "open", Deadline.state == "pending", due_soon_clause(Deadline.due_at, now)
    )
    return [
        _row(d, c, a, now)
        for d, c, a in db.session.execute(query.order_by(Deadline.due_at, Case.id))
    ]


def all_deadlines(user: User, filters: Filters, now: datetime | None = None) -> list[DeadlineRow]:
    """Every deadline of the period (for the CSV export of the whole table)."""
    now = now or datetime.now(UTC)
    query, _agency = _base(user, filters)
    query = _period(query, filters).order_by(Deadline.due_at, Case.id)
    return [_row(d, c, a, now) for d, c, a in db.session.execute(query)]


@dataclass(frozen=True)
class Count:
    """Overdue and due-soon counts of one group (an agency, a district or a stage)."""

    key: str
    label: str
    overdue: int
    due_soon: int


def counts(user: User, filters: Filters, by: str, now: datetime | None = None) -> list[Count]:
    """Overdue and due-soon counts grouped ``by`` "agency", "district" or "stage", most first."""
    now = now or datetime.now(UTC)
    groups: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    labels: dict[str, str] = {}
    for index, rows in enumerate((overdue(user, filters, now), due_soon(user, filters, now))):
        for row in rows:
            if by == "agency":
                key, label = row.agency_code, row.agency_name
            elif by == "district":
                key, label = row.district, row.district_name
            else:
                key, label = row.stage, row.stage
            groups[key][index] += 1
            labels[key] = label
    result = [Count(k, labels[k], v[0], v[1]) for k, v in groups.items()]
    return sorted(result, key=lambda c: (-c.overdue, -c.due_soon, c.label))


@dataclass(frozen=True)
class Compliance:
    """On-time share of one stage's decided deadlines in a period."""

    stage: str
    met: int
    missed: int
    #: of ``missed``, the deadlines whose step was done after all (逾期后办结)
    met_late: int = 0

    @property
    def total(self) -> int:
        """Decided deadlines."""
        return self.met + self.missed

    @property
    def rate(self) -> float | None:
        """Share met on time (None without decided deadlines)."""
        return self.met / self.total if self.total else None


def compliance(user: User, filters: Filters) -> list[Compliance]:
    """Per stage: deadlines due in the period that were met on time vs missed."""
    query, _agency = _base(user, filters)
    query = _period(query, filters).where(Deadline.state.in_(("met", "missed")))
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    now = datetime.now(UTC)
    for deadline, case, _a in db.session.execute(query):
        status = deadline_status(
            deadline.state, deadline.due_at, deadline.met_at, case.status == "open", now
        )
        counts = tally[stage_of(deadline.label)]
        counts[0 if status == MET else 1] += 1
        counts[2] += status == MET_LATE
    return sorted(
        (Compliance(s, m, x, late) for s, (m, x, late) in tally.items()), key=lambda c: c.stage
    )


def _month_range(present: list[str]) -> list[str]:
    """Every month from the first to the last present one (no gaps on the chart's axis)."""
    if not present:
        return []
    year, month = map(int, present[0].split("-"))
    last = tuple(map(int, present[-1].split("-")))
    months = []
    while (year, month) <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def monthly_trend(user: User, filters: Filters, months: int = 12) -> list[dict[str, Any]]:
    """Per month (by due date, Asia/Shanghai): deadlines met on time, missed, still pending."""
    query, _agency = _base(user, filters)
    query = _period(query, filters)
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for deadline, _case, _a in db.session.execute(query):
        month = deadline.due_at.astimezone(SHANGHAI).strftime("%Y-%m")
        index = {"met": 0, "missed": 1}.get(deadline.state, 2)
        tally[month][index] += 1
    keys = _month_range(sorted(tally))[-months:]
    return [
        {"month": k, "met": tally[k][0], "missed": tally[k][1], "pending": tally[k][2]}
        for k in keys
    ]
