"""The report deadlines' helpers: the n-th working day of a month (附件8 monthly report) and a
day of the year moved off rest days (the annual report's 12月10日)."""

from datetime import date

import pytest

from workflows.calendar import WorkingCalendar, YearEntry
from workflows.script_env import Helpers, RestrictedEnvironment, _provisional_flag


@pytest.fixture
def helpers():
    return Helpers(WorkingCalendar())


def test_fifth_working_day_of_an_ordinary_month(helpers):
    # December 2026 starts on a Tuesday: 1, 2, 3, 4, 7
    assert helpers.working_day_of_month("2026-12", 5) == "2026-12-07T23:59:59+08:00"
    assert helpers.working_day_of_month("2026-12", 1) == "2026-12-01T23:59:59+08:00"


def test_national_day_holiday_and_its_make_up_saturday(helpers):
    # 2026: 1–7 October off; Saturday 10 October is a make-up working day (调休上班)
    assert helpers.working_day_of_month("2026-10", 1) == "2026-10-08T23:59:59+08:00"
    assert helpers.working_day_of_month("2026-10", 3) == "2026-10-10T23:59:59+08:00"
    assert helpers.working_day_of_month("2026-10", 5) == "2026-10-13T23:59:59+08:00"


def test_new_year_make_up_sunday_counts(helpers):
    # 2026: 1–3 January off; Sunday 4 January is a make-up working day
    assert helpers.working_day_of_month("2026-01", 1) == "2026-01-04T23:59:59+08:00"


def test_spring_festival_month(helpers):
    # February 2026: the 5th working day comes before the festival (15–23 February off)
    assert helpers.working_day_of_month("2026-02", 5) == "2026-02-06T23:59:59+08:00"
    assert helpers.working_day_of_month("2026-02", 12) == "2026-02-24T23:59:59+08:00"


def test_an_administrator_year_moves_the_deadline():
    # the entry replaces the year: New Year's Day and, say, Monday 4 January off
    entry = YearEntry(
        holidays=frozenset({date(2027, 1, 1), date(2027, 1, 4)}), workdays=frozenset()
    )
    helpers = Helpers(WorkingCalendar({2027: entry}))
    assert helpers.working_day_of_month("2027-01", 1) == "2027-01-05T23:59:59+08:00"


def test_a_year_without_a_schedule_gives_a_provisional_deadline(helpers):
    flag: list[bool] = []
    token = _provisional_flag.set(flag)
    try:
        helpers.working_day_of_month("2026-12", 5)
        assert flag == []
        helpers.working_day_of_month("2031-03", 5)
        assert flag == [True]
    finally:
        _provisional_flag.reset(token)


def test_day_of_year_moves_off_rest_days(helpers):
    assert helpers.day_of_year(2026, 12, 10) == "2026-12-10T23:59:59+08:00"  # a Thursday
    # 1 October 2026 is a holiday: the first working day after it
    assert helpers.day_of_year(2026, 10, 1) == "2026-10-08T23:59:59+08:00"
    # 31 February is the month's last day, Saturday 28 February 2026 a make-up working day
    assert helpers.day_of_year(2026, 2, 31) == "2026-02-28T23:59:59+08:00"


def test_next_month(helpers):
    assert helpers.next_month("2026-11") == "2026-12"
    assert helpers.next_month("2026-12") == "2027-01"


@pytest.mark.parametrize("bad", ["2026-13", "2026-1", "２０２６-11", None, "2026/11"])
def test_bad_months_are_refused(helpers, bad):
    with pytest.raises(ValueError):
        helpers.working_day_of_month(bad, 5)


@pytest.mark.parametrize("args", [(2026, 13, 1), (2026, 12, 0), (2026, True, 1), ("2026", 12, 10)])
def test_bad_days_are_refused(helpers, args):
    with pytest.raises(ValueError):
        helpers.day_of_year(*args)


def test_the_report_timer_expressions_evaluate():
    env = RestrictedEnvironment(Helpers(WorkingCalendar()))
    settings = {"monthly_report_due_working_day": 5, "annual_report_due_month": 12,
                "annual_report_due_day": 10}  # fmt: skip
    monthly = env.evaluate(
        'working_day_of_month(next_month(case["period"]), '
        'settings["monthly_report_due_working_day"])',
        {"case": {"period": "2026-11"}, "settings": settings},
    )
    assert monthly == "2026-12-07T23:59:59+08:00"
    annual = env.evaluate(
        'day_of_year(int(case["period"]), settings["annual_report_due_month"], '
        'settings["annual_report_due_day"])',
        {"case": {"period": "2026"}, "settings": settings},
    )
    assert annual == "2026-12-10T23:59:59+08:00"
