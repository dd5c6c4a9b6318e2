"""The accountability path's 公文: the graded warning's 预警通报 (publish_warning) and the
four 信用联合惩戒函 sent with the responsibility findings that refer a party
(responsibility_investigation), each shown to the department that answers it.

Checks the PDFs with poppler's ``pdftotext`` and ``pdffonts`` (Debian's poppler-utils).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

from tests.support import fire_accountability
from tests.support.api import Api, today
from tests.support.pdf import document_text
from workflows.documents import cn_date

BRIGADE = "dingcheng.fire"
DETACHMENT = "detachment.officer"
OFFICE = "city.office.officer"
GOVERNMENT = "dingcheng.gov"
DEPARTMENTS = {
    "credit_development_reform": ("fagai.officer", "常德市发改委"),
    "credit_housing": ("zhujian.officer", "常德市住建局"),
    "credit_finance": ("caizheng.officer", "常德市财政局"),
    "credit_market_regulation": ("shijian.officer", "常德市市场监管局"),
}
S16 = "为深刻吸取事故教训，举一反三，进一步加强消防安全工作，严防类似事故再次发生，现提出以下要求："


def _documents(api: Api, user: str, case_id: int) -> list[dict]:
    listing = api.get(user, f"/cases/{case_id}/documents")
    assert listing.status_code == 200, listing.json
    return listing.json["items"]


def test_a_county_warning_is_a_numbered_notice_of_the_government(api: Api, tmp_path: Path) -> None:
    # A residential fire without casualties: warned county-wide by the division's government.
    case = api.register_fire(BRIGADE, days_ago=2, site_type="residence", direct_loss=18_000)
    case_id = case["id"]
    done = api.complete(GOVERNMENT, case_id, "publish_warning")
    [item] = _documents(api, BRIGADE, case_id)
    year = today().year
    assert item["kind"] == "fire_warning_notice"
    assert re.fullmatch(rf"鼎政通〔{year}〕1号", item["number"]), item["number"]
    assert item["issuer"]["code"] == "government:dingcheng"
    # the number is written into the step's stored form (read-only there)
    events = api.get(BRIGADE, f"/cases/{case_id}/events", query_string={"per_page": 100})
    published = next(e for e in events.json["items"] if e["task"] == "publish_warning")
    assert published["data"]["form"]["document_no"] == item["number"]
    assert done["id"] == case_id

    text = document_text(api, BRIGADE, item, tmp_path)
    registration = fire_accountability.sample("register_fire", today() - timedelta(days=2))
    for word in [
        item["number"],
        "关于鼎城区某纺织有限公司火灾的警示通报",  # the publisher's title
        "各乡镇人民政府、街道办事处，区直有关单位：",  # 主送 of a county-wide warning
        "鼎城区人民政府",  # 发文机关标志 and 署名
        registration["unit_name"],
        registration["address"],
        f"{registration['alarm_time']}许",
        "未造成人员伤亡",
        "直接财产损失18000元",
        "该起火灾属于一般火灾",
        "起火原因正在调查中。",
        S16,
        "一、立即开展电气线路和仓储场所消防安全排查。",
        "二、督促生产经营单位落实消防安全主体责任。",
    ]:
        assert "".join(word.split()) in text, word

    # the board shows the notice's body: the facts generated from the case, then the requirements
    board = api.get(BRIGADE, "/warnings").json["items"][0]
    assert board["text"].splitlines()[0].startswith(cn_date(registration["alarm_on"]))
    assert "未造成人员伤亡" in board["text"] and S16 in board["text"]


def test_a_city_wide_warning_of_a_fatal_fire_after_the_determination(
    api: Api, tmp_path: Path
) -> None:
    case = api.register_fire(BRIGADE, days_ago=10, deaths=1, serious_injuries=2)
    case_id = case["id"]
    api.complete(DETACHMENT, case_id, "cause_investigation")
    api.complete(OFFICE, case_id, "publish_warning")
    [item] = [d for d in _documents(api, BRIGADE, case_id) if d["kind"] == "fire_warning_notice"]
    assert item["number"] == f"常消委通〔{today().year}〕1号"
    text = document_text(api, BRIGADE, item, tmp_path)
    determination = fire_accountability.sample("cause_investigation", today())
    [determined] = [
        d for d in _documents(api, BRIGADE, case_id) if d["kind"] == "fire_determination"
    ]
    for word in [
        item["number"],
        "常德市消防安全委员会办公室",
        "各区县（市）消防安全委员会，市消防安全委员会各成员单位：",
        "造成1人死亡、2人重伤",
        "直接财产损失85万元",
        f"{cn_date(determination['determined_on'])}作出火灾事故认定（{determined['number']}）",
        determination["cause"],
        S16,
    ]:
        assert "".join(word.split()) in text, word
    # the report to the province issues nothing: it reports the notice already issued
    api.complete(OFFICE, case_id, "report_warning_to_province")
    kinds = [d["kind"] for d in _documents(api, BRIGADE, case_id)]
    assert kinds == ["fire_determination", "fire_warning_notice"]


def test_a_referral_sends_four_numbered_letters_each_shown_to_its_department(
    api: Api, tmp_path: Path
) -> None:
    case = api.register_fire(BRIGADE, days_ago=10, deaths=1, serious_injuries=2)
    case_id = case["id"]
    api.complete(DETACHMENT, case_id, "cause_investigation")
    case = api.complete(DETACHMENT, case_id, "responsibility_investigation")
    letters = [d for d in _documents(api, DETACHMENT, case_id) if d["kind"].startswith("credit_")]
    year = today().year
    # four letters, one 函 sequence of the detachment: consecutive numbers
    assert [d["number"] for d in letters] == [f"常消函〔{year}〕{n}号" for n in (1, 2, 3, 4)]
    # issued in the order of the template files (documents/*.toml)
    assert [d["kind"] for d in letters] == [
        f"credit_referral_letter_{lane}"
        for lane in ("development_reform", "finance", "housing", "market_regulation")
    ]
    by_kind = {d["kind"].removeprefix("credit_referral_letter_"): d for d in letters}
    assert {d["issuer"]["code"] for d in letters} == {"fire_detachment:city"}
    # the departments' replies open with the letters; the deadline is the one printed
    due = {d["timer"]: d["due_at"] for d in case["deadlines"] if d["state"] == "pending"}
    [determined] = [
        d for d in _documents(api, BRIGADE, case_id) if d["kind"] == "fire_determination"
    ]
    responsibility = fire_accountability.sample("responsibility_investigation", today())
    for task, (user, department) in DEPARTMENTS.items():
        letter = by_kind[task.removeprefix("credit_")]
        text = document_text(api, DETACHMENT, letter, tmp_path)
        reply_by = cn_date(datetime.fromisoformat(due[f"{task}_deadline"]).date())
        for word in [
            letter["number"],
            "常德市消防救援支队关于对常德市鼎城区某纺织有限公司火灾事故有关责任主体实施信用联合惩戒的函",
            f"{department}：",
            "造成1人死亡、2人重伤",
            f"已作出火灾事故认定（{determined['number']}）",
            "常德市鼎城区某纺织有限公司（主体责任，未落实消防安全主体责任，仓库电气线路老化未整改）",
            "作为信用评价、项目核准、用地审批、金融扶持、财政奖补等方面参考依据",
            f"请于{reply_by}前（自本函发出之日起10个工作日内）",
            "特此函告。",
        ]:
            assert "".join(word.split()) in text, (task, word)
        not_referred = responsibility["parties"][1]["name"]
        assert not_referred not in text

        # the department's reply shows the letter addressed to it, and only that one
        task_id = api.task_id(user, case_id, task)
        detail = api.get(user, f"/tasks/{task_id}")
        assert detail.status_code == 200, detail.json
        [shown] = detail.json["documents"]
        assert shown["id"] == letter["id"] and shown["number"] == letter["number"]
        assert shown["text"]["addressee"] == department
        pdf = api.get(user, shown["url"].removeprefix("/api/v1"))
        assert pdf.status_code == 200


def test_findings_that_refer_nobody_send_no_letter(api: Api) -> None:
    case = api.register_fire(BRIGADE, days_ago=10, deaths=1, serious_injuries=2)
    parties = fire_accountability.sample("responsibility_investigation", today())["parties"]
    parties = [{**p, "credit_referral": False} for p in parties]
    case = api.complete(DETACHMENT, case["id"], "responsibility_investigation", parties=parties)
    assert _documents(api, DETACHMENT, case["id"]) == []
    assert not {t["name"] for t in case["tasks"]} & set(DEPARTMENTS)
