"""The JSON API (/api/v1) through the test client: the whole major-hazard path across agencies,
scoping, form errors, conflicts, tokens, the inbox and deadlines, the calendar and the OpenAPI
description."""

from __future__ import annotations

import re
from datetime import timedelta
from itertools import pairwise

from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate
from sqlalchemy import select

from server.extensions import db
from server.models import Case, Event, User
from tests.support.api import Api, assert_error, today
from tests.support.major_hazard import sample

from .conftest import PASSWORD

STREET = "wuling.nanping"  # 武陵区南坪街道
BRIGADE = "wuling.fire"  # 武陵区消防救援大队
GOVERNMENT = "wuling.gov"  # 武陵区人民政府
OTHER_BRIGADE = "dingcheng.fire"  # 鼎城区消防救援大队
SUPERVISOR = "city.supervisor"
ADMIN = "admin"


ISO_WITH_OFFSET = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+08:00")


# --- the whole path ------------------------------------------------------------------------------


def test_major_hazard_path_across_agencies(api: Api) -> None:
    case = api.register(days_ago=3)
    case_id = case["id"]
    assert case["status"] == "open"
    assert case["number"].startswith("DB")
    assert ISO_WITH_OFFSET.fullmatch(case["opened_at"])
    assert [t["name"] for t in case["tasks"]] == ["refer_to_fire_rescue"]
    assert case["tasks"][0]["workable"] is True
    assert case["tasks"][0]["agency"]["code"] == "street:wuling:nanping"
    referral = next(d for d in case["deadlines"] if d["timer"] == "referral_deadline")
    assert referral["state"] == "pending" and referral["overdue"] is False

    inbox = api.get(STREET, "/inbox").json
    assert [i["name"] for i in inbox["items"]] == ["refer_to_fire_rescue"]
    assert inbox["items"][0]["case"]["id"] == case_id
    # the brigade has nothing and does not even see the case before the referral
    assert api.get(BRIGADE, "/inbox").json["total"] == 0
    assert_error(api.get(BRIGADE, f"/cases/{case_id}"), 404, "not_found")

    case = api.complete(STREET, case_id, "refer_to_fire_rescue")
    assert [t["name"] for t in case["tasks"]] == ["file_case"]
    assert case["tasks"][0]["workable"] is False  # the street sees it, the brigade works it
    assert next(d for d in case["deadlines"] if d["timer"] == "referral_deadline")["state"] == (
        "met"
    )

    api.complete(BRIGADE, case_id, "file_case")
    api.complete(BRIGADE, case_id, "collective_deliberation")
    api.complete(BRIGADE, case_id, "serve_rectification_notice")
    case = api.complete(BRIGADE, case_id, "report_to_government")
    assert case["case_no"] == f"常消隐〔{today().year}〕17号"
    assert [t["name"] for t in case["tasks"]] == ["government_decision"]

    api.complete(GOVERNMENT, case_id, "government_decision")
    case = api.complete(
        GOVERNMENT, case_id, "set_rectification_plan", supervising_agency="street:wuling:nanping"
    )
    assert [(t["name"], t["agency"]["code"]) for t in case["tasks"]] == [
        ("report_rectification_progress", "street:wuling:nanping")
    ]

    api.complete(STREET, case_id, "report_rectification_progress", percent=100, completed=True)
    api.complete(BRIGADE, case_id, "reinspection")
    api.complete(BRIGADE, case_id, "request_closure")  # the 销案 请示
    case = api.complete(GOVERNMENT, case_id, "close_case")
    assert case["status"] == "closed"
    assert case["tasks"] == []
    assert case["closed_at"] is not None
    assert case["overdue"] is False
    assert {d["state"] for d in case["deadlines"]} <= {"met"}
    kinds = [e["kind"] for e in case["timeline"]]
    assert kinds[0] == "case_opened" and kinds[-1] == "case_closed"
    assert kinds.count("task_completed") == 12

    # every agency that worked the case still sees it; the closed case is in the closed list
    for user in (STREET, BRIGADE, GOVERNMENT, SUPERVISOR):
        assert api.get(user, f"/cases/{case_id}").json["status"] == "closed"
    closed = api.get(SUPERVISOR, "/cases?status=closed").json
    assert [c["id"] for c in closed["items"]] == [case_id]

    # the audit chain as the API shows it links up
    events = api.get(SUPERVISOR, f"/cases/{case_id}/events").json["items"]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["prev_hash"] == "0" * 64
    for before, after in pairwise(events):
        assert after["prev_hash"] == before["hash"]
    registration = events[1]
    assert registration["kind"] == "task_completed"
    assert registration["task"] == "register_hazard"
    assert registration["actor"]["username"] == STREET
    assert registration["agency"]["code"] == "street:wuling:nanping"
    assert registration["data"]["form"]["unit_name"] == "常德市武陵区星光KTV"


