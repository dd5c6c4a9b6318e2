"""The supervision pages through the test client: the dashboard and its CSV exports, the
notification centre, follow-up actions on the case page, the holiday calendar (page, CLI and
the administrators' banner).

The demo data set is seeded once for this module (``seeded``) and only read by the tests that
use it; tests that change data use their own ``app``.
"""

from __future__ import annotations

import csv
import html as html_lib
import io
import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server import create_app
from server.extensions import db
from server.models import CalendarYear, Case, Deadline, Event, Notification, User
from server.operations import start_case, today_shanghai
from tests.integration.conftest import TEST_CONFIG, Auth, csrf_token
from tests.support.major_hazard import sample
from workflows.jurisdiction import division_name

# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def seeded(databases) -> Iterator[Flask]:
    """An app over the demo data set (39 cases, many deadlines missed), seeded once; read only."""
    url = databases.new()
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    databases.drop(url)


def login(app: Flask, username: str) -> FlaskClient:
    """A new test client logged in as ``username``."""
    client = app.test_client()
    response = Auth(app, client).login(username)
    assert response.status_code == 302, response.text
    return client


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def text_of(fragment: str) -> str:
    """Visible text, whitespace collapsed."""
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def section(page: str, section_id: str) -> str:
    """The HTML of ``<section id=…>``."""
    match = re.search(rf'<section[^>]*id="{section_id}".*?</section>', page, re.S)
    assert match, f"no section {section_id}"
    return match.group(0)


def body_rows(fragment: str) -> list[list[str]]:
    """The cells (header cell included) of each row in the tables' bodies."""
    rows = []
    for body in re.findall(r"<tbody>(.*?)</tbody>", fragment, re.S):
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
            rows.append([text_of(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)])
    return rows


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.text[:500]
    assert response.mimetype == "text/csv"
    assert response.text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(response.text.removeprefix("\ufeff"))))


def independent_overdue(now: datetime, district: str | None = None) -> list[Deadline]:
    """Overdue deadlines counted straight from the table: missed and not met since, or still
    pending past their due time."""
    return [
        d
        for d in db.session.scalars(select(Deadline))
        if (district is None or d.case.district == district)
        and (
            (d.state == "missed" and d.met_at is None) or (d.state == "pending" and d.due_at < now)
        )
    ]


def unread_in_header(page: str) -> int:
    """The unread count of the header's 消息 link (0 when it shows none)."""
    match = re.search(r'<span class="nav-count">(\d+)<', page)
    return int(match.group(1)) if match else 0


# --------------------------------------------------------------------------- dashboard


def test_city_dashboard_matches_the_deadline_table(seeded: Flask):
    client = login(seeded, "city.supervisor")
    page = client.get("/supervision")
    assert page.status_code == 200
    with seeded.app_context():
        expected = independent_overdue(datetime.now(UTC))
        per_district = Counter(division_name(d.case.district) for d in expected)
    assert expected, "the demo data has overdue deadlines"
    shown = {row[0]: int(row[1]) for row in body_rows(section(page.text, "by-district"))}
    assert {k: v for k, v in shown.items() if v} == dict(per_district)
    assert "汉寿县" in shown  # districts without anything overdue are listed with 0

    overdue_rows = body_rows(section(page.text, "overdue"))
    assert len(overdue_rows) == len(expected)
    assert f'<span class="stat-value">{len(expected)}</span>' in page.text
    first = overdue_rows[0]
    assert re.fullmatch(r"DB\d{4}-\d{6}", first[0])
    assert re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日（星期.）", first[5])  # due date in Chinese
    assert re.fullmatch(r"逾期\d+个工作日|已逾期", first[6])
    late = [int(re.sub(r"\D", "", r[6]) or 0) for r in overdue_rows]
    assert late == sorted(late, reverse=True)  # worst first
    # every list of the page comes with its export, and the charts are inline SVG
    for kind in ("overdue", "due_soon", "by_agency", "by_district", "by_stage", "compliance",
                 "trend", "deadlines"):  # fmt: skip
        assert f"/supervision/export/{kind}.csv" in page.text
    assert page.text.count("<svg") == 4
    rates = body_rows(section(page.text, "compliance"))
    assert rates and all(re.fullmatch(r"\d+\.\d%|—", r[5]) for r in rates)


