"""Tests for workflows.calendar: Chinese working-day deadline counting.

The 2020-2026 holiday periods and make-up days are derived here from chinese-calendar with a
deliberately naive day-by-day reference (``chinese_calendar.is_workday`` on each day), so that
the bisect/cache implementation is checked against something independent. Hand-checked
expectations from the published State Council schedules pin the reference itself.
"""

from __future__ import annotations

import math
import re
import zoneinfo
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

import chinese_calendar
import pytest

from workflows.calendar import (
    SHANGHAI,
    CalendarError,
    Deadline,
    WorkingCalendar,
    YearEntry,
    parse_moment,
    parse_year_entry,
)

ONE_DAY = timedelta(days=1)
CAL = WorkingCalendar()


# --- independent reference -------------------------------------------------------------------


def days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += ONE_DAY


def ref_nth_working_after(start: date, n: int) -> date:
    """The n-th working day after ``start``, counted one day at a time."""
    day, counted = start, 0
    while counted < n:
        day += ONE_DAY
        if chinese_calendar.is_workday(day):
            counted += 1
    return day


def holiday_periods(first_year: int, last_year: int) -> list[tuple[date, date, str]]:
    """Maximal runs of rest days that contain a named statutory holiday, with the name."""
    periods: list[tuple[date, date, str]] = []
    run: list[date] = []
    for day in days(date(first_year, 1, 1), date(last_year, 12, 31)):
        if not chinese_calendar.is_workday(day):
            run.append(day)
            continue
        names = {chinese_calendar.get_holiday_detail(d)[1] for d in run} - {None}
        if names:
            periods.append((run[0], run[-1], "+".join(sorted(str(n) for n in names))))
        run = []
    return periods


def makeup_days(first_year: int, last_year: int) -> list[date]:
    """Weekend days on which people work (调休上班)."""
    return [
        d
        for d in days(date(first_year, 1, 1), date(last_year, 12, 31))
        if d.weekday() >= 5 and chinese_calendar.is_workday(d)
    ]


def eod(day: date | str) -> datetime:
    """23:59:59 Asia/Shanghai of ``day``."""
    if isinstance(day, str):
        day = date.fromisoformat(day)
    return datetime.combine(day, time(23, 59, 59), tzinfo=SHANGHAI)


PERIODS = holiday_periods(2020, 2026)
MAKEUPS = makeup_days(2020, 2026)

# (label, start, n): every holiday period, started before it, on its first and its last day.
PERIOD_CASES = [
    pytest.param(start, n, id=f"{first}-{name}-{label}-{n}")
    for first, last, name in PERIODS
    for label, start, n in (
        ("before", first - ONE_DAY, 1),
        ("before", first - ONE_DAY, 5),
        ("first", first, 1),
        ("first", first, 3),
        ("last", last, 1),
    )
]
MAKEUP_CASES = [
    pytest.param(start, n, id=f"{m}-{label}-{n}")
    for m in MAKEUPS
    for label, start, n in (("on", m, 1), ("on", m, 5), ("before", m - ONE_DAY, 1))
]

# The hypothetical 2027 schedule an administrator enters (not the real one).
ENTRY_2027 = YearEntry(
    holidays=frozenset(
        [
            date(2027, 1, 1),
            date(2027, 1, 2),
            date(2027, 1, 3),
            *days(date(2027, 2, 6), date(2027, 2, 14)),
        ]
    ),
    workdays=frozenset([date(2027, 2, 20)]),
)


# --- the derived tables themselves ---------------------------------------------------------


def test_reference_tables_cover_known_periods() -> None:
    spans = {(first, last) for first, last, _ in PERIODS}
    assert (date(2020, 1, 24), date(2020, 2, 2)) in spans  # Spring Festival, extended (COVID)
    assert (date(2024, 10, 1), date(2024, 10, 7)) in spans
    assert (date(2025, 10, 1), date(2025, 10, 8)) in spans  # National Day + Mid-autumn
    assert (date(2026, 9, 25), date(2026, 9, 27)) in spans
    assert (date(2026, 10, 1), date(2026, 10, 7)) in spans
    assert date(2020, 2, 1) not in MAKEUPS  # the make-up day cancelled by the extension
    assert {date(2024, 9, 29), date(2024, 10, 12), date(2025, 9, 28), date(2025, 10, 11)} <= set(
        MAKEUPS
    )
    for year in range(2020, 2027):
        assert sum(1 for first, _, _ in PERIODS if first.year == year) >= 6
        assert any(m.year == year for m in MAKEUPS)


