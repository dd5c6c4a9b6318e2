"""Years without the State Council's schedule (docs/calendar.md): the holidays computed from
《全国年节及纪念日放假办法》 on the administrator page and in the API, provisional deadlines, and
their recompute when an administrator enters the year or an upgrade of chinese-calendar brings it.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from jsonschema import Draft202012Validator
from sqlalchemy import select

import workflows.calendar as calendar_module
from server.engine import get_engine, refresh_calendar
from server.extensions import db
from server.models import Deadline, Event
from server.sweep import sweep
from tests.integration.conftest import Auth
from tests.support.api import Api

ADMIN = "admin"
STREET = "wuling.nanping"
# Found on Mon 2026-12-28; the referral limit is 5 working days (消防监督检查规定 §21).
FOUND_AT = datetime(2026, 12, 28, 2, tzinfo=UTC)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def referral_deadline(case_id: int) -> Deadline:
    (deadline,) = db.session.scalars(select(Deadline).where(Deadline.case_id == case_id))
    return deadline


def recompute_events(case_id: int) -> list[Event]:
    return list(
        db.session.scalars(
            select(Event).where(Event.case_id == case_id, Event.kind == "deadlines_recomputed")
        )
    )


@pytest.fixture
def provisional_case(app: Flask, api: Api, time_machine) -> int:
    """A case found on 2026-12-28 whose referral deadline falls in 2027 (no schedule yet)."""
    time_machine.move_to(FOUND_AT, tick=False)
    case = api.register(STREET, days_ago=0)
    with app.app_context():
        deadline = referral_deadline(case["id"])
        # 12/29, 12/30, 12/31, (Fri 1/1 元旦 by 放假办法 §2(一)), Mon 1/4, Tue 1/5.
        assert deadline.provisional
        assert deadline.due_at.astimezone(calendar_module.SHANGHAI).date() == date(2027, 1, 5)
    return case["id"]


def test_the_admin_page_shows_the_computed_holidays(app: Flask, client) -> None:
    Auth(app, client).login(ADMIN)
    page = client.get("/admin/calendar/2027")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "按放假办法推算（暂定，调休未知）" in text
    assert "按放假办法推算的2027年节假日（暂定）" in text
    assert (
        "春节 2027年2月5日（星期五）、2027年2月6日（星期六）、2027年2月7日（星期日）、"
        "2027年2月8日（星期一） 2027年2月9日（星期二）、2027年2月10日（星期三） "
        "《全国年节及纪念日放假办法》（2024年11月10日修订）第二条第（二）项、第六条"
    ) in text
    assert "端午节 2027年6月9日（星期三） —" in text
    assert "中秋节 2027年9月15日（星期三） —" in text
    new_years_day = r'datetime="2027-01-01">1</time><span class="cal-mark"[^>]*>休</span>'
    assert re.search(new_years_day, page.text)
    # The form is prefilled with the computed days, for the administrator to complete.
    assert "2027-02-10\n" in page.text
    # A year with a schedule lists no computed holidays.
    assert "按放假办法推算的2026年节假日" not in text_of(client.get("/admin/calendar/2026").text)


def test_the_api_says_where_a_year_comes_from(client, api: Api) -> None:
    spec = client.get("/api/v1/openapi.json").json
    schema = {**spec["components"]["schemas"]["CalendarYear"], "components": spec["components"]}
    validator = Draft202012Validator(schema)
    expected = {2026: ("statutory", False), 2027: ("computed", True), 2100: ("computed", True)}
    for year, (source, provisional) in expected.items():
        body = api.get(STREET, f"/calendar/{year}").json
        validator.validate(body)
        assert (body["source"], body["provisional"]) == (source, provisional)
    body = api.get(STREET, "/calendar/2027").json
    national_day = body["computed_holidays"][-1]
    assert national_day["name"] == "国庆节"
    assert national_day["days"] == ["2027-10-01", "2027-10-02", "2027-10-03"]
    assert national_day["makeup"] == ["2027-10-04", "2027-10-05"]
    assert "2027-10-05" in body["holidays"]
    assert spec["components"]["schemas"]["CalendarYear"]["properties"]["source"]["enum"] == [
        "statutory", "admin", "computed", "none"
    ]  # fmt: skip


def test_entering_the_year_replaces_the_computed_days_and_recomputes(
    app: Flask, api: Api, provisional_case: int
) -> None:
    # The administrator enters the (hypothetical) notice: 1/1-1/4 off, no 2/9 or 2/10 off.
    entry = {"holidays": ["2027-01-01", "2027-01-02", "2027-01-03", "2027-01-04"], "workdays": []}
    saved = api.call(ADMIN, "PUT", "/calendar/2027", json=entry)
    assert saved.status_code == 200, saved.json
    assert saved.json["source"] == "admin" and saved.json["computed_holidays"] == []
    assert saved.json["recomputed"] == {"cases": 1, "deadlines": 1, "failed": 0}
    with app.app_context():
        deadline = referral_deadline(provisional_case)
        assert not deadline.provisional
        assert deadline.due_at.astimezone(calendar_module.SHANGHAI).date() == date(2027, 1, 6)
        (event,) = recompute_events(provisional_case)
        assert event.data["changes"][0]["before"].startswith("2027-01-05")
        assert event.data["changes"][0]["after"].startswith("2027-01-06")
        assert get_engine().calendar.is_working_day("2027-02-09")  # computed day off is gone


def _statutory_2027(monkeypatch: pytest.MonkeyPatch, holidays: list[str]) -> None:
    """Make chinese-calendar "hold" 2027, as an upgraded package would."""
    original = calendar_module._statutory_year

    def upgraded(year: int):
        if year == 2027:
            days = [date.fromisoformat(d) for d in holidays]
            return calendar_module._build_year(2027, "statutory", days, [])
        return original(year)

    monkeypatch.setattr(calendar_module, "_statutory_year", upgraded)


def test_a_package_upgrade_recomputes_at_the_next_sweep(
    app: Flask, provisional_case: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    with app.app_context():
        sweep()  # nothing to recompute while 2027 has no schedule
        assert recompute_events(provisional_case) == []
        assert referral_deadline(provisional_case).provisional

        _statutory_2027(monkeypatch, ["2027-01-01", "2027-01-04", "2027-01-05"])
        refresh_calendar()  # what a restart after the upgrade does
        assert get_engine().calendar.source(2027) == "statutory"
        sweep()
        deadline = referral_deadline(provisional_case)
        assert not deadline.provisional
        # 12/29, 12/30, 12/31, 1/6, 1/7.
        assert deadline.due_at.astimezone(calendar_module.SHANGHAI).date() == date(2027, 1, 7)
        assert len(recompute_events(provisional_case)) == 1
        sweep()  # done once: no more provisional deadlines to recount
        assert len(recompute_events(provisional_case)) == 1
