"""Realistic form data for every user task of the major-hazard process, for tests and benches.

``sample(task, on)`` returns data that passes the task's form in ``forms/``; ``on`` is the date
the officer acts (and fills into the form's date fields).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

PEOPLE = ["张伟", "王芳", "李强", "刘洋", "陈静", "杨磊", "赵敏", "黄涛", "周丽"]

#: The seeded users who work a Wuling major-hazard case: the street (南坪街道) that registers and
#: refers it, the district's fire brigade and the district's government.
STREET = "wuling.nanping"
FIRE = "wuling.fire"
GOVERNMENT = "wuling.gov"
#: The steps (user, task) from a registered case to the 请示 to the government; they issue the
#: 函, the 整改通知书 with its 送达回证 and the 请示 (of two pages).
TO_REPORT = [
    (STREET, "refer_to_fire_rescue"),
    (FIRE, "file_case"),
    (FIRE, "collective_deliberation"),
    (FIRE, "serve_rectification_notice"),
    (FIRE, "report_to_government"),
]


Step = tuple[str, date, dict[str, Any]]


def _listed_path(complex_and_sealed: bool) -> list[Step]:
    extra: list[Step] = [("expert_review", date(2026, 9, 30), {})] if complex_and_sealed else []
    # The temporary sealing runs beside the determination, from the inspection to its lifting.
    sealing: list[Step] = (
        [("temporary_sealing", date(2026, 9, 30), {})] if complex_and_sealed else []
    )
    lifting: list[Step] = (
        [
            ("sealing_in_force", date(2026, 10, 20), {}),
            ("lifting_check", date(2026, 10, 22), {}),
            ("lifting_decision", date(2026, 10, 23), {}),
        ]
        if complex_and_sealed
        else []
    )
    return [
        ("register_hazard", date(2026, 9, 24), {}),
        ("refer_to_fire_rescue", date(2026, 9, 28), {}),
        (
            "file_case",
            date(2026, 9, 29),
            {
                "technically_complex": complex_and_sealed,
                "sealing": "collective" if complex_and_sealed else "none",
            },
        ),
        *extra,
        *sealing,
        ("collective_deliberation", date(2026, 9, 30), {}),
        ("serve_rectification_notice", date(2026, 10, 8), {}),
        ("report_to_government", date(2026, 10, 9), {}),
        ("government_decision", date(2026, 10, 12), {}),
        ("set_rectification_plan", date(2026, 10, 13), {}),
        *lifting,
        ("report_rectification_progress", date(2026, 11, 10), {}),
        ("report_rectification_progress", date(2026, 12, 1), {"percent": 100, "completed": True}),
        ("reinspection", date(2026, 12, 3), {"result": "fail", "new_rectify_by": "2026-12-20"}),
        ("report_rectification_progress", date(2026, 12, 18), {"percent": 100, "completed": True}),
        ("reinspection", date(2026, 12, 21), {}),
        ("request_closure", date(2026, 12, 21), {}),
        ("close_case", date(2026, 12, 22), {}),
    ]


# A listed-supervision case from discovery to closure, failing one re-inspection.
LISTED_PATH = _listed_path(False)
# The same with expert review and temporary sealing: every wait state the diagram has.
LONGEST_PATH = _listed_path(True)


# The user tasks of the temporary-sealing and ordinary-hazard paths (issue 15 §3).
SEALING_AND_ORDINARY_TASKS = frozenset(
    {
        "emergency_sealing_decision",
        "sealing_in_force",
        "sealing_continued",
        "lifting_check",
        "lifting_decision",
        "await_reinspection_request",
        "refer_unrectified",
        "ordinary_penalty",
    }
)


def _d(day: date, plus: int = 0) -> str:
    return (day + timedelta(days=plus)).isoformat()


def sample(task: str, on: date, **overrides: Any) -> dict[str, Any]:
    """Return valid form data for ``task`` acted on ``on``; ``overrides`` replace fields."""
    data: dict[str, Any]
    if task == "register_hazard":
        data = {
            "unit_name": "常德市武陵区星光KTV",
            "address": "常德市武陵区人民路1号",
            "district": "wuling",
            "street": "南坪街道",
            "industry": "entertainment",
            "campaign_area": "crowded_places",
            "site_categories": ["crowded"],
            "found_on": _d(on),
            "description": "二层包厢区安全出口数量不足，疏散通道堆放杂物。",
            "elements": ["6.5"],
            "exclusions": [],
            "can_correct_immediately": False,
            "contact_person": "王经理",
            "contact_phone": "13807360000",
        }
    elif task == "refer_to_fire_rescue":
        data = {
            "referred_on": _d(on),
            "contents": "经初步判定为重大火灾隐患，现函告贵大队依法处理。",
        }
    elif task == "file_case":
        data = {
            "case_no": f"常消隐〔{on.year}〕17号",
            "filed_on": _d(on),
            "inspected_on": _d(on),
            "inspectors": [
                {"name": "李强", "cert_no": "HN0736001"},
                {"name": "刘洋", "cert_no": "HN0736002"},
            ],
            "verification": "现场核查属实：安全出口数量不足。",
            "technically_complex": False,
            "sealing": "none",
        }
    elif task == "expert_review":
        data = {
            "reviewed_on": _d(on),
            "experts": [
                {"name": n, "title": "高级工程师", "unit": "湖南省消防协会"} for n in PEOPLE[:7]
            ],
            "agreeing": 6,
            "conclusion": "major",
            "opinion": "专家组认为构成重大火灾隐患。",
        }
    elif task == "collective_deliberation":
        data = {
            "deliberated_on": _d(on),
            "participants": [{"name": n, "position": "大队领导"} for n in PEOPLE[:3]],
            "outcome": "major",
            "override": False,
            "needs_sealing": False,
        }
    elif task == "serve_rectification_notice":
        data = {
            "served_on": _d(on),
            "recipient": "王经理",
            "service_method": "direct",
            "requirements": "增设安全出口，清理疏散通道。",
            "served_time": "10:30",
            "place": "单位办公室",
            "receiver": "王经理",
            "receiver_relation": "本人",
            "server_1": "李明",
            "server_2": "张伟",
        }
    elif task == "temporary_sealing":
        data = {
            "notified_on": _d(on),
            "decided_on": _d(on),
            "participants": "大队长 张伟、教导员 王芳、副大队长 李强",
            "decision": "seal",
            "served_on": _d(on),
            "sealed_on": _d(on),
            "sealed_until": _d(on, 30),
            "grounds": ["no_evacuation"],
            "scope": "二层包厢区，张贴决定并加贴封条。",
            "statement": "当事人未提出陈述和申辩。",
        }
    elif task == "emergency_sealing_decision":
        data = {
            "approver": "大队长 张伟",
            "decided_on": _d(on),
            "participants": "大队长 张伟、教导员 王芳、副大队长 李强",
            "decision": "seal",
            "served_on": _d(on),
            "sealed_until": _d(on, 30),
            "grounds": ["flammables_in_crowded"],
            "scope": "一层仓库，加贴封条。",
        }
    elif task in ("sealing_in_force", "sealing_continued"):
        data = {
            "event": "application",
            "recorded_on": _d(on),
            "application_received_on": _d(on),
            "reason": "当事人称已清除疏散通道杂物并增设安全出口。",
        }
    elif task == "lifting_check":
        data = {
            "checked_on": _d(on),
            "inspectors": "李强、刘洋",
            "eliminated": True,
            "findings": "安全出口已增设，疏散通道畅通。",
        }
    elif task == "lifting_decision":
        data = {
            "decision": "lift",
            "decided_on": _d(on),
            "served_on": _d(on),
            "reason": "火灾隐患已经消除。",
        }
    elif task == "report_to_government":
        data = {
            "reported_on": _d(on),
            "kind": "listed_supervision",
            "opinion": "建议对该重大火灾隐患挂牌督办。",
            "signer": "张伟",
        }
    elif task == "government_decision":
        data = {
            "decision": "agree",
            "decided_on": _d(on),
            "listed": True,
            "responsible_person": "法定代表人 王经理",
            "rectify_by": _d(on, 61),
            "supervising_departments": (
                "南坪街道办事处督促整改并每月报送进展；区消防救援大队负责复查。"
            ),
            "notice_addressees": "南坪街道办事处，区应急管理局",
            "cc": "区应急管理局",
            "comments": "同意挂牌督办。",
        }
        if overrides.get("decision") == "disagree":
            for key in ("listed", "responsible_person", "rectify_by", "supervising_departments",
                        "notice_addressees"):  # fmt: skip
                data.pop(key)
    elif task == "set_rectification_plan":
        data = {
            "decided_on": _d(on),
            "rectify_by": _d(on, 60),
            "listed": True,
            "responsible_leader": "武陵区副区长 陈静",
            "supervising_agency": "street:wuling:nanping",
            "measures": "限期60日完成安全出口改造。",
        }
    elif task == "enforce_by_fire_rescue":
        data = {
            "decided_on": _d(on),
            "measures": ["order_correction", "fine"],
            "rectify_by": _d(on, 45),
            "supervising_agency": "street:wuling:nanping",
        }
    elif task == "report_rectification_progress":
        data = {
            "reported_on": _d(on),
            "progress": "已完成安全出口施工图设计。",
            "percent": 30,
            "completed": False,
        }
    elif task == "rectification_overdue_measures":
        data = {"measure": "interview", "taken_on": _d(on), "notes": "约谈单位法定代表人。"}
    elif task == "reinspection":
        data = {"reinspected_on": _d(on), "result": "pass", "findings": "隐患已整改完毕。"}
    elif task == "request_closure":
        data = {"requested_on": _d(on), "signer": "张伟", "findings": "隐患已整改完毕。"}
    elif task == "close_case":
        data = {
            "closed_on": _d(on),
            "delisted": True,
            "summary": "隐患整改到位，予以销案摘牌。",
        }
    elif task == "order_correction":
        data = {
            "issued_on": _d(on),
            "correct_by": _d(on, 15),
            "requirements": "清理疏散通道杂物。",
        }
    elif task == "await_reinspection_request":
        data = {"applied_on": _d(on), "contents": "已清理疏散通道杂物，申请复查。"}
    elif task == "ordinary_reinspection":
        data = {"reinspected_on": _d(on), "result": "pass", "findings": "已改正。"}
    elif task == "refer_unrectified":
        data = {
            "letter_no": "武南移〔2026〕2号",
            "referred_on": _d(on),
            "contents": "责令限期改正逾期未改正，复查不合格，移送依法处罚。",
        }
    elif task == "ordinary_penalty":
        data = {
            "decision_no": "常武消行罚决字〔2026〕5号",
            "decided_on": _d(on),
            "measures": ["fine"],
            "fine_amount": 5000,
            "new_correct_by": _d(on, 10),
            "notes": (
                "对火灾隐患经通知后不及时采取措施消除，依据《消防法》第六十条第一款第（七）项处罚。"
            ),
        }
    else:
        raise KeyError(task)
    data.update(overrides)
    return data