def test_county_supervisor_sees_only_the_county(seeded: Flask):
    client = login(seeded, "dingcheng.supervisor")
    assert client.get("/login").headers["Location"] == "/supervision"  # the landing page
    page = client.get("/supervision")
    assert page.status_code == 200
    assert {row[0] for row in body_rows(section(page.text, "by-district"))} == {"鼎城区"}
    overdue_rows = body_rows(section(page.text, "overdue"))
    assert overdue_rows and {row[2] for row in overdue_rows} == {"鼎城区"}
    with seeded.app_context():
        assert len(overdue_rows) == len(independent_overdue(datetime.now(UTC), "dingcheng"))
    # the district filter offers the county only, and another county is refused
    assert 'value="wuling"' not in page.text
    assert client.get("/supervision?district=wuling").status_code == 422
    rows = read_csv(client.get("/supervision/export/deadlines.csv"))
    assert len(rows) > 1 and {r[2] for r in rows[1:]} == {"鼎城区"}


def test_csv_exports_match_the_page(seeded: Flask):
    client = login(seeded, "city.supervisor")
    page = client.get("/supervision?district=dingcheng")
    overdue_rows = body_rows(section(page.text, "overdue"))
    exported = read_csv(client.get("/supervision/export/overdue.csv?district=dingcheng"))
    assert exported[0][:3] == ["督办编号", "单位名称", "辖区"]
    assert len(exported) - 1 == len(overdue_rows)
    assert [r[0] for r in exported[1:]] == [r[0] for r in overdue_rows]
    response = client.get("/supervision/export/overdue.csv")
    assert "attachment" in response.headers["Content-Disposition"]
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]

    for kind, header, section_id in (
        ("by_agency", ["承办单位", "逾期", "即将到期"], "by-agency"),
        ("by_district", ["辖区", "逾期", "即将到期"], "by-district"),
        ("by_stage", ["环节", "逾期", "即将到期"], "by-stage"),
        (
            "compliance",
            ["环节", "按期办结", "逾期", "其中逾期后办结", "合计", "按期率"],
            "compliance",
        ),
        ("due_soon", None, "due-soon"),
    ):
        rows = read_csv(client.get(f"/supervision/export/{kind}.csv?district=dingcheng"))
        if header:
            assert rows[0] == header
        assert len(rows) - 1 == len(body_rows(section(page.text, section_id))), kind
    trend = read_csv(client.get("/supervision/export/trend.csv"))
    assert trend[0] == ["月份", "按期办结", "逾期", "未到期"] and len(trend) > 1
    everything = read_csv(client.get("/supervision/export/deadlines.csv"))
    with seeded.app_context():
        assert len(everything) - 1 == len(db.session.scalars(select(Deadline)).all())
    assert client.get("/supervision/export/nothing.csv").status_code == 404


def test_bad_filters_answer_422_with_the_message(app: Flask):
    client = login(app, "city.supervisor")
    page = client.get("/supervision?start=2026-02-30")
    assert page.status_code == 422
    text = text_of(page.text)
    assert "期间开始日期“2026-02-30”不是有效的日期" in text
    assert 'id="flt-start" type="date" name="start" value="2026-02-30"' in page.text
    assert 'aria-invalid="true"' in page.text
    assert 'id="overdue"' not in page.text  # no figures under a wrong filter
    page = client.get("/supervision?start=2026-10-09&end=2026-10-01")
    assert page.status_code == 422 and "期间结束日期不能早于开始日期" in page.text
    assert client.get("/supervision?end=tomorrow").status_code == 422
    assert client.get("/supervision/export/overdue.csv?start=x").status_code == 422
    empty = client.get("/supervision?start=2026-10-01&end=2026-10-09")
    assert empty.status_code == 200
    assert "没有逾期的期限（所选筛选条件下）" in text_of(empty.text)
    assert "按期率：—" in text_of(empty.text)


