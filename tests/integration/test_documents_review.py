"""Documents of the fire-accountability path's service and review steps: the 送达回证 of the
火灾事故认定书 (and of the 整改通知书, one sequence), the 复核申请受理 / 不予受理通知书 and the
火灾事故认定复核决定书. Each is issued by its step through the API, numbered, listed, and its PDF
carries its number, title, addressee and the case's facts, every font embedded (poppler's
``pdftotext`` and ``pdffonts``).
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from tests.support.api import Api, today
from tests.support.major_hazard import sample as hazard_sample
from tests.support.pdf import document_text
from workflows.documents import cn_date

BRIGADE = "dingcheng.fire"  # the county-level investigation: 鼎城区消防救援大队
DETACHMENT = "detachment.officer"  # the review body: 常德市消防救援支队
USERS = {
    "fire_brigade:dingcheng": BRIGADE,
    "fire_brigade:wuling": "wuling.fire",
    "fire_detachment:city": DETACHMENT,
}


def _documents(api: Api, case_id: int, viewer: str = BRIGADE) -> list[dict]:
    listing = api.get(viewer, f"/cases/{case_id}/documents")
    assert listing.status_code == 200, listing.json
    return listing.json["items"]


def _check(api: Api, item: dict, words: list[str], tmp_path: Path, absent=(), viewer=BRIGADE):
    text = document_text(api, viewer, item, tmp_path)
    for word in [item["number"], item["title"], *words]:
        assert "".join(word.split()) in text, (item["kind"], word, text)
    for word in absent:
        assert word not in text, (item["kind"], word)
    return text


def _form(api: Api, case_id: int, task: str) -> dict:
    events = api.get(BRIGADE, f"/cases/{case_id}/events", query_string={"per_page": 100})
    done = [e for e in events.json["items"] if e["task"] == task and e["kind"] == "task_completed"]
    assert done, task
    return done[-1]["data"]["form"]


def _served(api: Api, brigade: str = BRIGADE, **registration) -> int:
    """A county-level general-procedure fire (工矿企业), determined; its id."""
    case = api.register_fire(brigade, days_ago=5, **registration)
    api.complete(brigade, case["id"], "cause_investigation")
    return case["id"]


def _do(api: Api, case_id: int, task: str, viewer: str = BRIGADE, **overrides) -> dict:
    case = api.get(viewer, f"/cases/{case_id}").json
    agency = next(t["agency"]["code"] for t in case["tasks"] if t["name"] == task)
    return api.complete(USERS[agency], case_id, task, **overrides)


def test_serving_the_determination_issues_a_service_receipt(api: Api, tmp_path: Path) -> None:
    case_id = _served(api)
    _do(api, case_id, "serve_determination", method="lodged", witness="玉霞街道网格员 李某",
        remarks="受送达人拒绝签收，留置于其办公室。")  # fmt: skip
    [receipt] = [d for d in _documents(api, case_id) if d["kind"] == "service_receipt"]
    year = today().year
    assert re.fullmatch(rf"\S+送字〔{year}〕第0001号", receipt["number"]), receipt["number"]
    assert receipt["title"] == "送达回证"
    _check(api, receipt, [
        "受送达人：常德市鼎城区某纺织有限公司",  # the addressee
        "送达文书名称：火灾事故认定书",
        f"鼎消火认字〔{year}〕第0001号",  # the served determination's number (generated) ...
        cn_date(today()),  # ... and its date, the service date
        "9时30分",  # to the minute
        "工业大道8号公司办公室", "刘某", "法定代表人", "陈刚、周敏", "留置送达",
        "玉霞街道网格员李某", "拒绝签收",
        "收件人（签名或盖章）",
    ], tmp_path)  # fmt: skip
    assert _form(api, case_id, "serve_determination")["receipt_no"] == receipt["number"]


def test_a_public_notice_issues_no_receipt_and_keeps_no_typed_number(api: Api) -> None:
    case_id = _served(api)
    _do(api, case_id, "serve_determination", method="notice", served_on=None,
        notice_published_on=today().isoformat(), receipt_no="手填")  # fmt: skip
    assert [d["kind"] for d in _documents(api, case_id)] == ["fire_determination"]
    assert "receipt_no" not in _form(api, case_id, "serve_determination")


def test_the_receipt_needs_its_particulars(api: Api) -> None:
    case_id = _served(api)
    task = api.task_id(BRIGADE, case_id, "serve_determination")
    data = {"method": "lodged", "served_on": today().isoformat(), "recipients": "某公司"}
    response = api.post(BRIGADE, f"/tasks/{task}/complete", json={"data": data})
    assert response.status_code == 422, response.json
    particulars = {"served_time", "place", "receiver", "receiver_relation", "server_1", "server_2"}
    assert set(response.json["fields"]) == particulars | {"witness"}


def _reviewed(api: Api, **acceptance) -> int:
    case_id = _served(api)
    _do(api, case_id, "serve_determination")
    _do(api, case_id, "review_request", applicant="张某（相邻商户）", grounds="对起火部位有异议。")
    _do(api, case_id, "review_acceptance", **acceptance)
    return case_id


def test_an_accepted_review_gets_a_notice_and_a_decision(api: Api, tmp_path: Path) -> None:
    case_id = _reviewed(api)
    year = today().year
    [notice] = [d for d in _documents(api, case_id) if d["kind"] == "review_acceptance_notice"]
    assert notice["title"] == "火灾事故认定复核申请受理通知书"
    assert notice["number"] == f"常消火受通字〔{year}〕第0001号"
    assert notice["issuer"]["name"] == "常德市消防救援支队"  # the review body
    fire = cn_date(today() - timedelta(days=5))
    _check(api, notice, [
        "申请人：张某（相邻商户）",
        f"{fire}常德市鼎城区某纺织有限公司火灾事故认定复核申请",
        "决定予以受理，并自受理之日起30日内作出复核结论。",
    ], tmp_path, absent=["终止复核", "不予受理"])  # fmt: skip
    assert _form(api, case_id, "review_acceptance")["notice_no"] == notice["number"]

    _do(api, case_id, "review_decision", outcome="determined_directly")
    [decision] = [d for d in _documents(api, case_id) if d["kind"] == "fire_review_decision"]
    assert decision["title"] == "火灾事故认定复核决定书"
    assert decision["number"] == f"常消火复字〔{year}〕第0001号"
    _check(api, decision, [
        "申请人：张某（相邻商户）",
        "鼎城区消防救援大队",  # the original agency, to which the decision also goes
        f"鼎消火认字〔{year}〕第0001号",  # the original determination (generated)
        "二楼仓库电气线路短路引燃周围可燃物",  # its cause
        "对起火部位有异议",  # the application's grounds
        "认定事实清楚",  # the review's reasons
        "直接作出火灾事故复核认定",
        "一楼配电箱内断路器接线端子接触不良过热",  # the review body's own cause
        "复核以一次为限。",
    ], tmp_path, absent=["维持原火灾事故认定", "重新作出火灾事故认定"])  # fmt: skip
    assert _form(api, case_id, "review_decision")["decision_no"] == decision["number"]


def test_a_redetermination_order_names_the_agency_and_the_period(api: Api, tmp_path: Path):
    case_id = _reviewed(api)
    _do(api, case_id, "review_decision", outcome="redetermine")
    [decision] = [d for d in _documents(api, case_id) if d["kind"] == "fire_review_decision"]
    _check(api, decision, ["责令鼎城区消防救援大队自本决定作出之日起15日内重新作出火灾事故认定"],
           tmp_path)  # fmt: skip


def test_a_refused_review_cites_its_ground_by_number(api: Api, tmp_path: Path) -> None:
    case_id = _reviewed(api, accepted=False, refusal_ground="simplified_procedure",
                        reason="原认定适用简易调查程序。")  # fmt: skip
    [notice] = [d for d in _documents(api, case_id) if d["kind"] == "review_acceptance_notice"]
    assert notice["title"] == "火灾事故认定复核申请不予受理通知书"
    _check(api, notice, [
        "申请人：张某（相邻商户）",
        "常德市鼎城区某纺织有限公司火灾事故认定复核申请",
        "属于以下第四项情形",
        "决定不予受理",
        "（四）适用简易调查程序作出火灾事故认定的。",
        "具体情况：原认定适用简易调查程序。",
    ], tmp_path, absent=["予以受理，并"])  # fmt: skip


def test_a_refusal_needs_its_ground(api: Api) -> None:
    case_id = _served(api)
    _do(api, case_id, "serve_determination")
    _do(api, case_id, "review_request")
    task = api.task_id(DETACHMENT, case_id, "review_acceptance")
    data = {"decided_on": today().isoformat(), "accepted": False, "reason": "逾期。"}
    response = api.post(DETACHMENT, f"/tasks/{task}/complete", json={"data": data})
    assert response.status_code == 422, response.json
    assert set(response.json["fields"]) == {"refusal_ground"}


def test_the_rectification_notice_gets_its_receipt_in_one_sequence(api: Api, tmp_path: Path):
    """The 整改通知书 and its 送达回证 come from one completion; the receipt counts on with the
    receipts of the 认定书 of the same agency."""
    fire_brigade = "wuling.fire"
    case = api.register("wuling.nanping")
    for user, task in [("wuling.nanping", "refer_to_fire_rescue"), (fire_brigade, "file_case"),
                       (fire_brigade, "collective_deliberation")]:  # fmt: skip
        api.complete(user, case["id"], task)
    api.complete(fire_brigade, case["id"], "serve_rectification_notice")
    items = _documents(api, case["id"], fire_brigade)
    notice = next(d for d in items if d["kind"] == "rectification_notice")
    receipt = next(d for d in items if d["kind"] == "service_receipt_rectification")
    year = today().year
    assert receipt["number"].endswith(f"送字〔{year}〕第0001号")
    _check(api, receipt, ["受送达人：", case["unit_name"], "送达文书名称：重大火灾隐患整改通知书",
                          notice["number"], "10时30分", "李明、张伟", "直接送达"],
           tmp_path, viewer=fire_brigade)  # fmt: skip
    form = hazard_sample("serve_rectification_notice", today())
    assert form["receiver_relation"] == "本人"
    fire = _served(api, fire_brigade, district="wuling", address="常德市武陵区丹阳街道某路1号")
    _do(api, fire, "serve_determination", viewer=fire_brigade)
    receipts = _documents(api, fire, fire_brigade)
    [second] = [d for d in receipts if d["kind"] == "service_receipt"]
    assert second["number"] == receipt["number"].replace("第0001号", "第0002号")
