"""The monthly table (附件8) and the annual figures (server/report_figures.py): every figure
equals an independent count made here by walking the cases, events, documents and deadlines in
Python; a past period's table does not change with later activity; the ``.xlsx`` and the CLI.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import select

from server import overdue
from server import report_figures as rf
from server.extensions import db
from server.models import Agency, Case, Document, Event, PublicWarning, Task, User
from server.operations import record_follow_up
from server.sweep import sweep
from tests.support.api import Api
from workflows import campaign_areas
from workflows.calendar import SHANGHAI

from .conftest import TEST_CONFIG, Auth, Databases

SUPERVISOR = "city.supervisor"


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _start(day: date) -> datetime:
    return datetime.combine(day, time(0), SHANGHAI)


def _months_ago(n: int) -> str:
    today = datetime.now(SHANGHAI).date()
    year, month = today.year, today.month - n
    while month < 1:
        year, month = year - 1, month + 12
    return f"{year}-{month:02d}"


@dataclass
class World:
    app: Flask
    follow_ups: int


@pytest.fixture(scope="module")
def world(databases: Databases) -> Iterator[World]:
    """The demo, plus 督办/催办/约谈/曝光 recorded on open cases last month and this month (the
    demo records one 约谈 only), and one case whose area is unknown (the 未分类 row)."""
    uri = databases.new()
    app = create_app_for(uri)
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    recorded = 0
    with app.app_context():
        supervisor = db.session.scalar(select(User).where(User.username == SUPERVISOR))
        open_cases = list(
            db.session.scalars(
                select(Case)
                .where(Case.process_id == "major_hazard", Case.status == "open")
                .order_by(Case.id)
            )
        )
        today = datetime.now(SHANGHAI).date()
        last_month = today.replace(day=1) - timedelta(days=1)
        moments = [
            datetime.combine(last_month.replace(day=3), time(10), SHANGHAI),
            datetime.combine(last_month.replace(day=20), time(15), SHANGHAI),
            datetime.combine(today.replace(day=1), time(9), SHANGHAI),
        ]
        actions = ["supervise", "interview", "expose", "urge", "supervise"]
        for n, case in enumerate(open_cases[:12]):
            for k in range(1 + n % 3):  # some cases followed up several times
                at = moments[(n + k) % len(moments)]
                if at > datetime.now(SHANGHAI) or at < _aware(case.opened_at):  # type: ignore[operator]
                    continue
                with time_machine.travel(at, tick=False):
                    record_follow_up(supervisor, case, actions[(n + k) % len(actions)], "测试督办")
                recorded += 1
        odd = open_cases[-1]
        odd.campaign_area = "retired_or_unknown"
        db.session.commit()
    yield World(app, recorded)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    databases.drop(uri)


def create_app_for(uri: str) -> Flask:
    from server import create_app

    return create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": uri})


# --- the independent count ---------------------------------------------------------------------


def _in_scope(case: Case, scope: rf.Scope, departments: dict[str, int]) -> bool:
    if scope.kind == "district":
        return case.district == scope.code
    if scope.kind == "department":
        return case.responsible_department_id == departments[scope.code or ""]
    return True


def expected(scope: rf.Scope, start: date, end: date, cumulative: date) -> dict[str, Any]:
    """The table's figures counted case by case in Python, from the rules in docs/reports.md."""
    now = datetime.now(UTC)
    p0, c0 = _start(start), _start(cumulative)
    e = min(_start(end + timedelta(days=1)), now)

    def in_p(at: datetime | None) -> bool:
        return at is not None and p0 <= at < e

    def in_c(at: datetime | None) -> bool:
        return at is not None and c0 <= at < e

    departments = {a.code: a.id for a in db.session.scalars(select(Agency))}
    known = set(campaign_areas.names())
    by_area: dict[str, dict[str, int]] = {}
    hazards = [
        c
        for c in db.session.scalars(select(Case).where(Case.process_id == "major_hazard"))
        if _in_scope(c, scope, departments)
    ]
    task_created = {t.id: _aware(t.created_at) for t in db.session.scalars(select(Task))}
    for case in hazards:
        area = case.campaign_area if case.campaign_area in known else rf.UNCLASSIFIED
        row = by_area.setdefault(area, dict.fromkeys(rf.KEYS, 0))
        events = sorted(
            db.session.scalars(select(Event).where(Event.case_id == case.id)), key=lambda v: v.seq
        )
        opened, closed = _aware(case.opened_at), _aware(case.closed_at)
        passed = [
            _aware(v.at)
            for v in events
            if v.kind == "task_completed"
            and v.task_name in ("reinspection", "ordinary_reinspection")
            and (v.data.get("form") or {}).get("result") == "pass"
        ]
        majors = [
            _aware(v.at)
            for v in events
            if v.kind == "task_completed"
            and v.task_name == "collective_deliberation"
            and (v.data.get("form") or {}).get("outcome") == "major"
        ]
        listed = [
            _aware(d.issued_at)
            for d in db.session.scalars(select(Document).where(Document.case_id == case.id))
            if d.kind == "listed_supervision_notice" and not d.void
        ]
        first_pass = min(passed) if passed else None
        first_major = min(majors) if majors else None
        first_listed = min(listed) if listed else None  # type: ignore[type-var]
        row["found_month"] += in_p(opened)
        row["found_cum"] += in_c(opened)
        row["major_month"] += in_p(first_major)
        row["major_cum"] += in_c(first_major)
        row["rectified_month"] += in_p(first_pass)
        row["rectified_cum"] += in_c(first_pass)
        row["listed_month"] += in_p(first_listed)
        row["listed_cum"] += in_c(first_listed)
        open_at_e = opened < e and (closed is None or closed >= e)  # type: ignore[operator]
        row["in_rectification"] += open_at_e and (first_pass is None or first_pass >= e)
        late = False
        for d in _deadlines(case.id):
            due, met = _aware(d.due_at), _aware(d.met_at)
            existed = d.task_id not in task_created or task_created[d.task_id] < e  # type: ignore[operator]
            if existed and due < e and (met is None or met >= e):  # type: ignore[operator]
                late = True
        row["overdue"] += open_at_e and late
        for key, names in (
            ("supervised", {"supervise", "supervision"}),
            ("interviewed", {"interview"}),
            ("exposed", {"expose", "exposure"}),
        ):
            moments = [
                _aware(v.at)
                for v in events
                if (v.kind == "follow_up" and v.data.get("action") in names)
                or (
                    v.kind == "task_completed"
                    and v.task_name == "rectification_overdue_measures"
                    and (v.data.get("form") or {}).get("measure") in names
                )
            ]
            row[f"{key}_month"] += any(in_p(m) for m in moments)
            row[f"{key}_cum"] += any(in_c(m) for m in moments)
    extra: dict[str, int] = {}
    if scope.kind != "department":
        fires = [
            c
            for c in db.session.scalars(
                select(Case).where(Case.process_id == "fire_accountability")
            )
            if _in_scope(c, scope, departments)
        ]
        determinations = {}
        for d in db.session.scalars(select(Document)):
            if d.kind in rf.FIRE_DETERMINATIONS and not d.void:
                at = _aware(d.issued_at)
                determinations[d.case_id] = min(at, determinations.get(d.case_id, at))  # type: ignore[type-var]
        warnings = [
            _aware(w.published_at)
            for w in db.session.scalars(select(PublicWarning))
            if scope.kind == "city" or w.district == scope.code
        ]
        extra = {
            "fires_month": sum(in_p(_aware(c.opened_at)) for c in fires),
            "fires_cum": sum(in_c(_aware(c.opened_at)) for c in fires),
            "fires_determined_month": sum(in_p(determinations.get(c.id)) for c in fires),
            "fires_determined_cum": sum(in_c(determinations.get(c.id)) for c in fires),
            "warnings_month": sum(in_p(w) for w in warnings),
            "warnings_cum": sum(in_c(w) for w in warnings),
        }
    return {"areas": by_area, "extra": extra}