def test_a_completion_answers_small(app: Flask, api: Api) -> None:
    """The answer to a completion: the case's version, status and stage, the steps it opened
    (agency, due date) and its deadlines, as GET /cases/{id} shows them; not the whole case."""
    case_id = api.register()["id"]
    before = api.get(STREET, f"/cases/{case_id}").json
    with app.app_context():
        version = db.session.get(Case, case_id).row_version
    task_id = api.task_id(STREET, case_id, "refer_to_fire_rescue")
    done = api.post(
        STREET, f"/tasks/{task_id}/complete", json={"data": sample("refer_to_fire_rescue", today())}
    )
    assert done.status_code == 200, done.json
    answer = done.json
    assert set(answer) == {"id", "number", "version", "status", "stage", "next_tasks", "deadlines"}
    case = api.get(STREET, f"/cases/{case_id}").json
    with app.app_context():
        assert answer["version"] == db.session.get(Case, case_id).row_version > version
    assert (answer["id"], answer["number"], answer["status"], answer["stage"]) == (
        case_id,
        before["number"],
        "open",
        case["stage"],
    )
    (following,) = answer["next_tasks"]
    (shown,) = case["tasks"]
    assert following == {
        "id": shown["id"],
        "name": "file_case",
        "label": shown["label"],
        "agency": {"code": "fire_brigade:wuling", "name": shown["agency"]["name"]},
        "due_at": shown["due_at"],
    }
    keys = ("id", "timer", "label", "task_id", "due_at", "provisional", "state", "status")
    assert sorted(tuple(d[k] for k in keys) for d in answer["deadlines"]) == sorted(
        tuple(d[k] for k in keys) for d in case["deadlines"]
    )
    referral = next(d for d in answer["deadlines"] if d["timer"] == "referral_deadline")
    assert referral["state"] == "met" and referral["overdue"] is False
    assert referral["agency"]["code"] == "street:wuling:nanping"
    # the same task again: refused, nothing written
    again = api.post(
        STREET, f"/tasks/{task_id}/complete", json={"data": sample("refer_to_fire_rescue", today())}
    )
    assert_error(again, 409, "conflict")
    assert api.get(STREET, f"/cases/{case_id}").json["timeline"] == case["timeline"]


def test_task_detail_claim_and_release(api: Api) -> None:
    case_id = api.register()["id"]
    task_id = api.task_id(STREET, case_id, "refer_to_fire_rescue")
    task = api.get(STREET, f"/tasks/{task_id}").json
    assert task["name"] == "refer_to_fire_rescue"
    assert task["form"]["type"] == "object"
    assert "letter_no" in task["form"]["properties"]
    assert task["data"] is None
    assert task["case"]["id"] == case_id
    assert task["claimed_by"] is None

    claimed = api.post(STREET, f"/tasks/{task_id}/claim")
    assert claimed.status_code == 200
    assert claimed.json["claimed_by"]["username"] == STREET
    assert api.get(STREET, "/inbox").json["items"][0]["claimed_by"]["username"] == STREET
    released = api.post(STREET, f"/tasks/{task_id}/release")
    assert released.status_code == 200
    assert released.json["claimed_by"] is None

    # a registration in the street's own district only
    response = api.post(
        STREET,
        "/cases",
        json={
            "process": "major_hazard",
            "data": sample("register_hazard", today(), district="dingcheng"),
        },
    )
    assert_error(response, 422, "invalid", {"district"})


