"""The 两个清单 (server/reports_lists.py): rows against an independent count from the
database, filters, scoping, the page, the API and the .xlsx."""

from __future__ import annotations

import io
from datetime import date, timedelta

import openpyxl
from sqlalchemy import func, select

from server.extensions import db
from server.models import Agency, Case, User
from server.operations import start_case, today_shanghai
from tests.support.major_hazard import sample


def user(username: str) -> User:
    return db.session.scalars(select(User).where(User.username == username)).one()


def _register(app, username: str, district: str, area: str, department: str | None) -> int:
    with app.app_context():
        data = sample("register_hazard", today_shanghai() - timedelta(days=1))
        data.update(district=district, campaign_area=area, unit_name=f"{district}{area}单位")
        if department:
            data["responsible_department"] = department
        return start_case(user(username), "major_hazard", data).id


def _world(app) -> dict[str, int]:
    return {
        "a": _register(app, "wuling.nanping", "wuling", "crowded_places", "industry:city:wenlv"),
        "b": _register(app, "wuling.nanping", "wuling", "high_rise", None),
        "c": _register(app, "dingcheng.yuxia", "dingcheng", "crowded_places", None),
    }


def test_registration_stores_area_and_department(app):
    ids = _world(app)
    with app.app_context():
        case = db.session.get(Case, ids["a"])
        assert case.campaign_area == "crowded_places"
        assert case.responsible_department.code == "industry:city:wenlv"
        assert db.session.get(Case, ids["b"]).responsible_department_id is None


def test_area_is_required_and_department_must_be_industry(app, api):
    data = sample("register_hazard", today_shanghai())
    del data["campaign_area"]
    answer = api.post("wuling.nanping", "/cases", json={"process": "major_hazard", "data": data})
    assert answer.status_code == 422 and "campaign_area" in answer.json["fields"]
    data.update(campaign_area="other", responsible_department="fire_brigade:wuling")
    answer = api.post("wuling.nanping", "/cases", json={"process": "major_hazard", "data": data})
    assert answer.status_code == 422 and "responsible_department" in answer.json["fields"]


def test_rows_equal_an_independent_count_and_filters_narrow(app, api):
    _world(app)
    with app.app_context():
        total = db.session.scalar(
            select(func.count()).select_from(Case).where(Case.process_id == "major_hazard")
        )
        crowded = db.session.scalar(
            select(func.count())
            .select_from(Case)
            .where(Case.process_id == "major_hazard", Case.campaign_area == "crowded_places")
        )
        wenlv = db.session.scalar(select(Agency.id).where(Agency.code == "industry:city:wenlv"))
        of_wenlv = db.session.scalar(
            select(func.count()).select_from(Case).where(Case.responsible_department_id == wenlv)
        )
    for which in ("problems", "responsibilities"):
        answer = api.get("city.supervisor", f"/reports/lists/{which}?per_page=100")
        assert answer.status_code == 200, answer.text
        assert answer.json["total"] == total == len(answer.json["items"])
    answer = api.get("city.supervisor", "/reports/lists/problems?area=crowded_places")
    assert answer.json["total"] == crowded == 2
    assert {r["area"] for r in answer.json["items"]} == {"人员密集场所"}
    answer = api.get("city.supervisor", "/reports/lists/problems?department=industry:city:wenlv")
    assert answer.json["total"] == of_wenlv == 1
    row = answer.json["items"][0]
    assert row["department"] == "常德市文旅广体局" and row["found_on"]
    assert row["verdict"] and row["edition"].startswith("GB 35181")
    answer = api.get("city.supervisor", "/reports/lists/problems?status=closed")
    assert answer.json["total"] == 0
    answer = api.get("city.supervisor", "/reports/lists/problems?area=nowhere")
    assert answer.status_code == 422 and "area" in answer.json["fields"]
    assert api.get("city.supervisor", "/reports/lists/nothing").status_code == 404


def test_another_districts_supervisor_sees_none_of_its_rows(app, api):
    ids = _world(app)
    answer = api.get("dingcheng.supervisor", "/reports/lists/problems?per_page=100")
    assert [r["case_id"] for r in answer.json["items"]] == [ids["c"]]
    answer = api.get("dingcheng.supervisor", "/reports/lists/problems?district=wuling")
    assert answer.status_code == 422
    # the responsible department sees its own list, and only it
    answer = api.get("wenlv.officer", "/reports/lists/responsibilities")
    assert [r["case_id"] for r in answer.json["items"]] == [ids["a"]]


def test_page_lists_and_filters(app, client, auth):
    _world(app)
    auth.login("wuling.supervisor")
    page = client.get("/reports/lists?area=high_rise")
    assert page.status_code == 200
    assert "问题隐患清单" in page.text and "wuling高层建筑单位" not in page.text
    assert "wulinghigh_rise单位" in page.text and "wulingcrowded_places单位" not in page.text
    page = client.get("/reports/lists?list=responsibilities")
    assert "整改责任单位" in page.text and "dingcheng" not in page.text.split("<main")[-1]


def test_xlsx_has_two_sheets_frozen_headers_and_dates(app, client, auth):
    ids = _world(app)
    auth.login("city.supervisor")
    answer = client.get("/reports/lists.xlsx?district=wuling")
    assert answer.status_code == 200
    assert answer.mimetype.endswith("spreadsheetml.sheet")
    book = openpyxl.load_workbook(io.BytesIO(answer.data))
    assert book.sheetnames == ["问题隐患清单", "整改责任清单"]
    problems, responsibilities = book["问题隐患清单"], book["整改责任清单"]
    headers = [c.value for c in problems[1]]
    assert headers[:4] == ["序号", "督办编号", "县市区", "单位名称"]
    assert "GB 35181 判定" in headers and "发现日期" in headers
    assert problems.freeze_panes == "A2" and responsibilities.freeze_panes == "A2"
    assert problems.max_row == 1 + 2  # wuling's two hazards
    found = problems.cell(row=2, column=headers.index("发现日期") + 1)
    assert isinstance(found.value, date) and found.number_format == "yyyy-mm-dd"
    assert problems.column_dimensions["E"].width == 30
    with app.app_context():
        numbers = {db.session.get(Case, ids[k]).number for k in ("a", "b")}
    assert {problems.cell(row=r, column=2).value for r in (2, 3)} == numbers
    assert [c.value for c in responsibilities[1]][:4] == [
        "序号",
        "督办编号",
        "县市区",
        "整改责任单位",
    ]
    api_answer = client.get("/reports/lists.xlsx?area=bad")
    assert api_answer.status_code == 400


def test_api_xlsx_is_the_same_workbook(app, api):
    _world(app)
    answer = api.get("wuling.supervisor", "/reports/lists.xlsx?area=crowded_places")
    assert answer.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(answer.data))
    assert book["问题隐患清单"].max_row == 2 and book["整改责任清单"].max_row == 2
    assert api.get("wuling.supervisor", "/reports/lists.xlsx?status=x").status_code == 422
