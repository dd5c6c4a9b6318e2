"""The reports' submission workflows (server/report_cases.py, bpmn/monthly_report.bpmn,
bpmn/annual_report.bpmn): generation by the system, idempotent; the deadline under a moved
clock, its escalation and notifications; return, resubmission, acceptance; the pages and their
API twins, with their scoping."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import openpyxl
import pytest
import time_machine
from sqlalchemy import func, select

from server.extensions import db
from server.models import Case, Deadline, Event, Notification, Report, Task, User
from server.operations import complete_task
from server.report_cases import generate, generate_due, refresh_report, reporting_agencies
from server.sweep import sweep
from tests.integration.conftest import csrf_token
from workflows.calendar import SHANGHAI

MONTH = "2026-11"
# December 2026: the 5th working day is Monday 7 December
GENERATED = datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI)
ON_TIME = datetime(2026, 12, 4, 10, 0, tzinfo=SHANGHAI)
LATE = datetime(2026, 12, 8, 10, 0, tzinfo=SHANGHAI)
SUBMIT = {"filled_on": "2026-12-01", "preparer": "张伟", "reviewer": "李强",
          "contact_phone": "0736-7223119",
          "work_summary": "本月按计划推进专项整治。"}  # fmt: skip


def user(username: str) -> User:
    return db.session.scalars(select(User).where(User.username == username)).one()


def report_of(agency_code: str, kind: str = "monthly", period: str = MONTH) -> Report:
    return next(
        r
        for r in db.session.scalars(
            select(Report).where(Report.kind == kind, Report.period == period)
        )
        if r.agency.code == agency_code
    )


def ready(report: Report) -> Task:
    return db.session.scalars(
        select(Task).where(Task.case_id == report.case_id, Task.state == "ready")
    ).one()


@pytest.fixture
def generated(app):
    """November's monthly reports, generated on 1 December 2026."""
    with app.app_context(), time_machine.travel(GENERATED, tick=False):
        created = generate("monthly", MONTH)
        return [r.id for r in created]


def test_generation_opens_one_case_per_county_office_and_is_idempotent(app, generated):
    with app.app_context():
        offices = reporting_agencies("monthly")
        assert len(generated) == len(offices) == 14
        assert {r.agency.code for r in db.session.scalars(select(Report))} == {
            a.code for a in offices
        }
        with time_machine.travel(GENERATED, tick=False):
            assert generate("monthly", MONTH) == []
        assert db.session.scalar(select(func.count(Report.id))) == 14
        report = report_of("safety_office:dingcheng")
        case = report.case
        assert case.process_id == "monthly_report" and case.opened_by_id is None
        assert report.snapshot["scope"] == {"kind": "district", "code": "dingcheng"}
        task = ready(report)
        assert (
            task.name == "submit_monthly_report" and task.agency.code == "safety_office:dingcheng"
        )
        assert task.due_at == datetime(2026, 12, 7, 23, 59, 59, tzinfo=SHANGHAI)
        opened = db.session.scalars(
            select(Event).where(Event.case_id == case.id, Event.kind == "case_opened")
        ).one()
        assert opened.actor_id is None and opened.data["started_by"] == "system"


def test_the_scheduler_job_generates_what_is_due(app):
    with app.app_context():
        with time_machine.travel(datetime(2026, 10, 31, 12, tzinfo=SHANGHAI), tick=False):
            counts = generate_due()
        assert counts == {"monthly:2026-09": 14}
        with time_machine.travel(datetime(2026, 11, 1, 8, tzinfo=SHANGHAI), tick=False):
            counts = generate_due()
        departments = len(reporting_agencies("annual")) - 14
        assert counts == {"monthly:2026-10": 14, "annual:2026": 14 + departments}
        annual = report_of("industry:city:zhujian", "annual", "2026")
        assert annual.case.district == "city"
        assert ready(annual).agency.code == "industry:city:zhujian"


def test_on_time_submission_then_acceptance(app, generated):
    with app.app_context():
        report = report_of("safety_office:dingcheng")
        with time_machine.travel(ON_TIME, tick=False):
            complete_task(user("dingcheng.office"), ready(report), SUBMIT)
            review = ready(report)
            assert review.agency.code == "safety_office:city"
            complete_task(
                user("city.office.officer"), review,
                {"reviewed_on": "2026-12-04", "decision": "accept", "comments": "同意。"},
            )  # fmt: skip
        with time_machine.travel(LATE, tick=False):
            sweep()
        report = db.session.get(Report, report.id)
        assert report.remarks["preparer"] == "张伟"
        assert report.submitted_at is not None and report.accepted_at is not None
        assert report.case.status == "closed"
        deadline = db.session.scalars(
            select(Deadline).where(Deadline.case_id == report.case_id)
        ).one()
        assert deadline.state == "met" and deadline.missed_at is None


