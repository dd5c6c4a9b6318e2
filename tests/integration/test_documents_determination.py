"""The determination documents of the accountability path (失火即追责): the 火灾事故认定书 of the
general procedure (issued by cause_investigation, cause_determination_extended and
re_determination on one sequence), the 火灾事故简易调查认定书 and the 延长火灾事故认定期限审批表.

Each is issued by completing its step through the API; the PDF is checked with poppler's
``pdftotext`` (number, title, addressee/parties, the case facts) and ``pdffonts`` (every font
embedded).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from tests.support.api import Api, today
from tests.support.pdf import document_text
from workflows.documents import cn_date

BRIGADE = "dingcheng.fire"  # 鼎城区消防救援大队: county-level investigations
DETACHMENT = "detachment.officer"  # 常德市消防救援支队: the reviewer, city-level investigations
UNIT = "常德市鼎城区某纺织有限公司"


def _documents(api: Api, user: str, case_id: int) -> list[dict]:
    listing = api.get(user, f"/cases/{case_id}/documents")
    assert listing.status_code == 200, listing.json
    return listing.json["items"]


def _stored(api: Api, user: str, case_id: int, task: str) -> dict:
    events = api.get(user, f"/cases/{case_id}/events", query_string={"per_page": 200}).json
    return next(e for e in events["items"] if e["task"] == task and e["kind"] == "task_completed")


def test_a_county_determination_names_the_facts_the_evidence_and_the_reviewing_detachment(
    api: Api, tmp_path: Path
) -> None:
    # A factory fire without casualties: the general procedure (失火即追责), investigated by the
    # district's brigade (county level), reviewed by the city detachment.
    case = api.register_fire(BRIGADE, days_ago=5, direct_loss=850000, minor_injuries=1)
    case_id = case["id"]
    api.complete(BRIGADE, case_id, "cause_investigation", document_no="手填文号")
    year = today().year
    [doc] = _documents(api, BRIGADE, case_id)
    assert doc["kind"] == "fire_determination"
    assert doc["number"] == f"鼎消火认字〔{year}〕第0001号"
    assert doc["title"] == "火灾事故认定书"
    text = document_text(api, BRIGADE, doc, tmp_path)
    alarm = today().toordinal() - 5
    for word in [
        doc["number"],
        "鼎城区消防救援大队",
        "火灾事故认定书",
        f"当事人：{UNIT}",
        "火灾事故基本情况：",
        cn_date(date.fromordinal(alarm)) + "14:35",
        "常德市鼎城区玉霞街道工业大道8号",
        "死亡0人、重伤0人、轻伤1人",
        "直接财产损失850000元",
        "过火面积300平方米",
        "属于一般火灾",
        "经调查，对起火原因认定如下：",
        "起火部位：厂房二楼仓库东北角配电箱处",
        "二楼仓库电气线路短路引燃周围可燃物。",
        "以上事实有现场勘验笔录、询问笔录等证据证实。",
        "自本认定书送达之日起十五日内，向常德市消防救援支队提出书面复核申请。复核以一次为限。",
        cn_date(today()),
    ]:
        assert word in text, word
    assert "手填文号" not in text and "十五个工作日" not in text
    # the generated number is in the stored form (a typed one is overwritten)
    stored = _stored(api, BRIGADE, case_id, "cause_investigation")
    assert stored["data"]["form"]["document_no"] == doc["number"]


def test_a_city_level_determination_sends_the_review_to_the_level_above(
    api: Api, tmp_path: Path
) -> None:
    case = api.register_fire(BRIGADE, days_ago=10, deaths=1, serious_injuries=2)
    api.complete(DETACHMENT, case["id"], "cause_investigation")
    [doc] = _documents(api, DETACHMENT, case["id"])
    assert doc["number"] == f"常消火认字〔{today().year}〕第0001号"
    text = document_text(api, DETACHMENT, doc, tmp_path)
    assert "常德市消防救援支队" in text and "死亡1人、重伤2人" in text
    assert "向上一级消防救援机构提出书面复核申请" in text


def test_an_extension_issues_an_approval_form_with_the_new_due_date_then_the_determination(
    api: Api, tmp_path: Path
) -> None:
    case = api.register_fire(BRIGADE, days_ago=20)
    case_id = case["id"]
    api.complete(BRIGADE, case_id, "cause_investigation", outcome="request_extension")
    case = api.complete(DETACHMENT, case_id, "approve_extension", approval_no="湘消〔2026〕第12号")
    [approval] = _documents(api, DETACHMENT, case_id)
    year = today().year
    assert approval["kind"] == "determination_extension_approval"
    assert approval["number"] == f"常消延审字〔{year}〕第0001号"
    assert approval["title"] == "延长火灾事故认定期限审批表"
    due = next(d for d in case["deadlines"] if d["timer"] == "extended_determination_deadline")
    text = document_text(api, DETACHMENT, approval, tmp_path)
    for word in [
        approval["number"],
        "延长火灾事故认定期限审批表",
        "申请单位：鼎城区消防救援大队",
        UNIT,
        f"申请日期：{cn_date(today())}",
        "延期理由：需对起火部位残留物进行检验鉴定。",
        "审批意见：情况复杂，同意延长30日。",
        f"火灾事故认定期限延长至{cn_date(due['due_at'])}",
        "批准机关：常德市消防救援支队",
        "审批人：李强（支队长）",
    ]:
        assert word in text, word
    assert "湘消〔2026〕第12号" not in text  # a typed number is not kept
    api.complete(BRIGADE, case_id, "cause_determination_extended")
    docs = _documents(api, BRIGADE, case_id)
    assert [(d["kind"], d["number"]) for d in docs] == [
        ("determination_extension_approval", f"常消延审字〔{year}〕第0001号"),
        ("fire_determination_extended", f"鼎消火认字〔{year}〕第0001号"),
    ]
    text = document_text(api, BRIGADE, docs[1], tmp_path)
    assert "火灾事故认定书" in text and f"当事人：{UNIT}" in text
    assert "向常德市消防救援支队提出书面复核申请" in text


def test_a_refused_extension_keeps_the_thirty_days(api: Api, tmp_path: Path) -> None:
    case = api.register_fire(BRIGADE, days_ago=20)
    api.complete(BRIGADE, case["id"], "cause_investigation", outcome="request_extension")
    case = api.complete(
        DETACHMENT, case["id"], "approve_extension", approved=False, opinion="理由不充分。"
    )
    due = next(d for d in case["deadlines"] if d["timer"] == "extended_determination_deadline")
    [approval] = _documents(api, DETACHMENT, case["id"])
    text = document_text(api, DETACHMENT, approval, tmp_path)
    assert f"不予批准延长。火灾事故认定期限仍为{cn_date(due['due_at'])}前" in text
    assert "批准延长三十日" not in text


def test_a_redetermination_counts_on_the_same_sequence_and_offers_no_second_review(
    api: Api, tmp_path: Path
) -> None:
    case = api.register_fire(BRIGADE, days_ago=5)
    case_id = case["id"]
    api.complete(BRIGADE, case_id, "cause_investigation")
    api.complete(BRIGADE, case_id, "serve_determination")
    api.complete(DETACHMENT, case_id, "review_request")
    api.complete(DETACHMENT, case_id, "review_acceptance")
    api.complete(DETACHMENT, case_id, "review_decision", outcome="redetermine")
    new_cause = "配电箱内断路器接触不良发热引燃周围可燃物。"
    api.complete(BRIGADE, case_id, "re_determination", cause=new_cause)
    determinations = {"fire_determination", "fire_redetermination"}
    docs = [d for d in _documents(api, BRIGADE, case_id) if d["kind"] in determinations]
    year = today().year
    assert [(d["kind"], d["number"]) for d in docs] == [
        ("fire_determination", f"鼎消火认字〔{year}〕第0001号"),
        ("fire_redetermination", f"鼎消火认字〔{year}〕第0002号"),
    ]
    text = document_text(api, BRIGADE, docs[1], tmp_path)
    for word in [
        docs[1]["number"],
        "火灾事故认定书",
        f"当事人：{UNIT}",
        "责令重新作出火灾事故认定",
        "配电箱内断路器接触不良发热引燃周围可燃物。",
        "对本认定不再受理复核申请",
    ]:
        assert word in text, word
    assert "提出书面复核申请" not in text


def test_a_simplified_determination_names_the_investigator_and_parties_without_review(
    api: Api, tmp_path: Path
) -> None:
    case = api.register_fire(
        BRIGADE, days_ago=2, site_type="residence", direct_loss=18000, unit_name="某小区5栋302室"
    )
    case_id = case["id"]
    api.complete(
        BRIGADE,
        case_id,
        "simplified_determination",
        parties=[{"name": "张某（住户）", "confirmed": True}],
    )
    [doc] = _documents(api, BRIGADE, case_id)
    assert doc["kind"] == "simplified_fire_determination"
    assert doc["number"] == f"鼎消火简认字〔{today().year}〕第0001号"
    text = document_text(api, BRIGADE, doc, tmp_path)
    for word in [
        doc["number"],
        "火灾事故简易调查认定书",
        "当事人：张某（住户）",
        "某小区5栋302室",
        "直接财产损失18000元",
        "过火面积300平方米",
        "依照《火灾事故调查规定》第三章简易程序的规定",
        "火灾事故调查人员（签名）：陈明",
        "湘消调0321",
        "签字确认情况：已签字或者捺指印",
        "经调查，对起火原因认定如下：",
    ]:
        assert word in text, word
    assert "复核" not in text  # §36(四): no review of a simplified determination


def test_the_task_pages_ask_for_the_particulars_and_generate_the_number(
    api: Api, client, auth
) -> None:
    case = api.register_fire(BRIGADE, days_ago=5)
    task_id = api.task_id(BRIGADE, case["id"], "cause_investigation")
    auth.login(BRIGADE)
    page = client.get(f"/tasks/{task_id}")
    assert page.status_code == 200
    for label in [
        "起火时间",
        "起火部位",
        "过火面积（平方米）",
        "证据名称",
        "当事人",
        "《火灾事故认定书》",
    ]:
        assert label in page.text, label
    assert 'name="document_no"' not in page.text  # generated, never typed
    simple = api.register_fire(BRIGADE, days_ago=2, site_type="residence", direct_loss=18000)
    page = client.get(f"/tasks/{api.task_id(BRIGADE, simple['id'], 'simplified_determination')}")
    assert page.status_code == 200
    assert "调查人员证件号" in page.text and "签字确认" in page.text
