"""The demo's messages tell a plausible story (server.demo_messages).

Escalations arrive when their deadline was missed; county supervisors urge (催办) on working
mornings, each urge recorded on its case at the same moment; messages about steps since done
were read between their arrival and the step's completion; those about steps still waiting
are unread; nothing is dated in the future and nothing goes by e-mail.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

from sqlalchemy import func, select

from server.engine import get_engine
from server.extensions import db
from server.models import Event, MailOutbox, Notification, Task, User
from workflows.calendar import SHANGHAI

from .test_demo import Seeded, seeded  # noqa: F401  (the module's seeded demo)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def test_supervisors_urge_on_working_mornings_and_the_case_records_it(
    seeded: Seeded,  # noqa: F811
) -> None:
    with seeded.app.app_context():
        calendar = get_engine().calendar
        urges = list(
            db.session.scalars(select(Notification).where(Notification.kind == "follow_up_urge"))
        )
        moments = {(n.case_id, _aware(n.created_at)) for n in urges}
        assert len(moments) >= 8, "several counties' supervisors made rounds"
        for case_id, at in moments:
            local = at.astimezone(SHANGHAI)
            assert calendar.is_working_day(local.date()), local
            assert time(9, 0) <= local.time() <= time(10, 30), local
            event = db.session.scalar(
                select(Event).where(
                    Event.case_id == case_id, Event.kind == "follow_up", Event.at == at
                )
            )
            assert event is not None, (case_id, local)
        # the late agency's officers are told, with the working days overdue
        officers = [n for n in urges if n.task_id is not None]
        assert officers and all((n.overdue_days or 0) >= 2 for n in officers)
        assert all("催办意见" in n.body for n in urges)


def test_messages_are_read_when_acted_upon_and_unread_while_waiting(
    seeded: Seeded,  # noqa: F811
) -> None:
    now = datetime.now(UTC)
    with seeded.app.app_context():
        messages = list(db.session.scalars(select(Notification)))
        assert messages
        read = [n for n in messages if n.read_at is not None]
        assert read and len(read) < len(messages)
        for n in messages:
            assert _aware(n.created_at) <= now
            task = db.session.get(Task, n.task_id) if n.task_id else None
            if n.read_at is None:
                continue
            assert _aware(n.created_at) < _aware(n.read_at) <= now
            if task is not None and task.completed_at is not None:
                assert _aware(n.read_at) <= _aware(task.completed_at)
        # an officer's message about a step still waiting stays unread: the header counts it
        for n in messages:
            task = db.session.get(Task, n.task_id) if n.task_id else None
            if task is not None and task.state == "ready":
                assert n.read_at is None, n.title
        # the brigade officer of the README finds unread escalations of their own
        officer = db.session.scalar(select(User).where(User.username == "dingcheng.fire"))
        unread = db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.user_id == officer.id, Notification.read_at.is_(None)
            )
        )
        assert unread and unread >= 3
        assert db.session.scalar(select(func.count(MailOutbox.id))) == 0