def test_late_submission_is_escalated_to_the_city_office(app, generated):
    with app.app_context():
        report = report_of("safety_office:dingcheng")
        with time_machine.travel(LATE, tick=False):
            sweep()
        deadline = db.session.scalars(
            select(Deadline).where(Deadline.case_id == report.case_id)
        ).one()
        assert deadline.state == "missed"
        escalation = db.session.scalars(
            select(Event).where(Event.case_id == report.case_id, Event.kind == "escalation")
        ).one()
        assert escalation.data["targets"] == ["safety_office:dingcheng", "safety_office:city"]
        told = set(
            db.session.scalars(
                select(User.username)
                .join(Notification, Notification.user_id == User.id)
                .where(Notification.case_id == report.case_id)
            )
        )
        assert {"dingcheng.office", "dingcheng.supervisor", "city.supervisor"} <= told
        # still submittable, with a reason for lateness as every late step
        with time_machine.travel(LATE, tick=False):
            complete_task(
                user("dingcheng.office"), ready(report), SUBMIT, late_reason="统计数据核对延误"
            )
        deadline = db.session.get(Deadline, deadline.id)
        assert deadline.state == "missed" and deadline.met_at is not None


def test_return_and_resubmission(app, generated):
    with app.app_context():
        report = report_of("safety_office:wuling")
        with time_machine.travel(ON_TIME, tick=False):
            complete_task(user("wuling.office"), ready(report), SUBMIT)
            complete_task(
                user("city.office.officer"), ready(report),
                {"reviewed_on": "2026-12-04", "decision": "return", "reason": "请补充工作情况"},
            )  # fmt: skip
        report = db.session.get(Report, report.id)
        assert report.returned_at is not None and report.return_reason == "请补充工作情况"
        task = ready(report)
        assert task.name == "submit_monthly_report"
        # resubmission: 3 working days from Friday 4 December
        assert task.due_at == datetime(2026, 12, 9, 23, 59, 59, tzinfo=SHANGHAI)
        with time_machine.travel(datetime(2026, 12, 7, 9, tzinfo=SHANGHAI), tick=False):
            complete_task(user("wuling.office"), task, {**SUBMIT, "remarks": "已补充。"})
        report = db.session.get(Report, report.id)
        assert report.remarks["remarks"] == "已补充。"
        assert ready(report).name == "review_monthly_report"


def test_refresh_replaces_the_snapshot_only_while_drafting(app, generated):
    from server.operations import Conflict, Forbidden

    with app.app_context():
        report = report_of("safety_office:dingcheng")
        with pytest.raises(Forbidden):
            refresh_report(user("wuling.office"), report)
        with time_machine.travel(ON_TIME, tick=False):
            refresh_report(user("dingcheng.office"), report)
            assert db.session.get(Report, report.id).refreshed_at is not None
            complete_task(user("dingcheng.office"), ready(report), SUBMIT)
            with pytest.raises(Conflict):
                refresh_report(user("dingcheng.office"), db.session.get(Report, report.id))
        kinds = db.session.scalars(
            select(Event.kind).where(Event.case_id == report.case_id).order_by(Event.seq)
        ).all()
        assert "report_refreshed" in kinds


def test_report_cases_are_no_hazards(app, generated):
    from server.report_figures import Scope, monthly_table

    with app.app_context():
        table = monthly_table(Scope("district", "dingcheng"), MONTH)
        assert table.total("found_month") == 0
        hazards = db.session.scalar(
            select(func.count(Case.id)).where(Case.process_id == "major_hazard")
        )
        assert hazards == 0


def test_cli_generates_once(app, runner):
    with time_machine.travel(GENERATED, tick=False):
        first = runner.invoke(args=["report", "generate", "--month", MONTH])
        again = runner.invoke(args=["report", "generate", "--month", MONTH])
    assert first.exit_code == 0 and "已生成 14 份报告" in first.output, first.output
    assert again.exit_code == 0 and "均已生成" in again.output
    bad = runner.invoke(args=["report", "generate", "--month", "2026-13"])
    assert bad.exit_code != 0 and "YYYY-MM" in bad.output
    both = runner.invoke(args=["report", "generate", "--month", MONTH, "--year", "2026"])
    assert both.exit_code != 0


