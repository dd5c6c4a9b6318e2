"""``flask --app server seed-demo``: demo cases at every stage, overdue work, intact audit chains.

The demo is seeded once per module into a copy of the template database (seeding runs every
case through :mod:`server.operations`, which takes a few seconds); the tests only read it,
except the production refusal, which builds its own app.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from server import create_app
from server.audit import verify_all
from server.demo import CASES, LOGINS
from server.demo_fires import FIRES
from server.extensions import db
from server.models import Agency, Case, Deadline, Event, PublicWarning, Task, User
from server.operations import today_shanghai

from .conftest import TEST_CONFIG, Databases

# Every stage of the major-hazard path and of the ordinary branch, by the BPMN id of the task
# a case waits at (closed cases are checked separately).
WAITING_STAGES = {
    "refer_to_fire_rescue",  # registered, waiting for referral
    "file_case",  # referred, to be filed by the brigade
    "expert_review",
    "collective_deliberation",
    "serve_rectification_notice",
    "temporary_sealing",
    "report_to_government",
    "government_decision",
    "enforce_by_fire_rescue",  # the government disagreed
    "report_rectification_progress",
    "rectification_overdue_measures",  # the rectification deadline passed
    "reinspection",
    "request_closure",  # re-inspected and passed: the 销案 请示
    "close_case",  # the government's 销案 批复
    "order_correction",  # ordinary hazards
    "await_reinspection_request",
    "ordinary_reinspection",
    "sealing_in_force",  # a temporary sealing within its month
    "emergency_sealing_decision",  # sealed on the spot, decision due within 24 hours
}


@dataclass
class Seeded:
    """The app over the seeded database and the output of ``seed-demo``."""

    app: Flask
    output: str
    uri: str


@pytest.fixture(scope="module")
def seeded(databases: Databases) -> Iterator[Seeded]:
    """A copy of the template database with the demo seeded through the CLI."""
    uri = databases.new()
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": uri})
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    yield Seeded(app, result.output, uri)
    with app.app_context():
        db.session.remove()  # return the connection before the pool goes
        db.engine.dispose()
    databases.drop(uri)


def _ready(name: str) -> list[Task]:
    return list(db.session.scalars(select(Task).where(Task.state == "ready", Task.name == name)))


def _completed(case_id: int, name: str) -> bool:
    return (
        db.session.scalar(
            select(Task.id).where(
                Task.case_id == case_id, Task.name == name, Task.state == "completed"
            )
        )
        is not None
    )


def _forms(case_id: int) -> list[tuple[str, dict[str, Any]]]:
    events = db.session.scalars(
        select(Event)
        .where(Event.case_id == case_id, Event.kind == "task_completed")
        .order_by(Event.seq)
    )
    return [(e.task_name or "", e.data["form"]) for e in events]


def test_the_output_lists_one_login_per_role(seeded: Seeded) -> None:
    assert f"{len(CASES) + len(FIRES)} 个演示案件" in seeded.output
    for username, _ in LOGINS:
        assert username in seeded.output
    with seeded.app.app_context():
        users = {u.username: u for u in db.session.scalars(select(User))}
        for username, _ in LOGINS:
            assert username in users, username
        roles = {role for username, _ in LOGINS for role in users[username].role_list}
        assert roles == {"officer", "supervisor", "auditor", "admin"}
        kinds = {users[username].agency.kind for username, _ in LOGINS}
        assert {"street", "industry", "fire_brigade", "government", "safety_office"} <= kinds


def test_cases_sit_at_every_stage(seeded: Seeded) -> None:
    with seeded.app.app_context():
        assert db.session.scalar(select(func.count(Case.id))) >= 25
        ready = set(db.session.scalars(select(Task.name).where(Task.state == "ready")))
        assert ready >= WAITING_STAGES, WAITING_STAGES - ready

        # Rectification progress both under listed supervision and after enforcement.
        progress_cases = [t.case_id for t in _ready("report_rectification_progress")]
        assert any(_completed(c, "set_rectification_plan") for c in progress_cases)
        assert any(_completed(c, "enforce_by_fire_rescue") for c in progress_cases)
        # The brigade may also have found at deliberation that a hazard is not major.
        assert any(t.agency.kind == "fire_brigade" for t in _ready("order_correction"))

        closed = db.session.scalars(select(Case).where(Case.status == "closed")).all()
        assert all(c.closed_at is not None and c.stage == "已办结" for c in closed)
        assert any(_completed(c.id, "close_case") for c in closed)  # 销案
        assert any(_completed(c.id, "ordinary_reinspection") for c in closed)  # 一般隐患结案
        assert any(_completed(c.id, "ordinary_penalty") for c in closed)  # 逾期不改正，处罚
        assert any(_completed(c.id, "lifting_decision") for c in closed)  # 临时查封已解除
        open_cases = db.session.scalars(select(Case).where(Case.status == "open")).all()
        assert all(c.stage for c in open_cases)


def test_cases_spread_over_districts_mostly_wuling_and_dingcheng(seeded: Seeded) -> None:
    with seeded.app.app_context():
        by_district = dict(
            db.session.execute(select(Case.district, func.count()).group_by(Case.district)).all()
        )
        assert by_district["wuling"] >= 8 and by_district["dingcheng"] >= 8
        assert len(by_district) >= 6
        registrars = {
            (c.process_id, c.discoverer_agency.kind)
            for c in db.session.scalars(select(Case)).unique().all()
        }
        assert registrars == {
            ("major_hazard", "street"),
            ("major_hazard", "industry"),
            ("fire_accountability", "fire_brigade"),
            # the reports' drafts, opened by the system for each reporting agency
            ("monthly_report", "safety_office"),
            *({("annual_report", "safety_office"), ("annual_report", "industry")}
              if any(p == "annual_report" for p, _kind in registrars) else ()),
        }  # fmt: skip


def test_demo_fires_cover_the_accountability_process(seeded: Seeded) -> None:
    with seeded.app.app_context():
        ready = set(db.session.scalars(select(Task.name).where(Task.state == "ready")))
        assert {"review_request", "cause_investigation", "leadership_investigation",
                "cause_determination_extended", "credit_market_regulation"} <= ready  # fmt: skip
        scopes = set(db.session.scalars(select(PublicWarning.scope)))
        assert scopes == {"county", "city", "province"}


def test_dingcheng_brigade_has_overdue_work(seeded: Seeded) -> None:
    with seeded.app.app_context():
        brigade = db.session.scalar(select(Agency).where(Agency.code == "fire_brigade:dingcheng"))
        officer = db.session.scalar(select(User).where(User.username == "dingcheng.fire"))
        assert brigade is not None and officer is not None and officer.agency_id == brigade.id
        inbox = db.session.scalars(
            select(Task).where(Task.agency_id == brigade.id, Task.state == "ready")
        ).all()
        assert inbox
        now = datetime.now(UTC)
        overdue = db.session.scalars(
            select(Task).where(
                Task.agency_id == brigade.id, Task.state == "ready", Task.due_at < now
            )
        ).all()
        assert len(overdue) >= 2, [(t.name, t.due_at) for t in inbox]
        assert {t.case.district for t in overdue} == {"dingcheng"}


def test_missed_deadlines_were_recorded_and_escalated(seeded: Seeded) -> None:
    with seeded.app.app_context():
        missed = db.session.scalars(select(Deadline).where(Deadline.state == "missed")).all()
        assert missed
        assert {d.timer for d in missed} >= {
            "referral_deadline",
            "notice_deadline",
            "sealing_deadline",
            "report_deadline",
            "decision_deadline",
            "progress_deadline",
            "rectification_deadline",
            "reinspection_deadline",
            "ordinary_reinspection_deadline",
        }
        escalations = db.session.scalar(
            select(func.count(Event.id)).where(Event.kind == "escalation")
        )
        assert escalations and escalations >= len(missed) - 1
        pending = db.session.scalar(
            select(func.count(Deadline.id)).where(Deadline.state == "pending")
        )
        assert pending  # not everything is late


def test_form_dates_are_in_the_past_and_in_order(seeded: Seeded) -> None:
    today = today_shanghai()
    with seeded.app.app_context():
        for case_id in db.session.scalars(select(Case.id)):
            latest = date.min
            for task, form in _forms(case_id):
                dates = {k: date.fromisoformat(v) for k, v in form.items() if k.endswith("_on")}
                assert dates, task
                assert max(dates.values()) <= today, (case_id, task, dates)
                assert min(dates.values()) >= latest, (case_id, task, dates, latest)
                latest = max(dates.values())


def test_every_audit_chain_verifies(seeded: Seeded) -> None:
    with seeded.app.app_context():
        checks = verify_all()
        assert len(checks) >= len(CASES)
        assert all(check.ok for check in checks), [c.problems for c in checks if not c.ok]


def test_seeding_again_if_empty_changes_nothing(seeded: Seeded) -> None:
    def counts() -> tuple[int, ...]:
        with seeded.app.app_context():
            return tuple(
                db.session.scalar(select(func.count()).select_from(model))
                for model in (Agency, User, Case, Task, Deadline, Event)
            )

    before = counts()
    result = seeded.app.test_cli_runner().invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "已存在" in result.output
    assert counts() == before


def test_seeding_refuses_production(seeded: Seeded) -> None:
    app = create_app(
        {
            **TEST_CONFIG,
            "SQLALCHEMY_DATABASE_URI": seeded.uri,
            "DUBAN_ENV": "production",
            "DUBAN_ALLOW_SQLITE": True,
            "SECRET_KEY": "x" * 32,
        }
    )
    with app.app_context():
        before = db.session.scalar(select(func.count(Case.id)))
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code != 0
    assert "production" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Case.id))) == before
        db.session.remove()  # return the connection before the pool goes
        db.engine.dispose()
