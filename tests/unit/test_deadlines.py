"""The function behind `flask --app server deadline START N [--calendar-days]`."""

import pytest

from workflows.calendar import WorkingCalendar, parse_year_entry
from workflows.deadlines import compute_deadline


def test_working_days_example_from_the_domain_brief():
    assert compute_deadline("2026-09-24", 5) == {
        "start": "2026-09-24",
        "days": 5,
        "kind": "working_days",
        "label": "5个工作日",
        "due": "2026-10-09T23:59:59+08:00",
        "provisional": False,
    }


def test_calendar_days_roll_off_the_national_day_holiday():
    result = compute_deadline("2026-09-20", 11, calendar_days=True)
    assert result["due"] == "2026-10-08T23:59:59+08:00"
    assert result["label"] == "11日"
    assert result["kind"] == "calendar_days"


def test_a_datetime_start_counts_from_its_shanghai_date():
    assert compute_deadline("2026-09-23T17:00:00Z", 5)["start"] == "2026-09-24"


def test_year_without_data_is_provisional_until_entered():
    assert compute_deadline("2026-12-30", 3)["provisional"] is True
    entry = parse_year_entry({"holidays": ["2027-01-01"], "workdays": []})
    calendar = WorkingCalendar().with_year(2027, entry)
    result = compute_deadline("2026-12-30", 3, calendar=calendar)
    assert result == {**result, "due": "2027-01-05T23:59:59+08:00", "provisional": False}


@pytest.mark.parametrize(("start", "n"), [("yesterday", 5), ("2026-02-30", 5), ("2026-09-24", 0),
                                          ("2026-09-24", -3)])  # fmt: skip
def test_bad_input_is_a_value_error(start, n):
    with pytest.raises(ValueError):
        compute_deadline(start, n)
