"""Official documents issued with the major-hazard steps: numbered, stored, listed, previewed.

Checks the PDFs with poppler's ``pdftotext`` and ``pdffonts`` (Debian's poppler-utils).
"""

from __future__ import annotations

import hashlib
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.integration.conftest import csrf_token
from tests.support.api import Api, today
from tests.support.major_hazard import FIRE, GOVERNMENT, STREET, TO_REPORT, sample
from tests.support.pdf import (
    assert_fonts_embedded,
    document_pdf,
    document_text,
    pdf_fonts,
    pdf_text,
)
from workflows.documents import cn_date


def _run(api: Api, case_id: int, steps=TO_REPORT) -> None:
    for user, name in steps:
        api.complete(user, case_id, name)


def test_three_steps_issue_three_numbered_documents(api: Api, tmp_path: Path) -> None:
    case = api.register(STREET)
    _run(api, case["id"])
    listing = api.get(FIRE, f"/cases/{case['id']}/documents")
    assert listing.status_code == 200, listing.json
    items = listing.json["items"]
    year = today().year
    assert [(d["kind"], d["number"]) for d in items] == [
        ("hazard_referral_letter", f"武南函〔{year}〕1号"),
        ("rectification_notice", f"武消隐改字〔{year}〕第0001号"),
        ("service_receipt_rectification", f"武消送字〔{year}〕第0001号"),  # its 送达回证
        ("government_request", f"武消请〔{year}〕1号"),
    ]
    expected = {
        "hazard_referral_letter": ["武陵区南坪街道", "武陵区消防救援大队", "存在重大火灾隐患的函"],
        "rectification_notice": ["重大火灾隐患整改通知书", "当事人", "责令你单位予以整改消除"],
        "service_receipt_rectification": ["送达回证", "受送达人", items[1]["number"]],
        "government_request": ["挂牌督办的请示", "武陵区人民政府", "妥否，请批示。"],
    }
    for item in items:
        assert set(item) >= {"kind", "title", "number", "issued_at", "issuer", "void", "sha256",
                             "url"}  # fmt: skip
        assert item["void"] is False
        pdf = api.get(FIRE, item["url"].removeprefix("/api/v1"))
        assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
        assert hashlib.sha256(pdf.data).hexdigest() == item["sha256"]
        text = pdf_text(pdf.data, tmp_path)
        for word in [item["number"], case["unit_name"], *expected[item["kind"]]]:
            assert "".join(word.split()) in text, (item["kind"], word)
        assert_fonts_embedded(pdf_fonts(pdf.data, tmp_path), what=item["kind"])
    # the generated number is in the step's stored form and the hash chain
    events = api.get(FIRE, f"/cases/{case['id']}/events", query_string={"per_page": 100}).json
    issued = [e for e in events["items"] if e["kind"] == "document_issued"]
    assert [e["data"]["number"] for e in issued] == [d["number"] for d in items]
    assert [e["data"]["sha256"] for e in issued] == [d["sha256"] for d in items]


def _counts(app: Flask) -> tuple[int, ...]:
    from server.extensions import db
    from server.models import Attachment, Case, Document, DocumentCounter, Event

    with app.app_context():
        counts = [
            db.session.scalar(select(func.count()).select_from(model))
            for model in (Document, DocumentCounter, Attachment, Event)
        ]
        return (*counts, db.session.scalar(select(func.max(Case.row_version))))


def test_task_page_offers_a_preview_that_writes_nothing(app: Flask, api: Api, client, auth) -> None:
    case = api.register(STREET)
    task_id = api.task_id(STREET, case["id"], "refer_to_fire_rescue")
    auth.login(STREET)
    page = client.get(f"/tasks/{task_id}")
    assert page.status_code == 200
    assert "预览文书" in page.text and "《重大火灾隐患函告书》" in page.text
    assert 'readonly placeholder="（文号在提交时生成）"' in page.text
    assert 'name="letter_no"' not in page.text  # generated, never typed
    before = _counts(app)
    response = client.post(
        f"/tasks/{task_id}/document-preview",
        data={
            "csrf_token": csrf_token(page.text),
            "referred_on": today().isoformat(),
            "contents": "预览中的函告内容",
            "letter_no": "手填文号",
        },
    )
    assert response.status_code == 200
    assert "（文号在提交时生成）" in response.text
    assert "预览中的函告内容" in response.text and "手填文号" not in response.text
    assert "武陵区消防救援大队：" in response.text  # the addressee: the case's fire brigade
    assert case["unit_name"] in response.text
    assert _counts(app) == before
    # a task that issues no document: the page says so
    _run(api, case["id"], TO_REPORT[:1])
    file_task = api.task_id(FIRE, case["id"], "file_case")
    auth.login(FIRE)
    page = client.get(f"/tasks/{file_task}")
    assert "预览文书" not in page.text
    response = client.post(
        f"/tasks/{file_task}/document-preview", data={"csrf_token": csrf_token(page.text)}
    )
    assert response.status_code == 200 and "本环节提交时不生成文书" in response.text


