"""The report processes (bpmn/monthly_report.bpmn, bpmn/annual_report.bpmn) through the engine:
their deadlines, the escalation of a late submission, return and resubmission, acceptance."""

from datetime import date, datetime

from tests.support.driver import at
from workflows.calendar import SHANGHAI
from workflows.forms import validate_form
from workflows.lanes import resolve_lane

SUBMIT = {"filled_on": "2026-12-01", "preparer": "张伟", "reviewer": "李强",
          "contact_phone": "0736-7223119",
          "work_summary": "本月按计划推进专项整治。"}  # fmt: skip
MONTHLY = {"reporting_agency": "safety_office:dingcheng", "district": "dingcheng",
           "period": "2026-11", "kind": "monthly"}  # fmt: skip


def _do(instance, name, data, day):
    assert validate_form(name, data, today=day) == {}
    task = next(t for t in instance.ready_tasks() if t.name == name)
    return instance.complete(task.id, data)


def test_monthly_report_on_time_then_accepted(engine, clock):
    clock.move_to(at(date(2026, 12, 1)))
    instance = engine.start("monthly_report", MONTHLY)
    (task,) = instance.ready_tasks()
    assert (task.name, task.lane) == ("submit_monthly_report", "reporting_office")
    assert resolve_lane(task.lane, "dingcheng", instance.data) == "safety_office:dingcheng"
    # the 5th working day of December 2026
    assert instance.next_timer_at() == datetime(2026, 12, 7, 23, 59, 59, tzinfo=SHANGHAI)
    clock.move_to(at(date(2026, 12, 4)))
    _do(instance, "submit_monthly_report", SUBMIT, date(2026, 12, 4))
    (review,) = instance.ready_tasks()
    assert resolve_lane(review.lane, "dingcheng", instance.data) == "safety_office:city"
    assert instance.next_timer_at() is None
    result = _do(
        instance, "review_monthly_report", {"reviewed_on": "2026-12-04", "decision": "accept"},
        date(2026, 12, 4),
    )  # fmt: skip
    assert instance.completed and result.escalations == []


def test_late_monthly_report_escalates_and_is_still_submittable(engine, clock):
    clock.move_to(at(date(2026, 12, 1)))
    instance = engine.start("monthly_report", MONTHLY)
    clock.move_to(at(date(2026, 12, 8)))
    result = instance.fire_timers()
    assert [e.code for e in result.escalations] == ["monthly_report_overdue"]
    assert [t.timer for t in result.fired_timers] == ["monthly_report_deadline"]
    assert [t.name for t in instance.ready_tasks()] == ["submit_monthly_report"]
    _do(instance, "submit_monthly_report", SUBMIT, date(2026, 12, 8))
    assert [t.name for t in instance.ready_tasks()] == ["review_monthly_report"]


def test_returned_report_gets_the_resubmission_deadline(engine, clock):
    clock.move_to(at(date(2026, 12, 1)))
    instance = engine.start("monthly_report", MONTHLY)
    _do(instance, "submit_monthly_report", SUBMIT, date(2026, 12, 1))
    clock.move_to(at(date(2026, 12, 9)))  # reviewed after the monthly deadline
    returned = {"reviewed_on": "2026-12-09", "decision": "return", "reason": "数据需核实"}
    result = _do(instance, "review_monthly_report", returned, date(2026, 12, 9))
    assert result.escalations == []  # not late: the resubmission has its own period
    assert [t.name for t in instance.ready_tasks()] == ["submit_monthly_report"]
    # 3 working days from Wednesday 9 December
    assert instance.next_timer_at() == datetime(2026, 12, 14, 23, 59, 59, tzinfo=SHANGHAI)


def test_a_return_needs_a_reason():
    errors = validate_form(
        "review_monthly_report", {"reviewed_on": "2026-12-04", "decision": "return"},
        today=date(2026, 12, 4),
    )  # fmt: skip
    assert "reason" in errors


def test_annual_report_due_on_10_december_from_a_department(engine, clock):
    clock.move_to(at(date(2026, 11, 2)))
    data = {"reporting_agency": "industry:city:zhujian", "district": "city", "period": "2026",
            "kind": "annual"}  # fmt: skip
    instance = engine.start("annual_report", data)
    (task,) = instance.ready_tasks()
    assert resolve_lane(task.lane, "city", instance.data) == "industry:city:zhujian"
    assert instance.next_timer_at() == datetime(2026, 12, 10, 23, 59, 59, tzinfo=SHANGHAI)
    clock.move_to(at(date(2026, 12, 11)))
    assert [e.code for e in instance.fire_timers().escalations] == ["annual_report_overdue"]