def test_is_working_day_matches_chinese_calendar_2020_2026() -> None:
    mismatches = [
        d
        for d in days(date(2020, 1, 1), date(2026, 12, 31))
        if CAL.is_working_day(d) != chinese_calendar.is_workday(d)
    ]
    assert mismatches == []


@pytest.mark.parametrize("year", range(2020, 2027))
def test_year_summary_statutory_matches_reference(year: int) -> None:
    summary = CAL.year_summary(year)
    assert summary["year"] == year
    assert summary["source"] == "statutory"
    assert summary["workdays"] == [d.isoformat() for d in MAKEUPS if d.year == year]
    holidays = {date.fromisoformat(s) for s in summary["holidays"]}  # type: ignore[attr-defined]
    for day in days(date(year, 1, 1), date(year, 12, 31)):
        # Every weekday off is a listed holiday; every listed day is a rest day.
        if day.weekday() < 5 and not chinese_calendar.is_workday(day):
            assert day in holidays
    assert all(not chinese_calendar.is_workday(d) for d in holidays)


# --- working days: every period and make-up day, both directions --------------------------


def _check_both_directions(start: date, n: int, expected: date) -> None:
    deadline = CAL.working_days_after(start.isoformat(), n)
    assert deadline.due == eod(expected)
    assert deadline.iso() == f"{expected.isoformat()}T23:59:59+08:00"
    assert deadline.provisional is False
    # Reverse direction: from the end of the start day, the deadline day is n working days on,
    # and one day after the deadline is overdue by 1 exactly when that day is a working day.
    assert CAL.working_days_between(eod(start), deadline.due) == n
    assert CAL.working_days_between(eod(start), datetime.combine(expected, time(9), SHANGHAI)) == n
    next_day = expected + ONE_DAY
    overdue = CAL.working_days_between(deadline.due, datetime.combine(next_day, time(9), SHANGHAI))
    assert overdue == (1 if chinese_calendar.is_workday(next_day) else 0)


@pytest.mark.parametrize(("start", "n"), PERIOD_CASES)
def test_working_days_around_holiday_periods(start: date, n: int) -> None:
    _check_both_directions(start, n, ref_nth_working_after(start, n))


@pytest.mark.parametrize(("start", "n"), MAKEUP_CASES)
def test_working_days_around_makeup_days(start: date, n: int) -> None:
    _check_both_directions(start, n, ref_nth_working_after(start, n))


@pytest.mark.parametrize("makeup", MAKEUPS, ids=str)
def test_makeup_day_counts_as_day_one(makeup: date) -> None:
    # Started the day before, the make-up day itself is the first working day...
    assert CAL.working_days_after(makeup - ONE_DAY, 1).due == eod(makeup)
    # ...and started on it, it is not counted.
    assert CAL.working_days_after(makeup, 1).due.date() > makeup


@pytest.mark.parametrize(("first", "last"), [(f, la) for f, la, _ in PERIODS], ids=str)
def test_overdue_count_across_holiday_period(first: date, last: date) -> None:
    due = eod(first - ONE_DAY)
    # Inside the holiday the case is late but no working day has passed yet.
    assert CAL.working_days_between(due, datetime.combine(last, time(12), SHANGHAI)) == 0
    # The first working day after the period makes it 1 working day overdue.
    assert CAL.working_days_between(due, datetime.combine(last + ONE_DAY, time(9), SHANGHAI)) == 1


