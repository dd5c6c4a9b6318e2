"""Supervision that reaches the supervised (issue 18).

A supervisor's 督办 / 催办 / 约谈 / 曝光 and a missed deadline's escalation notify the officers and
supervisors of the agency holding the late step, with the working days overdue counted on the
engine's calendar; every user has the messages page (grouped per case, unread count in the
header); the one-click 催办 sits on overdue rows for supervisors only; "due soon" is one
definition (N working days, an administrators' setting) used by the inbox, the dashboard and
the API.

The clock is moved with time-machine to November 2026 (no holiday): a hazard found on Monday
2 November gets its referral deadline (函告消防救援机构, 5 working days) at the end of Monday
9 November.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server.extensions import db
from server.models import Case, Deadline, Event, Notification, Task, User
from server.operations import start_case
from server.sweep import sweep
from tests.integration.conftest import Auth, csrf_token
from tests.support.api import Api, assert_error
from tests.support.major_hazard import sample
from workflows.calendar import SHANGHAI

STREET = "wuling.nanping"  # 武陵区南坪街道: registers, then must refer within 5 working days
SUPERVISOR = "wuling.supervisor"  # 武陵区消安委办


def at(day: date, hour: int = 10) -> datetime:
    """``hour`` o'clock in Changde on ``day``."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def register(app: Flask, found: date) -> int:
    with app.app_context():
        return start_case(user(STREET), "major_hazard", sample("register_hazard", found)).id


def referral(app: Flask, case_id: int) -> tuple[int, str, datetime]:
    """The referral deadline's id, its guarded task and due date."""
    with app.app_context():
        deadline = db.session.scalar(select(Deadline).where(Deadline.case_id == case_id))
        task = db.session.scalar(select(Task).where(Task.case_id == case_id, Task.state == "ready"))
        return deadline.id, task.id, deadline.due_at.astimezone(SHANGHAI)


def messages(app: Flask, case_id: int, kind: str) -> dict[str, Notification]:
    """The notifications of ``kind`` about a case, by recipient."""
    with app.app_context():
        rows = db.session.execute(
            select(User.username, Notification)
            .join(Notification, Notification.user_id == User.id)
            .where(Notification.case_id == case_id, Notification.kind == kind)
        ).all()
        db.session.expunge_all()
        found: dict[str, Notification] = {}
        for username, notification in rows:
            assert username not in found, f"{username} got two {kind} messages"
            found[username] = notification
        return found


