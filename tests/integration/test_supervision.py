"""Supervision figures, notifications, follow-ups, calendar years, concurrent sweeps."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import Case, Deadline, Event, Notification, User
from server.notifications import mark_read, unread_count
from server.operations import (
    Forbidden,
    FormInvalid,
    record_follow_up,
    save_calendar_year,
    start_case,
    today_shanghai,
)
from server.supervision import Filters, compliance, counts, due_soon, overdue
from server.sweep import sweep
from tests.support.major_hazard import sample


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


@pytest.fixture
def seeded(app, runner):
    """The demo data set (39 cases over every stage, many deadlines missed)."""
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    return app


def independent_overdue(district: str | None, now: datetime) -> list[Deadline]:
    rows = db.session.scalars(select(Deadline).join(Case, Deadline.case_id == Case.id)).all()
    return [
        d
        for d in rows
        if (district is None or d.case.district == district)
        and (
            (d.state == "missed" and d.met_at is None) or (d.state == "pending" and d.due_at < now)
        )
    ]


def test_city_dashboard_figures_match_the_deadline_table(seeded):
    with seeded.app_context():
        now = datetime.now(UTC)
        city = user("city.supervisor")
        rows = overdue(city, Filters(), now)
        expected = independent_overdue(None, now)
        assert sorted(r.id for r in rows) == sorted(d.id for d in expected)
        assert [r.due_at for r in rows] == sorted(r.due_at for r in rows)  # worst first
        # (a district listed for its due-soon deadlines alone counts 0 overdue)
        by_district = {
            c.key: c.overdue for c in counts(city, Filters(), "district", now) if c.overdue
        }
        assert by_district == {k: v for k, v in Counter(d.case.district for d in expected).items()}
        by_agency = {c.key: c.overdue for c in counts(city, Filters(), "agency", now)}
        assert sum(by_agency.values()) == len(expected)
        soon = due_soon(city, Filters(), now)
        assert all(r.state == "pending" and r.due_at >= now for r in soon)


def test_a_county_supervisor_sees_only_the_county(seeded):
    with seeded.app_context():
        now = datetime.now(UTC)
        rows = overdue(user("dingcheng.supervisor"), Filters(), now)
        assert rows and {r.district for r in rows} == {"dingcheng"}
        assert sorted(r.id for r in rows) == sorted(
            d.id for d in independent_overdue("dingcheng", now)
        )
        # A filter on another district cannot widen the scope.
        assert overdue(user("dingcheng.supervisor"), Filters(district="wuling"), now) == []


def test_compliance_rates_per_stage(seeded):
    with seeded.app_context():
        rates = {c.stage: c for c in compliance(user("city.supervisor"), Filters())}
        referral = rates["函告消防救援机构"]
        decided = db.session.scalars(
            select(Deadline).where(
                Deadline.timer == "referral_deadline", Deadline.state.in_(("met", "missed"))
            )
        ).all()
        assert referral.total == len(decided)
        assert referral.met == sum(1 for d in decided if d.state == "met")
        assert referral.rate == pytest.approx(referral.met / referral.total)


def test_missed_deadline_notifies_the_supervisors_above(app):
    with app.app_context():
        found = today_shanghai() - timedelta(days=20)
        case = start_case(user("wuling.nanping"), "major_hazard", sample("register_hazard", found))
        notified = db.session.scalars(
            select(User.username)
            .join(Notification, Notification.user_id == User.id)
            .where(Notification.case_id == case.id)
        ).all()
        # the county office above the street, and the street's officer (issue 18)
        assert set(notified) == {"wuling.supervisor", "wuling.nanping"}
        county = user("wuling.supervisor")
        assert unread_count(county) == 1
        assert mark_read(county) == 1
        assert unread_count(county) == 0


def test_follow_up_joins_the_timeline(app):
    with app.app_context():
        case = start_case(
            user("wuling.nanping"), "major_hazard", sample("register_hazard", today_shanghai())
        )
        record_follow_up(user("wuling.supervisor"), case, "interview", "约谈单位负责人。")
        event = db.session.scalar(
            select(Event).where(Event.case_id == case.id, Event.kind == "follow_up")
        )
        assert event.data == {
            "action": "interview",
            "label": "约谈",
            "note": "约谈单位负责人。",
            "notified": ["武陵区南坪街道"],  # the agency holding the open task
        }
        with pytest.raises(FormInvalid):
            record_follow_up(user("wuling.supervisor"), case, "shout", "")
        with pytest.raises(Forbidden):
            record_follow_up(user("wuling.fire"), case, "supervise", "x")


def test_entering_next_year_recomputes_provisional_deadlines(app, time_machine):
    time_machine.move_to(datetime(2026, 12, 28, 10, tzinfo=UTC), tick=False)
    with app.app_context():
        case = start_case(
            user("wuling.nanping"), "major_hazard", sample("register_hazard", today_shanghai())
        )
        (deadline,) = db.session.scalars(select(Deadline).where(Deadline.case_id == case.id))
        assert deadline.provisional
        before = deadline.due_at
        result = save_calendar_year(
            user("admin"), 2027, {"holidays": ["2027-01-01", "2027-01-04"], "workdays": []}
        )
        assert result == {"cases": 1, "deadlines": 1, "failed": 0}
        db.session.refresh(deadline)
        assert not deadline.provisional
        assert deadline.due_at > before
        kinds = db.session.scalars(select(Event.kind).where(Event.case_id == case.id)).all()
        assert "deadlines_recomputed" in kinds


def test_two_concurrent_sweeps_fire_each_timer_once(app, time_machine):
    with app.app_context():
        found = today_shanghai() - timedelta(days=1)
        ids = [
            start_case(user("wuling.nanping"), "major_hazard", sample("register_hazard", found)).id
            for _ in range(6)
        ]
        latest = max(db.session.get(Case, i).next_timer_at for i in ids)
    time_machine.move_to(latest + timedelta(hours=1), tick=False)
    results = []
    barrier = threading.Barrier(2)

    def run() -> None:
        with app.app_context():
            barrier.wait()
            results.append(sweep())
            db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r["fired"] for r in results) == 6
    with app.app_context():
        for case_id in ids:
            kinds = db.session.scalars(select(Event.kind).where(Event.case_id == case_id)).all()
            assert kinds.count("deadline_missed") == 1
            assert kinds.count("escalation") == 1