HAND_CHECKED = [
    # DOMAIN.md §6 worked example and its intermediate days.
    ("2026-09-24", 1, "2026-09-28"),
    ("2026-09-24", 3, "2026-09-30"),
    ("2026-09-24", 4, "2026-10-08"),
    ("2026-09-24", 5, "2026-10-09"),
    ("2026-09-19", 1, "2026-09-20"),  # Sat -> Sun make-up day
    ("2026-10-09", 1, "2026-10-10"),  # Fri -> Sat make-up day
    ("2026-10-10", 1, "2026-10-12"),  # start on a make-up day: not counted
    ("2025-12-31", 1, "2026-01-04"),  # New Year 1/1-3, Sun 1/4 worked
    ("2026-02-13", 1, "2026-02-14"),
    ("2026-02-14", 1, "2026-02-24"),  # Spring Festival 2/15-23
    ("2026-02-27", 1, "2026-02-28"),
    # 2020 Spring Festival extended to 2/2 (the 2/1 make-up day was cancelled).
    ("2020-01-17", 1, "2020-01-19"),
    ("2020-01-23", 1, "2020-02-03"),
    ("2020-01-30", 1, "2020-02-03"),
    # National Day 2024: 10/1-7, make-up 9/29 (Sun) and 10/12 (Sat).
    ("2024-09-27", 1, "2024-09-29"),
    ("2024-09-27", 2, "2024-09-30"),
    ("2024-09-27", 3, "2024-10-08"),
    ("2024-09-30", 1, "2024-10-08"),
    ("2024-10-11", 1, "2024-10-12"),
    # National Day + Mid-autumn 2025: 10/1-8, make-up 9/28 (Sun) and 10/11 (Sat).
    ("2025-09-26", 1, "2025-09-28"),
    ("2025-09-26", 4, "2025-10-09"),
    ("2025-09-30", 1, "2025-10-09"),
    ("2025-10-10", 1, "2025-10-11"),
]


@pytest.mark.parametrize(("start", "n", "expected"), HAND_CHECKED)
def test_working_days_hand_checked(start: str, n: int, expected: str) -> None:
    deadline = CAL.working_days_after(start, n)
    assert deadline.iso() == f"{expected}T23:59:59+08:00"
    assert deadline.provisional is False
    assert ref_nth_working_after(date.fromisoformat(start), n) == date.fromisoformat(expected)


HAND_OVERDUE = [
    ("2026-09-30T23:59:59+08:00", "2026-09-30T23:59:59+08:00", 0),  # exactly at the deadline
    ("2026-09-30T23:59:59+08:00", "2026-09-29T10:00:00+08:00", 0),  # before it
    ("2026-09-30T23:59:59+08:00", "2026-10-07T12:00:00+08:00", 0),  # late, still in holiday
    ("2026-09-30T23:59:59+08:00", "2026-10-08T09:00:00+08:00", 1),
    ("2026-09-30T23:59:59+08:00", "2026-10-07T16:30:00Z", 1),  # = 10/8 00:30 Shanghai
    ("2026-09-30T23:59:59+08:00", "2026-10-10T09:00:00+08:00", 3),  # Sat 10/10 is worked
    ("2026-09-30T23:59:59+08:00", "2026-10-11T09:00:00+08:00", 3),
    ("2026-09-30T23:59:59+08:00", "2026-10-12T09:00:00+08:00", 4),
    ("2026-09-24T23:59:59+08:00", "2026-09-28T00:00:01+08:00", 1),
    ("2026-09-24T10:00:00+08:00", "2026-09-24T15:00:00+08:00", 0),  # hour deadline, same day
    ("2026-09-18T23:59:59+08:00", "2026-09-20T09:00:00+08:00", 1),  # Sun 9/20 is worked
]


@pytest.mark.parametrize(("due", "now", "expected"), HAND_OVERDUE)
def test_working_days_between_hand_checked(due: str, now: str, expected: int) -> None:
    assert CAL.working_days_between(parse_moment(due), parse_moment(now)) == expected


# --- calendar days ---------------------------------------------------------------------------


CALENDAR_DAY_CASES = [
    ("2026-09-01", 7, "2026-09-08"),  # ordinary Tuesday
    ("2026-09-15", 10, "2026-09-28"),  # ends Fri 9/25 (Mid-autumn) -> rolls over the holiday
    ("2026-09-21", 10, "2026-10-08"),  # ends 10/1 -> rolls over National Day
    ("2026-10-07", 10, "2026-10-19"),  # ends on an ordinary Saturday -> Monday
    ("2026-09-30", 10, "2026-10-10"),  # ends on make-up Saturday 10/10: no roll
    ("2026-09-10", 10, "2026-09-20"),  # ends on make-up Sunday 9/20: no roll
    ("2020-01-20", 5, "2020-02-03"),  # extended 2020 Spring Festival
    ("2026-08-31", 30, "2026-09-30"),  # the 30-day progress report limit
]


@pytest.mark.parametrize(("start", "n", "expected"), CALENDAR_DAY_CASES)
def test_calendar_days_hand_checked(start: str, n: int, expected: str) -> None:
    deadline = CAL.calendar_days_after(start, n)
    assert deadline.iso() == f"{expected}T23:59:59+08:00"
    assert deadline.provisional is False


