"""The government's documents on the major-hazard path (issue 17): the 批复 answering the fire
agency's 请示 and the 挂牌督办通知 (government_decision), the fire agency's 销案 请示
(request_closure) and the government's 销案 批复 quoting it (close_case); 签发人 on the 请示.

Checks the PDFs with poppler's ``pdftotext`` and ``pdffonts`` (Debian's poppler-utils).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import Flask

from tests.support.api import Api, today
from tests.support.major_hazard import FIRE, GOVERNMENT, STREET, TO_REPORT
from tests.support.pdf import document_text
from workflows.documents import cn_date

UNIT = "常德市武陵区星光KTV"  # the registration's sample
REQUEST_TITLE = f"武陵区消防救援大队关于提请对{UNIT}重大火灾隐患挂牌督办的请示"


def _documents(api: Api, case_id: int) -> dict[str, dict]:
    items = api.get(FIRE, f"/cases/{case_id}/documents").json["items"]
    return {d["kind"]: d for d in items}


def _decided(api: Api, **overrides: object) -> dict:
    case = api.register(STREET)
    for user, name in TO_REPORT:
        api.complete(user, case["id"], name)
    api.complete(GOVERNMENT, case["id"], "government_decision", **overrides)
    return case


def test_agreement_issues_the_reply_quoting_the_request_and_the_listing_notice(
    api: Api, tmp_path: Path
) -> None:
    case = _decided(api)
    year = today().year
    docs = _documents(api, case["id"])
    request, reply, notice = (
        docs["government_request"],
        docs["government_reply"],
        docs["listed_supervision_notice"],
    )
    assert request["number"] == f"武消请〔{year}〕1号"
    assert reply["number"] == f"武政复〔{year}〕1号"
    assert notice["number"] == f"武政督〔{year}〕1号"
    assert reply["title"] == f"武陵区人民政府关于同意{UNIT}重大火灾隐患处理意见的批复"
    assert notice["title"] == f"武陵区人民政府关于对{UNIT}重大火灾隐患实行挂牌督办的通知"

    # the 请示 carries its 签发人 on the number line (GB/T 9704 §7.2.4)
    text = document_text(api, FIRE, request, tmp_path)
    assert "签发人：张伟" in text and request["number"] in text

    text = document_text(api, FIRE, reply, tmp_path)
    decided = cn_date(today().isoformat())
    for word in [
        reply["number"],
        reply["title"],
        "武陵区消防救援大队：",  # addressee: the agency that sent the 请示
        f"你单位《{REQUEST_TITLE}》（{request['number']}）收悉。经研究，现批复如下：",
        "列为武陵区人民政府挂牌督办重大火灾隐患单位",
        "整改责任人为法定代表人王经理",
        "南坪街道办事处督促整改",
        "特此批复。",
        "抄送：区应急管理局。",
        decided,
    ]:
        assert "".join(word.split()) in text, word
    assert "签发人" not in text  # a downward 批复 has none

    text = document_text(api, GOVERNMENT, notice, tmp_path)
    for word in [
        notice["number"],
        notice["title"],
        "南坪街道办事处，区应急管理局：",
        f"武陵区人民政府决定对{UNIT}重大火灾隐患实行挂牌督办。现将有关要求通知如下：",
        "二层包厢区安全出口数量不足",  # the registration's facts
        "整改责任人为法定代表人王经理",
    ]:
        assert "".join(word.split()) in text, word

    # the generated number is in the step's data; nothing is typed
    events = api.get(FIRE, f"/cases/{case['id']}/events", query_string={"per_page": 100}).json
    decision = next(
        e for e in events["items"]
        if e["kind"] == "task_completed" and e["task"] == "government_decision"
    )  # fmt: skip
    assert decision["data"]["form"]["document_no"] == reply["number"]


def test_refusal_answers_the_request_without_a_listing_notice(api: Api, tmp_path: Path) -> None:
    reasons = "该单位体量较小，由消防救援机构依职权处理。"
    case = _decided(api, decision="disagree", comments=reasons)
    docs = _documents(api, case["id"])
    assert "listed_supervision_notice" not in docs
    reply = docs["government_reply"]
    assert reply["title"] == f"武陵区人民政府关于{UNIT}重大火灾隐患处理事项的批复"
    text = document_text(api, FIRE, reply, tmp_path)
    assert f"不同意你单位提请的事项，理由如下：{reasons}" in text
    assert "挂牌督办重大火灾隐患单位" not in text and "特此批复。" in text


def test_the_plan_starts_with_what_the_reply_fixed(api: Api, client, auth) -> None:
    case = _decided(api)
    task_id = api.task_id(GOVERNMENT, case["id"], "set_rectification_plan")
    auth.login(GOVERNMENT)
    page = client.get(f"/tasks/{task_id}")
    assert page.status_code == 200
    expected = (today() + timedelta(days=61)).isoformat()  # the sample 批复's 整改期限
    assert f'value="{expected}"' in page.text


def test_closure_request_and_its_reply(app: Flask, api: Api, client, auth, tmp_path) -> None:
    case = _decided(api)
    api.complete(GOVERNMENT, case["id"], "set_rectification_plan")
    api.complete(STREET, case["id"], "report_rectification_progress", percent=100, completed=True)
    findings = "第二安全出口已开通，疏散通道畅通，复查合格。"
    api.complete(FIRE, case["id"], "reinspection", findings=findings)

    # the request step shows the 复查意见书 and starts with its findings
    task_id = api.task_id(FIRE, case["id"], "request_closure")
    auth.login(FIRE)
    page = client.get(f"/tasks/{task_id}")
    assert page.status_code == 200
    assert "复查意见书" in page.text and findings in page.text
    assert 'name="request_no"' not in page.text  # generated, never typed
    api.complete(FIRE, case["id"], "request_closure", findings=findings, signer="李强")

    year = today().year
    docs = _documents(api, case["id"])
    request = docs["closure_request"]
    # one 请示 sequence for the agency: the 挂牌督办 请示 was 1
    assert request["number"] == f"武消请〔{year}〕2号"
    assert request["title"] == f"武陵区消防救援大队关于对{UNIT}重大火灾隐患予以销案（摘牌）的请示"
    text = document_text(api, FIRE, request, tmp_path)
    for word in [
        request["number"],
        request["title"],
        "签发人：李强",
        "武陵区人民政府：",
        docs["rectification_notice"]["number"],
        docs["government_reply"]["number"],
        docs["reinspection_opinion"]["number"],
        findings,
        "妥否，请批示。",
    ]:
        assert "".join(word.split()) in text, word

    # the government's task shows the 请示 as issued, inline
    task_id = api.task_id(GOVERNMENT, case["id"], "close_case")
    detail = api.get(GOVERNMENT, f"/tasks/{task_id}").json
    [shown] = detail["documents"]
    assert shown["kind"] == "closure_request" and shown["number"] == request["number"]
    assert any(findings in p for p in shown["text"]["paragraphs"])

    closed = api.complete(GOVERNMENT, case["id"], "close_case")
    assert closed["status"] == "closed"
    reply = _documents(api, case["id"])["closure_reply"]
    assert reply["number"] == f"武政复〔{year}〕2号"  # the 批复 sequence of the government
    assert reply["title"] == f"武陵区人民政府关于同意{UNIT}重大火灾隐患予以摘牌销案的批复"
    text = document_text(api, GOVERNMENT, reply, tmp_path)
    for word in [
        reply["number"],
        "武陵区消防救援大队：",
        f"你单位《{request['title']}》（{request['number']}）收悉。经研究，现批复如下：",
        f"同意对{UNIT}重大火灾隐患予以摘牌销案。",
        "隐患整改到位",  # the summary
        "特此批复。",
    ]:
        assert "".join(word.split()) in text, word
