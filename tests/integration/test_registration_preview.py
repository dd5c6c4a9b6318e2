"""The registration preview: the verdict a registration would record, shown before registering
(page and API), naming the GB 35181 edition it used, with nothing written."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from server.extensions import db
from server.models import Case, Event
from tests.integration.conftest import Auth
from tests.integration.test_web import login, post_form, text_of
from tests.support import fire_accountability
from tests.support.api import Api, assert_error, today
from tests.support.major_hazard import sample


def counts(app: Flask) -> tuple[int, int]:
    """Cases and case events (logins write to the system chain, which is not about cases)."""
    with app.app_context():
        return (
            db.session.scalar(select(func.count(Case.id))) or 0,
            db.session.scalar(select(func.count(Event.id)).where(Event.case_id.is_not(None))) or 0,
        )


def test_the_api_preview_names_the_edition_and_registers_nothing(app: Flask, api: Api):
    before = counts(app)
    data = sample("register_hazard", date(2025, 12, 1), site_categories=["other"],
                  elements=["7.4.1"])  # fmt: skip
    response = api.post("wuling.nanping", "/cases/preview", json={"process": "major_hazard",
                        "data": data})  # fmt: skip
    assert response.status_code == 200, response.json
    verdict = response.json["verdict"]
    assert verdict["judgement_edition"] == "GB 35181-2017"
    assert verdict["judgement_applicable_edition"] == "GB 35181-2025"
    assert verdict["judgement_superseded"] is True
    assert verdict["lines"][0]["label"] == "GB 35181-2017（已被 GB 35181-2025 代替）"
    assert "仅供参考" in verdict["lines"][0]["value"]
    assert counts(app) == before
    # the same data registered records the same verdict
    case = api.post("wuling.nanping", "/cases", json={"process": "major_hazard", "data": data})
    assert case.json["verdict"] == verdict


def test_a_2017_hazard_preview_is_not_an_aid(api: Api):
    data = sample("register_hazard", date(2025, 10, 20))
    verdict = api.post(
        "wuling.nanping", "/cases/preview", json={"process": "major_hazard", "data": data}
    ).json["verdict"]
    assert verdict["judgement_edition"] == "GB 35181-2017"
    assert verdict["judgement_major"] is True and not verdict.get("judgement_superseded")


def test_a_fire_preview_grades_the_fire(app: Flask, api: Api):
    before = counts(app)
    data = fire_accountability.sample("register_fire", today() - timedelta(days=1))
    data.update(deaths=5, serious_injuries=15)
    verdict = api.post(
        "dingcheng.fire", "/cases/preview", json={"process": "fire_accountability", "data": data}
    ).json["verdict"]
    assert verdict["fire_level"] == "larger" and verdict["investigating_level"] == "province"
    assert verdict["procedure"] == "general"
    assert counts(app) == before


def test_bad_data_and_foreign_districts_are_refused_with_the_field(app: Flask, api: Api):
    before = counts(app)
    bad = sample("register_hazard", today(), found_on="明天")
    response = api.post(
        "wuling.nanping", "/cases/preview", json={"process": "major_hazard", "data": bad}
    )
    assert_error(response, 422, "invalid", {"found_on"})
    other = sample("register_hazard", today(), district="dingcheng")
    response = api.post(
        "wuling.nanping", "/cases/preview", json={"process": "major_hazard", "data": other}
    )
    assert_error(response, 422, "invalid", {"district"})
    assert api.post("city.auditor", "/cases/preview", json={"process": "major_hazard",
                    "data": bad}).status_code == 403  # fmt: skip
    assert counts(app) == before


def test_the_registration_page_previews_without_registering(
    app: Flask, client: FlaskClient, auth: Auth
):
    login(client, auth, "wuling.nanping")
    before = counts(app)
    data = sample("register_hazard", date(2025, 12, 1), site_categories=["other"],
                  elements=["7.4.1"])  # fmt: skip
    response = post_form(client, "/cases/new?process=major_hazard", data, _preview="1")
    assert response.status_code == 200
    text = text_of(response.text)
    assert "预判结果（尚未登记）" in text
    assert "GB 35181-2017（已被 GB 35181-2025 代替）" in text and "仅供参考" in text
    assert 'value="常德市武陵区星光KTV"' in response.text  # the form keeps what was typed
    assert counts(app) == before