MONTH_CASES = [
    ("2026-09-30", 1, "2026-10-30", False),  # corresponding day (民法典 §202)
    ("2024-01-31", 1, "2024-02-29", False),  # no 31 February: the month's last day, leap year
    ("2026-01-31", 1, "2026-02-28", False),  # Sat 2/28 is a make-up working day: no roll
    ("2026-09-05", 1, "2026-10-08", False),  # 10/5 National Day -> first working day after
    ("2026-10-17", 1, "2026-11-17", False),
    ("2026-03-31", 11, "2027-03-01", True),  # 2027-02-28 is a Sunday in a year without data
    ("2026-12-15", 1, "2027-01-15", True),  # last day in 2027: provisional
]


@pytest.mark.parametrize(("start", "n", "expected", "provisional"), MONTH_CASES)
def test_months_after_hand_checked(start: str, n: int, expected: str, provisional: bool) -> None:
    deadline = CAL.months_after(start, n)
    assert deadline.iso() == f"{expected}T23:59:59+08:00"
    assert deadline.provisional is provisional


def test_months_after_refuses_bad_counts() -> None:
    for bad in (0, -1, True, 1.5):
        with pytest.raises(CalendarError):
            CAL.months_after("2026-01-01", bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(("first", "last"), [(f, la) for f, la, _ in PERIODS], ids=str)
def test_calendar_days_ending_in_holiday_roll_to_next_working_day(first: date, last: date) -> None:
    for end in (first, last):
        start = end - timedelta(days=3)
        assert CAL.calendar_days_after(start, 3).due == eod(ref_nth_working_after(end, 1))
        assert CAL.calendar_days_after(start, 3).due == eod(last + ONE_DAY)


@pytest.mark.parametrize("makeup", MAKEUPS, ids=str)
def test_calendar_days_ending_on_makeup_day_do_not_roll(makeup: date) -> None:
    assert CAL.calendar_days_after(makeup - timedelta(days=5), 5).due == eod(makeup)


# --- year end into a year without data -------------------------------------------------------


def test_has_data() -> None:
    assert not CAL.has_data(2003)
    assert CAL.has_data(2004)
    assert CAL.has_data(2026)
    assert not CAL.has_data(2027)  # holidays computed from the 放假办法, no State Council schedule
    assert CAL.with_year(2027, ENTRY_2027).has_data(2027)
    sources = {y: CAL.source(y) for y in (2003, 2004, 2026, 2027, 2100, 2101)}
    assert sources == {2003: "none", 2004: "statutory", 2026: "statutory", 2027: "computed",
                       2100: "computed", 2101: "none"}  # fmt: skip
    assert CAL.with_year(2027, ENTRY_2027).source(2027) == "admin"


def test_year_end_into_2027_provisional_then_recomputed() -> None:
    provisional = CAL.working_days_after("2026-12-28", 5)
    # 2027 computed from the 放假办法: 12/29, 12/30, 12/31, (Fri 1/1 元旦), Mon 1/4, Tue 1/5.
    assert provisional == Deadline(eod("2027-01-05"), True)

    cal_2027 = CAL.with_year(2027, ENTRY_2027)
    recomputed = cal_2027.working_days_after("2026-12-28", 5)
    assert recomputed == Deadline(eod("2027-01-05"), False)

    # The original calendar is unchanged (calendars are immutable).
    assert CAL.working_days_after("2026-12-28", 5) == provisional
    assert not CAL.has_data(2027)


def test_provisional_only_when_a_day_without_data_is_examined() -> None:
    assert CAL.working_days_after("2026-12-28", 3) == Deadline(eod("2026-12-31"), False)
    assert CAL.working_days_after("2026-12-31", 1) == Deadline(eod("2027-01-04"), True)
    assert CAL.working_days_after("2027-03-01", 1) == Deadline(eod("2027-03-02"), True)
    # Started on the last day of a year without data: that day is not examined.
    assert CAL.working_days_after("2003-12-31", 1) == Deadline(eod("2004-01-02"), False)
    assert CAL.working_days_after("2003-12-30", 1) == Deadline(eod("2003-12-31"), True)
    cal_2027 = CAL.with_year(2027, ENTRY_2027)
    assert cal_2027.working_days_after("2026-12-31", 1) == Deadline(eod("2027-01-04"), False)


def test_calendar_days_into_2027() -> None:
    cal_2027 = CAL.with_year(2027, ENTRY_2027)
    assert CAL.calendar_days_after("2026-12-01", 30) == Deadline(eod("2026-12-31"), False)
    # Ends Fri 2027-01-01 (元旦, computed): moved to Mon 1/4, provisional.
    assert CAL.calendar_days_after("2026-12-01", 31) == Deadline(eod("2027-01-04"), True)
    assert cal_2027.calendar_days_after("2026-12-01", 31) == Deadline(eod("2027-01-04"), False)
    assert CAL.calendar_days_after("2026-12-01", 32) == Deadline(eod("2027-01-04"), True)
    # Ends on the hypothetical make-up Saturday 2027-02-20.
    assert CAL.calendar_days_after("2027-02-10", 10) == Deadline(eod("2027-02-22"), True)
    assert cal_2027.calendar_days_after("2027-02-10", 10) == Deadline(eod("2027-02-20"), False)


def test_2027_entry_changes_working_days_and_overdue_counts() -> None:
    cal_2027 = CAL.with_year(2027, ENTRY_2027)
    assert not CAL.is_working_day(date(2027, 1, 1))  # 元旦 (computed)
    assert not cal_2027.is_working_day(date(2027, 1, 1))
    assert CAL.is_working_day(date(2027, 1, 4))
    assert not CAL.is_working_day(date(2027, 2, 20))
    assert cal_2027.is_working_day(date(2027, 2, 20))
    # Spring Festival 2027 computed: 2/5-2/8 and the §6 days 2/9, 2/10, so Fri 2/5 + 1 -> Thu
    # 2/11; with the (hypothetical) entry 2/6-14 off: Mon 2/15.
    assert CAL.working_days_after("2027-02-05", 1) == Deadline(eod("2027-02-11"), True)
    assert cal_2027.working_days_after("2027-02-05", 1) == Deadline(eod("2027-02-15"), False)
    due, now = eod("2026-12-31"), datetime(2027, 1, 4, 9, tzinfo=SHANGHAI)
    assert CAL.working_days_between(due, now) == 1  # 1/1 is 元旦 in the computed year too
    assert cal_2027.working_days_between(due, now) == 1
    computed = CAL.year_summary(2027)
    assert computed["source"] == "computed" and computed["provisional"] is True
    assert computed["workdays"] == []  # the 调休 are unknown
    assert "2027-01-01" in computed["holidays"]  # type: ignore[operator]
    assert len(computed["computed_holidays"]) == 7  # type: ignore[arg-type]
    summary = cal_2027.year_summary(2027)
    assert summary["source"] == "admin" and summary["provisional"] is False
    assert summary["computed_holidays"] == []
    assert summary["workdays"] == ["2027-02-20"]
    assert summary["holidays"][:3] == ["2027-01-01", "2027-01-02", "2027-01-03"]  # type: ignore[index]


# --- administrator entries -------------------------------------------------------------------


def test_admin_entry_replaces_statutory_year() -> None:
    # An administrator's (fictitious) 2026 schedule: only 9/28 off, no make-up days.
    entry = YearEntry(holidays=frozenset({date(2026, 9, 28)}), workdays=frozenset())
    for cal in (CAL.with_year(2026, entry), WorkingCalendar({2026: entry})):
        assert cal.year_summary(2026)["source"] == "admin"
        assert cal.is_working_day(date(2026, 10, 1))
        assert not cal.is_working_day(date(2026, 9, 20))  # statutory make-up day is gone
        # 9/25 (1), 9/28 off, 9/29 (2), 9/30 (3), 10/1 (4), 10/2 (5).
        assert cal.working_days_after("2026-09-24", 5) == Deadline(eod("2026-10-02"), False)
        # Other years keep their statutory data.
        assert cal.year_summary(2025)["source"] == "statutory"
        assert not cal.is_working_day(date(2025, 10, 1))
    assert CAL.working_days_after("2026-09-24", 5).iso() == "2026-10-09T23:59:59+08:00"


def test_with_year_rejects_dates_of_another_year() -> None:
    with pytest.raises(ValueError, match="2027"):
        CAL.with_year(2028, ENTRY_2027)
    with pytest.raises(ValueError, match="2027"):
        WorkingCalendar({2026: ENTRY_2027})
    with pytest.raises(ValueError):
        CAL.with_year(2027, {"holidays": []})  # type: ignore[arg-type]


def test_year_entry_validation() -> None:
    entry = YearEntry(holidays={date(2027, 1, 1)}, workdays=[])  # type: ignore[arg-type]
    assert entry.holidays == frozenset({date(2027, 1, 1)})
    assert isinstance(entry.workdays, frozenset)
    with pytest.raises(ValueError, match="2027-01-02"):
        YearEntry(frozenset({date(2027, 1, 2)}), frozenset({date(2027, 1, 2)}))
    with pytest.raises(ValueError, match="2027-01-04"):  # a Monday cannot be a make-up day
        YearEntry(frozenset(), frozenset({date(2027, 1, 4)}))
    with pytest.raises(ValueError, match="one year"):
        YearEntry(frozenset({date(2027, 1, 1), date(2028, 1, 1)}), frozenset())
    with pytest.raises(ValueError, match=re.escape("datetime.date")):
        YearEntry(frozenset({datetime(2027, 1, 1)}), frozenset())


def test_parse_year_entry_ok() -> None:
    entry = parse_year_entry(
        {"holidays": ["2027-01-01", "2027-01-01", " 2027-01-02 "], "workdays": ["2027-02-20"]}
    )
    assert entry == YearEntry(
        frozenset({date(2027, 1, 1), date(2027, 1, 2)}), frozenset({date(2027, 2, 20)})
    )
    assert parse_year_entry({"holidays": ["2027-01-01"]}).workdays == frozenset()
    assert parse_year_entry({"year": 2027, "holidays": [], "workdays": []}) == YearEntry(
        frozenset(), frozenset()
    )
    assert parse_year_entry({"holidays": [date(2027, 1, 1)]}, year=2027).year == 2027


@pytest.mark.parametrize(
    ("data", "bad"),
    [
        ({"holidays": ["2027-02-30"]}, "2027-02-30"),
        ({"holidays": ["2027/01/01"]}, "2027/01/01"),
        ({"holidays": ["2027-01-01T00:00"]}, "2027-01-01T00:00"),
        ({"holidays": [20270101]}, "20270101"),
        ({"holidays": [datetime(2027, 1, 1)]}, "datetime"),
        ({"holidays": "2027-01-01"}, "2027-01-01"),
        ({"holidays": ["2027-01-01", "2028-01-01"]}, "2028-01-01"),
        ({"holidays": ["2027-01-01"], "workdays": ["2026-12-27"]}, "2026-12-27"),
        ({"holidays": ["2027-02-20"], "workdays": ["2027-02-20"]}, "2027-02-20"),
        ({"workdays": ["2027-02-22"]}, "2027-02-22"),  # a Monday
        ({"holiday": ["2027-01-01"]}, "holiday"),
        ({"year": 2027, "holidays": ["2026-12-31"]}, "2026-12-31"),
        ({"year": "2027", "holidays": []}, "2027"),
        (["2027-01-01"], "mapping"),
    ],
)
def test_parse_year_entry_errors(data: object, bad: str) -> None:
    with pytest.raises(ValueError, match=re.escape(bad)):
        parse_year_entry(data)  # type: ignore[arg-type]


def test_parse_year_entry_year_argument_mismatch() -> None:
    with pytest.raises(ValueError, match="2026"):
        parse_year_entry({"holidays": ["2027-01-01"]}, year=2026)


# --- parse_moment and time zones -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (date(2026, 9, 24), datetime(2026, 9, 24, tzinfo=SHANGHAI)),
        (datetime(2026, 9, 24, 10, 30), datetime(2026, 9, 24, 10, 30, tzinfo=SHANGHAI)),
        (datetime(2026, 9, 24, 2, 30, tzinfo=UTC), datetime(2026, 9, 24, 10, 30, tzinfo=SHANGHAI)),
        ("2026-09-24", datetime(2026, 9, 24, tzinfo=SHANGHAI)),
        ("2026-09-24T10:30:00", datetime(2026, 9, 24, 10, 30, tzinfo=SHANGHAI)),
        ("2026-09-24T10:30", datetime(2026, 9, 24, 10, 30, tzinfo=SHANGHAI)),
        ("2026-09-24 10:30:00", datetime(2026, 9, 24, 10, 30, tzinfo=SHANGHAI)),
        ("2026-09-24T10:30:00+08:00", datetime(2026, 9, 24, 10, 30, tzinfo=SHANGHAI)),
        ("2026-09-24T02:30:00Z", datetime(2026, 9, 24, 10, 30, tzinfo=SHANGHAI)),
        ("2026-09-24T02:30:00+00:00", datetime(2026, 9, 24, 10, 30, tzinfo=SHANGHAI)),
        ("2026-09-24T10:30:00.123456+08:00", datetime(2026, 9, 24, 10, 30, 0, 123456, SHANGHAI)),
    ],
)
def test_parse_moment_formats(value: object, expected: datetime) -> None:
    parsed = parse_moment(value)
    assert parsed == expected
    assert parsed.tzinfo is SHANGHAI
    assert parsed.replace(tzinfo=None) == expected.replace(tzinfo=None)  # Shanghai wall time


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "empty string"),
        ("   ", "empty string"),
        ("tomorrow", "'tomorrow' is not an ISO-8601 date"),
        ("2026-13-01", "'2026-13-01'"),
        ("2026/09/24", "'2026/09/24'"),
        ("24.09.2026", "'24.09.2026'"),
        ("2026-09-24T25:00", "'2026-09-24T25:00'"),
        (None, "got NoneType None"),
        (20260924, "got int 20260924"),
        (3.5, "got float 3.5"),
        (["2026-09-24"], "got list"),
    ],
)
def test_parse_moment_rejects(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_moment(value)


def test_utc_evening_maps_to_next_shanghai_date() -> None:
    # 17:00 UTC on 9/29 is 01:00 on 9/30 in Shanghai: +1 working day is 10/8, not 9/30.
    assert CAL.working_days_after("2026-09-29T17:00:00Z", 1).iso() == "2026-10-08T23:59:59+08:00"
    assert CAL.working_days_after("2026-09-29T15:59:59Z", 1).iso() == "2026-09-30T23:59:59+08:00"
    new_year = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)  # 2027-01-01 00:30 Shanghai
    assert not CAL.is_working_day(new_year)  # 元旦, computed for 2027
    assert not CAL.with_year(2027, ENTRY_2027).is_working_day(new_year)
    assert CAL.is_working_day(datetime(2027, 1, 3, 16, 30, tzinfo=UTC))  # Mon 1/4 in Shanghai
    assert CAL.working_days_after(new_year, 1) == Deadline(eod("2027-01-04"), True)


