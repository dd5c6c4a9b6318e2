"""Working-day calendar for Chinese administrative deadlines (期限计算).

Counting rules (DOMAIN.md §2, §6): the start day is not counted, a period ends at 23:59:59
Asia/Shanghai of its last day, and working days (工作日) skip weekends and statutory holidays but
include make-up working days (调休上班) that fall on weekends. docs/calendar.md has the details.

Where a year's days off come from (``year_summary(year)["source"]``), first match wins:

- ``"admin"``: an administrator entered the year's official schedule (:class:`YearEntry`);
- ``"statutory"``: the State Council schedules in ``chinese-calendar`` (2004-2026 in 1.11.0);
- ``"computed"``: 2025-2100 without a schedule: the holidays of 《全国年节及纪念日放假办法》 §2
  and the §6 make-up days off, computed by :mod:`workflows.statutory_holidays`; the 调休 of the
  annual notice are unknown, so every deadline that examines such a year is *provisional*;
- ``"none"``: any other year: weekends only, provisional too.

A provisional deadline is recomputed once the year gets an official schedule: when an
administrator enters it (``server.operations.save_calendar_year``) or, after an upgrade of
``chinese-calendar`` that brings the year, at the next timer sweep.

Pure Python: no Flask, no I/O. :class:`WorkingCalendar` is immutable; ``with_year`` returns a new
calendar, which lets a running engine swap calendars atomically.
"""

from __future__ import annotations

import bisect
import functools
import math
import re
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Literal, TypeAlias

import chinese_calendar
import chinese_calendar.constants

from workflows import statutory_holidays

__all__ = [
    "SHANGHAI",
    "CalendarError",
    "Deadline",
    "Moment",
    "WorkingCalendar",
    "YearEntry",
    "parse_moment",
    "parse_year_entry",
    "today_shanghai",
]

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")

# "24:00 of the last day" is represented as the last whole second, so that the deadline still
# falls on the last day's date and an ISO string round-trips through date-based code.
END_OF_DAY = time(23, 59, 59)

Moment: TypeAlias = date | datetime | str
"""Anything :func:`parse_moment` accepts (``datetime`` is listed for readability)."""

Source = Literal["statutory", "admin", "computed", "none"]
# Sources without the State Council's schedule: a deadline that examines their days is provisional.
PROVISIONAL_SOURCES: frozenset[str] = frozenset({"computed", "none"})

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


class CalendarError(ValueError):
    """Bad input to the calendar: an unparsable date, an invalid year entry or count.

    A ValueError subclass, so callers may catch either.
    """


@dataclass(frozen=True)
class YearEntry:
    """An administrator's official holiday schedule for one year.

    ``holidays`` are all days off of the holiday periods (weekend days inside a period may be
    listed or not: they are rest days either way). ``workdays`` are the make-up working days
    (调休上班), which by definition fall on a Saturday or Sunday.
    """

    holidays: frozenset[date]
    workdays: frozenset[date]

    def __post_init__(self) -> None:
        """Freeze the date sets and validate them (raises CalendarError)."""
        # Callers may hand in sets or lists; freeze them so the entry stays hashable and
        # immutable, then refuse anything the counting code could misread.
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "workdays", frozenset(self.workdays))
        for field_name, days in (("holidays", self.holidays), ("workdays", self.workdays)):
            for day in days:
                # A datetime is a date subclass but would never compare equal to the dates
                # the calendar looks up, so it would silently be ignored.
                if not isinstance(day, date) or isinstance(day, datetime):
                    raise CalendarError(f"{field_name}: {day!r} is not a datetime.date")
        both = self.holidays & self.workdays
        if both:
            listed = ", ".join(sorted(d.isoformat() for d in both))
            raise CalendarError(f"dates listed both as holiday and as make-up workday: {listed}")
        years = {d.year for d in self.holidays | self.workdays}
        if len(years) > 1:
            listed = ", ".join(map(str, sorted(years)))
            raise CalendarError(f"a year entry must cover one year, got dates in {listed}")
        for day in sorted(self.workdays):
            if day.weekday() < 5:
                raise CalendarError(
                    f"workdays: {day.isoformat()} is a {day.strftime('%A')}; make-up working "
                    "days (调休上班) fall on a Saturday or Sunday"
                )

    @property
    def year(self) -> int | None:
        """The year the dates lie in, or ``None`` for an entry without any date."""
        for day in self.holidays | self.workdays:
            return day.year
        return None


