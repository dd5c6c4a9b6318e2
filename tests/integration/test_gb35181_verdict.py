"""The GB 35181 verdict names the edition it used on the case page, the API and the dossier."""

from __future__ import annotations

from datetime import date

from flask import Flask
from flask.testing import FlaskClient

from server.extensions import db
from server.models import Case
from server.operations import start_case
from tests.support.major_hazard import sample

from .conftest import Auth
from .test_dossier import login, print_html, read_pdf, squeeze, user

AID = "按已被代替的GB35181-2017要素初判，仅供参考"


def registered(app: Flask, found: date, **overrides) -> int:
    with app.app_context():
        case = start_case(
            user("wuling.nanping"), "major_hazard", sample("register_hazard", found, **overrides)
        )
        return case.id


def test_a_hazard_found_after_2025_11_01_is_an_aid_verdict_everywhere(
    app: Flask, client: FlaskClient, auth: Auth
) -> None:
    case_id = registered(app, date(2025, 12, 1), site_categories=["other"], elements=["7.4.1"])
    with app.app_context():
        case = db.session.get(Case, case_id)
        assert case.stage == "函告消防救援机构"  # not the street's order to correct
    login(client, auth, "city.auditor")
    page = squeeze(client.get(f"/cases/{case_id}").text)
    assert "GB35181-2017（已被GB35181-2025代替）" in page
    assert AID in page
    detail = client.get(f"/api/v1/cases/{case_id}", headers=auth.token("city.auditor")).json
    verdict = detail["verdict"]
    assert verdict["judgement_edition"] == "GB 35181-2017"
    assert verdict["judgement_applicable_edition"] == "GB 35181-2025"
    assert verdict["judgement_superseded"] is True
    assert verdict["lines"][0]["label"] == "GB 35181-2017（已被 GB 35181-2025 代替）"
    _, pages = read_pdf(print_html(client, case_id).data)
    text = squeeze("\n".join(pages))
    assert "GB35181-2017（已被GB35181-2025代替）" in text
    assert AID in text


def test_a_hazard_found_under_2017_names_2017_and_stays_with_the_street(
    app: Flask, client: FlaskClient, auth: Auth
) -> None:
    case_id = registered(app, date(2025, 10, 31), site_categories=["other"], elements=["7.4.1"])
    with app.app_context():
        assert db.session.get(Case, case_id).stage == "责令限期改正"
    login(client, auth, "city.auditor")
    detail = client.get(f"/api/v1/cases/{case_id}", headers=auth.token("city.auditor")).json
    assert detail["verdict"]["judgement_edition"] == "GB 35181-2017"
    assert detail["verdict"]["judgement_superseded"] is False
    assert detail["verdict"]["lines"][0] == {
        "label": "GB 35181-2017",
        "value": "初步判定不构成重大火灾隐患（按一般火灾隐患处理）",
        "basis": "未达到判定条件",
    }
    page = squeeze(client.get(f"/cases/{case_id}").text)
    assert "GB35181-2017" in page and AID not in page
