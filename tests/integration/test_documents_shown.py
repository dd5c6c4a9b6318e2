"""The next step sees what it decides on (issue 17): the government's decision shows the fire
agency's 请示, the brigade's filing shows the street's 函告书, inline and exactly as issued, on
the task page and in the API's task detail; scoping is the task's."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from tests.support.api import Api, today
from tests.support.major_hazard import FIRE, GOVERNMENT, STREET, TO_REPORT

OPINION = "建议对该单位二层包厢区重大火灾隐患实行挂牌督办，限期整改。"
DESCRIPTION = "二层包厢区安全出口数量不足，疏散通道堆放杂物。"  # the registration's sample


def _to_decision(api: Api) -> tuple[dict, str]:
    case = api.register(STREET)
    for user, name in TO_REPORT[:-1]:
        api.complete(user, case["id"], name)
    api.complete(FIRE, case["id"], "report_to_government", opinion=OPINION)
    return case, api.task_id(GOVERNMENT, case["id"], "government_decision")


def _set(app: Flask, model_name: str, row_id: int, **values: object) -> None:
    from server import models
    from server.extensions import db

    with app.app_context():
        row = db.session.get(getattr(models, model_name), row_id)
        for key, value in values.items():
            setattr(row, key, value)
        db.session.commit()


def test_government_decision_shows_the_request_as_issued(
    app: Flask, api: Api, client, auth
) -> None:
    case, task_id = _to_decision(api)
    number = f"武消请〔{today().year}〕1号"
    # what was issued stays what is shown: a later change of the case's data does not re-fill it
    _set(app, "Case", case["id"], unit_name="改名后的单位")

    auth.login(GOVERNMENT)
    page = client.get(f"/tasks/{task_id}")
    assert page.status_code == 200
    shown = page.text[page.text.index("document-shown") : page.text.index('class="task-form"')]
    assert f"（{number}）" in shown and number in shown
    assert f"关于提请对{case['unit_name']}重大火灾隐患挂牌督办的请示" in shown
    assert OPINION in shown  # the proposal
    assert DESCRIPTION in shown  # the facts
    assert "妥否，请批示。" in shown and "改名后的单位" not in shown
    documents = api.get(FIRE, f"/cases/{case['id']}/documents").json["items"]
    request = next(d for d in documents if d["kind"] == "government_request")
    pdf_url = f"/cases/{case['id']}/documents/{request['id']}.pdf"
    assert pdf_url in shown
    pdf = client.get(pdf_url)  # the government officer may read the PDF of its case
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"

    detail = api.get(GOVERNMENT, f"/tasks/{task_id}")
    assert detail.status_code == 200, detail.json
    [item] = detail.json["documents"]
    assert item["kind"] == "government_request" and item["number"] == number
    assert item["id"] == request["id"] and item["url"] == request["url"]
    text = item["text"]
    assert text["number"] == number and text["title"] == item["title"]
    assert text["addressee"] == "武陵区人民政府" and text["issuer"] == "武陵区消防救援大队"
    assert any(OPINION in p for p in text["paragraphs"])
    assert any(DESCRIPTION in p for p in text["paragraphs"])
    assert not any("改名后的单位" in p for p in text["paragraphs"])


def test_document_issued_before_its_text_was_stored_shows_its_pdf_only(
    app: Flask, api: Api, client, auth
) -> None:
    case, task_id = _to_decision(api)
    detail = api.get(GOVERNMENT, f"/tasks/{task_id}").json
    [item] = detail["documents"]
    _set(app, "Document", item["id"], filled=None)
    detail = api.get(GOVERNMENT, f"/tasks/{task_id}").json
    assert detail["documents"][0]["text"] is None
    assert detail["documents"][0]["number"] == item["number"]
    auth.login(GOVERNMENT)
    page = client.get(f"/tasks/{task_id}").text
    assert item["number"] in page and OPINION not in page
    assert f"/cases/{case['id']}/documents/{item['id']}.pdf" in page
    assert "请下载 PDF 查阅" in page


def test_void_documents_are_not_shown(app: Flask, api: Api) -> None:
    _case, task_id = _to_decision(api)
    [item] = api.get(GOVERNMENT, f"/tasks/{task_id}").json["documents"]
    _set(app, "Document", item["id"], void=True)
    assert api.get(GOVERNMENT, f"/tasks/{task_id}").json["documents"] == []


def test_brigade_filing_shows_the_referral_letter(app: Flask, api: Api, client, auth) -> None:
    case = api.register(STREET)
    contents = "该单位二层包厢区安全出口不足，经初步判定为重大火灾隐患，现函告贵大队依法处理。"
    api.complete(STREET, case["id"], "refer_to_fire_rescue", contents=contents)
    task_id = api.task_id(FIRE, case["id"], "file_case")
    number = f"武南函〔{today().year}〕1号"
    auth.login(FIRE)
    page = client.get(f"/tasks/{task_id}")
    assert page.status_code == 200
    shown = page.text[page.text.index("document-shown") : page.text.index('class="task-form"')]
    assert "存在重大火灾隐患的函" in shown
    assert number in shown and contents in shown
    assert "武陵区南坪街道" in shown and "武陵区消防救援大队" in shown
    detail = api.get(FIRE, f"/tasks/{task_id}").json
    [item] = detail["documents"]
    assert item["kind"] == "hazard_referral_letter" and item["number"] == number
    assert item["text"]["number"] == number
    assert any(contents in p for p in item["text"]["paragraphs"])

    from server.extensions import db
    from server.models import Document

    with app.app_context():
        stored = db.session.scalar(select(Document).where(Document.id == item["id"]))
        assert stored is not None and stored.filled == item["text"]
    # a step that decides on no document lists none
    api.complete(FIRE, case["id"], "file_case")
    deliberation = api.task_id(FIRE, case["id"], "collective_deliberation")
    assert api.get(FIRE, f"/tasks/{deliberation}").json["documents"] == []
    assert "document-shown" not in client.get(f"/tasks/{deliberation}").text


def test_other_districts_and_agencies_get_404_for_the_task(api: Api, client, auth) -> None:
    case, task_id = _to_decision(api)
    for user in ("dingcheng.gov", "dingcheng.fire", FIRE, STREET):
        response = api.get(user, f"/tasks/{task_id}")
        assert response.status_code == 404, (user, response.json)
        auth.login(user)
        assert client.get(f"/tasks/{task_id}").status_code == 404, user
    # the referral letter's filing task: not for another district's brigade either
    other = api.register(STREET)
    api.complete(STREET, other["id"], "refer_to_fire_rescue")
    file_task = api.task_id(FIRE, other["id"], "file_case")
    assert api.get("dingcheng.fire", f"/tasks/{file_task}").status_code == 404
    auth.login("dingcheng.fire")
    assert client.get(f"/tasks/{file_task}").status_code == 404
    assert case["id"] != other["id"]