def test_case_page_lists_documents_and_downloads_them(
    app: Flask, api: Api, client, auth, runner, tmp_path: Path
) -> None:
    # an administrator's 机关代字 is used for the next number
    result = runner.invoke(args=["agencies", "doc-code", "street:wuling:nanping", "南坪街"])
    assert result.exit_code == 0 and "南坪街（管理员设定）" in result.output, result.output
    case = api.register(STREET)
    _run(api, case["id"], TO_REPORT[:1])
    number = f"南坪街函〔{today().year}〕1号"
    auth.login(FIRE)
    page = client.get(f"/cases/{case['id']}")
    assert number in page.text and "生成文书" in page.text
    items = api.get(FIRE, f"/cases/{case['id']}/documents").json["items"]
    assert items[0]["number"] == number and items[0]["issuer"]["code"] == "street:wuling:nanping"
    url = f"/cases/{case['id']}/documents/{items[0]['id']}.pdf"
    assert url in page.text
    pdf = client.get(url)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert "attachment;" in pdf.headers["Content-Disposition"]
    assert number in pdf_text(pdf.data, tmp_path, squeeze=False)
    # the PDF is an attachment of the case, and the audit chain still verifies
    assert runner.invoke(args=["audit", "verify", str(case["id"]), "--files"]).exit_code == 0
    # a file changed on disk is refused, not served
    from server.attachments import stored_path

    with app.test_request_context():
        stored_path(items[0]["sha256"]).write_bytes(b"%PDF-1.4 forged")
    assert client.get(url).status_code == 409
    assert api.get(FIRE, f"/cases/{case['id']}/documents/{items[0]['id']}.pdf").status_code == 409


def test_report_kind_chooses_the_request(api: Api, tmp_path: Path) -> None:
    case = api.register(STREET)
    _run(api, case["id"], TO_REPORT[:-1])
    api.complete(
        FIRE, case["id"], "report_to_government", kind="regional_hazard", opinion="组织整治。"
    )
    items = api.get(FIRE, f"/cases/{case['id']}/documents").json["items"]
    assert items[-1]["title"].endswith("所在区域性火灾隐患组织整治的请示")
    text, _fonts = document_pdf(api, FIRE, items[-1], tmp_path)
    assert "提请组织有关部门、单位进行整治" in text and "挂牌督办" not in text


PARALLEL = 8


