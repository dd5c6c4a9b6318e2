"""The statutory holidays of a year, computed from 《全国年节及纪念日放假办法》.

Used for the years the State Council's annual schedule is not known yet (neither the
``chinese-calendar`` package nor an administrator holds it): the holidays themselves follow
from the 办法; only the 调休 arrangements (make-up working weekends and the bridging days off,
§7) are set each year by the 国务院办公厅 notice and cannot be computed. See docs/calendar.md.

The 办法 as revised on 2024-11-10 (国务院令第795号, in force 2025-01-01):

- §2 全体公民放假的节日: (一) 元旦 1 day (1月1日); (二) 春节 4 days (农历除夕、正月初一至初三);
  (三) 清明节 1 day (农历清明当日); (四) 劳动节 2 days (5月1日、2日); (五) 端午节 1 day
  (农历端午当日); (六) 中秋节 1 day (农历中秋当日); (七) 国庆节 3 days (10月1日至3日).
- §6 "全体公民放假的假日，如果适逢周六、周日，应当在工作日补假。"

§6 does not say which working day. The 国务院办公厅 notices make the day up on the first working
day after the holiday and the weekend it touches, e.g. 2017 "元旦：1月1日放假，1月2日（星期一）
补休" and 2014 "清明节：4月5日放假，4月7日（星期一）补休"; when 中秋 fell on 国庆 (2020-10-01)
the Saturday holiday and the coinciding 中秋 were made up on Mon 10/5 and Tue 10/6. So a holiday
day that falls on a Saturday or Sunday, or on a day another holiday already holds, is made up on
the next weekday after the holiday that is not itself a holiday or a make-up day.

Lunar dates and the solar term 清明 come from ``lunar-python`` (Beijing time). 除夕 is the last
day of the twelfth lunar month (the 29th or the 30th), i.e. the day before 正月初一.

Pure Python: no Flask, no I/O.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, timedelta

from lunar_python import Lunar, Solar

__all__ = ["FIRST_YEAR", "Festival", "festivals", "rest_days"]

# The 2024 revision's decision applies from 2025-01-01; earlier years had other rules (no 除夕
# from 2014 to 2024, 劳动节 1 day), and chinese-calendar holds all of them (2004-2026).
FIRST_YEAR = 2025
# The last year computed: as far as the API and the administrator page go. The lunar dates of
# lunar-python and of borax agree for every year 1950-2099 except 中秋 2089 (a new moon close to
# midnight); further ahead a computed calendar would be astronomy, not administration.
LAST_YEAR = 2100

BASIS = "《全国年节及纪念日放假办法》（2024年11月10日修订）"
MAKEUP_BASIS = f"{BASIS}第六条"

_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Festival:
    """One holiday of §2 in a given year.

    ``days`` are the days §2 gives it; ``makeup`` the working days on which §6 makes up those of
    its days that fall on a weekend (or on a day another holiday holds).
    """

    key: str
    name: str
    days: tuple[date, ...]
    makeup: tuple[date, ...]
    basis: str

    def as_json(self) -> dict[str, object]:
        """A JSON-ready dict with ISO dates."""
        return {
            "key": self.key,
            "name": self.name,
            "days": [d.isoformat() for d in self.days],
            "makeup": [d.isoformat() for d in self.makeup],
            "basis": self.basis,
        }


def _solar(lunar: Lunar) -> date:
    solar = lunar.getSolar()
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def _qingming(year: int) -> date:
    """The day (Beijing time) of the solar term 清明, always 4-6 April."""
    for day in range(3, 8):
        if Solar.fromYmd(year, 4, day).getLunar().getJieQi() == "清明":
            return date(year, 4, day)
    raise AssertionError(f"no 清明 found in April {year}")  # pragma: no cover


def _check(year: int) -> None:
    if isinstance(year, bool) or not isinstance(year, int):
        raise ValueError(f"year must be an integer, got {year!r}")
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(
            f"holidays are computed for {FIRST_YEAR}-{LAST_YEAR} (the 2024 revision of the "
            f"放假办法 applies from {FIRST_YEAR}); got the year {year}"
        )


@functools.cache
def festivals(year: int) -> tuple[Festival, ...]:
    """The seven holidays of §2 in ``year``, in the 办法's order, with their §6 make-up days.

    :raises ValueError: for a year before 2025 (other rules applied then) or after 2100.
    """
    _check(year)
    new_year = _solar(Lunar.fromYmd(year, 1, 1))  # 正月初一 always falls in January/February
    eve = new_year - _ONE_DAY  # 除夕: the last day of the twelfth month, 29th or 30th
    spring = tuple(eve + k * _ONE_DAY for k in range(4))  # 除夕, 正月初一至初三
    spec = (
        ("new_year", "元旦", (date(year, 1, 1),), "第二条第（一）项"),
        ("spring_festival", "春节", spring, "第二条第（二）项"),
        ("qingming", "清明节", (_qingming(year),), "第二条第（三）项"),
        ("labour_day", "劳动节", (date(year, 5, 1), date(year, 5, 2)), "第二条第（四）项"),
        ("dragon_boat", "端午节", (_solar(Lunar.fromYmd(year, 5, 5)),), "第二条第（五）项"),
        ("mid_autumn", "中秋节", (_solar(Lunar.fromYmd(year, 8, 15)),), "第二条第（六）项"),
        ("national_day", "国庆节", tuple(date(year, 10, d) for d in (1, 2, 3)), "第二条第（七）项"),
    )
    statutory = {day for _, _, days, _ in spec for day in days}
    held: set[date] = set()  # holiday days already given to a holiday, and make-up days
    makeups: dict[str, tuple[date, ...]] = {}
    # Chronological order. When 中秋 falls on 国庆 (2020, 2031), 国庆 keeps the shared day and the
    # coinciding 中秋 is made up after the period, as the 2020 arrangement did.
    for key, _, days, _ in sorted(spec, key=lambda s: (s[2][0], -len(s[2]))):
        owed = 0
        for day in days:
            if day.weekday() >= 5 or day in held:
                owed += 1
            held.add(day)
        found: list[date] = []
        cursor = days[-1]
        while len(found) < owed:
            cursor += _ONE_DAY
            if cursor.weekday() < 5 and cursor not in statutory and cursor not in held:
                found.append(cursor)
                held.add(cursor)
        makeups[key] = tuple(found)
    return tuple(
        Festival(key, name, days, makeups[key], BASIS + item + ("、第六条" if makeups[key] else ""))
        for key, name, days, item in spec
    )


@functools.cache
def rest_days(year: int) -> frozenset[date]:
    """Every statutory holiday day of ``year`` and every §6 make-up day off."""
    return frozenset(d for f in festivals(year) for d in (*f.days, *f.makeup))
