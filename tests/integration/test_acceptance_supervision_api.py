"""Acceptance of issue 18 through the API: a supervisor's 催办 reaches the late agency.

A street office misses its referral deadline (函告消防救援机构, 5 working days); the county
supervisor urges the case (``POST /api/v1/cases/{id}/follow-ups``); the street's officer finds
the follow-up unread in ``GET /api/v1/notifications``, marks it read, completes the task with
the reason for lateness (逾期原因); the deadline is then met late (逾期后办结) in
``GET /api/v1/deadlines``, on the case, and in the dashboard's compliance counts — and it is
no longer overdue anywhere.

The clock is moved with time-machine to November 2026 (no holiday): a hazard found on Monday
2 November must be referred by the end of Monday 9 November.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

from flask import Flask

from server.sweep import sweep
from tests.integration.conftest import Auth
from tests.support.api import Api, assert_error
from tests.support.major_hazard import sample
from workflows.calendar import SHANGHAI

STREET = "wuling.nanping"  # 武陵区南坪街道: registers, then must refer within 5 working days
SUPERVISOR = "wuling.supervisor"  # 武陵区消安委办
OUTSIDER = "dingcheng.fire"  # another district's officer
REASON = "经办人外出参加消防安全专项检查，函告书未能按期送出，现已补送。"


def at(day: date, hour: int = 10) -> datetime:
    """``hour`` o'clock in Changde on ``day``."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def referral_deadline(api: Api, user: str, case_id: int, state: str | None = None) -> dict:
    """The case's referral deadline as ``GET /api/v1/deadlines`` shows it to ``user``."""
    query = {"state": state} if state else {}
    response = api.get(user, "/deadlines", query_string={**query, "district": "wuling"})
    assert response.status_code == 200, response.json
    found = [d for d in response.json["items"] if d["case_id"] == case_id]
    assert len(found) <= 1
    return found[0] if found else {}


def unread(api: Api, user: str) -> int:
    response = api.get(user, "/notifications")
    assert response.status_code == 200, response.json
    return response.json["unread"]


def test_an_urge_reaches_the_late_agency_and_the_step_is_met_late(
    app: Flask, api: Api, time_machine
) -> None:
    # Monday 2 November: the street office registers the hazard it found that day.
    time_machine.move_to(at(date(2026, 11, 2)), tick=False)
    case = api.register(STREET, days_ago=0)
    case_id = case["id"]
    (task,) = [t for t in case["tasks"] if t["name"] == "refer_to_fire_rescue"]

    # Thursday 12 November: three working days late; the sweep records the missed deadline.
    time_machine.move_to(at(date(2026, 11, 12)), tick=False)
    with app.app_context():
        assert sweep()["fired"] == 1
    overdue = referral_deadline(api, SUPERVISOR, case_id, "overdue")
    assert overdue["status"] == "overdue" and overdue["overdue"] is True
    assert overdue["agency"]["name"] == "武陵区南坪街道"
    before = unread(api, STREET)
    outsider_before = unread(api, OUTSIDER)

    # Friday 13 November: the county supervisor urges (催办) the case.
    time_machine.move_to(at(date(2026, 11, 13), 9), tick=False)
    note = "函告逾期，请于今日内函告武陵区消防救援大队。"
    urged = api.post(
        SUPERVISOR, f"/cases/{case_id}/follow-ups", json={"action": "urge", "note": note}
    )
    assert urged.status_code == 201, urged.json
    assert urged.json["label"] == "催办"
    assert urged.json["notified_agencies"] == ["武陵区南坪街道"]
    # an officer may not urge (a supervisor's action: 404, as for what one may not see)
    assert_error(
        api.post(STREET, f"/cases/{case_id}/follow-ups", json={"action": "urge", "note": "x"}),
        404,
        "not_found",
    )

    # The street's officer holds it, unread, leading to the task; nobody elsewhere got it.
    assert unread(api, STREET) == before + 1
    assert unread(api, OUTSIDER) == outsider_before
    inbox = api.get(STREET, "/notifications", query_string={"unread": "true"})
    assert inbox.status_code == 200
    (message,) = [m for m in inbox.json["items"] if m["kind"] == "follow_up_urge"]
    assert message["case_id"] == case_id and message["read_at"] is None
    assert message["target"] == {"kind": "task", "id": task["id"]}
    assert message["overdue_days"] == 4  # Tue 10 … Fri 13 November
    assert message["title"].startswith("催办：") and "函告消防救援机构" in message["title"]
    assert note in message["body"] and "武陵区消安委办" in message["body"]
    assert any(g["case"]["id"] == case_id and g["unread"] >= 1 for g in inbox.json["groups"])

    read = api.post(STREET, f"/notifications/{message['id']}/read")
    assert read.status_code == 200 and read.json["read_at"] is not None
    assert unread(api, STREET) == before
    # another user's message is not there to be read
    assert_error(api.post(OUTSIDER, f"/notifications/{message['id']}/read"), 404, "not_found")

    # The officer completes the task: the reason for lateness is required, then recorded.
    path = f"/tasks/{task['id']}/complete"
    data = sample("refer_to_fire_rescue", date(2026, 11, 13))
    missing = api.post(STREET, path, json={"data": data})
    assert missing.status_code == 422, missing.json
    assert "late_reason" in missing.json["fields"]
    done = api.post(STREET, path, json={"data": data, "late_reason": REASON})
    assert done.status_code == 200, done.json
    assert "file_case" in [t["name"] for t in done.json["next_tasks"]]
    (on_case,) = [d for d in done.json["deadlines"] if d["id"] == overdue["id"]]
    assert on_case["status"] == "met_late" and on_case["overdue"] is False

    # The supervisor sees the deadline met late, and no longer overdue.
    met = referral_deadline(api, SUPERVISOR, case_id, "missed")
    assert met["id"] == overdue["id"]
    assert met["status"] == "met_late" and met["overdue"] is False
    assert met["met_at"].startswith("2026-11-13")
    assert referral_deadline(api, SUPERVISOR, case_id, "overdue") == {}
    shown = api.get(SUPERVISOR, f"/cases/{case_id}")
    assert shown.status_code == 200
    assert not shown.json["overdue"]
    events = api.get(SUPERVISOR, f"/cases/{case_id}/events").json["items"]
    (completed,) = [
        e for e in events if e["kind"] == "task_completed" and e["task"] == "refer_to_fire_rescue"
    ]
    assert completed["data"]["late_reason"] == REASON

    # The dashboard's compliance counts it missed, and among the missed, met late.
    client = app.test_client()
    assert Auth(app, client).login(SUPERVISOR).status_code == 302
    exported = client.get("/supervision/export/compliance.csv?start=2026-11-01&end=2026-11-30")
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.data.decode("utf-8-sig"))))
    (referral,) = [r for r in rows if r["环节"].startswith("函告消防救援机构")]
    assert (referral["按期办结"], referral["逾期"], referral["其中逾期后办结"]) == ("0", "1", "1")
    page = client.get("/supervision?start=2026-11-01&end=2026-11-30").text
    assert "其中逾期后办结" in page