def login(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert Auth(app, client).login(username).status_code == 302
    return client


def header_count(html: str) -> int:
    """The unread count in the header's 消息 link (0 when none is shown)."""
    link = re.search(r'<a href="/notifications"[^>]*>消息(.*?)</a>', html, re.S)
    assert link, "every page's header links to the messages"
    count = re.search(r'class="nav-count">(\d+)', link.group(1))
    return int(count.group(1)) if count else 0


@pytest.fixture
def late_case(app: Flask, time_machine) -> tuple[int, int, str]:
    """A case whose referral was due on Monday 9 November and missed (swept on Thursday 12th)."""
    time_machine.move_to(at(date(2026, 11, 2)), tick=False)
    case_id = register(app, date(2026, 11, 2))
    deadline_id, task_id, due = referral(app, case_id)
    assert due.date() == date(2026, 11, 9)
    time_machine.move_to(at(date(2026, 11, 12)), tick=False)
    with app.app_context():
        assert sweep()["fired"] == 1
    return case_id, deadline_id, task_id


def test_an_escalation_by_the_sweep_notifies_the_late_agency(app: Flask, late_case):
    case_id, _deadline_id, task_id = late_case
    sent = messages(app, case_id, "escalation")
    # the street's officer (who may work on the task) and the county office above it
    assert set(sent) == {STREET, SUPERVISOR}
    officer = sent[STREET]
    assert officer.overdue_days == 3  # Tue 10, Wed 11, Thu 12 November
    assert officer.task_id == task_id
    assert "DB" in officer.title and "函告消防救援机构" in officer.title
    assert "武陵区南坪街道" in officer.body and "已逾期3个工作日" in officer.body
    assert sent[SUPERVISOR].task_id is None  # a supervisor is led to the case


def test_a_one_click_urge_notifies_the_late_agency_with_working_days_overdue(
    app: Flask, late_case, time_machine
):
    case_id, deadline_id, task_id = late_case
    # Monday 16 November: 5 working days late (7 calendar days, a weekend in between)
    time_machine.move_to(at(date(2026, 11, 16)), tick=False)
    supervisor = login(app, SUPERVISOR)
    page = supervisor.get("/supervision")
    overdue = page.text.split('id="overdue"')[1].split('id="due-soon"')[0]
    assert f'action="/cases/{case_id}/urge"' in overdue
    answer = supervisor.post(
        f"/cases/{case_id}/urge",
        data={
            "csrf_token": csrf_token(page.text),
            "deadline_id": deadline_id,
            "next": "/supervision#overdue",
        },
    )
    assert answer.status_code == 303 and answer.location.endswith("/supervision#overdue")
    assert "已通知武陵区南坪街道" in supervisor.get("/supervision").text

    sent = messages(app, case_id, "follow_up_urge")
    assert set(sent) == {STREET, SUPERVISOR}  # one each; nobody of another agency
    message = sent[STREET]
    assert message.title.startswith("催办：") and "函告消防救援机构" in message.title
    assert message.overdue_days == 5 and message.task_id == task_id
    for words in ("武陵区南坪街道", "函告消防救援机构", "已逾期5个工作日", "催办意见"):
        assert words in message.body
    with app.app_context():
        event = db.session.scalar(
            select(Event).where(Event.case_id == case_id, Event.kind == "follow_up")
        )
        assert event.data["action"] == "urge" and event.data["label"] == "催办"
        assert event.data["notified"] == ["武陵区南坪街道"]
        assert "已逾期5个工作日" in event.data["note"]
    # the case's history says whom it reached
    history = supervisor.get(f"/cases/{case_id}").text
    assert "督办措施：催办" in history or "催办" in history
    assert "通报 武陵区南坪街道" in history


def test_the_officer_sees_the_count_rise_opens_the_message_and_lands_on_the_task(
    app: Flask, late_case, time_machine
):
    case_id, _deadline_id, task_id = late_case
    officer = login(app, STREET)
    assert header_count(officer.get("/").text) == 1  # the escalation
    supervisor = login(app, SUPERVISOR)
    page = supervisor.get(f"/cases/{case_id}")
    supervisor.post(
        f"/cases/{case_id}/follow-up",
        data={"csrf_token": csrf_token(page.text), "action": "supervise", "note": "限期函告。"},
    )
    inbox = officer.get("/").text
    assert header_count(inbox) == 2
    listing = officer.get("/notifications").text
    assert header_count(listing) == 2
    with app.app_context():
        newest = db.session.scalar(
            select(Notification)
            .join(User, User.id == Notification.user_id)
            .where(User.username == STREET, Notification.kind == "follow_up_supervise")
        )
        newest_id = newest.id
    assert f'href="/notifications/{newest_id}"' in listing
    opened = officer.get(f"/notifications/{newest_id}")
    assert opened.status_code == 303 and opened.location.endswith(f"/tasks/{task_id}")
    assert header_count(officer.get(opened.location).text) == 1
    # another user's message is not found, and stays unread
    foreign = login(app, "wuling.chuanzihe")
    assert foreign.get(f"/notifications/{newest_id}").status_code == 404
    page = officer.get("/notifications")
    done = officer.post(
        "/notifications/read-all",
        data={"csrf_token": csrf_token(page.text), "next": "/notifications"},
    )
    assert done.status_code == 303
    assert header_count(officer.get("/notifications").text) == 0


def test_every_role_has_the_messages_link(app: Flask):
    for username in (STREET, SUPERVISOR, "wuling.auditor", "admin"):
        page = login(app, username).get("/cases")
        assert header_count(page.text) == 0  # the link is there, with no count
        assert login(app, username).get("/notifications").status_code == 200


def test_messages_are_grouped_per_case_newest_case_first(app: Flask, time_machine, api: Api):
    time_machine.move_to(at(date(2026, 11, 2)), tick=False)
    first = register(app, date(2026, 11, 2))
    time_machine.move_to(at(date(2026, 11, 2), 11), tick=False)
    second = register(app, date(2026, 11, 2))
    time_machine.move_to(at(date(2026, 11, 12)), tick=False)
    with app.app_context():
        assert sweep()["fired"] == 2
        numbers = {c.id: c.number for c in db.session.scalars(select(Case))}
    # a later urge of the first case puts it on top again
    time_machine.move_to(at(date(2026, 11, 13)), tick=False)
    urged = api.post(
        SUPERVISOR, f"/cases/{first}/follow-ups", json={"action": "urge", "note": "请尽快函告。"}
    )
    assert urged.status_code == 201, urged.json
    html = login(app, STREET).get("/notifications").text
    groups = re.findall(r'class="message-group-title">\s*<a href="/cases/(\d+)"', html)
    assert groups == [str(first), str(second)]
    first_group = html.split(f'href="/cases/{first}"')[1].split("message-group-title")[0]
    assert first_group.count('class="notification ') == 2  # the urge, then the escalation
    assert first_group.index("催办：") < first_group.index("超期督办：")
    assert "2条，<strong>2条未读</strong>" in first_group

    listed = api.get(STREET, "/notifications").json
    assert [g["case"]["number"] for g in listed["groups"]] == [numbers[first], numbers[second]]
    assert [(g["total"], g["unread"]) for g in listed["groups"]] == [(2, 2), (1, 1)]
    assert listed["unread"] == 3 and listed["total"] == 3
    assert listed["items"][0]["kind"] == "follow_up_urge"
    assert listed["items"][0]["target"]["kind"] == "task"
    only_second = api.get(STREET, f"/notifications?case_id={second}").json
    assert [i["case_id"] for i in only_second["items"]] == [second]


def test_the_urge_button_is_on_overdue_rows_for_supervisors_only(
    app: Flask, late_case, time_machine
):
    case_id, _deadline_id, _task_id = late_case
    # a second case, due soon (referral due Friday 20 November)
    time_machine.move_to(at(date(2026, 11, 13)), tick=False)
    soon_id = register(app, date(2026, 11, 13))
    time_machine.move_to(at(date(2026, 11, 17)), tick=False)
    supervisor = login(app, SUPERVISOR)
    dashboard = supervisor.get("/supervision").text
    overdue, due_soon = dashboard.split('id="overdue"')[1].split('id="due-soon"')
    assert overdue.count('class="inline-form urge-form"') == 1
    assert f'action="/cases/{case_id}/urge"' in overdue
    due_soon = due_soon.split("</section>")[0]
    assert f'href="/cases/{soon_id}"' in due_soon and "urge-form" not in due_soon
    # the case page: on the overdue deadline's row only
    late_page = supervisor.get(f"/cases/{case_id}").text
    assert f'action="/cases/{case_id}/urge"' in late_page
    assert "urge-form" not in supervisor.get(f"/cases/{soon_id}").text
    # officers have no button and may not urge
    officer = login(app, STREET)
    page = officer.get(f"/cases/{case_id}").text
    assert "urge-form" not in page
    refused = officer.post(f"/cases/{case_id}/urge", data={"csrf_token": csrf_token(page)})
    assert refused.status_code == 404
    assert messages(app, case_id, "follow_up_urge") == {}


def test_the_api_twin_of_follow_ups_and_messages(app: Flask, api: Api, late_case):
    case_id, _deadline_id, task_id = late_case
    bad = api.post(SUPERVISOR, f"/cases/{case_id}/follow-ups", json={"action": "x", "note": "y"})
    assert_error(bad, 422, "invalid", {"action"})
    empty = api.post(SUPERVISOR, f"/cases/{case_id}/follow-ups", json={"action": "expose"})
    assert_error(empty, 422, "invalid", {"note"})
    refused = api.post(STREET, f"/cases/{case_id}/follow-ups", json={"action": "urge", "note": "x"})
    assert_error(refused, 404, "not_found")
    elsewhere = api.post(
        "dingcheng.supervisor", f"/cases/{case_id}/follow-ups", json={"action": "urge", "note": "x"}
    )
    assert_error(elsewhere, 404, "not_found")  # another county's case
    done = api.post(
        SUPERVISOR,
        f"/cases/{case_id}/follow-ups",
        json={"action": "interview", "note": "约谈负责人。"},
    )
    assert done.status_code == 201
    assert done.json["label"] == "约谈" and done.json["notified_agencies"] == ["武陵区南坪街道"]

    unread = api.get(STREET, "/notifications?unread=true").json
    assert [i["kind"] for i in unread["items"]] == ["follow_up_interview", "escalation"]
    interview = unread["items"][0]
    assert interview["overdue_days"] == 3 and interview["task_id"] == task_id
    assert interview["target"] == {"kind": "task", "id": task_id}
    assert "约谈意见" in interview["body"] and "约谈负责人。" in interview["body"]
    assert_error(api.get(STREET, "/notifications?unread=maybe"), 422, "invalid", {"unread"})
    # another user's message: 404, and it stays unread
    stolen = api.post(SUPERVISOR, f"/notifications/{interview['id']}/read")
    assert_error(stolen, 404, "not_found")
    read = api.post(STREET, f"/notifications/{interview['id']}/read")
    assert read.status_code == 200 and read.json["read_at"] is not None
    assert api.get(STREET, "/notifications?unread=true").json["total"] == 1
    assert api.post(STREET, "/notifications/read-all").json == {"marked": 1, "unread": 0}
    assert api.get(STREET, "/notifications?unread=false").json["total"] == 2


# --------------------------------------------------------------------------- due soon


@pytest.mark.parametrize(
    ("now", "soon", "not_soon"),
    [
        # Wed 11 Nov: Thu 12, Fri 13, (weekend), Mon 16 are the 3 working days; Tue 17 the 4th
        (date(2026, 11, 11), date(2026, 11, 16), date(2026, 11, 17)),
        # Wed 30 Sep: National Day 1-7 Oct off; Thu 8, Fri 9, Sat 10 (a make-up working day)
        (date(2026, 9, 30), date(2026, 10, 10), date(2026, 10, 12)),
    ],
)
def test_due_soon_is_three_working_days_across_weekends_and_holidays(
    app: Flask, now: date, soon: date, not_soon: date
):
    from server.due import due_soon_before, is_due_soon

    moment = at(now)

    def end_of(day: date) -> datetime:
        return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=SHANGHAI)

    with app.app_context():
        assert is_due_soon(end_of(now), moment)  # due today
        assert is_due_soon(end_of(soon), moment)
        assert not is_due_soon(end_of(not_soon), moment)
        assert not is_due_soon(moment - timedelta(minutes=1), moment)  # already overdue
        # the SQL form (dashboard) draws the same line: before the 4th working day begins
        first_not_soon = datetime(not_soon.year, not_soon.month, not_soon.day, tzinfo=SHANGHAI)
        assert due_soon_before(moment) == first_not_soon