def test_me_and_processes(api: Api) -> None:
    me = api.get(STREET, "/me").json
    assert me["username"] == STREET
    assert me["agency"]["code"] == "street:wuling:nanping"
    assert me["roles"] == ["officer"]
    assert me["can_register"] is True

    processes = api.get(STREET, "/processes").json["items"]
    assert [p["id"] for p in processes] == ["major_hazard"]
    assert processes[0]["start_task"] == "register_hazard"
    schema = processes[0]["form"]
    assert "found_on" in schema["properties"]
    # the dynamic option lists are resolved into choices
    assert any(c["const"] == "wuling" for c in schema["properties"]["district"]["oneOf"])

    for user in (GOVERNMENT, SUPERVISOR, ADMIN):  # cannot register: empty list
        assert api.get(user, "/processes").json == {"items": []}
    assert_error(
        api.post(GOVERNMENT, "/cases", json={"process": "major_hazard", "data": {}}),
        403,
        "forbidden",
    )


# --- bad input -----------------------------------------------------------------------------------


def test_form_errors_answer_422_and_change_nothing(api: Api) -> None:
    case_id = api.register()["id"]
    task_id = api.task_id(STREET, case_id, "refer_to_fire_rescue")
    url = f"/tasks/{task_id}/complete"
    good = sample("refer_to_fire_rescue", today())
    before = api.get(SUPERVISOR, f"/cases/{case_id}/events").json["items"]

    future = (today() + timedelta(days=2)).isoformat()
    body = assert_error(
        api.post(STREET, url, json={"data": {**good, "referred_on": future}}),
        422,
        "invalid",
        {"referred_on"},
    )
    assert body["fields"]["referred_on"] == "“函告日期”不能晚于今天"
    # (the letter's number is generated on submission: its field is read-only, not required)
    missing = {k: v for k, v in good.items() if k != "contents"}
    body = assert_error(api.post(STREET, url, json={"data": missing}), 422, "invalid")
    assert body["fields"] == {"contents": "“函告内容”为必填项"}
    assert_error(
        api.post(STREET, url, json={"data": {**good, "surprise": 1}}), 422, "invalid", {"surprise"}
    )
    assert_error(
        api.post(STREET, url, json={"data": {**good, "letter_no": 7}}),
        422,
        "invalid",
        {"letter_no"},
    )
    for not_an_object in ([good], "letter", 3, None):
        assert_error(api.post(STREET, url, json={"data": not_an_object}), 422, "invalid", {"data"})
    assert_error(api.post(STREET, url, json={}), 422, "invalid", {"data"})
    assert_error(api.post(STREET, url, json={"data": good, "x": 1}), 422, "invalid", {"x"})
    for raw in (b"{not json", b"[1, 2]", b'"data"', b"", b'{"data": NaN}', b"\xff\xfe"):
        assert_error(
            api.call(STREET, "POST", url, data=raw, content_type="application/json"),
            400,
            "bad_request",
        )

    after = api.get(SUPERVISOR, f"/cases/{case_id}/events").json["items"]
    assert after == before
    assert api.get(STREET, f"/tasks/{task_id}").json["state"] == "ready"
    # ... and the same data, corrected, goes through
    assert api.post(STREET, url, json={"data": good}).status_code == 200


def test_registration_errors(api: Api) -> None:
    good = sample("register_hazard", today())
    assert_error(
        api.post(STREET, "/cases", json={"process": "major_hazard", "data": [good]}),
        422,
        "invalid",
        {"data"},
    )
    assert_error(
        api.post(STREET, "/cases", json={"process": "nope", "data": good}),
        422,
        "invalid",
        {"process"},
    )
    assert_error(
        api.post(STREET, "/cases", json={"process": "major_hazard", "data": {**good, "x": 1}}),
        422,
        "invalid",
        {"x"},
    )
    assert_error(api.post(STREET, "/cases", json={"data": good}), 422, "invalid", {"process"})
    assert api.get(STREET, "/cases").json["total"] == 0