@dataclass(frozen=True)
class Deadline:
    """A computed deadline.

    ``provisional`` is True when a day used in the computation lies in a year without the State
    Council's schedule (holidays computed from the 放假办法, 调休 unknown; or weekends only);
    such a deadline should be recomputed once the year's schedule is entered.
    """

    due: datetime
    provisional: bool

    def iso(self) -> str:
        """Return ``due`` as an ISO-8601 string with offset, e.g. ``2026-10-09T23:59:59+08:00``."""
        return self.due.isoformat()


@dataclass(frozen=True, slots=True)
class _YearData:
    """Precomputed lookups for one year, so counting is set membership and bisection."""

    year: int
    source: Source
    holidays: frozenset[date]
    workdays: frozenset[date]
    working: tuple[int, ...]  # ordinals of the working days, ascending
    last_ordinal: int  # ordinal of 31 December

    @property
    def provisional(self) -> bool:
        """Whether deadlines that examine this year's days are provisional."""
        return self.source in PROVISIONAL_SOURCES

    def is_working(self, day: date) -> bool:
        """Apply the 工作日 rule: make-up day, or a weekday that is not a holiday."""
        return day in self.workdays or (day.weekday() < 5 and day not in self.holidays)


def _build_year(
    year: int, source: Source, holidays: Iterable[date], workdays: Iterable[date]
) -> _YearData:
    holiday_set = frozenset(holidays)
    workday_set = frozenset(workdays)
    first = date(year, 1, 1).toordinal()
    last = date(year, 12, 31).toordinal()
    working = tuple(
        o
        for o in range(first, last + 1)
        if (day := date.fromordinal(o)) in workday_set
        or (day.weekday() < 5 and day not in holiday_set)
    )
    return _YearData(year, source, holiday_set, workday_set, working, last)


# The years chinese-calendar holds official schedules for (2004–2026 in 1.11.0).
_STATUTORY_FIRST_YEAR = min(chinese_calendar.constants.holidays).year
_STATUTORY_LAST_YEAR = max(chinese_calendar.constants.holidays).year


@functools.cache
def _statutory_year(year: int) -> _YearData | None:
    """Statutory data for ``year`` from chinese-calendar, or None outside its range."""
    if not _STATUTORY_FIRST_YEAR <= year <= _STATUTORY_LAST_YEAR:
        return None  # chinese-calendar refuses years it has no schedule for
    holidays: list[date] = []
    workdays: list[date] = []
    day = date(year, 1, 1)
    one = timedelta(days=1)
    while day.year == year:
        # get_holiday_detail names a day only when it belongs to an official holiday period or
        # is a make-up working day; unnamed days are ordinary weekdays/weekends.
        is_rest, name = chinese_calendar.get_holiday_detail(day)
        if name is not None:
            (holidays if is_rest else workdays).append(day)
        day += one
    return _build_year(year, "statutory", holidays, workdays)


@functools.cache
def _computed_year(year: int) -> _YearData | None:
    """Holidays of the 放假办法 (2024 revision) for ``year``, or None outside 2025-2100."""
    if not statutory_holidays.FIRST_YEAR <= year <= statutory_holidays.LAST_YEAR:
        return None
    return _build_year(year, "computed", statutory_holidays.rest_days(year), ())


@functools.cache
def _weekends_only_year(year: int) -> _YearData:
    return _build_year(year, "none", (), ())


def _check_year(year: object) -> int:
    if isinstance(year, bool) or not isinstance(year, int) or not MINYEAR <= year <= MAXYEAR:
        raise CalendarError(
            f"year must be an integer between {MINYEAR} and {MAXYEAR}, got {year!r}"
        )
    return year


def _check_entry_for_year(year: int, entry: YearEntry) -> None:
    if not isinstance(entry, YearEntry):
        raise CalendarError(f"calendar data for {year} must be a YearEntry, got {entry!r}")
    if entry.year is not None and entry.year != year:
        raise CalendarError(f"calendar data for {year} contains dates in {entry.year}")