def test_parallel_completions_number_gaplessly(app: Flask, api: Api) -> None:
    """Eight cases of one street, their referrals completed at the same moment: numbers
    1..8, each once (PostgreSQL: the counter row is locked until each completion commits)."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite runs one writer at a time; set DUBAN_TEST_POSTGRES")
    cases = [api.register(STREET)["id"] for _ in range(PARALLEL)]
    tasks = [api.task_id(STREET, case_id, "refer_to_fire_rescue") for case_id in cases]
    headers = api.headers(STREET)
    data = sample("refer_to_fire_rescue", today())
    barrier = threading.Barrier(PARALLEL)
    statuses: list[int] = []
    lock = threading.Lock()

    def complete(task_id: str) -> None:
        http = app.test_client()
        barrier.wait(30)
        response = http.post(
            f"/api/v1/tasks/{task_id}/complete", json={"data": data}, headers=headers
        )
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=complete, args=(t,)) for t in tasks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert statuses == [200] * PARALLEL
    numbers = [
        item["number"]
        for case_id in cases
        for item in api.get(STREET, f"/cases/{case_id}/documents").json["items"]
    ]
    year = today().year
    assert sorted(numbers) == sorted(f"武南函〔{year}〕{n}号" for n in range(1, PARALLEL + 1))
    from server.extensions import db
    from server.models import Document, DocumentCounter

    with app.app_context():
        seqs = sorted(db.session.scalars(select(Document.seq)))
        assert seqs == list(range(1, PARALLEL + 1))
        assert db.session.scalar(select(DocumentCounter.last)) == PARALLEL


def _issued(
    api: Api, case_id: int, kind: str, tmp_path: Path, user: str = FIRE
) -> tuple[dict, str]:
    """The one document ``kind`` of the case and its text (spaces removed); its fonts are
    embedded."""
    items = [d for d in api.get(user, f"/cases/{case_id}/documents").json["items"]
             if d["kind"] == kind]  # fmt: skip
    assert len(items) == 1, items
    return items[0], document_text(api, user, items[0], tmp_path)


def _has(text: str, *words: str) -> None:
    for word in words:
        assert "".join(word.split()) in text, word


def test_temporary_sealing_issues_the_decision_and_lifting_its_lifting(
    api: Api, tmp_path: Path
) -> None:
    year = today().year
    case = api.register(STREET)
    _run(api, case["id"], TO_REPORT[:1])
    api.complete(FIRE, case["id"], "file_case", sealing="collective")
    api.complete(FIRE, case["id"], "temporary_sealing")
    item, text = _issued(api, case["id"], "temporary_sealing_decision", tmp_path)
    assert item["number"] == f"武消封字〔{year}〕第0001号"
    assert item["title"] == "临时查封决定书"
    _has(text, item["number"], "临时查封决定书", "武陵区消防救援大队",
         f"当事人：{case['unit_name']}", "二层包厢区安全出口数量不足",
         "疏散通道、安全出口数量不足或者严重堵塞",
         "查封部位、场所范围：二层包厢区，张贴决定并加贴封条。",
         "逾期未消除火灾隐患的，不受查封期限的限制。", "六十日内依法申请行政复议")  # fmt: skip
    # the typed number field is the generated number (read-only in the form)
    events = api.get(FIRE, f"/cases/{case['id']}/events", query_string={"per_page": 100}).json
    done = [e for e in events["items"] if e["kind"] == "task_completed"]
    assert any(item["number"] in str(e["data"]) for e in done)

    api.complete(FIRE, case["id"], "sealing_in_force")
    api.complete(FIRE, case["id"], "lifting_check")
    api.complete(FIRE, case["id"], "lifting_decision", decision_no="手填文号")
    item, text = _issued(api, case["id"], "sealing_lifting_decision", tmp_path)
    assert (
        item["number"] == f"武消解封字〔{year}〕第0001号"
    )  # the client's typed number is not kept
    _has(text, item["number"], "解除临时查封决定书", f"当事人：{case['unit_name']}",
         f"武消封字〔{year}〕第0001号", "安全出口已增设，疏散通道畅通。",
         "解除对你单位（场所）的临时查封。理由：火灾隐患已经消除。")  # fmt: skip
    assert "不同意" not in text and "手填文号" not in text


def test_sealing_not_decided_issues_nothing(api: Api) -> None:
    case = api.register(STREET)
    _run(api, case["id"], TO_REPORT[:1])
    api.complete(FIRE, case["id"], "file_case", sealing="collective")
    api.complete(FIRE, case["id"], "temporary_sealing", decision="no_seal", decision_no="手填")
    kinds = [d["kind"] for d in api.get(FIRE, f"/cases/{case['id']}/documents").json["items"]]
    assert kinds == ["hazard_referral_letter"]


def test_on_site_sealing_counts_on_the_same_numbers(api: Api, tmp_path: Path) -> None:
    year = today().year
    first = api.register(STREET)
    _run(api, first["id"], TO_REPORT[:1])
    api.complete(FIRE, first["id"], "file_case", sealing="collective")
    api.complete(FIRE, first["id"], "temporary_sealing")
    case = api.register(STREET)
    _run(api, case["id"], TO_REPORT[:1])
    api.complete(FIRE, case["id"], "file_case", sealing="emergency",
                 sealed_on=today().isoformat(), sealed_time="09:30")  # fmt: skip
    api.complete(FIRE, case["id"], "emergency_sealing_decision")
    item, text = _issued(api, case["id"], "temporary_sealing_decision_on_site", tmp_path)
    assert item["number"] == f"武消封字〔{year}〕第0002号"  # one sequence for the 文种
    _has(text, item["number"], "临时查封决定书", f"当事人：{case['unit_name']}",
         "人员密集场所违反消防安全规定，使用、储存易燃易爆危险品", "大队长张伟",
         "09:30当场实施临时查封", "查封部位、场所范围：一层仓库，加贴封条。")  # fmt: skip


def test_lifting_refused_is_titled_so(api: Api, tmp_path: Path) -> None:
    case = api.register(STREET)
    _run(api, case["id"], TO_REPORT[:1])
    api.complete(FIRE, case["id"], "file_case", sealing="collective")
    api.complete(FIRE, case["id"], "temporary_sealing")
    api.complete(FIRE, case["id"], "sealing_in_force")
    api.complete(FIRE, case["id"], "lifting_check", eliminated=False, findings="安全出口仍未增设。")
    api.complete(FIRE, case["id"], "lifting_decision", decision="keep", reason="火灾隐患未消除。")
    item, text = _issued(api, case["id"], "sealing_lifting_decision", tmp_path)
    assert item["title"] == "不同意解除临时查封决定书"
    _has(text, "不同意解除临时查封决定书",
         "决定不同意解除临时查封，继续查封。理由：火灾隐患未消除。",
         "六十日内依法申请行政复议")  # fmt: skip


def test_reinspection_issues_the_opinion(api: Api, tmp_path: Path) -> None:
    year = today().year
    case = api.register(STREET)
    _run(api, case["id"], TO_REPORT[:-1])
    api.complete(FIRE, case["id"], "report_to_government")
    api.complete(GOVERNMENT, case["id"], "government_decision")
    api.complete(GOVERNMENT, case["id"], "set_rectification_plan",
                 supervising_agency="street:wuling:nanping")  # fmt: skip
    api.complete(STREET, case["id"], "report_rectification_progress", percent=100, completed=True)
    api.complete(FIRE, case["id"], "reinspection", result="fail", findings="喷淋系统尚未安装。",
                 new_rectify_by=(today() + timedelta(days=20)).isoformat())  # fmt: skip
    item, text = _issued(api, case["id"], "reinspection_opinion", tmp_path)
    assert item["number"] == f"武消复字〔{year}〕第0001号"
    _has(text, item["number"], "复查意见书", f"当事人：{case['unit_name']}",
         f"武消隐改字〔{year}〕第0001号", "二层包厢区安全出口数量不足",
         "复查情况：喷淋系统尚未安装。",
         "复查意见：不合格。", "尚未整改消除")  # fmt: skip


def test_order_correction_and_ordinary_reinspection(api: Api, tmp_path: Path) -> None:
    year = today().year
    # found while GB 35181-2017 was in force: the street's "not major" verdict stands
    case = api.register(STREET, found_on="2025-10-20", site_categories=["other"],
                        elements=["7.4.1"])  # fmt: skip
    api.complete(STREET, case["id"], "order_correction")
    item, text = _issued(api, case["id"], "correction_order", tmp_path, STREET)
    assert item["number"] == f"武南限字〔{year}〕第0001号"
    assert item["issuer"]["code"] == "street:wuling:nanping"
    _has(text, item["number"], "责令限期改正通知书", "武陵区南坪街道",
         f"当事人：{case['unit_name']}",
         "2025年10月20日", "改正要求：清理疏散通道杂物。",
         f"责令你单位（场所）于{cn_date(today() + timedelta(days=15))}前改正。",
         "改正期间，你单位（场所）应当采取措施，确保消防安全。")  # fmt: skip
    api.complete(STREET, case["id"], "await_reinspection_request")
    api.complete(STREET, case["id"], "ordinary_reinspection")
    item, text = _issued(api, case["id"], "ordinary_reinspection_opinion", tmp_path, STREET)
    assert item["number"] == f"武南复字〔{year}〕第0001号"
    _has(
        text,
        item["number"],
        "复查意见书",
        f"当事人：{case['unit_name']}",
        f"武南限字〔{year}〕第0001号",
        "复查情况：已改正。",
        "复查意见：合格。上述问题已经改正。",
    )