def test_foreign_dst_offsets_are_converted() -> None:
    new_york = zoneinfo.ZoneInfo("America/New_York")  # DST starts 2026-03-08 02:00
    before = datetime(2026, 3, 8, 1, 30, tzinfo=new_york)  # EST, UTC-5
    after = datetime(2026, 3, 8, 12, 0, tzinfo=new_york)  # EDT, UTC-4
    assert parse_moment(before) == datetime(2026, 3, 8, 14, 30, tzinfo=SHANGHAI)
    assert parse_moment(after) == datetime(2026, 3, 9, 0, 0, tzinfo=SHANGHAI)
    # Sunday 3/8 + 1 -> Mon 3/9; Monday 3/9 + 1 -> Tue 3/10.
    assert CAL.working_days_after(before, 1).due == eod("2026-03-09")
    assert CAL.working_days_after(after, 1).due == eod("2026-03-10")


def test_is_working_day_inputs() -> None:
    assert CAL.is_working_day("2026-10-10")  # make-up Saturday
    assert not CAL.is_working_day(date(2026, 10, 11))
    assert not CAL.is_working_day("2026-10-01T09:00:00+08:00")
    assert not CAL.is_working_day(date(2027, 1, 1))  # 元旦, computed
    assert CAL.is_working_day(date(2027, 1, 4))  # no schedule: Mon-Fri except the holidays
    assert not CAL.is_working_day(date(2027, 1, 2))
    assert CAL.is_working_day(date(2101, 1, 3))  # beyond 2100: weekends only