# --- pages and API twins -------------------------------------------------------------------------


def _ids(app) -> dict[str, int]:
    with app.app_context():
        return {r.agency.code: r.id for r in db.session.scalars(select(Report))}


def test_api_lists_what_the_caller_may_see(app, api, generated):
    ids = _ids(app)
    with time_machine.travel(ON_TIME, tick=False):
        own = api.get("dingcheng.office", f"/reports/submissions?period={MONTH}")
        city = api.get("city.supervisor", f"/reports/submissions?period={MONTH}")
        office = api.get("city.office.officer", f"/reports/submissions?period={MONTH}")
        county = api.get("dingcheng.supervisor", f"/reports/submissions?period={MONTH}")
        street = api.get("wuling.nanping", f"/reports/submissions?period={MONTH}")
    assert own.status_code == 200
    assert [i["agency"]["code"] for i in own.json["items"]] == ["safety_office:dingcheng"]
    assert len(city.json["items"]) == len(office.json["items"]) == 14
    assert [i["agency"]["code"] for i in county.json["items"]] == ["safety_office:dingcheng"]
    assert street.json["items"] == [] and street.json["consolidated"] == []
    rows = city.json["consolidated"]
    assert len(rows) == 15 and rows[-1]["name"] == "合计"
    assert city.json["items"][0]["stage"] == "draft" and city.json["items"][0]["late"] is False
    one = api.get("dingcheng.office", f"/reports/submissions/{ids['safety_office:dingcheng']}")
    assert one.status_code == 200 and one.json["snapshot"]["scope"]["code"] == "dingcheng"
    # another county's report: 404, as for a report that does not exist
    assert (
        api.get(
            "dingcheng.office", f"/reports/submissions/{ids['safety_office:wuling']}"
        ).status_code
        == 404
    )
    assert api.get("dingcheng.office", "/reports/submissions/999999").status_code == 404


def test_api_bad_filters_answer_422(app, api):
    bad = api.get("city.supervisor", "/reports/submissions?period=2026-13")
    assert bad.status_code == 422 and "period" in bad.json["fields"]
    bad = api.get("city.supervisor", "/reports/submissions?kind=weekly")
    assert bad.status_code == 422 and "kind" in bad.json["fields"]


def test_api_refresh_and_downloads(app, api, generated):
    ids = _ids(app)
    path = f"/reports/submissions/{ids['safety_office:dingcheng']}"
    with time_machine.travel(ON_TIME, tick=False):
        assert api.post("city.supervisor", f"{path}/refresh").status_code == 403
        assert api.post("wuling.office", f"{path}/refresh").status_code == 404
        answer = api.post("dingcheng.office", f"{path}/refresh")
        assert answer.status_code == 200 and answer.json["refreshed_at"]
        book = api.get("city.supervisor", f"{path}.xlsx")
        assert book.status_code == 200
        sheets = openpyxl.load_workbook(io.BytesIO(book.data)).sheetnames
        assert sheets[0].startswith("鼎城区")
        assert api.get("city.supervisor", f"{path}.pdf").status_code == 404  # monthly: no PDF
        with app.app_context():
            report = db.session.get(Report, ids["safety_office:dingcheng"])
            complete_task(user("dingcheng.office"), ready(report), SUBMIT)
        assert api.post("dingcheng.office", f"{path}/refresh").status_code == 409