def test_query_parameters_are_checked(api: Api) -> None:
    cases = [
        ("/cases?page=abc", "page"),
        ("/cases?page=0", "page"),
        ("/cases?page=100001", "page"),  # an OFFSET beyond 64 bits was a 500 on SQLite
        ("/inbox?page=461168601842738791", "page"),
        ("/cases?per_page=1000", "per_page"),
        ("/cases?per_page=0", "per_page"),
        ("/cases?status=lost", "status"),
        ("/cases?overdue=maybe", "overdue"),
        ("/cases?district=atlantis", "district"),
        ("/cases?process=unknown", "process"),
        ("/cases?sort=id", "sort"),
        ("/cases?page=1&page=2", "page"),
        ("/inbox?stage=nothing", "stage"),
        ("/inbox?per_page=101", "per_page"),
        ("/deadlines?state=late", "state"),
        ("/deadlines?agency=nobody", "agency"),
        ("/calendar/1999", "year"),
    ]
    for path, field in cases:
        assert_error(api.get(SUPERVISOR, path), 422, "invalid", {field})


def test_paging_and_list_scoping(api: Api) -> None:
    ids = [api.register(unit_name=f"单位{i}")["id"] for i in range(3)]
    page = api.get(SUPERVISOR, "/cases?per_page=2").json
    assert (page["page"], page["per_page"], page["total"]) == (1, 2, 3)
    assert [c["id"] for c in page["items"]] == ids[::-1][:2]  # newest first
    page = api.get(SUPERVISOR, "/cases?per_page=2&page=2").json
    assert [c["id"] for c in page["items"]] == ids[:1]
    assert api.get(SUPERVISOR, "/cases?page=9").json["items"] == []
    assert api.get(STREET, "/cases?district=wuling&process=major_hazard").json["total"] == 3
    assert api.get(STREET, "/cases?district=dingcheng").json["total"] == 0
    # another district's brigade, supervisor and officers of unrelated agencies see nothing
    for user in (OTHER_BRIGADE, "dingcheng.supervisor", BRIGADE, "wuling.chuanzihe"):
        assert api.get(user, "/cases").json["total"] == 0, user
        assert api.get(user, "/deadlines").json["total"] == 0, user
    assert api.get("wuling.supervisor", "/cases").json["total"] == 3


# --- scope, conflicts, authentication ------------------------------------------------------------


def test_other_agencies_get_404(api: Api) -> None:
    case_id = api.register()["id"]
    task_id = api.task_id(STREET, case_id, "refer_to_fire_rescue")
    data = {"data": sample("refer_to_fire_rescue", today())}
    for user in (OTHER_BRIGADE, BRIGADE, "wuling.chuanzihe"):
        assert_error(api.get(user, f"/cases/{case_id}"), 404, "not_found")
        assert_error(api.get(user, f"/cases/{case_id}/events"), 404, "not_found")
        assert_error(api.get(user, f"/tasks/{task_id}"), 404, "not_found")
        assert_error(api.post(user, f"/tasks/{task_id}/claim"), 404, "not_found")
        assert_error(api.post(user, f"/tasks/{task_id}/release"), 404, "not_found")
        assert_error(api.post(user, f"/tasks/{task_id}/complete", json=data), 404, "not_found")
    # supervisors see the case but work no task
    assert api.get(SUPERVISOR, f"/cases/{case_id}").status_code == 200
    assert_error(api.get(SUPERVISOR, f"/tasks/{task_id}"), 404, "not_found")
    # unknown ids
    assert_error(api.get(STREET, "/cases/999999"), 404, "not_found")
    assert_error(api.get(STREET, "/cases/999999/events"), 404, "not_found")
    assert_error(api.get(STREET, "/tasks/no-such-task"), 404, "not_found")
    assert_error(api.post(STREET, "/tasks/no-such-task/complete", json=data), 404, "not_found")
    # the task is untouched
    assert api.get(STREET, f"/tasks/{task_id}").json["state"] == "ready"