def test_others_do_not_see_the_dashboard(app: Flask):
    for username in ("wuling.fire", "city.auditor", "admin"):
        client = login(app, username)
        assert client.get("/supervision").status_code == 404, username
        assert client.get("/supervision/export/overdue.csv").status_code == 404, username
        assert "督办看板" not in client.get("/cases").text
    assert app.test_client().get("/supervision").status_code == 302  # to the login page


# --------------------------------------------------------------------------- notifications


def test_notifications_list_and_mark_read(app: Flask):
    with app.app_context():
        found = today_shanghai() - timedelta(days=20)
        ids = [
            start_case(user("wuling.nanping"), "major_hazard", sample("register_hazard", found)).id
            for _ in range(2)
        ]
        notes = db.session.scalars(
            select(Notification).where(Notification.case_id.in_(ids)).order_by(Notification.id)
        ).all()
        # the county office, and the street holding the late step (issue 18)
        recipients = {db.session.get(User, n.user_id).username for n in notes}
        assert recipients == {"wuling.supervisor", "wuling.nanping"}
        supervisor = user("wuling.supervisor")
        note_ids = [n.id for n in notes if n.user_id == supervisor.id]
    assert len(note_ids) == 2
    client = login(app, "wuling.supervisor")
    page = client.get("/notifications")
    assert page.status_code == 200
    assert unread_in_header(page.text) == 2
    items = re.findall(r'<li class="notification[^"]*">(.*?)</li>', page.text, re.S)
    assert len(items) == 2 and all("未读" in text_of(i) for i in items)
    assert f'href="/notifications/{note_ids[1]}"' in items[0]  # newest first
    assert "超期督办" in text_of(items[0])

    token = csrf_token(page.text)
    response = client.post(f"/notifications/{note_ids[0]}/read", data={"csrf_token": token})
    assert response.status_code == 303
    page = client.get("/notifications")
    assert unread_in_header(page.text) == 1
    assert page.text.count('<span class="badge badge-unread">未读</span>') == 1
    assert client.post(f"/notifications/{note_ids[0]}/read").status_code == 400  # no CSRF token

    client.post("/notifications/read-all", data={"csrf_token": token})
    page = client.get("/notifications")
    assert unread_in_header(page.text) == 0 and "没有未读消息" in page.text
    assert "全部标为已读" not in page.text

    # another user's notification is not there for them
    other = login(app, "dingcheng.supervisor")
    token = csrf_token(other.get("/notifications").text)
    response = other.post(f"/notifications/{note_ids[1]}/read", data={"csrf_token": token})
    assert response.status_code == 404