# --- hours and argument checking -------------------------------------------------------------


def test_hours_after_is_exact() -> None:
    deadline = CAL.hours_after("2026-09-24T10:15:30.250000+08:00", 24)
    assert deadline == Deadline(datetime(2026, 9, 25, 10, 15, 30, 250000, SHANGHAI), False)
    assert CAL.hours_after("2026-12-31T20:00:00+08:00", 48).iso() == "2027-01-02T20:00:00+08:00"
    assert CAL.hours_after("2026-12-31T20:00:00+08:00", 48).provisional is False
    assert CAL.hours_after(datetime(2026, 9, 24, 10, 0), 1.5).iso() == "2026-09-24T11:30:00+08:00"
    utc = CAL.hours_after("2026-09-24T00:00:00Z", 1)
    assert utc.iso() == "2026-09-24T09:00:00+08:00"
    assert utc.due.tzinfo is SHANGHAI


def test_deadline_iso_and_immutability() -> None:
    deadline = CAL.working_days_after(date(2026, 9, 24), 5)
    assert deadline.iso() == "2026-10-09T23:59:59+08:00"
    with pytest.raises(AttributeError):
        deadline.provisional = True  # type: ignore[misc]


@pytest.mark.parametrize("n", [0, -1, 1.5, True, "5", None])
def test_day_counts_must_be_positive_integers(n: object) -> None:
    with pytest.raises(ValueError):
        CAL.working_days_after("2026-09-24", n)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        CAL.calendar_days_after("2026-09-24", n)  # type: ignore[arg-type]