def test_conflicts_answer_409(app: Flask, api: Api) -> None:
    with app.app_context():
        from server.directory import create_user

        create_user(
            "wuling.nanping2", "南坪街道承办人二", "street:wuling:nanping", "officer", PASSWORD
        )
        db.session.commit()
    colleague = "wuling.nanping2"
    case_id = api.register()["id"]
    task_id = api.task_id(STREET, case_id, "refer_to_fire_rescue")
    data = {"data": sample("refer_to_fire_rescue", today())}

    assert api.post(STREET, f"/tasks/{task_id}/claim").status_code == 200
    assert api.post(STREET, f"/tasks/{task_id}/claim").status_code == 200  # again: a no-op
    assert_error(api.post(colleague, f"/tasks/{task_id}/claim"), 409, "conflict")
    assert_error(api.post(colleague, f"/tasks/{task_id}/release"), 409, "conflict")
    assert_error(api.post(colleague, f"/tasks/{task_id}/complete", json=data), 409, "conflict")
    assert api.get(colleague, f"/tasks/{task_id}").json["claimed_by"]["username"] == STREET

    assert api.post(STREET, f"/tasks/{task_id}/complete", json=data).status_code == 200
    assert_error(api.post(STREET, f"/tasks/{task_id}/complete", json=data), 409, "conflict")
    assert_error(api.post(STREET, f"/tasks/{task_id}/claim"), 409, "conflict")
    done = api.get(STREET, f"/tasks/{task_id}").json
    assert done["state"] == "completed"
    # what was submitted, and the letter's number generated on submission
    assert done["data"] == {**data["data"], "letter_no": f"武南函〔{today().year}〕1号"}


def test_bearer_token_required(app: Flask, api: Api, client: FlaskClient) -> None:
    body = assert_error(client.get("/api/v1/me"), 401, "unauthorized")
    assert body["fields"] == {}
    assert client.get("/api/v1/me").headers["WWW-Authenticate"].startswith("Bearer")
    assert_error(
        client.get("/api/v1/me", headers={"Authorization": "Bearer nope"}), 401, "unauthorized"
    )
    assert_error(
        client.get("/api/v1/cases", headers={"Authorization": "Basic eDp5"}), 401, "unauthorized"
    )
    assert_error(
        client.post("/api/v1/tokens", json={"username": STREET, "password": "wrong"}),
        401,
        "unauthorized",
    )
    assert_error(
        client.post("/api/v1/tokens", json={"username": "ghost", "password": PASSWORD}),
        401,
        "unauthorized",
    )
    assert_error(
        client.post("/api/v1/tokens", json={"username": STREET}), 422, "invalid", {"password"}
    )

    issued = client.post("/api/v1/tokens", json={"username": STREET, "password": PASSWORD})
    assert issued.status_code == 201
    assert ISO_WITH_OFFSET.fullmatch(issued.json["expires_at"])
    headers = {"Authorization": f"Bearer {issued.json['token']}"}
    assert client.get("/api/v1/me", headers=headers).json["username"] == STREET
    assert client.delete("/api/v1/tokens", headers=headers).status_code == 204
    assert_error(client.get("/api/v1/me", headers=headers), 401, "unauthorized")
    assert_error(client.delete("/api/v1/tokens", headers=headers), 401, "unauthorized")

    # a browser session is not enough for the API
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == STREET))
        session_id = user.get_id()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True
    assert_error(client.get("/api/v1/me"), 401, "unauthorized")
    assert_error(
        client.post("/api/v1/cases", json={"process": "major_hazard", "data": {}}),
        401,
        "unauthorized",
    )


def test_errors_are_json(app: Flask, api: Api, client: FlaskClient, monkeypatch) -> None:
    assert_error(client.get("/api/v1/nothing-here"), 404, "not_found")
    assert_error(api.get(STREET, "/cases/abc"), 404, "not_found")
    response = api.post(STREET, "/me")
    assert_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]
    assert_error(client.put("/api/v1/tokens", json={}), 405, "method_not_allowed")

    app.config["MAX_CONTENT_LENGTH"] = 1000
    big = {"username": "x" * 2000, "password": "y"}
    assert_error(client.post("/api/v1/tokens", json=big), 413, "too_large")

    app.config["PROPAGATE_EXCEPTIONS"] = False

    def broken(user):
        raise RuntimeError("boom")

    monkeypatch.setattr("server.api.user_json", broken)
    assert_error(api.get(STREET, "/me"), 500, "server_error")


# --- inbox and deadlines -------------------------------------------------------------------------