def test_case_page_shows_and_reads_its_reminders(app: Flask):
    with app.app_context():
        found = today_shanghai() - timedelta(days=20)
        first, second = (
            start_case(user("wuling.nanping"), "major_hazard", sample("register_hazard", found)).id
            for _ in range(2)
        )
    client = login(app, "wuling.supervisor")
    page = client.get(f"/cases/{first}")
    assert unread_in_header(page.text) == 2
    box = re.search(
        r'<section class="notice notice-warning case-reminders".*?</section>', page.text, re.S
    )
    assert (
        box and "本案有1条督办提醒" in text_of(box.group(0)) and "函告消防救援机构" in box.group(0)
    )

    token = csrf_token(page.text)
    response = client.post(f"/notifications/case/{first}/read", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/cases/{first}")
    page = client.get(f"/cases/{first}")
    assert "case-reminders" not in page.text and "已将本案1条督办提醒标为已读" in page.text
    assert unread_in_header(page.text) == 1  # the other case's reminder stays unread
    assert "case-reminders" in client.get(f"/cases/{second}").text

    # a case the user may not see answers 404, and nothing is marked
    other = login(app, "dingcheng.supervisor")
    token = csrf_token(other.get("/notifications").text)
    assert (
        other.post(f"/notifications/case/{second}/read", data={"csrf_token": token}).status_code
        == 404
    )
    assert "case-reminders" in client.get(f"/cases/{second}").text
    assert "您还没有收到消息" in other.get("/notifications").text


# --------------------------------------------------------------------------- follow-ups


def test_follow_up_form_on_the_case_page(app: Flask):
    with app.app_context():
        case = start_case(
            user("wuling.nanping"), "major_hazard", sample("register_hazard", today_shanghai())
        )
        case_id = case.id
    client = login(app, "wuling.supervisor")
    page = client.get(f"/cases/{case_id}")
    assert f'action="/cases/{case_id}/follow-up#follow-up"' in page.text
    token = csrf_token(page.text)
    url = f"/cases/{case_id}/follow-up"

    bad = client.post(url, data={"csrf_token": token, "action": "shout", "note": "  "})
    assert bad.status_code == 422
    assert "请选择督办、催办、约谈或曝光" in text_of(
        re.search(r'id="follow-up-action-error">(.*?)</p>', bad.text, re.S).group(1)
    )
    assert "请填写督办情况" in text_of(
        re.search(r'id="follow-up-note-error">(.*?)</p>', bad.text, re.S).group(1)
    )
    assert "办理记录" in bad.text  # the case page itself, with the errors

    done = client.post(
        url, data={"csrf_token": token, "action": "interview", "note": "约谈单位负责人，限期整改。"}
    )
    assert done.status_code == 303
    page = client.get(done.headers["Location"])
    assert "督办措施已记录：约谈" in page.text
    timeline = re.search(r'<ol class="timeline">(.*?)</ol>', page.text, re.S).group(1)
    assert "督办措施：约谈" in text_of(timeline)
    assert "约谈单位负责人，限期整改。" in text_of(timeline)
    with app.app_context():
        kinds = db.session.scalars(select(Event.kind).where(Event.case_id == case_id)).all()
        assert kinds.count("follow_up") == 1

    # officers have no such form or route; other counties do not see the case at all
    officer = login(app, "wuling.fire")
    assert 'id="follow-up"' not in officer.get(f"/cases/{case_id}").text
    token = csrf_token(officer.get("/").text)
    data = {"csrf_token": token, "action": "supervise", "note": "x"}
    assert officer.post(url, data=data).status_code == 404
    other = login(app, "dingcheng.supervisor")
    data["csrf_token"] = csrf_token(other.get("/supervision").text)
    assert other.post(url, data=data).status_code == 404


# --------------------------------------------------------------------------- calendar


def test_calendar_page_shows_the_year(app: Flask):
    client = login(app, "admin")
    assert client.get("/admin/calendar").headers["Location"].startswith("/admin/calendar/")
    page = client.get("/admin/calendar/2026")
    assert page.status_code == 200
    assert page.text.count('<table class="cal-month">') == 12
    assert re.search(
        r'datetime="2026-10-01">1</time><span class="cal-mark"[^>]*>休</span>', page.text
    )
    assert re.search(
        r'datetime="2026-10-10">10</time><span class="cal-mark"[^>]*>班</span>', page.text
    )
    assert re.search(
        r'<td class="cal-day cal-weekend"[^>]*><time datetime="2026-10-17">', page.text
    )
    assert "法定安排（系统内置）" in page.text
    assert "按放假办法推算（暂定，调休未知）" in client.get("/admin/calendar/2031").text
    assert client.get("/admin/calendar/1999").status_code == 404
    assert login(app, "city.supervisor").get("/admin/calendar/2026").status_code == 404
    assert login(app, "wuling.fire").get("/admin/calendar").status_code == 404


def test_saving_a_year_recomputes_and_clears_the_banner(app: Flask, time_machine):
    time_machine.move_to(datetime(2026, 12, 28, 10, tzinfo=UTC), tick=False)
    with app.app_context():
        case = start_case(
            user("wuling.nanping"), "major_hazard", sample("register_hazard", today_shanghai())
        )
        deadline = db.session.scalar(select(Deadline).where(Deadline.case_id == case.id))
        assert deadline.provisional
        deadline_id, before = deadline.id, deadline.due_at
    client = login(app, "admin")
    banner = re.compile(r'<p class="notice notice-warning calendar-banner".*?</p>', re.S)
    match = banner.search(client.get("/cases").text)
    assert match and "2027年尚未录入国务院办公厅放假安排" in text_of(match.group(0))
    assert 'href="/admin/calendar/2027"' in match.group(0)
    assert not banner.search(login(app, "city.supervisor").get("/supervision").text)

    client = login(app, "admin")
    page = client.get("/admin/calendar/2027")
    assert "按放假办法推算（暂定，调休未知）" in page.text
    token = csrf_token(page.text)
    bad = client.post(
        "/admin/calendar/2027",
        data={"csrf_token": token, "holidays": "2027-01-01, 2027-13-01", "workdays": "2027-01-05"},
    )
    assert bad.status_code == 422
    assert "节假日中有无法识别的日期：2027-13-01" in text_of(bad.text)
    assert "以下日期不是：2027-01-05（星期二）" in text_of(bad.text)
    assert "2027-01-01, 2027-13-01" in bad.text  # what was typed is kept

    saved = client.post(
        "/admin/calendar/2027",
        data={"csrf_token": token, "holidays": "2027-01-01\n2027-01-04", "workdays": ""},
    )
    assert saved.status_code == 303
    page = client.get(saved.headers["Location"])
    assert "重新计算了1个案件的1个暂定期限" in text_of(page.text)
    assert "管理员录入" in page.text
    assert re.search(
        r'datetime="2027-01-04">4</time><span class="cal-mark"[^>]*>休</span>', page.text
    )
    assert not banner.search(client.get("/cases").text)
    with app.app_context():
        deadline = db.session.get(Deadline, deadline_id)
        assert not deadline.provisional and deadline.due_at > before
    timeline = client.get(f"/cases/{case.id}").text
    assert "期限重算" in timeline


def test_cli_calendar_import(app: Flask, runner, tmp_path):
    good = tmp_path / "2027.json"
    good.write_text(
        json.dumps({"holidays": ["2027-01-01", "2027-02-06"], "workdays": ["2027-02-20"]}),
        encoding="utf-8",
    )
    result = runner.invoke(args=["calendar", "import", "2027", str(good)])
    assert result.exit_code == 0, result.output
    assert "已导入2027年节假日安排（节假日2天，调休上班1天，操作人 admin）" in result.output
    assert "重新计算了0个案件的0个期限" in result.output
    with app.app_context():
        row = db.session.get(CalendarYear, 2027)
        assert row.holidays == ["2027-01-01", "2027-02-06"] and row.workdays == ["2027-02-20"]
        assert user("admin").id == row.updated_by_id

    for content, message in (
        ("{not json", "无法读取"),
        ('["2027-01-01"]', "文件内容应为"),
        ('{"holidays": ["2027-02-30"]}', "日历数据有误"),
        ('{"holidays": ["2026-12-31"]}', "日历数据有误"),
    ):
        bad = tmp_path / "bad.json"
        bad.write_text(content, encoding="utf-8")
        result = runner.invoke(args=["calendar", "import", "2027", str(bad)])
        assert result.exit_code != 0, content
        assert message in result.output, result.output
    missing = runner.invoke(args=["calendar", "import", "2027", str(tmp_path / "none.json")])
    assert missing.exit_code != 0
    with app.app_context():
        assert db.session.get(CalendarYear, 2027).holidays == ["2027-01-01", "2027-02-06"]
        assert db.session.scalar(select(Case.id)) is None