def _check_count(n: object) -> int:
    # bool is an int subclass; True would silently mean "1 day".
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise CalendarError(f"the number of days must be an integer >= 1, got {n!r}")
    return n


def _end_of_day(ordinal: int) -> datetime:
    return datetime.combine(date.fromordinal(ordinal), END_OF_DAY, tzinfo=SHANGHAI)


def _days_in_month(year: int, month: int) -> int:
    if month == 12:
        return 31
    return (date(year, month + 1, 1) - timedelta(days=1)).day


class WorkingCalendar:
    """Statutory holiday data plus administrator-entered years; computes deadlines.

    Immutable: use :meth:`with_year` to add or replace a year.
    """

    __slots__ = ("_admin", "_years")

    def __init__(self, admin_years: Mapping[int, YearEntry] | None = None) -> None:
        """Create a calendar; ``admin_years`` replace the statutory data of their years."""
        admin: dict[int, YearEntry] = {}
        for year, entry in (admin_years or {}).items():
            _check_entry_for_year(_check_year(year), entry)
            admin[year] = entry
        self._admin: Mapping[int, YearEntry] = MappingProxyType(admin)
        # Per-instance because admin years differ between calendars; statutory and
        # weekends-only years are shared through the module-level lru caches.
        self._years: dict[int, _YearData] = {}

    def __repr__(self) -> str:
        """Show which years carry administrator data."""
        return f"WorkingCalendar(admin_years={sorted(self._admin)!r})"

    @property
    def admin_years(self) -> Mapping[int, YearEntry]:
        """The administrator-entered years (read-only)."""
        return self._admin

    def with_year(self, year: int, entry: YearEntry) -> WorkingCalendar:
        """Return a new calendar with ``entry`` as the official schedule of ``year``."""
        _check_entry_for_year(_check_year(year), entry)
        admin = dict(self._admin)
        admin[year] = entry
        new = WorkingCalendar(admin)
        # Every other year's lookups are still valid; only the replaced year must be rebuilt.
        new._years.update((y, data) for y, data in self._years.items() if y != year)
        return new

    def _year(self, year: int) -> _YearData:
        data = self._years.get(year)
        if data is None:
            entry = self._admin.get(year)
            if entry is not None:
                data = _build_year(year, "admin", entry.holidays, entry.workdays)
            else:
                data = _statutory_year(year) or _computed_year(year) or _weekends_only_year(year)
            self._years[year] = data
        return data

    def has_data(self, year: int) -> bool:
        """Tell whether ``year`` has the State Council's schedule (chinese-calendar or entered by
        an administrator); a year whose holidays are only computed has not."""
        return not self._year(_check_year(year)).provisional

    def source(self, year: int) -> Source:
        """Where ``year``'s days off come from: "admin", "statutory", "computed" or "none"."""
        return self._year(_check_year(year)).source

    def is_working_day(self, d: Moment) -> bool:
        """Tell whether the (Asia/Shanghai) day ``d`` is a working day.

        A year without the State Council's schedule counts Monday to Friday as working days
        except the holidays computed from the 放假办法 (2025-2100).
        """
        day = d if type(d) is date else parse_moment(d).date()
        return self._year(day.year).is_working(day)

    def _nth_working_after(self, ordinal: int, n: int) -> tuple[int, bool]:
        """Ordinal of the n-th working day strictly after ``ordinal``, and the provisional flag."""
        provisional = False
        year = date.fromordinal(ordinal).year
        remaining = n
        while True:
            if year > MAXYEAR:
                raise CalendarError(f"deadline lies beyond the year {MAXYEAR}")
            data = self._year(year)
            # When counting starts on 31 December no day of this year is examined, so its lack
            # of data must not taint the result.
            if data.provisional and ordinal < data.last_ordinal:
                provisional = True
            idx = bisect.bisect_right(data.working, ordinal)
            available = len(data.working) - idx
            if remaining <= available:
                return data.working[idx + remaining - 1], provisional
            remaining -= available
            ordinal = data.last_ordinal
            year += 1

    def working_days_after(self, start: Moment, n: int) -> Deadline:
        """End of the n-th working day after the start date (start day not counted), n >= 1."""
        n = _check_count(n)
        ordinal = parse_moment(start).date().toordinal()
        due, provisional = self._nth_working_after(ordinal, n)
        return Deadline(_end_of_day(due), provisional)

    def calendar_days_after(self, start: Moment, n: int) -> Deadline:
        """End of the start date + n calendar days, moved to the next working day if needed.

        A period whose last day is a rest day or statutory holiday ends on the first working day
        after it (general rule for legal periods); a make-up working day does not move it.
        Only the last day (and the days it is moved over) can make the result provisional.
        """
        n = _check_count(n)
        try:
            last = parse_moment(start).date() + timedelta(days=n)
        except OverflowError:
            raise CalendarError(f"deadline lies beyond the year {MAXYEAR}") from None
        return self._period_ending(last)

    def _period_ending(self, last: date) -> Deadline:
        """A period whose last day is ``last``: its end, moved past rest days and holidays."""
        data = self._year(last.year)
        if data.is_working(last):
            return Deadline(_end_of_day(last.toordinal()), data.provisional)
        due, provisional = self._nth_working_after(last.toordinal(), 1)
        return Deadline(_end_of_day(due), provisional or data.provisional)

    def months_after(self, start: Moment, n: int) -> Deadline:
        """End of the period of ``n`` months from the start date, moved to a working day if needed.

        Counting rule (民法典 §201, §202, §203; the same rule as the general one for legal
        periods): the start day is not counted; the period ends on the day of the n-th month
        after it that corresponds to the start day, or on that month's last day when it has no
        such day (31 January + 1 month → 28/29 February); a last day that is a rest day or
        statutory holiday moves to the first working day after it. Used for "临时查封期限不得
        超过一个月" (消防监督检查规定 §22). Only the last day (and the days it is moved over)
        can make the result provisional.
        """
        n = _check_count(n)
        first = parse_moment(start).date()
        months = first.month - 1 + n
        year, month = first.year + months // 12, months % 12 + 1
        if year > MAXYEAR:
            raise CalendarError(f"deadline lies beyond the year {MAXYEAR}")
        return self._period_ending(date(year, month, min(first.day, _days_in_month(year, month))))

    def hours_after(self, start: Moment, n: float) -> Deadline:
        """Exactly ``n`` hours (n > 0) after the start moment; never provisional."""
        if isinstance(n, bool) or not isinstance(n, int | float) or not math.isfinite(n) or n <= 0:
            raise CalendarError(f"the number of hours must be a finite number > 0, got {n!r}")
        # Add in UTC: aware-datetime arithmetic in Python is wall-clock arithmetic, which would
        # be wrong across a UTC-offset change (Shanghai had DST in 1986-1991).
        moment = parse_moment(start).astimezone(UTC) + timedelta(hours=n)
        return Deadline(moment.astimezone(SHANGHAI), False)

    def working_days_between(self, due: Moment, now: Moment) -> int:
        """Working days overdue: the working days d with due.date() < d <= now.date().

        0 when ``now`` is not after ``due``. Dates are Asia/Shanghai dates; this is the N in
        "逾期N个工作日".
        """
        due_at, now_at = parse_moment(due), parse_moment(now)
        if now_at <= due_at:
            return 0
        after = due_at.date().toordinal()
        upto = now_at.date().toordinal()
        count = 0
        for year in range(due_at.year, now_at.year + 1):
            working = self._year(year).working
            count += bisect.bisect_right(working, upto) - bisect.bisect_right(working, after)
        return count

    def year_summary(self, year: int) -> dict[str, object]:
        """Return the data behind a year's month grid on the administrator page.

        Returns ``{"year", "source": "admin"|"statutory"|"computed"|"none", "provisional",
        "holidays": [iso dates], "workdays": [iso dates], "computed_holidays": [...]}`` with
        sorted ``YYYY-MM-DD`` strings. ``computed_holidays`` lists, for a "computed" year, each
        holiday of the 放假办法 (:meth:`statutory_holidays.Festival.as_json`: key, Chinese name,
        days, §6 make-up days, basis); it is empty for every other source.
        """
        data = self._year(_check_year(year))
        computed = statutory_holidays.festivals(year) if data.source == "computed" else ()
        return {
            "year": year,
            "source": data.source,
            "provisional": data.provisional,
            "holidays": sorted(d.isoformat() for d in data.holidays),
            "workdays": sorted(d.isoformat() for d in data.workdays),
            "computed_holidays": [f.as_json() for f in computed],
        }