def test_annual_pdf(app, api):
    with app.app_context(), time_machine.travel(datetime(2026, 11, 2, 9, tzinfo=SHANGHAI)):
        generate("annual", "2026")
        report_id = report_of("industry:city:zhujian", "annual", "2026").id
    pdf = api.get("zhujian.officer", f"/reports/submissions/{report_id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert api.get("dingcheng.office", f"/reports/submissions/{report_id}.pdf").status_code == 404


def test_pages(app, auth, client, generated):
    ids = _ids(app)
    report_id = ids["safety_office:dingcheng"]
    with time_machine.travel(ON_TIME, tick=False):
        auth.login("city.supervisor")
        page = client.get(f"/reports/submissions?period={MONTH}")
        assert page.status_code == 200
        assert "鼎城区消防安全委员会办公室" in page.text and "全市汇总表" in page.text
        book = client.get(f"/reports/submissions.xlsx?period={MONTH}")
        sheets = openpyxl.load_workbook(io.BytesIO(book.data)).sheetnames
        assert len(sheets) >= 15 and "汇总" in sheets
        assert client.get("/reports/submissions?period=2026-13").status_code == 400
        auth.login("dingcheng.office")
        own = client.get(f"/reports/submissions?period={MONTH}").text
        assert "汇总表（所列报告" in own and "全市汇总表" not in own  # its own report only
        page = client.get(f"/reports/submissions/{report_id}")
        assert page.status_code == 200 and "按最新数据重新生成" in page.text
        assert client.get(f"/reports/submissions/{ids['safety_office:wuling']}").status_code == 404
        with app.app_context():
            task_id = ready(db.session.get(Report, report_id)).id
        task_page = client.get(f"/tasks/{task_id}")
        assert task_page.status_code == 200
        assert "报表数据" in task_page.text and "专项整治领域" in task_page.text
        token = csrf_token(task_page.text)
        refreshed = client.post(
            f"/reports/submissions/{report_id}/refresh", data={"csrf_token": token, "next": "task"}
        )
        assert refreshed.status_code == 303 and refreshed.location.endswith(f"/tasks/{task_id}")
        page = client.get(f"/reports/submissions/{report_id}")
        assert f'href="/tasks/{task_id}"' in page.text  # 办理：the office's own step
        with app.app_context():
            office = user("dingcheng.office")
            complete_task(office, ready(db.session.get(Report, report_id)), SUBMIT)
            review_id = ready(db.session.get(Report, report_id)).id
        auth.login("city.office.officer")
        page = client.get(f"/reports/submissions/{report_id}")
        assert f'href="/tasks/{review_id}"' in page.text and "办理：" in page.text
        auth.login("city.supervisor")  # sees the report, works no step of it
        assert "办理：" not in client.get(f"/reports/submissions/{report_id}").text


def test_demo_reports_at_every_stage(app):
    from server.demo import seed
    from server.demo_reports import shown_month
    from server.demo_timeline import Timeline
    from server.report_cases import deadlines_by_case, status_of
    from workflows.calendar import today_shanghai

    with app.app_context():
        seed("changde-demo")
        month = shown_month(Timeline(today_shanghai()))
        reports = db.session.scalars(
            select(Report).where(Report.kind == "monthly", Report.period == month)
        ).all()
        assert len(reports) == 14
        now = datetime.now(UTC)
        deadlines = deadlines_by_case([r.case_id for r in reports])
        status = {r.agency.division: status_of(r, deadlines[r.case_id], now) for r in reports}
        assert status["wuling"].code == "accepted" and not status["wuling"].late
        assert status["dingcheng"].code == "submitted" and status["dingcheng"].late
        assert status["jingkai"].code == "submitted" and not status["jingkai"].late
        assert status["anxiang"].code == "returned"
        assert status["hanshou"].code == "draft" and status["hanshou"].late
        late = db.session.get(
            Report, next(r.id for r in reports if r.agency.division == "dingcheng")
        )
        escalated = db.session.scalar(
            select(func.count(Event.id)).where(
                Event.case_id == late.case_id, Event.kind == "escalation"
            )
        )
        assert escalated == 1
        # the latest month, when it is not the one shown, is under way: the plan's steps of the
        # working days already past are done, the others are drafts
        from server.demo_reports import PLAN, _first_of_next
        from server.report_cases import previous_month

        timeline = Timeline(today_shanghai())
        latest = previous_month(timeline.today)
        if latest != month:
            rows = db.session.scalars(
                select(Report).where(Report.kind == "monthly", Report.period == latest)
            ).all()
            assert len(rows) == 14
            deadlines = deadlines_by_case([r.case_id for r in rows])
            codes = {r.agency.division: status_of(r, deadlines[r.case_id], now).code for r in rows}
            done_code = {"submit": "submitted", "accept": "accepted", "return": "returned"}
            for division, code in codes.items():
                past = [
                    step
                    for step, workday in PLAN.get(division, ())
                    if timeline.shift(_first_of_next(latest), workday - 1) < timeline.today
                ]
                assert code == (done_code[past[-1]] if past else "draft"), division
