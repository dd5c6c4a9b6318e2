"""An agency's own numbering pattern (文号格式) per counter kind, as administrator data: set on
the agency's page, through the API or the command line, audited on the system chain, used by
the next document (and a correction) while the numbers keep counting in the same counter."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.integration.conftest import csrf_token
from tests.integration.test_admin_browser import events
from tests.support.api import Api, assert_error, today
from tests.support.major_hazard import FIRE, STREET, TO_REPORT

ADMIN = "admin"
BRIGADE = "fire_brigade:wuling"
NUMBERING = f"/agencies/{BRIGADE}/numbering"


def _numbers(api: Api, case_id: int) -> dict[str, str]:
    items = api.get(FIRE, f"/cases/{case_id}/documents").json["items"]
    return {d["kind"]: d["number"] for d in items if not d["void"]}


def _reported(api: Api) -> dict[str, str]:
    case = api.register(STREET)
    for user, name in TO_REPORT:
        api.complete(user, case["id"], name)
    return _numbers(api, case["id"])


def _state(app: Flask) -> tuple[int, int]:
    """The override rows and their events (API tokens made on the way are other events)."""
    from server.extensions import db
    from server.models import AgencyNumbering, Event

    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(AgencyNumbering)) or 0,
            db.session.scalar(select(func.count()).where(Event.kind == "agency_numbering_changed"))
            or 0,
        )


def test_an_override_changes_the_form_and_the_numbers_count_on(app: Flask, api: Api) -> None:
    year = today().year
    first = _reported(api)
    assert first["rectification_notice"] == f"武消隐改字〔{year}〕第0001号"
    assert first["service_receipt_rectification"] == f"武消送字〔{year}〕第0001号"
    listed = api.get(ADMIN, NUMBERING)
    assert listed.status_code == 200, listed.json
    rows = {n["kind"]: n for n in listed.json["items"]}
    assert "service_receipt_rectification" not in rows  # counts with service_receipt
    assert "service_receipt_rectification" in rows["service_receipt"]["kinds"]
    assert rows["rectification_notice"]["pattern"] is None
    assert (
        rows["rectification_notice"]["pattern_in_use"]
        == "{agency_short}隐改字〔{year}〕第{seq:04d}号"
    )

    # only administrators: anyone else gets 404, nothing changes
    before = _state(app)
    for user in (FIRE, "city.supervisor", "city.auditor"):
        assert api.get(user, NUMBERING).status_code == 404
        assert api.get(user, f"{NUMBERING}/rectification_notice").status_code == 404
        put = api.call(
            user, "PUT", f"{NUMBERING}/rectification_notice", json={"pattern": "{year}{seq}"}
        )
        assert put.status_code == 404
        assert api.call(user, "DELETE", f"{NUMBERING}/rectification_notice").status_code == 404
    # a bad pattern: 422 naming the field, nothing changes
    for bad in (
        "{agency_short}〔{year}〕{number}号",  # unknown field
        "{agency_short}〔{year}〕号",  # no {seq}
        "{agency_short}〔{year}〕第{seq:04q}号",  # bad format spec
        "{agency_short}〔{year}〕第{seq号",  # unbalanced brace
        "",
        17,
    ):
        response = api.call(
            ADMIN, "PUT", f"{NUMBERING}/rectification_notice", json={"pattern": bad}
        )
        assert_error(response, 422, "invalid", {"pattern"})
    assert_error(
        api.call(ADMIN, "PUT", f"{NUMBERING}/rectification_notice", json={}), 422, "invalid"
    )
    assert api.get(ADMIN, f"{NUMBERING}/no_such_kind").status_code == 404
    assert (
        api.call(
            ADMIN, "PUT", f"{NUMBERING}/no_such_kind", json={"pattern": "{year}{seq}"}
        ).status_code
        == 404
    )
    assert api.get(ADMIN, "/agencies/nowhere:x/numbering").status_code == 404
    assert _state(app) == before

    # set: the response says what is in use and what the first number looks like
    pattern = "{agency_short}隐改〔{year}〕{seq:03d}号"
    response = api.call(
        ADMIN, "PUT", f"{NUMBERING}/rectification_notice", json={"pattern": pattern}
    )
    assert response.status_code == 200, response.json
    assert response.json["pattern"] == pattern and response.json["pattern_in_use"] == pattern
    assert response.json["example"] == f"武消隐改〔{year}〕001号"
    # a kind sharing a counter: the counter's pattern (asked for by either kind)
    shared = api.call(
        ADMIN, "PUT", f"{NUMBERING}/service_receipt_rectification",
        json={"pattern": "{agency_short}送〔{year}〕{seq}号"},
    )  # fmt: skip
    assert shared.status_code == 200 and shared.json["kind"] == "service_receipt"
    assert (
        api.get(ADMIN, f"{NUMBERING}/service_receipt").json["pattern"]
        == "{agency_short}送〔{year}〕{seq}号"
    )
    # the next documents take the new form and count on
    second = _reported(api)
    assert second["rectification_notice"] == f"武消隐改〔{year}〕002号"
    assert second["service_receipt_rectification"] == f"武消送〔{year}〕2号"
    # the changes are on the system chain, with who and what before
    changed = events(app, "agency_numbering_changed")
    assert [(e["code"], e["kind"], e["changes"]["pattern"], e["actor"]) for e in changed] == [
        (BRIGADE, "rectification_notice", [None, pattern], ADMIN),
        (BRIGADE, "service_receipt", [None, "{agency_short}送〔{year}〕{seq}号"], ADMIN),
    ]
    # setting the same pattern again changes and audits nothing
    before = _state(app)
    again = api.call(ADMIN, "PUT", f"{NUMBERING}/rectification_notice", json={"pattern": pattern})
    assert again.status_code == 200 and _state(app) == before
    # reset: back to the template's pattern, still counting on
    reset = api.call(ADMIN, "DELETE", f"{NUMBERING}/rectification_notice")
    assert reset.status_code == 200 and reset.json["pattern"] is None
    assert reset.json["pattern_in_use"] == reset.json["template_pattern"]
    assert events(app, "agency_numbering_changed")[-1]["changes"]["pattern"] == [pattern, None]
    third = _reported(api)
    assert third["rectification_notice"] == f"武消隐改字〔{year}〕第0003号"
    assert third["service_receipt_rectification"] == f"武消送〔{year}〕3号"


def test_a_correction_takes_the_agency_pattern(app: Flask, api: Api, runner) -> None:
    year = today().year
    case = api.register(STREET)
    api.complete(STREET, case["id"], "refer_to_fire_rescue")
    [letter] = api.get(STREET, f"/cases/{case['id']}/documents").json["items"]
    assert letter["number"] == f"武南函〔{year}〕1号"
    pattern = "{agency_short}函字〔{year}〕第{seq:02d}号"
    args = ["agencies", "numbering", "street:wuling:nanping", "hazard_referral_letter"]
    result = runner.invoke(args=[*args, pattern])
    assert result.exit_code == 0, result.output
    assert f"武南函字〔{year}〕第01号" in result.output and "本单位设定" in result.output
    corrected = api.post(
        STREET, f"/cases/{case['id']}/documents/{letter['id']}/correction",
        json={"fields": {"contents": "更正后的函告内容。"}, "reason": "笔误"},
    )  # fmt: skip
    assert corrected.status_code == 201, corrected.json
    assert corrected.json["number"] == f"武南函字〔{year}〕第02号"
    # a bad pattern on the command line: refused, nothing changes
    bad = runner.invoke(
        args=["agencies", "numbering", "street:wuling:nanping", "hazard_referral_letter", "{x}"]
    )
    assert bad.exit_code != 0 and "文号格式" in bad.output
    result = runner.invoke(
        args=["agencies", "numbering", "street:wuling:nanping", "hazard_referral_letter", "--reset"]
    )
    assert result.exit_code == 0 and "模板格式" in result.output, result.output
    other = api.register(STREET)
    api.complete(STREET, other["id"], "refer_to_fire_rescue")
    assert _numbers(api, other["id"])["hazard_referral_letter"] == f"武南函〔{year}〕3号"
    assert [e["actor"] for e in events(app, "agency_numbering_changed")] == [None, None]
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output


def test_the_agency_page_edits_the_patterns(
    app: Flask, api: Api, client: FlaskClient, auth
) -> None:
    page_url = f"/admin/agencies/{BRIGADE}"
    url = f"{page_url}/numbering/rectification_notice"
    auth.login(FIRE)
    assert client.post(url, data={"pattern": "{year}{seq}"}).status_code in (400, 404)
    auth.login(ADMIN)
    page = client.get(page_url)
    assert page.status_code == 200
    assert "文号格式" in page.text and "{agency_short}隐改字〔{year}〕第{seq:04d}号" in page.text
    token = csrf_token(page.text)
    # no CSRF token: refused
    assert client.post(url, data={"pattern": "{year}{seq}"}).status_code == 400
    before = _state(app)
    bad = client.post(url, data={"csrf_token": token, "pattern": "{agency_short}{number}"})
    assert bad.status_code == 422 and "unknown field" in bad.text
    assert 'value="{agency_short}{number}"' in bad.text  # typed value kept
    assert _state(app) == before
    good = client.post(
        url, data={"csrf_token": token, "pattern": "{agency_short}改〔{year}〕{seq}号"}
    )
    assert good.status_code == 303
    page = client.get(page_url)
    assert "已保存《" in page.text and f"武消改〔{today().year}〕1号" in page.text
    assert "恢复模板格式" in page.text
    reset = client.post(url, data={"csrf_token": token, "reset": "1"})
    assert reset.status_code == 303
    assert "已恢复模板的文号格式" in client.get(page_url).text
    assert [e["changes"]["pattern"][1] for e in events(app, "agency_numbering_changed")] == [
        "{agency_short}改〔{year}〕{seq}号",
        None,
    ]
    unknown = f"{page_url}/numbering/no_such_kind"
    data = {"csrf_token": token, "pattern": "{year}{seq}"}
    assert client.post(unknown, data=data).status_code == 404
