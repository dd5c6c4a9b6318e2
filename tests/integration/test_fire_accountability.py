"""The accountability process (失火即追责) through the API, worked by the agencies it names.

A fatal fire at a 鼎城区 factory: registered by the 鼎城区 brigade, investigated at city level
by the detachment, the review request refused, a city-wide warning reported to the province by
the city safety committee office, credit joint punishment by four city departments, then the
notification and evaluation. Plus who may register, the warning board's scoping and the
escalation of a department that never answers.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta

from pypdf import PdfReader

from tests.support import fire_accountability
from tests.support.api import Api, assert_error, today
from workflows.calendar import WorkingCalendar

BRIGADE = "dingcheng.fire"
DETACHMENT = "detachment.officer"
OFFICE = "city.office.officer"  # 市消安委办
DEPARTMENTS = {
    "credit_development_reform": "fagai.officer",
    "credit_housing": "zhujian.officer",
    "credit_finance": "caizheng.officer",
    "credit_market_regulation": "shijian.officer",
}


def open_tasks(case: dict) -> list[tuple[str, str]]:
    return sorted((t["name"], t["agency"]["code"]) for t in case["tasks"])


def test_a_fatal_factory_fire_from_registration_to_close(api: Api) -> None:
    # Registered 10 days after the fire: the 7 days to amend the casualties have passed.
    case = api.register_fire(BRIGADE, days_ago=10, deaths=1, serious_injuries=2)
    case_id = case["id"]
    assert case["process"] == "fire_accountability"
    # The graded warning is published at once by the city safety committee office; a fatal
    # general fire is investigated under the county-level government (87号 §28).
    assert open_tasks(case) == [
        ("cause_investigation", "fire_detachment:city"),
        ("leadership_investigation", "government:dingcheng"),
        ("publish_warning", "safety_office:city"),
        ("record_appraisal", "fire_detachment:city"),
        ("responsibility_investigation", "fire_detachment:city"),
    ]
    # The verdicts and their bases are on the registration's record.
    events = api.get(BRIGADE, f"/cases/{case_id}/events").json["items"]
    registered = next(e for e in events if e["task"] == "register_fire")
    result = registered["data"]["result"]
    assert result["fire_level"] == "general"
    assert result["investigation_basis"].startswith("亡人火灾")
    assert result["investigating_level"] == "city"
    assert result["warning_scope"] == "province"
    deadline = next(d for d in case["deadlines"] if d["timer"] == "determination_deadline")
    assert deadline["state"] == "pending"
    assert deadline["agency"]["code"] == "fire_detachment:city"

    # The registering brigade sees the case but cannot work the detachment's tasks.
    assert api.get(BRIGADE, "/inbox").json["total"] == 0
    assert api.get(BRIGADE, f"/cases/{case_id}").json["id"] == case_id
    task = api.task_id(DETACHMENT, case_id, "cause_investigation")
    assert_error(api.post(BRIGADE, f"/tasks/{task}/complete", json={"data": {}}), 404, "not_found")

    case = api.complete(OFFICE, case_id, "publish_warning")
    assert ("report_warning_to_province", "safety_office:city") in open_tasks(case)
    case = api.complete(OFFICE, case_id, "report_warning_to_province")
    api.complete(
        "dingcheng.gov",
        case_id,
        "leadership_investigation",
        investigating_government="鼎城区人民政府",
    )
    case = api.complete(DETACHMENT, case_id, "responsibility_investigation")
    # The findings refer a party: the referral letters go out with them, and the four
    # departments' replies open at once.
    credit = sorted(
        (task, f"industry:city:{code}")
        for task, code in zip(DEPARTMENTS, ("fagai", "zhujian", "caizheng", "shijian"), strict=True)
    )
    assert set(credit) <= set(open_tasks(case))
    api.complete(DETACHMENT, case_id, "cause_investigation")
    case = api.complete(DETACHMENT, case_id, "serve_determination")
    assert open_tasks(case) == sorted([("review_request", "fire_detachment:city"), *credit])
    # The review window is not a deadline: nobody is late while it runs (only the
    # departments' replies are due).
    pending = [d["timer"] for d in case["deadlines"] if d["state"] == "pending"]
    assert sorted(pending) == sorted(f"{task}_deadline" for task in DEPARTMENTS)
    api.complete(DETACHMENT, case_id, "review_request")
    case = api.complete(
        DETACHMENT, case_id, "review_acceptance", accepted=False, reason="已超过复核申请期限。"
    )
    assert open_tasks(case) == credit
    for task, user in DEPARTMENTS.items():
        case = api.complete(user, case_id, task)
    assert open_tasks(case) == [("notification_evaluation", "safety_office:city")]
    case = api.complete(OFFICE, case_id, "notification_evaluation")
    assert case["status"] == "closed"
    assert case["overdue"] is False
    kinds = [e["kind"] for e in case["timeline"]]
    assert kinds[0] == "case_opened" and kinds[-1] == "case_closed"
    assert "warning_published" in kinds

    # The warning is on the board, reported to the province, readable all over the city.
    board = api.get("wuling.fire", "/warnings").json
    assert board["total"] == 1
    warning = board["items"][0]
    assert warning["scope"] == "province"
    assert warning["title"] == fire_accountability.sample("publish_warning", today())["title"]
    assert warning["province_report"].endswith(f"（常消安办〔{today().year}〕12号）")
    assert warning["publisher"]["code"] == "safety_office:city"
    assert warning["case_id"] is None  # 武陵区's brigade may read the warning, not the case
    assert api.get(BRIGADE, "/warnings").json["items"][0]["case_id"] == case_id


def test_only_fire_agencies_register_fires_in_their_division(api: Api) -> None:
    data = fire_accountability.sample("register_fire", today())
    body = {"process": "fire_accountability", "data": data}
    assert_error(api.post("wuling.nanping", "/cases", json=body), 403, "forbidden")
    assert_error(api.post("wuling.fire", "/cases", json=body), 422, "invalid", {"district"})
    processes = {p["id"] for p in api.get("wuling.fire", "/processes").json["items"]}
    assert processes == {"major_hazard", "fire_accountability"}
    assert [p["id"] for p in api.get("wuling.nanping", "/processes").json["items"]] == [
        "major_hazard"
    ]
    assert api.get("fagai.officer", "/me").json["can_register"] is True  # hazards only
    # The city detachment registers anywhere; the case's brigade lanes follow the district.
    case = api.register_fire(
        DETACHMENT, days_ago=10, site_type="residence", district="wuling", direct_loss=30000
    )
    assert open_tasks(case) == [
        ("publish_warning", "government:wuling"),
        ("simplified_determination", "fire_brigade:wuling"),
    ]


def test_a_county_wide_warning_is_read_only_in_its_division(api: Api, client) -> None:
    case = api.register_fire(BRIGADE, days_ago=10, site_type="residence", direct_loss=30000)
    case_id = case["id"]
    assert open_tasks(case) == [
        ("publish_warning", "government:dingcheng"),
        ("simplified_determination", "fire_brigade:dingcheng"),
    ]
    case = api.complete("dingcheng.gov", case_id, "publish_warning", title="鼎城区住宅火灾警示")
    assert open_tasks(case) == [("simplified_determination", "fire_brigade:dingcheng")]
    case = api.complete(BRIGADE, case_id, "simplified_determination")
    assert case["status"] == "closed"
    assert [w["scope"] for w in api.get("dingcheng.supervisor", "/warnings").json["items"]] == [
        "county"
    ]
    assert api.get("city.supervisor", "/warnings?scope=county").json["total"] == 1
    assert api.get("wuling.fire", "/warnings").json["total"] == 0
    assert_error(api.get("wuling.fire", "/warnings?scope=town"), 422, "invalid")

    # The board page, as a browser sees it: logged out it asks for a login.
    assert client.get("/warnings").status_code == 302


def test_a_department_that_never_answers_escalates_once(api: Api, app, runner, time_machine):
    case = api.register_fire(BRIGADE, days_ago=20, site_type="crowded_place")
    case_id = case["id"]
    for task in ("responsibility_investigation", "cause_investigation", "serve_determination"):
        api.complete(BRIGADE, case_id, task)
    api.complete("detachment.officer", case_id, "review_request")
    api.complete("detachment.officer", case_id, "review_acceptance", accepted=False, reason="逾期")
    case = api.complete(OFFICE, case_id, "publish_warning")
    for task in list(DEPARTMENTS)[:3]:
        api.complete(DEPARTMENTS[task], case_id, task)
    pending = api.get(OFFICE, f"/cases/{case_id}").json["deadlines"]
    due = next(d["due_at"] for d in pending if d["timer"] == "credit_market_regulation_deadline")
    time_machine.move_to(datetime.fromisoformat(due) + timedelta(hours=1), tick=False)
    assert runner.invoke(args=["sweep"]).exit_code == 0
    assert runner.invoke(args=["sweep"]).exit_code == 0
    case = api.get(OFFICE, f"/cases/{case_id}").json
    events = api.get(OFFICE, f"/cases/{case_id}/events").json["items"]
    escalations = [e for e in events if e["kind"] == "escalation"]
    assert [e["data"]["code"] for e in escalations] == ["credit_overdue"]
    assert escalations[0]["data"]["targets"] == ["industry:city:shijian", "safety_office:city"]
    missed = [d for d in case["deadlines"] if d["state"] == "missed"]
    assert [d["timer"] for d in missed] == ["credit_market_regulation_deadline"]


def test_the_dossier_of_a_fire_names_the_process_and_its_decisions(api: Api) -> None:
    case = api.register_fire(BRIGADE, deaths=3, site_type="production_business")
    response = api.post("city.auditor", f"/cases/{case['id']}/dossier.pdf")
    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.data))
    assert (reader.metadata or {}).get("/Title", "").startswith("火灾事故调查处理案卷")
    text = "".join(page.extract_text() for page in reader.pages[:3])
    for words in (
        "火灾事故调查处理案卷",
        "火灾等级：较大火灾",
        "调查层级：市级",
        "预警范围：上报省级",
    ):
        assert words in text.replace(" ", ""), words


def test_a_recorded_appraisal_moves_the_pending_determination_deadline_row(api: Api) -> None:
    case = api.register_fire(BRIGADE, days_ago=10, site_type="crowded_place")
    case_id = case["id"]

    def due() -> str:
        rows = api.get(BRIGADE, f"/cases/{case_id}").json["deadlines"]
        row = next(d for d in rows if d["timer"] == "determination_deadline")
        assert row["state"] == "pending"
        return row["due_at"]

    before = datetime.fromisoformat(due())
    start = (today() - timedelta(days=3)).isoformat()
    case = api.complete(BRIGADE, case_id, "record_appraisal", started_on=start)
    after = datetime.fromisoformat(due())
    # 4 days of appraisal (both ends count) are not counted: the same row now ends 34 days after
    # the alarm (moved off a rest day) instead of 30.
    alarm = today() - timedelta(days=10)
    calendar = WorkingCalendar()
    assert before == calendar.calendar_days_after(alarm, 30).due
    assert after == calendar.calendar_days_after(alarm, 34).due
    assert "record_appraisal" in [t["name"] for t in case["tasks"]]  # more can be recorded


def test_amended_casualties_move_the_open_investigation_to_the_detachment(api: Api) -> None:
    case = api.register_fire(BRIGADE, days_ago=2, site_type="crowded_place", serious_injuries=2)
    case_id = case["id"]
    assert ("cause_investigation", "fire_brigade:dingcheng") in open_tasks(case)
    task = api.task_id(BRIGADE, case_id, "cause_investigation")
    assert api.post(BRIGADE, f"/tasks/{task}/claim").status_code == 200
    # A death reported within 7 days: a city-level investigation (令121 §6, 条例493 §13).
    case = api.complete(BRIGADE, case_id, "amend_casualties", deaths=1, serious_injuries=1)
    tasks = dict(open_tasks(case))
    assert tasks["cause_investigation"] == "fire_detachment:city"
    assert tasks["record_appraisal"] == "fire_detachment:city"
    assert tasks["responsibility_investigation"] == "fire_detachment:city"
    assert tasks["amend_casualties"] == "fire_brigade:dingcheng"  # until the 7 days end
    deadline = next(d for d in case["deadlines"] if d["timer"] == "determination_deadline")
    assert deadline["agency"]["code"] == "fire_detachment:city"
    events = api.get(BRIGADE, f"/cases/{case_id}/events").json["items"]
    moved = [e for e in events if e["kind"] == "task_rerouted"]
    assert {e["task"] for e in moved} >= {"cause_investigation", "responsibility_investigation"}
    assert moved[0]["data"]["to"] == "fire_detachment:city"
    # The brigade's claim lapsed; the task is the detachment's now.
    assert_error(api.post(BRIGADE, f"/tasks/{task}/complete", json={"data": {}}), 404, "not_found")
    case = api.complete(DETACHMENT, case_id, "cause_investigation")
    assert ("serve_determination", "fire_detachment:city") in open_tasks(case)


def test_a_simplified_fire_amended_to_fatal_takes_the_general_procedure(api: Api) -> None:
    # A ¥2,000 residence fire goes to the simplified procedure; a death reported within the 7
    # days (条例493 §13) withdraws it: the general procedure runs (令121 ch. 3: simplified only
    # without casualties), with the county government's investigation (87号 §28) and the
    # province report of the warning (plan §二(六)3). The timeline says so.
    case = api.register_fire(BRIGADE, days_ago=2, site_type="residence", direct_loss=2000)
    case_id = case["id"]
    assert ("simplified_determination", "fire_brigade:dingcheng") in open_tasks(case)
    case = api.complete(BRIGADE, case_id, "amend_casualties", deaths=1, serious_injuries=0)
    tasks = dict(open_tasks(case))
    assert "simplified_determination" not in tasks
    assert tasks["cause_investigation"] == "fire_detachment:city"
    assert tasks["leadership_investigation"] == "government:dingcheng"
    events = api.get(BRIGADE, f"/cases/{case_id}/events").json["items"]
    milestones = [e for e in events if e["kind"] == "process_milestone"]
    assert [e["task"] for e in milestones] == ["simplified_withdrawn"]
    assert milestones[0]["data"]["label"] == "简易程序撤回，转一般程序"
