"""Legal settings in the browser and the API: administrators change a value, everyone reads it,
a new case takes the values in force, a running case keeps its own, and every change is audited
on the system chain."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server.extensions import db
from server.models import Case, Event, LegalSetting
from tests.integration.conftest import Auth, csrf_token
from tests.support.api import Api, assert_error
from workflows import legal_settings

KEY = "fire_property_only_city_min_loss"


def test_everyone_reads_the_settings_with_value_default_and_basis(api: Api):
    items = api.get("dingcheng.fire", "/settings").json["items"]
    legal = [i["key"] for i in items if i["scope"] == "legal"]
    assert legal == [s.key for s in legal_settings.catalogue()]
    assert [i["key"] for i in items if i["scope"] == "app"] == ["due_soon_working_days"]
    item = next(i for i in items if i["key"] == KEY)
    assert item["value"] == item["default"] == legal_settings.defaults()[KEY]
    assert item["changed"] is False and "第六条" in item["basis"] and item["unit"] == "元"


def test_an_administrator_changes_a_value_and_new_cases_take_it(app: Flask, api: Api):
    old = api.register_fire("dingcheng.fire")
    saved = api.call("admin", "PUT", f"/settings/{KEY}", json={"value": 2000000})
    assert saved.status_code == 200, saved.json
    assert saved.json["value"] == 2000000 and saved.json["changed"] is True
    assert saved.json["updated_by"] == "admin"
    new = api.register_fire("dingcheng.fire")
    with app.app_context():
        snapshots = {case.id: case_settings(case.id) for case in db.session.scalars(select(Case))}
        event = db.session.scalars(select(Event).where(Event.kind == "legal_setting_changed")).one()
    assert snapshots[new["id"]][KEY] == 2000000
    assert snapshots[old["id"]][KEY] == legal_settings.defaults()[KEY]  # kept its own
    assert event.case_id is None and event.data["value"] == 2000000
    assert event.data["previous"] is None
    # back to the default with null: the row goes, the audit says so
    reset = api.call("admin", "PUT", f"/settings/{KEY}", json={"value": None})
    assert reset.json["changed"] is False and reset.json["value"] == reset.json["default"]
    with app.app_context():
        assert db.session.get(LegalSetting, KEY) is None


def case_settings(case_id: int) -> dict:
    """The settings snapshot the case's audit trail recorded when it was opened."""
    opened = db.session.scalars(
        select(Event).where(Event.case_id == case_id, Event.kind == "case_opened")
    ).one()
    return opened.data["settings"]


def test_bad_values_answer_422_with_the_field_and_change_nothing(app: Flask, api: Api):
    for value in ("很多", -1, 1.5, True):
        response = api.call("admin", "PUT", f"/settings/{KEY}", json={"value": value})
        assert_error(response, 422, "invalid", {"value"})
    assert_error(api.call("admin", "PUT", f"/settings/{KEY}", json={}), 422, "invalid", {"value"})
    assert api.call("admin", "PUT", "/settings/no_such", json={"value": 1}).status_code == 404
    with app.app_context():
        assert db.session.scalars(select(LegalSetting)).all() == []
        assert not db.session.scalars(
            select(Event).where(Event.kind == "legal_setting_changed")
        ).all()


def test_only_administrators_may_change_a_value(api: Api):
    for user in ("dingcheng.fire", "city.supervisor", "city.auditor"):
        response = api.call(user, "PUT", f"/settings/{KEY}", json={"value": 1})
        assert response.status_code == 404


def test_the_administrators_page_saves_and_restores(client: FlaskClient, auth: Auth):
    auth.login("admin")
    page = client.get("/admin/settings")
    assert page.status_code == 200
    assert "法定参数" in page.text and "《火灾事故调查规定》" in page.text
    token = csrf_token(page.text)
    bad = client.post(f"/admin/settings/{KEY}", data={"value": "一千万", "csrf_token": token})
    assert bad.status_code == 422 and "请填写数字" in bad.text
    done = client.post(
        f"/admin/settings/{KEY}", data={"value": "3,000,000", "csrf_token": token},
        follow_redirects=True,
    )  # fmt: skip
    assert "已保存" in done.text and "管理员设定" in done.text and "3,000,000元" in done.text
    restored = client.post(
        f"/admin/settings/{KEY}", data={"reset": "1", "csrf_token": token}, follow_redirects=True
    )
    section = restored.text.split(f'id="setting-{KEY}"', 1)[1].split("</section>", 1)[0]
    assert "恢复默认值" not in section and "默认值</span>" in section
    assert client.get("/api/v1/settings").status_code == 401  # the API wants a token


def test_others_do_not_see_the_page(client: FlaskClient, auth: Auth):
    auth.login("dingcheng.fire")
    assert client.get("/admin/settings").status_code == 404