def test_inbox_dashboard_and_api_share_due_soon_and_follow_the_setting(
    app: Flask, api: Api, time_machine
):
    time_machine.move_to(at(date(2026, 11, 2)), tick=False)
    case_id = register(app, date(2026, 11, 2))  # referral due Monday 9 November
    # Thursday 5 November: Fri 6 and Mon 9 remain, 2 working days
    time_machine.move_to(at(date(2026, 11, 5)), tick=False)
    inbox = login(app, STREET).get("/").text
    assert '<span class="badge badge-soon"' in inbox and "即将到期，剩余2个工作日" in inbox
    (row,) = api.get(STREET, "/inbox").json["items"]
    assert row["due_soon"] is True and row["overdue"] is False
    supervisor = login(app, SUPERVISOR)
    dashboard = supervisor.get("/supervision").text
    soon_stat = re.search(r'stat-soon">.*?stat-value">(\d+)<', dashboard, re.S)
    assert soon_stat and soon_stat.group(1) == "1"
    assert f'href="/cases/{case_id}"' in dashboard.split('id="due-soon"')[1]

    # the administrators narrow "due soon" to 1 working day: the same task is no longer
    saved = api.call("admin", "PUT", "/settings/due_soon_working_days", json={"value": 1})
    assert saved.status_code == 200 and saved.json["scope"] == "app"
    inbox = login(app, STREET).get("/").text
    assert "剩余2个工作日" in inbox and "badge-soon" not in inbox
    assert api.get(STREET, "/inbox").json["items"][0]["due_soon"] is False
    dashboard = supervisor.get("/supervision").text
    soon_stat = re.search(r'stat-soon">.*?stat-value">(\d+)<', dashboard, re.S)
    assert soon_stat and soon_stat.group(1) == "0"
    assert "1个工作日内到期" in dashboard
    # out of range: refused, naming the field
    too_big = api.call("admin", "PUT", "/settings/due_soon_working_days", json={"value": 99})
    assert_error(too_big, 422, "invalid", {"value"})
    page = login(app, "admin").get("/admin/settings").text
    assert "系统参数" in page and "即将到期提示" in page
