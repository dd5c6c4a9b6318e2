"""The demo tells the truth: each step ran at its own back-dated moment (server.demo_timeline).

Histories spread over months of working days, deadlines met or missed when they were, per
district on-time rates a real city could have, documents dated and numbered in the order they
were issued, and every user the README's demo table names finds there what it promises.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from server.audit import verify_all
from server.engine import get_engine
from server.extensions import db
from server.models import Case, Deadline, Document, Event, Task, User
from server.supervision import Filters, compliance
from workflows.calendar import SHANGHAI
from workflows.lanes import SYSTEM_STARTED

from .conftest import Auth
from .test_demo import Seeded, seeded  # noqa: F401  (the module's seeded demo)

README = Path(__file__).resolve().parents[2] / "README.md"

#: What each user of the README's demo table finds, as the table promises it: the page to open
#: and texts it must show (task labels in the inbox, or what a supervisor's and an auditor's
#: pages list); ``OVERDUE`` stands for an overdue badge (逾期N个工作日 / 已逾期). Kept in step
#: with the README by test_every_readme_demo_user_is_checked.
PROMISES: dict[str, tuple[str, tuple[str, ...]]] = {
    "wuling.nanping": ("/", ("函告消防救援机构", "报送整改进展")),
    "minzheng.officer": ("/", ("报送整改进展",)),
    "dingcheng.fire": (
        "/",
        ("送达重大火灾隐患整改通知书", "临时查封决定", "报告人民政府", "复查", "OVERDUE"),
    ),
    "wuling.fire2": ("/", ("复查", "依职权处理")),
    "dingcheng.gov": ("/", ("政府决定", "人民政府组织事故调查", "OVERDUE")),
    "dingcheng.supervisor": ("/supervision", ("鼎城区华联仓储物流中心", "鼎城区君泰大酒店")),
    "city.supervisor": ("/supervision", ("鼎城区华联仓储物流中心", "石门县仁济医院")),
    "city.auditor": ("/cases?status=closed", ("武陵区金嗓子KTV", "鼎城区宏发油漆经营部")),
    "detachment.officer": ("/", ("延期后作出火灾事故认定", "登记复核申请")),
    "city.office.officer": ("/", ("分级公开预警", "调查处理信息通报和评估")),
    "dingcheng.office": ("/reports/submissions", ("鼎城区消防安全委员会办公室", "报送期限")),
    "fagai.officer": ("/", ("信用联合惩戒（发改委）", "OVERDUE")),
    "zhujian.officer": ("/", ("信用联合惩戒",)),
    "caizheng.officer": ("/", ("信用联合惩戒",)),
    "shijian.officer": ("/", ("信用联合惩戒",)),
    "admin": ("/admin/calendar", ("节假日安排",)),
}


def _readme_users() -> list[str]:
    """The usernames of the README's demo table (its first column), and the ones it names in
    passing (``also `zhujian`, …``)."""
    text = README.read_text(encoding="utf-8")
    table = text.split("## Demo logins", 1)[1].split("\n## ", 1)[0]
    users = re.findall(r"^\| `([a-z0-9.]+)` \|", table, flags=re.M)
    for also in re.findall(r"also ([^)]*)\)", table):
        users += [f"{name}.officer" for name in re.findall(r"`([a-z]+)`", also)]
    return users


def test_every_readme_demo_user_is_checked() -> None:
    users = _readme_users()
    assert len(users) >= 11
    assert set(users) == set(PROMISES), set(users) ^ set(PROMISES)


@pytest.mark.parametrize("username", sorted(PROMISES))
def test_each_readme_demo_user_finds_what_the_table_promises(
    seeded: Seeded,  # noqa: F811
    username: str,
) -> None:
    path, texts = PROMISES[username]
    client: FlaskClient = seeded.app.test_client()
    response = Auth(seeded.app, client).login(username)
    assert response.status_code == 302, response.text
    page = client.get(path, follow_redirects=True)
    assert page.status_code == 200, (username, path)
    overdue = re.search(r"逾期\d+个工作日|已逾期", page.text) is not None
    missing = [t for t in texts if not (overdue if t == "OVERDUE" else t in page.text)]
    assert not missing, (username, path, missing)
    if path == "/":  # an officer's inbox holds tasks, not the empty message
        with seeded.app.app_context():
            user = db.session.scalar(select(User).where(User.username == username))
            assert user is not None
            ready = db.session.scalars(
                select(Task).where(Task.agency_id == user.agency_id, Task.state == "ready")
            ).all()
            assert ready, username


def test_on_time_rate_of_every_district_is_plausible(seeded: Seeded) -> None:  # noqa: F811
    with seeded.app.app_context():
        city = db.session.scalar(select(User).where(User.username == "city.supervisor"))
        assert city is not None
        districts = set(db.session.scalars(select(Case.district)))
        rates = {}
        for district in districts:
            # the hazards' and fires' deadlines (the reports' are not the workload judged here)
            rows = [
                row
                for process in ("major_hazard", "fire_accountability")
                for row in compliance(city, Filters(district=district, process=process))
            ]
            met, missed = sum(r.met for r in rows), sum(r.missed for r in rows)
            if met + missed:
                rates[district] = (met / (met + missed), met, missed)
        assert len(rates) >= 10
        wrong = {d: r for d, r in rates.items() if not 0.60 <= r[0] <= 0.95}
        assert not wrong, wrong
        # the two busy districts have both enough history and late work
        assert rates["dingcheng"][2] >= 5 and rates["wuling"][2] >= 5


def test_closed_cases_took_their_time(seeded: Seeded) -> None:  # noqa: F811
    with seeded.app.app_context():
        # a report accepted the day after its submission is no hurried case: left out
        closed = db.session.scalars(
            select(Case).where(Case.status == "closed", Case.process_id.not_in(SYSTEM_STARTED))
        ).all()
        assert len(closed) >= 5
        for case in closed:
            done = sorted(
                t.completed_at
                for t in db.session.scalars(
                    select(Task).where(
                        Task.case_id == case.id,
                        Task.state == "completed",
                        Task.completed_by_id.is_not(None),
                    )
                )
            )
            assert len(done) >= 2, case.unit_name
            minutes = {d.replace(second=0, microsecond=0) for d in done}
            assert len(minutes) > 1, (case.unit_name, done)
            assert done[-1] - done[0] >= timedelta(days=5), (case.unit_name, done)
            assert case.closed_at is not None and case.closed_at >= done[-1]


def test_registrations_spread_over_months_at_working_hours(seeded: Seeded) -> None:  # noqa: F811
    with seeded.app.app_context():
        calendar = get_engine().calendar
        cases = db.session.scalars(select(Case).where(Case.process_id == "major_hazard")).all()
        opened = [c.opened_at.astimezone(SHANGHAI) for c in cases]
        assert len(set(opened)) == len(opened)  # no two at the same moment
        assert max(opened) - min(opened) >= timedelta(days=120)
        assert len({o.strftime("%Y-%m") for o in opened}) >= 5
        for moment in opened:  # hazards are registered by officers at work
            assert calendar.is_working_day(moment.date()), moment
            assert 8 <= moment.hour <= 18, moment
        # case numbers follow the order of registration
        by_number = sorted(cases, key=lambda c: c.id)
        assert [c.opened_at for c in by_number] == sorted(c.opened_at for c in by_number)


def test_officers_complete_tasks_on_working_days_and_events_carry_their_moment(
    seeded: Seeded,  # noqa: F811
) -> None:
    now = datetime.now(UTC)
    with seeded.app.app_context():
        calendar = get_engine().calendar
        tasks = db.session.scalars(
            select(Task).where(Task.state == "completed", Task.completed_by_id.is_not(None))
        ).all()
        assert len(tasks) > 150
        for task in tasks:
            assert task.completed_at is not None and task.completed_at <= now
            if task.completed_at == task.case.opened_at:
                continue  # a fire is registered when it is out, on any day
            assert task.created_at <= task.completed_at, task.name
            assert calendar.is_working_day(task.completed_at.astimezone(SHANGHAI).date())
        events = db.session.scalars(
            select(Event).where(Event.kind == "task_completed", Event.case_id.is_not(None))
        ).all()
        # the event stamps the moment the form was submitted, and that moment's day is the
        # day the form states (the officer signs it the day they submit it)
        dates_match = 0
        for event in events:
            day = event.at.astimezone(SHANGHAI).date().isoformat()
            stated = [v for k, v in event.data["form"].items() if k.endswith("_on")]
            assert all(v <= day for v in stated if isinstance(v, str)), (event.task_name, day)
            dates_match += day in stated
        assert dates_match >= len(events) * 0.8


def test_missed_deadlines_were_missed_when_they_fell_due(seeded: Seeded) -> None:  # noqa: F811
    with seeded.app.app_context():
        missed = db.session.scalars(select(Deadline).where(Deadline.state == "missed")).all()
        assert len(missed) >= 20
        for deadline in missed:
            assert deadline.missed_at is not None
            # the sweep's tick after the due moment, not the day of seeding
            assert timedelta(0) < deadline.missed_at - deadline.due_at <= timedelta(minutes=2)
        met_late = [d for d in missed if d.met_at is not None]
        assert met_late and all(d.met_at > d.due_at for d in met_late)
        met = db.session.scalars(select(Deadline).where(Deadline.state == "met")).all()
        assert met and all(d.met_at is not None and d.met_at <= d.due_at for d in met)
        escalations = db.session.scalars(select(Event).where(Event.kind == "escalation")).all()
        missed_at = {d.missed_at for d in missed}
        assert escalations and all(e.at in missed_at for e in escalations)


def test_documents_are_dated_and_numbered_in_the_order_issued(seeded: Seeded) -> None:  # noqa: F811
    with seeded.app.app_context():
        documents = db.session.scalars(select(Document).where(Document.void.is_(False))).all()
        assert len(documents) >= 50
        days = {d.issued_at.astimezone(SHANGHAI).date() for d in documents}
        assert len(days) >= 30
        series: dict[tuple[int, str, int], list[Document]] = defaultdict(list)
        for document in documents:
            assert document.year == document.issued_at.astimezone(SHANGHAI).year
            series[(document.agency_id, document.kind, document.year)].append(document)
        for run in series.values():
            by_time = sorted(run, key=lambda d: (d.issued_at, d.id))
            assert [d.seq for d in by_time] == sorted(d.seq for d in run), [
                (d.number, d.issued_at) for d in by_time
            ]
        # a document is issued with the step that decides it, at that step's moment
        for document in documents:
            task = db.session.get(Task, document.task_id)
            assert task is not None and task.completed_at == document.issued_at


def test_audit_chains_verify_after_the_moving_clock(seeded: Seeded) -> None:  # noqa: F811
    with seeded.app.app_context():
        checks = verify_all()
        assert checks and all(check.ok for check in checks)
