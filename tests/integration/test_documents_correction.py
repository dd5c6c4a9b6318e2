"""Correcting (更正) an issued document: the old one voided with its number kept, a new one
numbered next in the same counter, the step's form amended, the chain still verified."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from tests.integration.conftest import csrf_token
from tests.support.api import Api, assert_error, today
from tests.support.major_hazard import FIRE, STREET, TO_REPORT
from tests.support.pdf import pdf_text


def _documents(api: Api, case_id: int, user: str = FIRE) -> list[dict]:
    response = api.get(user, f"/cases/{case_id}/documents")
    assert response.status_code == 200, response.json
    return response.json["items"]


def _correct(api: Api, user: str, case_id: int, doc_id: int, **body):
    return api.post(user, f"/cases/{case_id}/documents/{doc_id}/correction", json=body)


def _counts(app: Flask) -> tuple[int, ...]:
    from server.extensions import db
    from server.models import Attachment, Case, Document, DocumentCounter, Event

    with app.app_context():
        counts = [
            db.session.scalar(select(func.count()).select_from(model))
            for model in (Document, Attachment, Event)
        ]
        last = db.session.scalar(select(func.sum(DocumentCounter.last)))
        return (*counts, last or 0, db.session.scalar(select(func.max(Case.row_version))))


def test_correction_voids_keeps_the_number_and_issues_the_next(
    app: Flask, api: Api, runner, tmp_path: Path
) -> None:
    year = today().year
    case = api.register(STREET)
    api.complete(STREET, case["id"], "refer_to_fire_rescue")
    [letter] = _documents(api, case["id"])
    assert letter["number"] == f"武南函〔{year}〕1号"
    response = _correct(
        api, STREET, case["id"], letter["id"],
        fields={"contents": "更正后的函告内容：疏散通道被占用。"}, reason="函告内容笔误",
    )  # fmt: skip
    assert response.status_code == 201, response.json
    new = response.json
    assert new["number"] == f"武南函〔{year}〕2号" and new["void"] is False
    items = _documents(api, case["id"])
    assert [(d["number"], d["void"]) for d in items] == [
        (f"武南函〔{year}〕1号", True),
        (f"武南函〔{year}〕2号", False),
    ]
    old = items[0]
    assert old["void_reason"] == "函告内容笔误" and old["voided_by"]["name"]
    assert old["replaced_by"] == new["id"] and old["replaced_by_number"] == new["number"]
    # the new PDF says what was corrected and carries the new number
    pdf = api.get(STREET, new["url"].removeprefix("/api/v1"))
    text = pdf_text(pdf.data, tmp_path, layout=False)
    assert "更正后的函告内容：疏散通道被占用。" in text and new["number"] in text
    # the void one keeps its PDF (and number)
    assert api.get(STREET, old["url"].removeprefix("/api/v1")).status_code == 200
    # the number is never reused: the next letter of that street counts on after the replacement
    other = api.register(STREET)
    api.complete(STREET, other["id"], "refer_to_fire_rescue")
    assert _documents(api, other["id"])[0]["number"] == f"武南函〔{year}〕3号"
    # the step's stored form is amended: the task's data and the next step see the correction
    events = api.get(FIRE, f"/cases/{case['id']}/events").json["items"]
    kinds = [e["kind"] for e in events]
    assert kinds[-2:] == ["document_issued", "document_voided"] or kinds[-2:] == [
        "document_voided",
        "document_issued",
    ]
    voided = next(e for e in events if e["kind"] == "document_voided")
    assert voided["data"]["original"]["contents"] != "更正后的函告内容：疏散通道被占用。"
    assert voided["data"]["amended"]["contents"] == "更正后的函告内容：疏散通道被占用。"
    assert voided["data"]["amended"]["letter_no"] == new["number"]
    # the workflow state carries the amended form
    from server.extensions import db
    from server.models import Case
    from server.operations import load_instance

    with app.app_context():
        data = load_instance(db.session.get(Case, case["id"])).data
        assert data["refer_to_fire_rescue"]["contents"] == "更正后的函告内容：疏散通道被占用。"
        assert data["refer_to_fire_rescue"]["letter_no"] == new["number"]
    # the chain (facts, documents, files) still verifies, and the case goes on
    result = runner.invoke(args=["audit", "verify", str(case["id"]), "--files"])
    assert result.exit_code == 0, result.output
    api.complete(FIRE, case["id"], "file_case")
    # a void document cannot be corrected again: 409, nothing changes
    before = _counts(app)
    again = _correct(api, STREET, case["id"], old["id"], fields={"contents": "x"}, reason="再改")
    assert_error(again, 409, "conflict")
    assert _counts(app) == before
    # the replacement can be corrected in turn: number 4 (the other case took 3)
    third = _correct(api, STREET, case["id"], new["id"], fields={"contents": "第二次更正"},
                     reason="再次更正")  # fmt: skip
    assert third.status_code == 201 and third.json["number"] == f"武南函〔{year}〕4号"
    result = runner.invoke(args=["audit", "verify", str(case["id"]), "--files"])
    assert result.exit_code == 0, result.output


def test_bad_corrections_are_refused_naming_the_field_and_change_nothing(
    app: Flask, api: Api
) -> None:
    case = api.register(STREET)
    for user, name in TO_REPORT:
        api.complete(user, case["id"], name)
    request = next(d for d in _documents(api, case["id"]) if d["kind"] == "government_request")
    before = _counts(app)
    url = f"/cases/{case['id']}/documents/{request['id']}/correction"
    # a field read by the process (the report's date starts a deadline) is not a correction
    routing = {"fields": {"reported_on": today().isoformat()}, "reason": "日期"}
    body = assert_error(api.post(FIRE, url, json=routing), 422, "invalid", {"reported_on"})
    assert "流程" in body["fields"]["reported_on"]
    # the number is the system's; a field the document does not print; no reason; bad value
    assert_error(api.post(FIRE, url, json={"fields": {"report_no": "1"}, "reason": "x"}),
                 422, "invalid", {"report_no"})  # fmt: skip
    assert_error(api.post(FIRE, url, json={"fields": {"no_such": "1"}, "reason": "x"}),
                 422, "invalid", {"no_such"})  # fmt: skip
    assert_error(api.post(FIRE, url, json={"fields": {}, "reason": " "}), 422, "invalid",
                 {"reason"})  # fmt: skip
    assert_error(api.post(FIRE, url, json={"fields": {}, "reason": "无改动"}), 422, "invalid",
                 {"fields"})  # fmt: skip
    assert _counts(app) == before
    # another agency (the street sees the case) and an unknown document: 404
    letter = next(d for d in _documents(api, case["id"]) if d["kind"] == "hazard_referral_letter")
    assert_error(
        _correct(api, FIRE, case["id"], letter["id"], fields={"contents": "x"}, reason="x"),
        404, "not_found",
    )  # fmt: skip
    assert_error(api.post(STREET, url, json={"fields": {}, "reason": "x"}), 404, "not_found")
    assert _counts(app) == before


def test_case_page_offers_the_correction_form(app: Flask, api: Api, client, auth, runner) -> None:
    year = today().year
    case = api.register(STREET)
    api.complete(STREET, case["id"], "refer_to_fire_rescue")
    [letter] = _documents(api, case["id"])
    form_url = f"/cases/{case['id']}/documents/{letter['id']}/correction"
    auth.login(FIRE)  # sees the case, did not issue the letter: no button, 404
    assert form_url not in client.get(f"/cases/{case['id']}").text
    assert client.get(form_url).status_code == 404
    auth.login(STREET)
    page = client.get(f"/cases/{case['id']}")
    assert form_url in page.text and "更正" in page.text
    form = client.get(form_url)
    assert form.status_code == 200
    assert 'name="contents"' in form.text and "经初步判定为重大火灾隐患" in form.text  # prefilled
    assert 'name="letter_no"' not in form.text and "文号由系统生成" in form.text
    # without the reason: 422, the form again, nothing written
    before = _counts(app)
    refused = client.post(form_url, data={"csrf_token": csrf_token(form.text),
                                          "referred_on": today().isoformat(),
                                          "contents": "新内容"})  # fmt: skip
    assert refused.status_code == 422 and "请填写更正原因" in refused.text
    assert _counts(app) == before
    # without the CSRF token: refused
    assert client.post(form_url, data={"contents": "新内容", "reason": "笔误"}).status_code == 400
    done = client.post(form_url, data={"csrf_token": csrf_token(form.text),
                                       "referred_on": today().isoformat(),
                                       "contents": "新内容", "reason": "笔误"})  # fmt: skip
    assert done.status_code == 303
    page = client.get(f"/cases/{case['id']}")
    assert "已作废" in page.text and f"武南函〔{year}〕2号" in page.text
    assert "更正原因：笔误" in page.text and "函告内容" in page.text
    assert 'data-chain="ok"' in page.text  # the page's chain check: the facts verify
    assert runner.invoke(args=["audit", "verify", str(case["id"])]).exit_code == 0


def test_a_void_flag_changed_behind_the_app_fails_verification(
    app: Flask, api: Api, runner
) -> None:
    case = api.register(STREET)
    api.complete(STREET, case["id"], "refer_to_fire_rescue")
    [letter] = _documents(api, case["id"])
    from server.extensions import db
    from server.models import Document

    with app.app_context():
        db.session.get(Document, letter["id"]).void = True  # no document_voided event
        db.session.commit()
    result = runner.invoke(args=["audit", "verify", str(case["id"])])
    assert result.exit_code == 1 and "已作废" in result.output, result.output