def _deadlines(case_id: int) -> list[Any]:
    from server.models import Deadline

    return list(db.session.scalars(select(Deadline).where(Deadline.case_id == case_id)))


def check_table(table: rf.FigureTable) -> None:
    want = expected(table.scope, table.period_start, table.period_end, table.cumulative_start)
    rows = {r.code: r.values for r in table.rows}
    zero = dict.fromkeys(rf.KEYS, 0)
    for code in [a.code for a in campaign_areas.areas()] + [rf.UNCLASSIFIED]:
        got = rows.get(code, zero)
        assert got == want["areas"].get(code, zero), (table.scope, code)
    assert set(rows) - {rf.TOTAL} <= {a.code for a in campaign_areas.areas()} | {rf.UNCLASSIFIED}
    for key in rf.KEYS:
        assert table.total(key) == sum(v[key] for v in want["areas"].values()), key
    assert table.extra == want["extra"]


SCOPES = [rf.Scope("city"), rf.Scope("district", "dingcheng"), rf.Scope("district", "wuling")]


@pytest.mark.parametrize("months_ago", [0, 1, 2])
def test_every_figure_of_the_monthly_table_equals_an_independent_count(
    world: World, months_ago: int
) -> None:
    month = _months_ago(months_ago)
    with world.app.app_context(), time_machine.travel(datetime.now(UTC), tick=False):
        department = db.session.scalar(
            select(Agency.code)
            .join(Case, Case.responsible_department_id == Agency.id)
            .order_by(Agency.id)
            .limit(1)
        )
        assert department is not None  # the demo names responsible departments
        for scope in [*SCOPES, rf.Scope("department", department)]:
            table = rf.monthly_table(scope, month)
            check_table(table)
        city = rf.monthly_table(rf.Scope("city"), month)
        assert [r.code for r in city.rows][-1] == rf.TOTAL
        assert rf.UNCLASSIFIED in [r.code for r in city.rows]