def test_inbox_and_deadlines_show_what_is_overdue(api: Api) -> None:
    late_id = api.register(days_ago=30, unit_name="逾期单位")["id"]
    fresh_id = api.register(days_ago=0, unit_name="新登记单位")["id"]

    inbox = api.get(STREET, "/inbox").json
    assert [i["case"]["id"] for i in inbox["items"]] == [late_id, fresh_id]  # earliest due first
    late, fresh = inbox["items"]
    assert late["overdue"] is True and late["working_days_overdue"] > 0
    assert late["due_soon"] is False
    assert fresh["overdue"] is False and fresh["working_days_overdue"] == 0
    assert ISO_WITH_OFFSET.fullmatch(late["due_at"])
    overdue_only = api.get(STREET, "/inbox?overdue=true").json
    assert [i["case"]["id"] for i in overdue_only["items"]] == [late_id]
    assert [i["case"]["id"] for i in api.get(STREET, "/inbox?overdue=false").json["items"]] == [
        fresh_id
    ]
    staged = api.get(STREET, "/inbox?stage=refer_to_fire_rescue&district=wuling").json
    assert staged["total"] == 2
    assert api.get(STREET, "/inbox?stage=file_case").json["total"] == 0
    assert api.get(STREET, "/inbox?per_page=1").json["items"][0]["case"]["id"] == late_id

    for user in (STREET, SUPERVISOR, "wuling.supervisor"):
        missed = api.get(user, "/deadlines?state=missed").json["items"]
        assert [(d["case"]["id"], d["timer"]) for d in missed] == [
            (late_id, "referral_deadline")
        ], user
        assert missed[0]["overdue"] is True
        assert missed[0]["agency"]["code"] == "street:wuling:nanping"
        assert missed[0]["missed_at"] is not None
    overdue = api.get(SUPERVISOR, "/deadlines?state=overdue").json["items"]
    assert [d["case"]["id"] for d in overdue] == [late_id]
    pending = api.get(SUPERVISOR, "/deadlines?state=pending").json["items"]
    assert [(d["case"]["id"], d["timer"]) for d in pending] == [(fresh_id, "referral_deadline")]
    by_agency = api.get(SUPERVISOR, "/deadlines?agency=street:wuling:nanping&district=wuling")
    assert by_agency.json["total"] == 2
    assert api.get(SUPERVISOR, "/deadlines?agency=fire_brigade:wuling").json["total"] == 0
    assert api.get(SUPERVISOR, "/deadlines?state=met").json["total"] == 0

    assert [c["id"] for c in api.get(SUPERVISOR, "/cases?overdue=true").json["items"]] == [late_id]
    assert [c["id"] for c in api.get(SUPERVISOR, "/cases?overdue=false").json["items"]] == [
        fresh_id
    ]
    # the missed deadline is in the case's timeline too
    case = api.get(STREET, f"/cases/{late_id}").json
    assert case["overdue"] is True
    assert "deadline_missed" in [e["kind"] for e in case["timeline"]]


def test_inbox_flags_a_task_due_soon(app: Flask, api: Api, time_machine) -> None:
    case = api.register(days_ago=0)
    assert api.get(STREET, "/inbox").json["items"][0]["due_soon"] is False  # 5 working days
    with app.app_context():
        from server.engine import get_engine

        calendar = get_engine().calendar
        due = calendar.working_days_after(today(), 5).due
        next_working_day = calendar.working_days_after(due, 1).due
    time_machine.move_to(due.replace(hour=10, minute=0, second=0), tick=False)
    item = api.get(STREET, "/inbox").json["items"][0]
    assert item["case"]["id"] == case["id"]
    assert item["due_at"] == due.isoformat()
    assert (item["due_soon"], item["overdue"], item["working_days_overdue"]) == (True, False, 0)
    time_machine.move_to(next_working_day.replace(hour=10, minute=0, second=0), tick=False)
    item = api.get(STREET, "/inbox").json["items"][0]
    assert (item["due_soon"], item["overdue"], item["working_days_overdue"]) == (False, True, 1)


def test_deadline_due_at_is_end_of_day_in_shanghai(api: Api) -> None:
    """Due dates survive SQLite (which drops offsets) as 23:59:59 Asia/Shanghai."""
    case = api.register()
    referral = next(d for d in case["deadlines"] if d["timer"] == "referral_deadline")
    assert referral["due_at"].endswith("T23:59:59+08:00")


# --- calendar ------------------------------------------------------------------------------------