def today_shanghai() -> date:
    """Today's date in Asia/Shanghai (the day every legal period counts from)."""
    return datetime.now(SHANGHAI).date()


def parse_moment(value: object) -> datetime:
    """Parse a start or due value into an aware Asia/Shanghai datetime.

    Accepts a ``date`` (midnight), a ``datetime`` (naive means Asia/Shanghai wall time), a
    ``YYYY-MM-DD`` string, or an ISO-8601 datetime string with or without offset (``Z`` allowed;
    without offset it is Asia/Shanghai). Raises ValueError for anything else.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            return value.replace(tzinfo=SHANGHAI)
        try:
            return value.astimezone(SHANGHAI)
        except OverflowError:
            # Only reachable at the very ends of the datetime range (year 1 or 9999).
            raise CalendarError(f"{value!r} is outside the supported date range") from None
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=SHANGHAI)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise CalendarError("expected a date or datetime, got an empty string")
        try:
            if _DATE_RE.fullmatch(text):
                return datetime.combine(date.fromisoformat(text), time(), tzinfo=SHANGHAI)
            return parse_moment(datetime.fromisoformat(text))
        except ValueError:
            raise CalendarError(
                f"{value!r} is not an ISO-8601 date (YYYY-MM-DD) or datetime "
                "(YYYY-MM-DDTHH:MM[:SS][+08:00 or Z])"
            ) from None
    raise CalendarError(
        f"expected a date, datetime or ISO-8601 string, got {type(value).__name__} {value!r}"
    )


def _parse_day(field_name: str, index: int, value: object) -> date:
    where = f"{field_name}[{index}]"
    if isinstance(value, datetime):
        raise CalendarError(f"{where}: {value!r} is a datetime, expected a date (YYYY-MM-DD)")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _DATE_RE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise CalendarError(f"{where}: {value!r} is not a valid date (expected YYYY-MM-DD)")


def parse_year_entry(data: Mapping[str, object], *, year: int | None = None) -> YearEntry:
    """Build a :class:`YearEntry` from ``{"holidays": [...], "workdays": [...]}``.

    Dates are ``YYYY-MM-DD`` strings (or ``date`` objects); a missing list means none; repeated
    dates are merged. An optional ``"year"`` key or ``year`` argument pins the year the dates
    must lie in. Raises ValueError naming the bad value when a date does not parse, the dates
    span several years, a date is in both lists, or a make-up workday is not on a weekend.
    """
    if not isinstance(data, Mapping):
        raise CalendarError(f"year entry must be a mapping, got {type(data).__name__}")
    unknown = sorted(map(str, set(data) - {"holidays", "workdays", "year"}))
    if unknown:
        # Reject rather than ignore: a misspelt "holiday" key would otherwise yield an empty
        # schedule that silently turns the whole year into weekdays-only.
        raise CalendarError(f"unknown key(s) in year entry: {', '.join(unknown)}")
    if "year" in data:
        declared = _check_year(data["year"])
        if year is not None and year != declared:
            raise CalendarError(f"year entry says year {declared}, expected {year}")
        year = declared
    if year is not None:
        _check_year(year)

    lists: dict[str, list[date]] = {}
    for field_name in ("holidays", "workdays"):
        raw = data.get(field_name, [])
        if raw is None:
            raw = []
        # A bare string is iterable too and would be read character by character.
        if isinstance(raw, str | bytes) or not isinstance(raw, list | tuple | set | frozenset):
            raise CalendarError(f"{field_name} must be a list of YYYY-MM-DD dates, got {raw!r}")
        lists[field_name] = [_parse_day(field_name, i, v) for i, v in enumerate(raw)]

    expected_year = year
    for field_name, days in lists.items():
        for i, day in enumerate(days):
            if expected_year is None:
                expected_year = day.year
            elif day.year != expected_year:
                raise CalendarError(
                    f"{field_name}[{i}]: {day.isoformat()} is not in {expected_year}; "
                    "a year entry must cover one year"
                )
    return YearEntry(frozenset(lists["holidays"]), frozenset(lists["workdays"]))