def test_the_demo_month_exercises_the_figures(world: World) -> None:
    """The checks above compare non-trivial numbers: last month's city table has hazards
    found, determined major, rectified, overdue, listed, and every kind of measure."""
    with world.app.app_context():
        table = rf.monthly_table(rf.Scope("city"), _months_ago(1))
        year = rf.period_table(
            rf.Scope("city"), date(datetime.now(SHANGHAI).year, 1, 1), datetime.now(SHANGHAI).date()
        )
    for key in ("found_month", "major_month", "in_rectification", "overdue"):
        assert table.total(key) > 0, key
    for key in ("rectified_cum", "listed_cum", "supervised_cum", "interviewed_cum", "exposed_cum"):
        assert year.total(key) > 0, key
    assert year.extra["fires_cum"] > 0 and year.extra["warnings_cum"] > 0


def test_a_longer_period_and_a_campaign_cumulative_start(world: World) -> None:
    """The annual report's call: a period of several months, 累计 from the campaign start."""
    today = datetime.now(SHANGHAI).date()
    with world.app.app_context(), time_machine.travel(datetime.now(UTC), tick=False):
        for scope in SCOPES:
            table = rf.period_table(scope, today - timedelta(days=120), today, date(2020, 6, 1))
            check_table(table)
            assert not table.is_month
            assert table.header(rf.COLUMNS[0]) == "本期"
            assert rf.FigureTable.from_json(table.to_json()) == table


def test_overdue_now_is_the_live_definition(world: World) -> None:
    """For the running month the 期末 is now: the overdue column is exactly the cases the
    rest of Duban flags overdue (server/overdue.py)."""
    now = datetime.now(UTC)
    with world.app.app_context(), time_machine.travel(now, tick=False):
        for scope in SCOPES:
            table = rf.monthly_table(scope, _months_ago(0))
            ids = [
                c.id
                for c in db.session.scalars(select(Case).where(Case.process_id == "major_hazard"))
                if scope.kind == "city" or c.district == scope.code
            ]
            assert table.total("overdue") == len(overdue.overdue_case_ids(ids, now))
            at = set(
                db.session.scalars(
                    select(Case.id).where(Case.id.in_(ids), overdue.case_clause_at(now))
                )
            )
            assert at == overdue.overdue_case_ids(ids, now)


def test_consolidated_rows_sum_the_counties(world: World) -> None:
    with world.app.app_context():
        tables = [rf.monthly_table(s, _months_ago(1)) for s in rf.scope_options()[:14]]
        city = rf.monthly_table(rf.Scope("city"), _months_ago(1))
    rows = rf.consolidated_rows(tables)
    assert [name for name, _ in rows[:2]] == ["武陵区", "鼎城区"]
    assert rows[-1][0] == "合计"
    # every hazard is in one district: the counties' sum is the city's table
    assert rows[-1][1] == city.totals()


def test_the_workbook_holds_the_sheets_headers_and_rows(world: World, tmp_path: Path) -> None:
    month = _months_ago(1)
    with world.app.app_context():
        tables = [rf.monthly_table(s, month) for s in SCOPES[1:]]
        data = rf.monthly_workbook(
            tables, {"filled_by": "李明", "reviewed_by": "王强", "phone": "0736-1234567"}
        )
    path = tmp_path / "m.xlsx"
    path.write_bytes(data)
    book = load_workbook(path)
    assert book.sheetnames == ["汇总", "鼎城区", "武陵区", "填报说明"]
    start, _end = rf.month_period(month)
    sheet = book["鼎城区"]
    title = f"鼎城区消防安全专项整治三年行动进展情况统计表（{start.year}年{start.month}月）"
    assert sheet["A1"].value == title
    assert sheet["A2"].value == "填报单位（盖章）：鼎城区"
    assert sheet["E2"].value.startswith("统计期间：")
    assert sheet.freeze_panes == "B5"
    groups = [c.value for c in sheet[3]][1:]
    assert groups[0] == "发现隐患" and "逾期未办" in groups and "曝光" in groups
    assert [c.value for c in sheet[4]][1:] == [c.header for c in rf.COLUMNS]
    table = tables[0]
    for offset, row in enumerate(table.rows):
        cells = [c.value for c in sheet[5 + offset]]
        assert cells[0] == row.name
        assert cells[1:] == [row.values[k] for k in rf.KEYS]
        assert all(isinstance(v, int) for v in cells[1:])
    assert sheet.cell(5 + len(table.rows) - 1, 1).value == "合计"
    texts = [str(c.value) for r in sheet.iter_rows() for c in r if c.value is not None]
    assert "填报人：李明" in texts and "审核人：王强" in texts and "联系电话：0736-1234567" in texts
    assert any(t.startswith("备注：") for t in texts)
    assert "本月发布分级公开预警（次）" in texts
    summary = book["汇总"]
    assert summary["A1"].value.startswith("常德市消防安全专项整治三年行动进展情况统计表")
    names = [summary.cell(r, 1).value for r in range(5, 8)]
    assert names == ["鼎城区", "武陵区", "合计"]
    assert [c.value for c in summary[7]][1:] == [
        tables[0].total(k) + tables[1].total(k) for k in rf.KEYS
    ]
    rules = [r[0].value for r in book["填报说明"].iter_rows(min_row=2)]
    assert set(rf.GROUP_RULES) <= set(rules)


