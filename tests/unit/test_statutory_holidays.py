"""Tests for workflows.statutory_holidays: the holidays of 《全国年节及纪念日放假办法》 (2024).

Expected dates are hand-checked: weekdays from a printed calendar, lunar dates against the
published 2025/2026 State Council schedules and the almanac (2027: 除夕 Fri 2/5 = 腊月廿九,
端午 Wed 6/9, 中秋 Wed 9/15; 2030: 除夕 Sat 2/2 = 腊月三十; 2031: 中秋 Wed 10/1 = 国庆).
"""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import chinese_calendar
import pytest
from lunar_python import Solar

from workflows import statutory_holidays
from workflows.statutory_holidays import FIRST_YEAR, LAST_YEAR, festivals, rest_days

# §2: 元旦 1, 春节 4, 清明 1, 劳动节 2, 端午 1, 中秋 1, 国庆 3.
SECTION_2_DAYS = {
    "元旦": 1,
    "春节": 4,
    "清明节": 1,
    "劳动节": 2,
    "端午节": 1,
    "中秋节": 1,
    "国庆节": 3,
}


def d(text: str) -> date:
    return date.fromisoformat(text)


def table(year: int) -> dict[str, tuple[list[str], list[str]]]:
    """{name: (days, make-up days)} as ISO strings."""
    return {
        f.name: ([x.isoformat() for x in f.days], [x.isoformat() for x in f.makeup])
        for f in festivals(year)
    }


def test_2027_holidays_and_section_6_makeup_days() -> None:
    assert table(2027) == {
        "元旦": (["2027-01-01"], []),  # Friday
        # 除夕 is 腊月廿九 (the twelfth month has 29 days); 初一 Sat and 初二 Sun are made up on
        # the first working days after the period: Tue 2/9 and Wed 2/10.
        "春节": (
            ["2027-02-05", "2027-02-06", "2027-02-07", "2027-02-08"],
            ["2027-02-09", "2027-02-10"],
        ),
        "清明节": (["2027-04-05"], []),  # Monday
        "劳动节": (["2027-05-01", "2027-05-02"], ["2027-05-03", "2027-05-04"]),  # Sat, Sun
        "端午节": (["2027-06-09"], []),  # Wednesday
        "中秋节": (["2027-09-15"], []),  # Wednesday
        "国庆节": (["2027-10-01", "2027-10-02", "2027-10-03"], ["2027-10-04", "2027-10-05"]),
    }
    eve = Solar.fromYmd(2027, 2, 5).getLunar()
    assert (eve.getMonth(), eve.getDay()) == (12, 29)


def test_2030_new_years_eve_on_the_thirtieth_and_a_saturday() -> None:
    spring = table(2030)["春节"]
    # 除夕 Sat 2/2 (腊月三十), 初一 Sun 2/3: made up on Wed 2/6 and Thu 2/7 after 初二, 初三.
    assert spring == (["2030-02-02", "2030-02-03", "2030-02-04", "2030-02-05"],
                      ["2030-02-06", "2030-02-07"])  # fmt: skip
    assert table(2030)["国庆节"] == (["2030-10-01", "2030-10-02", "2030-10-03"], [])  # Tue-Thu
    assert table(2030)["端午节"] == (["2030-06-05"], [])
    assert table(2030)["中秋节"] == (["2030-09-12"], [])


def test_2031_mid_autumn_on_national_day_is_made_up() -> None:
    # 中秋 falls on Wed 10/1: 国庆 keeps 10/1-10/3 (Wed-Fri); the coinciding 中秋 is made up on
    # Mon 10/6, as the 2020 arrangement did with its coinciding 中秋 (Tue 2020-10-06).
    t = table(2031)
    assert t["国庆节"] == (["2031-10-01", "2031-10-02", "2031-10-03"], [])
    assert t["中秋节"] == (["2031-10-01"], ["2031-10-06"])
    assert t["清明节"] == (["2031-04-05"], ["2031-04-07"])  # Saturday -> Monday
    assert t["春节"] == (["2031-01-22", "2031-01-23", "2031-01-24", "2031-01-25"],
                         ["2031-01-27"])  # fmt: skip
    days = rest_days(2031)
    assert {d("2031-10-01"), d("2031-10-06")} <= days
    assert d("2031-10-04") not in days  # a Saturday: a weekend day, not a statutory day


def test_basis_cites_the_articles() -> None:
    by_name = {f.name: f for f in festivals(2027)}
    assert by_name["元旦"].basis == f"{statutory_holidays.BASIS}第二条第（一）项"
    assert statutory_holidays.BASIS == "《全国年节及纪念日放假办法》（2024年11月10日修订）"
    assert by_name["国庆节"].basis.endswith("第二条第（七）项、第六条")
    assert by_name["端午节"].as_json() == {
        "key": "dragon_boat",
        "name": "端午节",
        "days": ["2027-06-09"],
        "makeup": [],
        "basis": "《全国年节及纪念日放假办法》（2024年11月10日修订）第二条第（五）项",
    }


@pytest.mark.parametrize("year", [2024, 2101, 1999])
def test_years_outside_the_revision_are_refused(year: int) -> None:
    with pytest.raises(ValueError, match="2025"):
        festivals(year)


@pytest.mark.parametrize("year", range(FIRST_YEAR, LAST_YEAR + 1))
def test_every_year_grants_thirteen_weekdays_off(year: int) -> None:
    """§2 gives 13 days; §6 makes up every one on a weekend, so 13 weekdays are off."""
    found = festivals(year)
    assert {f.name: len(f.days) for f in found} == SECTION_2_DAYS
    for festival in found:
        assert all(day.year == year for day in (*festival.days, *festival.makeup))
        assert all(day.weekday() < 5 for day in festival.makeup)
        assert all(day > festival.days[-1] for day in festival.makeup)
    spring = found[1].days
    assert [b - a for a, b in pairwise(spring)] == [timedelta(1)] * 3
    assert sum(1 for day in rest_days(year) if day.weekday() < 5) == 13


@pytest.mark.parametrize("year", [2025, 2026])
def test_computed_days_are_rest_days_in_the_published_schedules(year: int) -> None:
    """Cross-check with the State Council schedules the package holds (2024 revision in force).

    Every statutory day and every §6 make-up day the 办法 gives must be a day off in the real
    schedule (the notices add bridging days and 调休 on top, never take one away).
    """
    for festival in festivals(year):
        for day in (*festival.days, *festival.makeup):
            assert chinese_calendar.is_holiday(day), (festival.name, day)


@pytest.mark.parametrize("year", range(2008, 2027))
def test_lunar_dates_and_qingming_match_the_published_schedules(year: int) -> None:
    """The lunar library's 初一-初三, 清明, 端午 and 中秋 were days off in every schedule since
    2008 (when 清明, 端午 and 中秋 became holidays)."""
    new_year = statutory_holidays._solar(statutory_holidays.Lunar.fromYmd(year, 1, 1))
    days = [new_year + timedelta(k) for k in range(3)]
    days.append(statutory_holidays._qingming(year))
    for month, day in ((5, 5), (8, 15)):
        days.append(statutory_holidays._solar(statutory_holidays.Lunar.fromYmd(year, month, day)))
    for day in days:
        assert chinese_calendar.is_holiday(day), day
