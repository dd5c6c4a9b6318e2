"""The demo's messages as people would have left them: supervisors' rounds and read messages.

The back-dated timeline (:mod:`server.demo_timeline`) already sends every escalation when its
deadline was missed (the sweep's tick after the due time). Two things complete the picture:

- **Supervisors' rounds** (:func:`plan_rounds`): every county supervisor looks at the county's
  overdue deadlines on a few working mornings and urges (催办) the case that has been late the
  longest and was not urged in the past week — a follow-up recorded on the case and sent to the
  late agency, as the one-click 催办 of the dashboard does.
- **Read messages** (:func:`read_acted_messages`): a message about a step that has since been
  done (or a case since closed) was read by its recipient, on the first working hours after it
  arrived and before the step was done; messages about steps still waiting stay unread, so the
  header's count tells the officers what is still theirs to do. No e-mail is involved: the demo
  users have no address.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, time, timedelta
from functools import partial

from sqlalchemy import select

from server.demo_timeline import DAY_START, Timeline
from server.extensions import db
from server.models import Case, Event, Notification, Task, User
from server.notifications import stage_label
from server.operations import record_follow_up
from server.supervision import Filters, overdue
from workflows.calendar import SHANGHAI

#: The working days (before today) of the supervisors' rounds.
ROUND_DAYS = (17, 12, 7, 2)
#: A case urged less than this many days ago is not urged again on a round.
QUIET = timedelta(days=7)
#: A deadline must be at least this many working days late before a round urges it.
MIN_LATE = 2


def plan_rounds(timeline: Timeline, districts: list[str]) -> None:
    """Put the county supervisors' rounds of ``districts`` on the timeline."""
    for n, district in enumerate(districts):
        for ago in ROUND_DAYS:
            day = timeline.workday(ago)
            # a morning moment: 09:00 to 10:30, different per county
            minute = 9 * 60 + (n * 23 + ago * 7) % 90
            at = timeline.not_future(
                datetime.combine(day, time(minute // 60, minute % 60), SHANGHAI)
            )
            timeline.add(at, partial(_round, district, at), f"round {district}")


def _round(district: str, at: datetime) -> None:
    """One supervisor's round at ``at``: urge the longest-late case not urged this week."""
    supervisor = db.session.scalar(select(User).where(User.username == f"{district}.supervisor"))
    if supervisor is None:
        return
    for row in overdue(supervisor, Filters(), at):
        if row.overdue_days < MIN_LATE:
            continue
        urged = db.session.scalar(
            select(Event.id).where(
                Event.case_id == row.case_id,
                Event.kind == "follow_up",
                Event.at > at - QUIET,
            )
        )
        if urged is not None:
            continue
        case = db.session.get(Case, row.case_id)
        assert case is not None
        note = (
            f"“{stage_label(row.label)}”已逾期{row.overdue_days}个工作日，"
            f"请{row.agency_name}于两个工作日内办结，办结后及时报告办理情况。"
        )
        record_follow_up(supervisor, case, "urge", note, at)
        return


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def first_working_moment(timeline: Timeline, arrived: datetime, key: int) -> datetime:
    """When a message that ``arrived`` is first seen: within the hour in working hours, else
    on the next working morning (08:30 to 10:00), chosen by ``key``."""
    local = _aware(arrived).astimezone(SHANGHAI)
    calendar = timeline.calendar
    start, end = time(DAY_START // 60, DAY_START % 60), time(17, 30)
    if calendar.is_working_day(local.date()) and start <= local.time() < end:
        return local + timedelta(minutes=10 + key % 50)
    day = local.date() if local.time() < start else local.date() + timedelta(days=1)
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    minute = DAY_START + key * 37 % 90
    return datetime.combine(day, time(minute // 60, minute % 60), SHANGHAI)


def read_acted_messages(timeline: Timeline) -> int:
    """Mark read the messages about steps since done or cases since closed; returns how many."""
    unread = list(db.session.scalars(select(Notification).where(Notification.read_at.is_(None))))
    # the messages of one event (one escalation, one follow-up) share their case and moment
    events: dict[tuple[int | None, datetime], list[Notification]] = defaultdict(list)
    for notification in unread:
        events[(notification.case_id, _aware(notification.created_at))].append(notification)
    latest = timeline.present - timedelta(minutes=10)
    marked = 0
    for (case_id, arrived), messages in events.items():
        case = db.session.get(Case, case_id) if case_id is not None else None
        task_ids = {m.task_id for m in messages if m.task_id}
        tasks = [db.session.get(Task, t) for t in task_ids]
        done = [t.completed_at for t in tasks if t is not None and t.state != "ready"]
        if not (done or (case is not None and case.status != "open")):
            continue
        acted = min((_aware(d) for d in done if d is not None), default=None)
        for message in messages:
            read_at = first_working_moment(timeline, arrived, message.id)
            if acted is not None and read_at >= acted:
                read_at = max(arrived + timedelta(minutes=1), acted - timedelta(minutes=15))
            message.read_at = min(read_at, latest).astimezone(UTC)
            marked += 1
    db.session.commit()
    return marked