def test_the_cli_writes_the_table_and_refuses_bad_input(world: World, tmp_path: Path) -> None:
    runner = world.app.test_cli_runner()
    month = _months_ago(1)
    one = tmp_path / "one.xlsx"
    result = runner.invoke(
        args=["report", "monthly", "--month", month, "--district", "dingcheng", "-o", str(one)]
    )
    assert result.exit_code == 0, result.output
    assert load_workbook(one).sheetnames == ["鼎城区", "填报说明"]
    every = tmp_path / "all.xlsx"
    result = runner.invoke(args=["report", "monthly", "--month", month, "-o", str(every)])
    assert result.exit_code == 0, result.output
    names = load_workbook(every).sheetnames
    assert names[0] == "汇总" and len(names) == 16 and "西洞庭管理区" in names
    for args, message in (
        (["--month", "2026-13"], "不存在"),
        (["--month", "11/2026"], "格式不对"),
        (["--month", month, "--district", "nowhere"], "没有代码为“nowhere”的县市区"),
        (["--month", month, "--department", "industry:city:nothing"], "行业主管部门"),
    ):
        bad = tmp_path / "bad.xlsx"
        result = runner.invoke(args=["report", "monthly", *args, "-o", str(bad)])
        assert result.exit_code != 0
        assert message in result.output
        assert not bad.exists()


# --- a past period stays as it was ---------------------------------------------------------------


def test_a_past_months_figures_do_not_change_with_later_activity(
    app: Flask, api: Api, auth: Auth
) -> None:
    """Overdue at the month's end is what Duban showed live at that moment; later activity
    (the late step done, a new case, a follow-up) leaves the past month's table unchanged."""
    today = datetime.now(SHANGHAI).date()
    month_start = (today.replace(day=1) - timedelta(days=70)).replace(day=1)
    end = (month_start + timedelta(days=40)).replace(day=1) - timedelta(days=1)
    month = f"{month_start.year}-{month_start.month:02d}"
    scope = rf.Scope("district", "wuling")
    with time_machine.travel(datetime.combine(month_start + timedelta(days=2), time(9), SHANGHAI)):
        late = api.register(days_ago=0, unit_name="月末逾期单位")["id"]
        api.register(days_ago=0, unit_name="按期函告单位")
    with time_machine.travel(datetime.combine(month_start + timedelta(days=3), time(10), SHANGHAI)):
        api.tokens.clear()
        on_time = api.register(days_ago=0, unit_name="当月函告单位")["id"]
        api.complete("wuling.nanping", on_time, "refer_to_fire_rescue")
    moment = datetime.combine(end + timedelta(days=1), time(0), SHANGHAI)
    with time_machine.travel(moment + timedelta(minutes=5), tick=False), app.app_context():
        sweep()
        live = overdue.overdue_case_ids(
            db.session.scalars(select(Case.id).where(Case.district == "wuling")), moment
        )
        assert late in live and on_time not in live
        before = rf.monthly_table(scope, month)
        check_table(before)
        assert before.total("overdue") == len(live)
    with time_machine.travel(moment + timedelta(days=3)):
        api.tokens.clear()  # the tokens fetched weeks before (moved clock) have expired
        api.complete("wuling.nanping", late, "refer_to_fire_rescue")  # done late
        api.register(days_ago=0, unit_name="次月登记单位")
        with app.app_context():
            supervisor = db.session.scalar(select(User).where(User.username == SUPERVISOR))
            record_follow_up(supervisor, db.session.get(Case, late), "interview", "次月约谈")
    with app.app_context():
        after = rf.monthly_table(scope, month)
        assert [r.values for r in after.rows] == [r.values for r in before.rows]
        assert after.total("found_month") == 3 and after.total("overdue") == len(live)
        assert not overdue.overdue_case_ids([late], datetime.now(UTC))  # no longer overdue
        check_table(after)
