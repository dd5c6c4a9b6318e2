"""One definition of "overdue" (server/overdue.py, docs/overdue.md): the case list (HTML and
API), the inbox (HTML and API), the deadline list, the supervision dashboard and the dossier
agree on the same data, and agree with the definition computed here from the raw rows."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server import overdue
from server.case_view import deadline_rows
from server.dossier.document import deadline_result
from server.extensions import db
from server.models import Case, Deadline, Task, User
from server.supervision import Filters, counts
from server.supervision import overdue as dashboard_overdue
from tests.support.api import Api

from .conftest import Auth

STREET = "wuling.nanping"
SUPERVISOR = "city.supervisor"


def expected(now: datetime) -> tuple[set[int], set[int]]:
    """(overdue deadline ids, overdue case ids) by the written definition, from the raw rows."""
    late: set[int] = set()
    for d in db.session.scalars(select(Deadline)).all():
        due = d.due_at if d.due_at.tzinfo else d.due_at.replace(tzinfo=UTC)
        unmet = (d.state == "missed" and d.met_at is None) or (d.state == "pending" and due < now)
        if unmet and d.case.status == "open":
            late.add(d.id)
    cases = {db.session.get(Deadline, i).case_id for i in late}
    return late, cases


def world(app: Flask, api: Api) -> dict[str, int]:
    """Cases in every state of the definition."""
    ids = {
        "late": api.register(days_ago=30, unit_name="逾期未办单位")["id"],
        "fresh": api.register(days_ago=0, unit_name="按期单位")["id"],
        "met_late": api.register(days_ago=30, unit_name="逾期后办结单位")["id"],
        "lapsed": api.register(days_ago=30, unit_name="已办结案件单位")["id"],
    }
    api.complete(STREET, ids["met_late"], "refer_to_fire_rescue")
    with app.app_context():
        # A case ended with a deadline never met (another branch closed it): history only.
        db.session.get(Case, ids["lapsed"]).status = "closed"
        db.session.commit()
    return ids


def case_ids_in(html: str) -> set[int]:
    return {int(i) for i in re.findall(r'href="/cases/(\d+)"', html)}


def check_all_places_agree(app: Flask, api: Api, client: FlaskClient, now: datetime) -> set[int]:
    """Every place shows the same overdue cases and deadlines; return the overdue case ids."""
    with app.app_context():
        late_deadlines, late_cases = expected(now)
        all_cases = set(db.session.scalars(select(Case.id)))
        # the dashboard (the supervision module the HTML dashboard and its CSV read)
        supervisor = db.session.scalar(select(User).where(User.username == SUPERVISOR))
        assert {r.id for r in dashboard_overdue(supervisor, Filters(), now)} == late_deadlines
        assert sum(c.overdue for c in counts(supervisor, Filters(), "district", now)) == len(
            late_deadlines
        )
        # the dossier's deadline table (and the case page, which shows the same rows)
        for case_id in all_cases:
            case = db.session.get(Case, case_id)
            tasks = {
                t.id: t for t in db.session.scalars(select(Task).where(Task.case_id == case_id))
            }
            rows = deadline_rows(case, tasks, now)
            flagged = [r for r in rows if r.status == overdue.OVERDUE]
            assert bool(flagged) == (case_id in late_cases), case.unit_name
            assert all(deadline_result(r) == "逾期未办" for r in flagged)
        # the one module itself
        assert overdue.overdue_case_ids(all_cases, now) == late_cases
    # the API: case list (both ways), case detail, deadline list
    listed = {
        c["id"] for c in api.get(SUPERVISOR, "/cases?overdue=true&per_page=100").json["items"]
    }
    assert listed == late_cases
    on_time = {
        c["id"] for c in api.get(SUPERVISOR, "/cases?overdue=false&per_page=100").json["items"]
    }
    assert on_time == all_cases - late_cases
    for case_id in all_cases:
        detail = api.get(SUPERVISOR, f"/cases/{case_id}").json
        assert detail["overdue"] == (case_id in late_cases)
        assert {d["id"] for d in detail["deadlines"] if d["overdue"]} <= late_deadlines
    deadlines = api.get(SUPERVISOR, "/deadlines?state=overdue&per_page=100").json["items"]
    assert {d["id"] for d in deadlines} == late_deadlines
    assert all(d["status"] == "overdue" for d in deadlines)
    # the HTML case list
    assert case_ids_in(client.get("/cases?overdue=1").text) == late_cases
    # the inbox: a task is overdue exactly when a deadline guarding it is
    with app.app_context():
        guarded = {
            d.task_id
            for d in db.session.scalars(select(Deadline).where(Deadline.id.in_(late_deadlines)))
        }
    inbox = api.get(STREET, "/inbox?per_page=100").json["items"]
    assert {t["id"] for t in inbox if t["overdue"]} == guarded & {t["id"] for t in inbox}
    assert {t["id"] for t in api.get(STREET, "/inbox?overdue=true").json["items"]} == {
        t["id"] for t in inbox if t["overdue"]
    }
    # each inbox item's case summary: overdue exactly when its case is (read with the rows)
    assert inbox and all(t["case"]["overdue"] == (t["case_id"] in late_cases) for t in inbox)
    return late_cases


def test_every_place_agrees(app: Flask, api: Api, client: FlaskClient, auth: Auth) -> None:
    ids = world(app, api)
    auth.login(SUPERVISOR)
    late = check_all_places_agree(app, api, client, datetime.now(UTC))
    assert ids["late"] in late
    assert ids["fresh"] not in late
    assert ids["lapsed"] not in late  # closed: nothing left to press, whatever its history
    with app.app_context():
        now = datetime.now(UTC)
        case = db.session.get(Case, ids["met_late"])
        tasks = {t.id: t for t in db.session.scalars(select(Task).where(Task.case_id == case.id))}
        referral = next(r for r in deadline_rows(case, tasks, now) if "函告" in r.label)
        assert referral.status == overdue.MET_LATE and referral.badge.kind == "closed"
        assert deadline_result(referral) == "逾期后办结"
        lapsed = db.session.get(Case, ids["lapsed"])
        rows = deadline_rows(lapsed, {}, now)
        assert {r.status for r in rows} == {overdue.LAPSED}
    detail = api.get(SUPERVISOR, f"/cases/{ids['met_late']}").json
    statuses = {d["timer"]: d["status"] for d in detail["deadlines"]}
    assert statuses["referral_deadline"] == "met_late"


def test_a_deadline_past_due_before_the_sweep_is_overdue_everywhere(
    app: Flask, api: Api, client: FlaskClient, auth: Auth, time_machine
) -> None:
    time_machine.move_to(datetime.now(UTC), tick=False)
    ids = world(app, api)
    with app.app_context():
        due = db.session.scalar(
            select(Deadline.due_at).where(
                Deadline.case_id == ids["fresh"], Deadline.state == "pending"
            )
        )
    # past the fresh case's deadline; no sweep has run, so its state is still "pending"
    time_machine.move_to((due if due.tzinfo else due.replace(tzinfo=UTC)) + timedelta(hours=1))
    auth.login(SUPERVISOR)
    late = check_all_places_agree(app, api, client, datetime.now(UTC))
    assert ids["fresh"] in late and ids["late"] in late and ids["lapsed"] not in late


def test_the_definition() -> None:
    now = datetime(2026, 10, 9, 8, tzinfo=UTC)
    past, future = now - timedelta(days=1), now + timedelta(days=1)
    status = overdue.deadline_status
    assert status("pending", future, None, True, now) == overdue.PENDING
    assert status("pending", past, None, True, now) == overdue.OVERDUE
    assert status("missed", past, None, True, now) == overdue.OVERDUE
    assert status("missed", past, now, True, now) == overdue.MET_LATE
    assert status("met", future, now, True, now) == overdue.MET
    assert status("met", past, now, True, now) == overdue.MET_LATE
    assert status("missed", past, None, False, now) == overdue.LAPSED
    assert status("pending", past, None, False, now) == overdue.LAPSED
    assert overdue.STATUS_LABELS[overdue.OVERDUE] == "逾期未办"