@pytest.mark.parametrize("n", [0, -1, math.nan, math.inf, True, "2", None])
def test_hours_must_be_positive_finite(n: object) -> None:
    with pytest.raises(ValueError):
        CAL.hours_after("2026-09-24T10:00:00+08:00", n)  # type: ignore[arg-type]


def test_bad_start_values_raise_value_error() -> None:
    with pytest.raises(ValueError, match="2026-02-30"):
        CAL.working_days_after("2026-02-30", 1)
    with pytest.raises(ValueError):
        CAL.year_summary(0)
    with pytest.raises(ValueError):
        CAL.has_data(True)


# --- years without a schedule: holidays computed from the 放假办法 (2024) -----------------------


def test_2027_new_years_day_is_not_a_working_day_and_the_deadline_is_provisional() -> None:
    assert not CAL.is_working_day("2027-01-01")  # Friday; 放假办法 §2(一)
    # Thu 2026-12-31 + 1 working day: Fri 1/1 is 元旦, the weekend follows: Mon 1/4.
    assert CAL.working_days_after("2026-12-31", 1) == Deadline(eod("2027-01-04"), True)


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # 春节: 2/5-2/8 and the §6 days 2/9, 2/10 (for Sat 2/6, Sun 2/7) are off.
        ("2027-02-04", 1, "2027-02-11"),
        ("2027-02-03", 3, "2027-02-12"),
        # 清明 Mon 4/5.
        ("2027-04-02", 1, "2027-04-06"),
        # 劳动节 Sat 5/1, Sun 5/2, made up Mon 5/3 and Tue 5/4.
        ("2027-04-30", 3, "2027-05-07"),
        # 端午 Wed 6/9, 中秋 Wed 9/15.
        ("2027-06-08", 1, "2027-06-10"),
        ("2027-09-14", 2, "2027-09-17"),
        # 国庆 Fri 10/1-Sun 10/3, made up Mon 10/4 and Tue 10/5.
        ("2027-09-28", 5, "2027-10-08"),
        # The referral limit (5 working days) across 国庆 2030 (Tue-Thu, no make-up day).
        ("2030-09-27", 5, "2030-10-09"),
        # 2031: 中秋 on 国庆 (Wed 10/1), made up Mon 10/6.
        ("2031-09-30", 1, "2031-10-07"),
    ],
)
def test_working_days_across_computed_holidays(start: str, n: int, expected: str) -> None:
    assert CAL.working_days_after(start, n) == Deadline(eod(expected), True)


def test_calendar_days_ending_in_a_computed_holiday_roll_over_it() -> None:
    # 30 days after 2027-09-01 is Fri 10/1 (国庆): moved past 10/1-10/5 to Wed 10/6.
    assert CAL.calendar_days_after("2027-09-01", 30) == Deadline(eod("2027-10-06"), True)


def test_admin_entry_replaces_the_computed_days() -> None:
    # Computed: Mon 5/3 is a §6 make-up day off. The (hypothetical) entry does not give it.
    assert not CAL.is_working_day("2027-05-03")
    cal_2027 = CAL.with_year(2027, ENTRY_2027)
    assert cal_2027.is_working_day("2027-05-03")
    assert cal_2027.working_days_after("2027-04-30", 3) == Deadline(eod("2027-05-05"), False)
    assert CAL.working_days_after("2027-04-30", 3) == Deadline(eod("2027-05-07"), True)