def test_calendar_read_by_all_changed_by_administrators(app: Flask, api: Api) -> None:
    year = api.get(STREET, "/calendar/2026").json
    assert year["year"] == 2026 and year["source"] == "statutory"
    assert "2026-10-01" in year["holidays"]
    computed = api.get(STREET, "/calendar/2030").json
    assert computed["source"] == "computed" and computed["provisional"] is True
    assert [h["name"] for h in computed["computed_holidays"]] == [
        "元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"
    ]  # fmt: skip
    assert "2030-10-01" in computed["holidays"] and computed["workdays"] == []

    entry = {"holidays": ["2030-01-01", "2030-10-01", "2030-10-02"], "workdays": ["2030-09-29"]}
    assert_error(api.call(STREET, "PUT", "/calendar/2030", json=entry), 404, "not_found")
    assert_error(api.call(SUPERVISOR, "PUT", "/calendar/2030", json=entry), 404, "not_found")

    saved = api.call(ADMIN, "PUT", "/calendar/2030", json=entry)
    assert saved.status_code == 200, saved.json
    assert saved.json == {
        "year": 2030,
        "source": "admin",
        "provisional": False,
        "holidays": ["2030-01-01", "2030-10-01", "2030-10-02"],
        "workdays": ["2030-09-29"],
        "computed_holidays": [],
        "recomputed": {"cases": 0, "deadlines": 0, "failed": 0},
    }
    assert api.get(STREET, "/calendar/2030").json == {
        k: v for k, v in saved.json.items() if k != "recomputed"
    }

    bad = [
        ({"holidays": ["2030-01-01"], "workdays": ["2030-01-02"]}, {"workdays"}),  # a Wednesday
        ({"holidays": ["2031-01-01"]}, {"holidays"}),  # another year
        ({"holidays": ["2030-02-30"]}, {"holidays"}),
        ({"holidays": "2030-01-01"}, {"holidays"}),
        ({"holidays": None}, {"holidays"}),  # the schema says array (found by the fuzzing)
        ({"workdays": None, "holidays": []}, {"workdays"}),
        ({"holiday": ["2030-01-01"]}, {"holiday"}),
    ]
    for body, fields in bad:
        assert_error(api.call(ADMIN, "PUT", "/calendar/2030", json=body), 422, "invalid", fields)
    assert_error(api.call(ADMIN, "PUT", "/calendar/2030", json=["2030-01-01"]), 400, "bad_request")
    assert_error(api.call(ADMIN, "PUT", "/calendar/1990", json=entry), 422, "invalid", {"year"})
    assert "recomputed" not in api.get(STREET, "/calendar/2030").json  # errors changed nothing
    assert api.get(STREET, "/calendar/2030").json["holidays"] == saved.json["holidays"]

    with app.app_context():
        from server.engine import get_engine

        changes = db.session.scalars(
            select(Event).where(Event.case_id.is_(None), Event.kind == "calendar_changed")
        ).all()
        assert [e.data["year"] for e in changes] == [2030]
        assert changes[0].data["previous"] is None
        assert get_engine().calendar.is_working_day("2030-09-29")  # a Sunday, now a workday


# --- the description -----------------------------------------------------------------------------


def test_openapi_document_is_valid_and_complete(app: Flask, client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")  # public
    assert response.status_code == 200
    spec = response.json
    validate(spec)
    assert spec["openapi"].startswith("3.1")
    base = spec["servers"][0]["url"]
    assert base == "/api/v1"

    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(base + "/"):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule[len(base) :])
            routes |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {
        (path, method)
        for path, item in spec["paths"].items()
        for method in item
        if method in {"get", "put", "post", "delete", "patch"}
    }
    assert routes == documented
    # every path parameter is declared
    parameters = spec["components"]["parameters"]
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            declared = {
                parameters[p["$ref"].rsplit("/", 1)[1]]["name"]
                for p in operation.get("parameters", [])
                if "$ref" in p
            }
            assert set(re.findall(r"{(\w+)}", path)) <= declared, (path, method)


def test_an_id_beyond_the_database_integer_is_not_found(api: Api) -> None:
    # PostgreSQL's integer overflows above 2**31 - 1: such an id must be a 404, not a 500.
    for path in ("/cases/2147483648", "/cases/2147483648/events", "/cases/99999999999999999999"):
        assert_error(api.get(SUPERVISOR, path), 404, "not_found")
