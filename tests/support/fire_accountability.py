"""Realistic form data for every user task of the fire-accountability process.

``sample(task, on)`` returns data that passes the task's form in ``forms/``; ``on`` is the date
the officer acts (and fills into the form's date fields).
"""

from __future__ import annotations

from datetime import date
from typing import Any

CREDIT_TASKS = (
    "credit_development_reform",
    "credit_housing",
    "credit_finance",
    "credit_market_regulation",
)


def _determination(on: date, *, simplified: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "determined_on": on.isoformat(),
        "cause": "二楼仓库电气线路短路引燃周围可燃物。",
        "ignition_time": f"{on.year}年{on.month}月{on.day}日14时20分许",
        "ignition_location": "厂房二楼仓库东北角配电箱处",
        "burnt_area": 300,
    }
    if simplified:
        data["parties"] = [{"name": "常德市鼎城区某纺织有限公司", "confirmed": True}]
        data["investigator"] = "陈明"
        data["investigator_cert_no"] = "湘消调0321"
    else:
        data["parties"] = [{"name": "常德市鼎城区某纺织有限公司"}]
        data["evidence"] = [{"item": "现场勘验笔录"}, {"item": "询问笔录"}]
    return data


def sample(task: str, on: date, **overrides: Any) -> dict[str, Any]:
    """Return valid form data for ``task`` acted on ``on``; ``overrides`` replace fields."""
    day = on.isoformat()
    data: dict[str, Any]
    if task == "register_fire":
        data = {
            "unit_name": "常德市鼎城区某纺织有限公司",
            "address": "常德市鼎城区玉霞街道工业大道8号",
            "district": "dingcheng",
            "alarm_on": day,
            "alarm_time": "14:35",
            "site_type": "industrial_mining",
            "deaths": 0,
            "serious_injuries": 0,
            "minor_injuries": 0,
            "direct_loss": 850000,
            "households_affected": 0,
            "major_social_impact": False,
            "facts_disputed": False,
            "arson_suspected": False,
            "summary": "厂房二楼仓库起火，过火面积约300平方米，无人员伤亡。",
        }
    elif task == "simplified_determination":
        data = {**_determination(on, simplified=True), "served_on": day}
    elif task == "re_determination":
        data = {**_determination(on), "served_on": day}
    elif task == "cause_investigation" and overrides.get("outcome") == "request_extension":
        data = {"requested_on": day, "extension_reason": "需对起火部位残留物进行检验鉴定。"}
    elif task == "cause_investigation":
        data = {"outcome": "determined", **_determination(on)}
    elif task == "cause_determination_extended":
        data = _determination(on)
    elif task == "approve_extension":
        data = {
            "approved": True,
            "decided_on": day,
            "approving_body": "常德市消防救援支队",
            "approver": "李强（支队长）",
            "opinion": "情况复杂，同意延长30日。",
        }
    elif task == "amend_casualties":
        data = {
            "reported_on": day,
            "deaths": 1,
            "serious_injuries": 1,
            "note": "1名重伤人员经抢救无效死亡。",
        }
    elif task == "record_appraisal":
        data = {
            "item": "起火部位残留导线熔痕金相检验",
            "institution": "湖南省消防救援总队火灾物证鉴定中心",
            "started_on": day,
            "ended_on": day,
        }
    elif task == "serve_determination":
        data = {
            "served_on": day,
            "method": "direct",
            "recipients": "常德市鼎城区某纺织有限公司",
            "served_time": "09:30",
            "place": "常德市鼎城区玉霞街道工业大道8号公司办公室",
            "receiver": "刘某",
            "receiver_relation": "法定代表人",
            "server_1": "陈刚",
            "server_2": "周敏",
        }
    elif task == "review_request":
        data = {
            "received_on": day,
            "applicant": "常德市鼎城区某纺织有限公司",
            "grounds": "对起火原因有异议。",
        }
    elif task == "review_acceptance":
        data = {"decided_on": day, "accepted": True}
        if overrides.get("accepted") is False:  # a refusal cites its §36 ground by its number
            data["refusal_ground"] = "out_of_time"
    elif task == "review_decision":
        data = {
            "decided_on": day,
            "outcome": "upheld",
            "reasons": "认定事实清楚，证据确实充分，程序合法。",
        }
        if overrides.get("outcome") == "determined_directly":
            data["cause"] = "一楼配电箱内断路器接线端子接触不良过热，引燃周围可燃物。"
    elif task == "responsibility_investigation":
        data = {
            "completed_on": day,
            "parties": [
                {
                    "name": "常德市鼎城区某纺织有限公司",
                    "party_type": "unit",
                    "responsibility": "principal",
                    "facts": "未落实消防安全主体责任，仓库电气线路老化未整改。",
                    "handling": "罚款并纳入消防安全失信名单",
                    "credit_referral": True,
                },
                {
                    "name": "鼎城区应急管理局",
                    "party_type": "department",
                    "responsibility": "supervisory",
                    "facts": "日常监管不到位。",
                    "handling": "约谈",
                    "credit_referral": False,
                },
            ],
            "report": "企业未落实主体责任，行业部门监管不到位。",
        }
    elif task == "leadership_investigation":
        data = {
            "investigating_government": "常德市人民政府",
            "completed_on": day,
            "officials": [
                {
                    "name": "王某",
                    "position": "鼎城区人民政府副区长",
                    "responsibility": "important",
                    "handling": "诫勉谈话",
                }
            ],
            "conclusion": "分管领导督促检查不力，负重要领导责任。",
        }
    elif task == "publish_warning":
        data = {
            "published_on": day,
            "title": "关于鼎城区某纺织有限公司火灾的警示通报",
            "text": "一、立即开展电气线路和仓储场所消防安全排查。\n"
            "二、督促生产经营单位落实消防安全主体责任。",
            "channels": ["government_site", "wechat"],
        }
    elif task == "report_warning_to_province":
        data = {
            "reported_on": day,
            "report_no": f"常消安办〔{on.year}〕12号",
            "recipient": "湖南省消防安全委员会办公室",
        }
    elif task in CREDIT_TASKS:
        data = {
            "acknowledged_on": day,
            "subjects": "常德市鼎城区某纺织有限公司",
            "measures": ["credit_rating"],
            "measure_taken": "已记入企业信用档案，一年内不予评优。",
        }
    elif task == "notification_evaluation":
        data = {
            "notified_on": day,
            "notification_no": f"常消安办通〔{on.year}〕3号",
            "evaluation": "责任追究到位，整改措施已落实。",
        }
    else:
        raise KeyError(task)
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}  # None drops a field
