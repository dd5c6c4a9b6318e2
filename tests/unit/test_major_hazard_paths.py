"""Every path of bpmn/major_hazard.bpmn through the engine, with a moving clock.

Dates: the hazard is found on Thu 2026-09-24, just before the 2026 National Day holiday
(9/25–27 Mid-Autumn, 10/1–7 National Day, Sat 10/10 a make-up working day).
"""

from datetime import date

import pytest

from tests.support.driver import CaseDriver, at
from tests.support.major_hazard import sample
from workflows import legal_settings
from workflows.forms import validate_form
from workflows.legal_settings import defaults

FOUND = date(2026, 9, 24)
FOUND_2017 = date(2025, 9, 24)  # while GB 35181-2017 was in force
NOT_MAJOR_AFTER_REVIEW = (
    "专家论证结论为不构成重大火灾隐患（含未达到规定比例的专家同意），集体讨论只能认定为不构成"
)
STREET = {"discoverer_agency": "street:wuling:nanping", "district": "wuling"}
CLAIMED_C = "发现单位主张了排除情形 c)，请确认或不予确认"
EDITION_RULE = "判定要素、场所类别或排除情形须属于发现日期适用的 GB 35181 版本"


def start(engine, clock, **registration):
    case = CaseDriver(engine, clock, FOUND)
    assert case.ready() == ["register_hazard"]
    case.do("register_hazard", FOUND, **registration)
    return case


def to_deliberation(case, complex_=False):
    case.do("refer_to_fire_rescue", date(2026, 9, 28))
    case.do("file_case", date(2026, 9, 29), technically_complex=complex_)
    if complex_:
        assert case.ready() == ["expert_review"]
        case.do("expert_review", date(2026, 9, 30))
    assert case.ready() == ["collective_deliberation"]


def to_government(case, kind="listed_supervision"):
    to_deliberation(case)
    case.do("collective_deliberation", date(2026, 9, 30))
    case.do("serve_rectification_notice", date(2026, 10, 8))
    assert case.ready() == ["report_to_government"]
    case.do("report_to_government", date(2026, 10, 9), kind=kind)
    assert case.ready() == ["government_decision"]


def to_rectification(case):
    to_government(case)
    case.do("government_decision", date(2026, 10, 12))
    case.do("set_rectification_plan", date(2026, 10, 13))
    assert case.ready() == ["report_rectification_progress"]


# --- preliminary judgement (GB 35181 DMN) -------------------------------------------------------


@pytest.mark.parametrize(
    ("categories", "elements", "basis"),
    [
        (["crowded"], ["6.5"], "直接判定 6.5"),
        (["crowded"], ["7.3.1", "7.3.6", "7.5"], "综合判定 a): 7.3.1、7.3.6、7.5"),
        (["flammable"], ["7.1.1", "7.1.2", "7.4.5"], "综合判定 b): 7.1.1、7.1.2、7.4.5"),
        (["important"], ["7.1.4", "7.2.1", "7.6.1", "7.8.1"], "综合判定 c)"),
        (["other"], ["7.1.4", "7.2.1", "7.6.1", "7.8.1", "7.9.4", "7.7.1"], "综合判定 d)"),
    ],
)
def test_major_hazards_are_referred_to_fire_rescue(engine, clock, categories, elements, basis):
    case = start(engine, clock, site_categories=categories, elements=elements)
    assert case.instance.data["judgement_major"] is True
    assert (
        case.instance.data["judgement_basis"].endswith(basis)
        or basis in case.instance.data["judgement_basis"]
    )
    assert case.instance.data["judgement_edition"] == "GB 35181-2017"
    assert case.ready() == ["refer_to_fire_rescue"]
    assert case.timers() == {"referral_deadline": "2026-10-09T23:59:59+08:00"}


@pytest.mark.parametrize(
    ("registration", "basis"),
    [
        ({"site_categories": ["other"], "elements": ["7.4.1"]}, "未达到判定条件"),
        ({"elements": ["6.5"], "exclusions": ["b"]}, "排除情形 5.1.3 b)"),
        ({"elements": ["6.5"], "can_correct_immediately": True}, "可立即改正"),
    ],
)
def test_not_major_goes_to_the_ordinary_branch_and_closes(engine, clock, registration, basis):
    # Found while GB 35181-2017 was in force: its "not major" verdict lets the street order
    # the correction itself.
    case = CaseDriver(engine, clock, FOUND_2017)
    case.do("register_hazard", FOUND_2017, **registration)
    assert case.instance.data["judgement_major"] is False
    assert case.instance.data["judgement_superseded"] is False
    assert case.instance.data["judgement_basis"].startswith(basis)
    assert case.ready() == ["order_correction"]
    case.do("order_correction", date(2025, 9, 28))  # correct by 10-13
    assert case.ready() == ["await_reinspection_request"]
    case.sweep(date(2025, 10, 14))  # the period ran out without an application
    assert case.ready() == ["ordinary_reinspection"]
    case.do("ordinary_reinspection", date(2025, 10, 15))
    assert case.instance.completed
    assert case.codes() == []


@pytest.mark.parametrize(
    "registration",
    [
        {"site_categories": ["other"], "elements": ["7.4.1"]},
        {"elements": ["6.5"], "exclusions": ["b"]},
        {"elements": ["6.5"], "can_correct_immediately": True},
    ],
)
def test_after_2025_11_01_a_not_major_aid_verdict_goes_to_the_fire_agency(
    engine, clock, registration
):
    # GB 35181-2025 is in force but not installed: the 2017 verdict is an aid only, and only
    # the fire rescue agency may conclude that the hazard is not major.
    case = start(engine, clock, **registration)
    data = case.instance.data
    assert data["judgement_major"] is False
    assert data["judgement_edition"] == "GB 35181-2017"
    assert data["judgement_applicable_edition"] == "GB 35181-2025"
    assert data["judgement_superseded"] is True
    assert data["judgement_basis"].startswith("按已被代替的 GB 35181-2017 要素初判，仅供参考")
    assert case.ready() == ["refer_to_fire_rescue"]
    case.do("refer_to_fire_rescue", date(2026, 9, 28))
    assert case.ready() == ["file_case"]


def test_the_street_can_always_refer_a_hazard_to_the_fire_agency(engine, clock):
    case = CaseDriver(engine, clock, FOUND_2017)
    case.do("register_hazard", FOUND_2017, site_categories=["other"], elements=["7.4.1"],
            refer_to_fire_agency=True)  # fmt: skip
    assert case.instance.data["judgement_major"] is False
    assert case.ready() == ["refer_to_fire_rescue"]


def test_exclusion_c_needs_the_fire_agency_which_confirms_it(engine, clock):
    case = CaseDriver(engine, clock, FOUND_2017)
    case.do("register_hazard", FOUND_2017, elements=["6.5"], exclusions=["c"])
    assert case.instance.data["judgement_major"] is False
    assert case.instance.data["judgement_confirm_exclusions"] == ["c"]
    assert case.ready() == ["refer_to_fire_rescue"]
    case.do("refer_to_fire_rescue", date(2025, 9, 26))
    case.do("file_case", date(2025, 9, 26))
    plain = sample("collective_deliberation", date(2025, 9, 29))
    errors = validate_form(
        "collective_deliberation", plain, today=date(2025, 9, 29), context=case.instance.data
    )
    assert errors == {"exclusion_c_review": CLAIMED_C}
    confirmed_but_major = validate_form(
        "collective_deliberation",
        sample("collective_deliberation", date(2025, 9, 29), exclusion_c_review="confirmed"),
        today=date(2025, 9, 29),
        context=case.instance.data,
    )
    assert "outcome" in confirmed_but_major
    case.do("collective_deliberation", date(2025, 9, 29), exclusion_c_review="confirmed",
            outcome="not_major", override=False)  # fmt: skip
    assert case.ready() == ["order_correction"]


def test_exclusion_c_rejected_by_the_fire_agency_leads_to_the_major_path(engine, clock):
    case = CaseDriver(engine, clock, FOUND_2017)
    case.do("register_hazard", FOUND_2017, elements=["6.5"], exclusions=["c"])
    case.do("refer_to_fire_rescue", date(2025, 9, 26))
    case.do("file_case", date(2025, 9, 26))
    case.do("collective_deliberation", date(2025, 9, 29), exclusion_c_review="rejected",
            outcome="major", override=True, override_reason="不予确认排除情形c)。")  # fmt: skip
    assert case.ready() == ["serve_rectification_notice"]


def test_an_expert_panel_short_of_two_thirds_is_recorded_and_means_not_major(engine, clock):
    case = start(engine, clock)
    case.do("refer_to_fire_rescue", date(2026, 9, 28))
    case.do("file_case", date(2026, 9, 29), technically_complex=True)
    # 4 of 7 experts think it major: short of 2/3, so the panel's conclusion is "not major".
    short = sample("expert_review", date(2026, 9, 30), agreeing=4, conclusion="major")
    errors = validate_form("expert_review", short, today=date(2026, 9, 30),
                           context=case.instance.data)  # fmt: skip
    assert "7名专家中至少5人" in errors["conclusion"]
    case.do("expert_review", date(2026, 9, 30), agreeing=4, conclusion="not_major",
            opinion="7名专家中4人认为构成，未达到三分之二，不构成重大火灾隐患。")  # fmt: skip
    assert case.ready() == ["collective_deliberation"]
    major = sample("collective_deliberation", date(2026, 9, 30))
    errors = validate_form("collective_deliberation", major, today=date(2026, 9, 30),
                           context=case.instance.data)  # fmt: skip
    assert errors == {"outcome": NOT_MAJOR_AFTER_REVIEW}
    case.do("collective_deliberation", date(2026, 9, 30), outcome="not_major", override=True,
            override_reason="专家论证未达到三分之二以上同意。")  # fmt: skip
    assert case.ready() == ["order_correction"]


def test_procedure_minimums_are_the_settings_in_force_for_the_case(engine, clock):
    # After 2025-11-01 the numbers are legal settings (the case's snapshot), not GB 35181-2017.
    case = CaseDriver(engine, clock, FOUND)
    settings = {**defaults(), "major_hazard_deliberation_min_participants": 5,
                "major_hazard_expert_panel_min": 9}  # fmt: skip
    case.instance = engine.start("major_hazard", STREET, settings)
    case.do("register_hazard", FOUND)
    assert case.instance.data["hazard_procedure"]["deliberation_min_participants"] == 5
    case.do("refer_to_fire_rescue", date(2026, 9, 28))
    case.do("file_case", date(2026, 9, 29), technically_complex=True)
    eight = sample("expert_review", date(2026, 9, 30))
    eight["experts"] = eight["experts"] + eight["experts"][:1]
    errors = validate_form("expert_review", eight, today=date(2026, 9, 30),
                           context=case.instance.data)  # fmt: skip
    assert errors == {"experts": "专家论证的专家组不得少于9人"}
    three = sample("collective_deliberation", date(2026, 9, 30))
    reviewed = {**case.instance.data, "expert_review": {"conclusion": "major"}}
    errors = validate_form(
        "collective_deliberation", three, today=date(2026, 9, 30), context=reviewed
    )
    assert errors == {"participants": "集体讨论的参加人员不得少于5人"}


def test_a_hazard_judged_under_2017_keeps_the_2017_procedure_whatever_the_settings(engine, clock):
    case = CaseDriver(engine, clock, FOUND_2017)
    settings = {**defaults(), "major_hazard_deliberation_min_participants": 5}
    case.instance = engine.start("major_hazard", STREET, settings)
    case.do("register_hazard", FOUND_2017)
    procedure = case.instance.data["hazard_procedure"]
    assert procedure["deliberation_min_participants"] == 3
    assert procedure["basis"].startswith("GB 35181-2017 4.2 b)")


# --- the major path -----------------------------------------------------------------------------


def test_listed_supervision_to_closure_with_a_failed_reinspection(engine, clock):
    case = start(engine, clock)
    to_rectification(case)
    lanes = {t.name: t.lane for t in case.instance.ready_tasks()}
    assert lanes == {"report_rectification_progress": "supervising_department"}
    case.do("report_rectification_progress", date(2026, 11, 10))
    case.do("report_rectification_progress", date(2026, 12, 1), percent=100, completed=True)
    assert case.ready() == ["reinspection"]
    case.do("reinspection", date(2026, 12, 3), result="fail", new_rectify_by="2026-12-20")
    assert case.ready() == ["report_rectification_progress"]
    assert case.instance.data["rectify_by"] == "2026-12-20"
    # The 30-day progress clock restarts on re-entry (12-03): 2027-01-02 is a Saturday and
    # 2027 has no calendar data yet, so the weekends-only count gives Monday, provisionally.
    assert case.timers()["progress_deadline"] == "2027-01-04T23:59:59+08:00"
    case.do("report_rectification_progress", date(2026, 12, 18), percent=100, completed=True)
    case.do("reinspection", date(2026, 12, 21))
    # a passed re-inspection: the fire agency asks the government to close (销案 请示), no timer
    lanes = {t.name: t.lane for t in case.instance.ready_tasks()}
    assert lanes == {"request_closure": "fire_rescue"}
    assert "request_closure" not in " ".join(case.timers())
    case.do("request_closure", date(2026, 12, 21))
    lanes = {t.name: t.lane for t in case.instance.ready_tasks()}
    assert lanes == {"close_case": "government"}
    case.do("close_case", date(2026, 12, 22))
    assert case.instance.completed
    assert case.codes() == []


@pytest.mark.parametrize("kind", ["listed_supervision", "regional_hazard", "suspension"])
def test_each_report_kind_reaches_the_government(engine, clock, kind):
    case = start(engine, clock)
    to_government(case, kind=kind)
    assert case.instance.data["report_to_government"]["kind"] == kind
    assert case.timers()["decision_deadline"] == "2026-10-19T23:59:59+08:00"  # 10-10 make-up day
    lanes = {t.name: t.lane for t in case.instance.ready_tasks()}
    assert lanes == {"government_decision": "government"}


def test_disagreement_means_enforcement_by_fire_rescue_then_tracking(engine, clock):
    case = start(engine, clock)
    to_government(case)
    case.do("government_decision", date(2026, 10, 12), decision="disagree")
    assert case.ready() == ["enforce_by_fire_rescue"]
    case.do("enforce_by_fire_rescue", date(2026, 10, 13))
    assert case.ready() == ["report_rectification_progress"]
    assert case.instance.data["rectify_by"] == "2026-11-27"
    case.do("report_rectification_progress", date(2026, 11, 20), percent=100, completed=True)
    case.do("reinspection", date(2026, 11, 23))
    case.do("request_closure", date(2026, 11, 23))
    case.do("close_case", date(2026, 11, 24), delisted=False)
    assert case.instance.completed


def test_expert_review_extends_notice_and_report_limits_by_ten_working_days(engine, clock):
    case = start(engine, clock)
    to_deliberation(case, complex_=True)
    case.do("collective_deliberation", date(2026, 9, 30))
    # 9-30 + 13 working days (10/8, 10/9, 10/10 make-up, 10/12 …) and 9-29 + 17.
    assert case.timers() == {"notice_deadline": "2026-10-23T23:59:59+08:00"}
    case.do("serve_rectification_notice", date(2026, 10, 8))
    assert case.timers() == {"report_deadline": "2026-10-28T23:59:59+08:00"}


def test_without_expert_review_the_limits_are_three_and_seven_working_days(engine, clock):
    case = start(engine, clock)
    to_deliberation(case)
    case.do("collective_deliberation", date(2026, 9, 30))
    assert case.timers() == {"notice_deadline": "2026-10-10T23:59:59+08:00"}
    case.do("serve_rectification_notice", date(2026, 10, 8))
    assert case.timers() == {"report_deadline": "2026-10-14T23:59:59+08:00"}


def test_deliberation_not_major_goes_to_the_ordinary_branch_under_fire_rescue(engine, clock):
    case = start(engine, clock)
    to_deliberation(case)
    case.do("collective_deliberation", date(2026, 9, 30), outcome="not_major", override=True,
            override_reason="现场已停止营业，经集体讨论不构成重大火灾隐患。")  # fmt: skip
    assert case.ready() == ["order_correction"]
    # 消防监督检查规定 §19's 3 working days, counted from the §21 determination (9-30), not from
    # the inspection (9-29) nor the street's finding (9-24): 10-1..10-7 off, Sat 10-10 worked.
    assert case.timers() == {"order_deadline": "2026-10-10T23:59:59+08:00"}
    case.do("order_correction", date(2026, 10, 8))
    case.do("await_reinspection_request", date(2026, 10, 20))
    case.do("ordinary_reinspection", date(2026, 10, 22))
    assert case.instance.completed
    assert case.codes() == []


def test_an_order_after_a_late_but_lawful_determination_is_not_overdue_at_once(engine, clock):
    # §21 gives the fire agency 7 working days from the inspection (3-04) to determine; a
    # deliberation on 3-11 finding the hazard not major is within them, so the order to correct
    # (§19, 3 working days) counts from the determination by analogy with §21's "自确定之日起
    # 三个工作日内" — not from the inspection, which would make it overdue as it opens.
    case = CaseDriver(engine, clock, date(2026, 3, 2))
    case.do("register_hazard", date(2026, 3, 2))
    case.do("refer_to_fire_rescue", date(2026, 3, 3))
    case.do("file_case", date(2026, 3, 4))
    case.do("collective_deliberation", date(2026, 3, 11), outcome="not_major", override=True,
            override_reason="现场核查不构成重大火灾隐患。")  # fmt: skip
    assert case.ready() == ["order_correction"]
    assert case.timers() == {"order_deadline": "2026-03-16T23:59:59+08:00"}
    case.sweep(date(2026, 3, 11))
    case.sweep(date(2026, 3, 16))
    assert case.codes() == []
    case.sweep(date(2026, 3, 17))
    assert_once(case, "order_overdue", date(2026, 3, 20))


# --- missed deadlines: exactly one escalation each ----------------------------------------------


def assert_once(case, code, later):
    assert case.codes() == [code]
    case.sweep(later)
    case.sweep(later)
    assert case.codes() == [code]


def test_missed_referral_escalates_once_and_the_task_stays_open(engine, clock):
    case = start(engine, clock)
    case.sweep(date(2026, 10, 9))
    assert case.codes() == []
    case.sweep(date(2026, 10, 10))
    assert case.ready() == ["refer_to_fire_rescue"]
    assert_once(case, "referral_overdue", date(2026, 10, 20))
    assert case.escalations[0].timer == "referral_deadline"
    case.do("refer_to_fire_rescue", date(2026, 10, 21))
    assert case.ready() == ["file_case"]
    assert case.codes() == ["referral_overdue"]


def test_missed_notice_and_report_deadlines(engine, clock):
    case = start(engine, clock)
    to_deliberation(case)
    case.do("collective_deliberation", date(2026, 9, 30))
    case.sweep(date(2026, 10, 11))
    assert_once(case, "notice_overdue", date(2026, 10, 12))
    case.do("serve_rectification_notice", date(2026, 10, 12))
    assert case.codes() == ["notice_overdue"]
    case.sweep(date(2026, 10, 15))
    assert case.codes() == ["notice_overdue", "report_overdue"]
    case.sweep(date(2026, 10, 30))
    assert case.codes() == ["notice_overdue", "report_overdue"]


def test_missed_sealing_deadline(engine, clock):
    case = start(engine, clock)
    case.do("refer_to_fire_rescue", date(2026, 9, 28))
    case.do("file_case", date(2026, 9, 29), sealing="collective")
    case.sweep(date(2026, 10, 9))
    assert case.codes() == []
    case.sweep(date(2026, 10, 10))
    assert_once(case, "sealing_overdue", date(2026, 10, 12))
    assert "temporary_sealing" in case.ready()


def test_missed_government_decision_escalates(engine, clock):
    case = start(engine, clock)
    to_government(case)
    case.sweep(date(2026, 10, 21))
    assert_once(case, "decision_overdue", date(2026, 11, 2))
    assert case.ready() == ["government_decision"]


def test_missed_progress_reports_escalate_once_per_period(engine, clock):
    case = start(engine, clock)
    to_rectification(case)  # plan on 10-13, first report due 30 days later
    assert case.timers()["progress_deadline"] == "2026-11-12T23:59:59+08:00"
    case.sweep(date(2026, 11, 13))
    assert_once(case, "progress_overdue", date(2026, 11, 20))
    case.do("report_rectification_progress", date(2026, 11, 20))
    assert case.timers()["progress_deadline"] == "2026-12-21T23:59:59+08:00"  # 12-20 is a Sunday


def test_missed_rectification_deadline_escalates_once_with_measures(engine, clock):
    case = start(engine, clock)
    to_rectification(case)  # rectify by 2026-12-12
    case.do("report_rectification_progress", date(2026, 11, 10))
    case.do("report_rectification_progress", date(2026, 12, 8))
    case.sweep(date(2026, 12, 13))
    assert "rectification_overdue" in case.codes()
    (escalation,) = [e for e in case.escalations if e.code == "rectification_overdue"]
    assert escalation.timer == "rectification_deadline"
    assert case.ready() == ["rectification_overdue_measures", "report_rectification_progress"]
    case.do("rectification_overdue_measures", date(2026, 12, 14), measure="exposure")
    case.do("report_rectification_progress", date(2026, 12, 20))
    case.sweep(date(2026, 12, 30))
    assert case.codes().count("rectification_overdue") == 1


def test_missed_reinspection_escalates(engine, clock):
    case = start(engine, clock)
    to_rectification(case)
    case.do("report_rectification_progress", date(2026, 11, 10), percent=100, completed=True)
    case.sweep(date(2026, 11, 14))  # 11-10 + 3 working days = 11-13
    assert_once(case, "reinspection_overdue", date(2026, 11, 20))


def test_missed_ordinary_reinspection_escalates(engine, clock):
    # Found under GB 35181-2017: the street's "not major" verdict stands.
    case = CaseDriver(engine, clock, FOUND_2017)
    case.do("register_hazard", FOUND_2017, site_categories=["other"], elements=["7.4.1"])
    case.do("order_correction", date(2025, 9, 28))  # correct by 10-13 → re-inspect by 10-16
    case.sweep(date(2025, 10, 14))
    assert case.timers() == {"ordinary_reinspection_deadline": "2025-10-16T23:59:59+08:00"}
    case.sweep(date(2025, 10, 17))
    assert_once(case, "ordinary_reinspection_overdue", date(2025, 10, 30))


def test_timers_missed_while_the_server_was_down_fire_once_on_catch_up(engine, clock):
    case = start(engine, clock)
    to_deliberation(case)
    case.do("collective_deliberation", date(2026, 9, 30))
    # Nobody swept for a month: the notice deadline (10-10) passed while the server was down.
    case.sweep(date(2026, 11, 2))
    assert case.codes() == ["notice_overdue"]
    # Serving the notice now opens the report task whose limit (10-14) is long past: the
    # step that creates the timer fires it at once, once.
    case.do("serve_rectification_notice", date(2026, 11, 2))
    assert case.codes() == ["notice_overdue", "report_overdue"]
    case.sweep(date(2026, 11, 3))
    fired = [t.timer for r in case.results for t in r.fired_timers]
    assert fired == ["notice_deadline", "report_deadline"]


# --- temporary sealing (临时查封): 消防监督检查规定 (令107, as amended by 令120) §22, §23, §25 ----


def inspect(case, **file_case):
    case.do("refer_to_fire_rescue", date(2026, 9, 28))
    case.do("file_case", date(2026, 9, 29), **file_case)


def test_sealing_is_decided_from_the_inspection_in_parallel_with_the_determination(engine, clock):
    case = start(engine, clock)
    inspect(case, sealing="collective")
    # §23(二): made and served within 3 working days of the inspection (9-29), without waiting
    # for the deliberation or the rectification notice.
    assert case.ready() == ["collective_deliberation", "temporary_sealing"]
    assert case.timers() == {"sealing_deadline": "2026-10-09T23:59:59+08:00"}
    case.do("temporary_sealing", date(2026, 9, 30))
    # §22: at most one month from the sealing (民法典 §202: the corresponding day).
    assert case.ready() == ["collective_deliberation", "sealing_in_force"]
    assert case.timers() == {"sealing_period_deadline": "2026-10-30T23:59:59+08:00"}
    case.do("collective_deliberation", date(2026, 9, 30))
    case.do("serve_rectification_notice", date(2026, 10, 8))
    assert case.ready() == ["report_to_government", "sealing_in_force"]
    # The party applies for lifting: check, then decision, each within the set working days.
    case.do("sealing_in_force", date(2026, 10, 20))
    assert case.timers()["lifting_check_deadline"] == "2026-10-23T23:59:59+08:00"
    case.do("lifting_check", date(2026, 10, 22))
    assert case.timers()["lifting_decision_deadline"] == "2026-10-27T23:59:59+08:00"
    case.do("lifting_decision", date(2026, 10, 23))
    assert case.ready() == ["report_to_government"]
    assert "sealing_period_deadline" not in case.timers()
    assert case.codes() == ["report_overdue"]  # the report (due 10-14) is still not made


def test_a_collective_study_may_decide_not_to_seal(engine, clock):
    case = start(engine, clock)
    inspect(case, sealing="collective")
    case.do("temporary_sealing", date(2026, 9, 30), decision="no_seal")
    assert case.ready() == ["collective_deliberation"]
    assert case.timers() == {}


def test_emergency_sealing_needs_a_decision_within_24_hours(engine, clock):
    case = start(engine, clock)
    inspect(case, sealing="emergency", sealed_on="2026-09-29", sealed_time="21:30")
    assert case.ready() == ["collective_deliberation", "emergency_sealing_decision"]
    assert case.timers() == {"emergency_sealing_deadline": "2026-09-30T21:30:00+08:00"}
    case.sweep(at(date(2026, 9, 30), 21))
    assert case.codes() == []
    case.sweep(at(date(2026, 9, 30), 22))
    assert_once(case, "emergency_sealing_overdue", date(2026, 10, 2))
    case.do("emergency_sealing_decision", date(2026, 10, 8))
    # The month runs from the on-the-spot sealing (9-29).
    assert case.timers() == {"sealing_period_deadline": "2026-10-29T23:59:59+08:00"}


def test_an_emergency_sealing_the_collective_study_rejects_is_lifted_at_once(engine, clock):
    case = start(engine, clock)
    inspect(case, sealing="emergency", sealed_on="2026-09-29", sealed_time="16:00")
    case.do(
        "emergency_sealing_decision", date(2026, 9, 30), decision="lift", lifted_on="2026-09-30"
    )
    assert case.ready() == ["collective_deliberation"]
    assert case.timers() == {}


def test_a_sealing_past_one_month_with_the_hazard_not_eliminated_continues_unlimited(engine, clock):
    case = start(engine, clock)
    inspect(case, sealing="collective")
    case.do("temporary_sealing", date(2026, 9, 30))
    # Within the month a failed application keeps the same one-month limit.
    case.do("sealing_in_force", date(2026, 10, 12))
    case.do("lifting_check", date(2026, 10, 13), eliminated=False)
    case.do("lifting_decision", date(2026, 10, 14), decision="keep")
    assert "sealing_in_force" in case.ready()
    assert case.timers()["sealing_period_deadline"] == "2026-10-30T23:59:59+08:00"
    case.sweep(date(2026, 10, 30))
    assert case.codes() == []
    case.sweep(date(2026, 10, 31))
    assert_once(case, "sealing_period_expired", date(2026, 11, 2))
    assert "sealing_in_force" in case.ready()  # the officer must lift or record
    case.do(
        "sealing_in_force", date(2026, 11, 2), event="not_eliminated", reason="疏散通道仍堵塞。"
    )
    assert "sealing_continued" in case.ready()
    assert "sealing_period_deadline" not in case.timers()  # §22: no longer limited
    case.do("sealing_continued", date(2026, 11, 20))
    case.do("lifting_check", date(2026, 11, 23), eliminated=False)
    case.do("lifting_decision", date(2026, 11, 24), decision="keep")
    assert "sealing_continued" in case.ready()
    case.do("sealing_continued", date(2026, 12, 1))
    case.do("lifting_check", date(2026, 12, 2))
    case.do("lifting_decision", date(2026, 12, 3))
    assert not {"sealing_continued", "sealing_in_force"} & set(case.ready())
    assert case.codes() == ["sealing_period_expired"]


def test_lifting_check_and_decision_limits_escalate_and_follow_the_settings(engine, clock):
    case = CaseDriver(
        engine, clock, FOUND, settings={
            **legal_settings.defaults(), "sealing_lift_check_working_days": 5,
        },
    )  # fmt: skip
    case.do("register_hazard", FOUND)
    inspect(case, sealing="collective")
    case.do("temporary_sealing", date(2026, 9, 30))
    case.do("sealing_in_force", date(2026, 10, 12))
    assert case.timers()["lifting_check_deadline"] == "2026-10-19T23:59:59+08:00"
    case.sweep(date(2026, 10, 20))
    assert_once(case, "lifting_check_overdue", date(2026, 10, 21))
    case.do("lifting_check", date(2026, 10, 21))
    assert case.timers()["lifting_decision_deadline"] == "2026-10-26T23:59:59+08:00"
    case.sweep(date(2026, 10, 27))
    assert case.codes() == ["lifting_check_overdue", "lifting_decision_overdue"]


def test_the_agency_may_lift_a_sealing_of_its_own_motion(engine, clock):
    case = start(engine, clock)
    inspect(case, sealing="collective")
    case.do("temporary_sealing", date(2026, 9, 30))
    case.do("sealing_in_force", date(2026, 10, 20), event="lift_ex_officio",
            reason="复查确认隐患已消除。")  # fmt: skip
    assert case.timers()["lifting_decision_deadline"] == "2026-10-23T23:59:59+08:00"
    case.do("lifting_decision", date(2026, 10, 21))
    assert case.ready() == ["collective_deliberation"]


def test_sealing_decided_at_the_deliberation_does_not_wait_for_the_notice(engine, clock):
    case = start(engine, clock)
    inspect(case)
    case.do("collective_deliberation", date(2026, 9, 30), needs_sealing=True)
    # §23(二): the sealing decision starts at once, beside the rectification notice (§21), and
    # is still due 3 working days from the inspection (9-29).
    assert case.ready() == ["serve_rectification_notice", "temporary_sealing"]
    assert case.timers() == {
        "notice_deadline": "2026-10-10T23:59:59+08:00",
        "sealing_deadline": "2026-10-09T23:59:59+08:00",
    }
    case.do("temporary_sealing", date(2026, 10, 8))
    assert case.ready() == ["sealing_in_force", "serve_rectification_notice"]
    case.do("serve_rectification_notice", date(2026, 10, 8))
    assert case.ready() == ["report_to_government", "sealing_in_force"]


def test_sealing_decided_at_the_deliberation_of_a_hazard_found_not_major(engine, clock):
    # §22 ¶1: sealing is for a hazard that, not removed at once, may seriously threaten public
    # safety — not only for a major one. The sealing runs beside the ordinary branch.
    case = start(engine, clock)
    inspect(case)
    reason = "经集体讨论不构成重大火灾隐患，但疏散通道堵塞须查封。"
    case.do("collective_deliberation", date(2026, 9, 30), needs_sealing=True, outcome="not_major",
            override=True, override_reason=reason)  # fmt: skip
    assert case.ready() == ["order_correction", "temporary_sealing"]
    assert case.timers() == {
        "order_deadline": "2026-10-10T23:59:59+08:00",
        "sealing_deadline": "2026-10-09T23:59:59+08:00",
    }
    case.do("temporary_sealing", date(2026, 9, 30))
    assert case.ready() == ["order_correction", "sealing_in_force"]
    assert case.codes() == []


@pytest.mark.parametrize("outcome", ["major", "not_major"])
@pytest.mark.parametrize("sealing", ["collective", "emergency"])
def test_sealing_started_at_the_inspection_is_not_started_twice(engine, clock, outcome, sealing):
    case = start(engine, clock)
    if sealing == "emergency":
        inspect(case, sealing="emergency", sealed_on="2026-09-29", sealed_time="16:00")
        case.do("emergency_sealing_decision", date(2026, 9, 30))
    else:
        inspect(case, sealing="collective")
        case.do("temporary_sealing", date(2026, 9, 30))
    reason = "经集体讨论不构成重大火灾隐患。"
    case.do("collective_deliberation", date(2026, 9, 30), needs_sealing=True, outcome=outcome,
            override=outcome == "not_major", override_reason=reason)  # fmt: skip
    next_step = "serve_rectification_notice" if outcome == "major" else "order_correction"
    assert case.ready() == sorted([next_step, "sealing_in_force"])
    assert "temporary_sealing" not in case.ready()


def test_the_emergency_lift_cites_the_2012_text_and_the_administrative_compulsion_law():
    # 令120 (2012) §23 ¶2 no longer says "…应当立即解除" (that was the 2009 wording); the lift
    # follows from the collective study deciding not to seal (¶1(二) "决定是否实施临时查封")
    # and 行政强制法 §19.
    import json
    import xml.etree.ElementTree as ET
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    tree = ET.parse(root / "bpmn" / "major_hazard.bpmn")
    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
    docs = {
        el.get("id"): el.findtext("bpmn:documentation", "", ns)
        for el in tree.iter()
        if el.get("id") in ("emergency_sealing_decision", "emergency_sealing_lifted")
    }
    form = json.loads((root / "forms" / "emergency_sealing_decision.json").read_text("utf-8"))
    for text in (*docs.values(), form["description"]):
        assert "行政强制法》第十九条" in text
        assert "前款第二项" in text or "第一款第（二）项" in text
    assert "2009" in docs["emergency_sealing_decision"]  # the superseded sentence is named as such


# --- ordinary hazards: 消防监督检查规定 §19, §20; 消防法 §60 -----------------------------------


def ordinary(engine, clock):
    # Found while GB 35181-2017 was in force (2025: 10/1–8 off, Sun 9/28 and Sat 10/11 make-up
    # working days): the street's "not major" verdict stands and it orders the correction.
    case = CaseDriver(engine, clock, FOUND_2017)
    case.do("register_hazard", FOUND_2017, site_categories=["other"], elements=["7.4.1"])
    return case


def test_the_order_to_correct_is_due_3_working_days_after_the_inspection(engine, clock):
    case = ordinary(engine, clock)
    # 9-25, 9-26, Sun 9-28 (a make-up working day)
    assert case.timers() == {"order_deadline": "2025-09-28T23:59:59+08:00"}
    case.sweep(date(2025, 9, 29))
    assert_once(case, "order_overdue", date(2025, 10, 9))
    case.do("order_correction", date(2025, 10, 9))
    assert case.ready() == ["await_reinspection_request"]


def test_reinspection_within_3_working_days_of_the_party_application(engine, clock):
    case = ordinary(engine, clock)
    case.do("order_correction", date(2025, 9, 28))  # correct by 10-13
    case.do("await_reinspection_request", date(2025, 10, 9))
    # 10-11 is a make-up working day: 10-10, 10-11, 10-13.
    assert case.timers() == {"ordinary_reinspection_deadline": "2025-10-13T23:59:59+08:00"}
    # Failing before the deadline: the party still has until 10-13, then re-inspection.
    case.do("ordinary_reinspection", date(2025, 10, 11), result="fail")
    assert case.ready() == ["await_reinspection_request"]
    case.sweep(date(2025, 10, 14))
    assert case.ready() == ["ordinary_reinspection"]
    assert case.timers() == {"ordinary_reinspection_deadline": "2025-10-16T23:59:59+08:00"}


def test_unrectified_at_the_deadline_is_referred_and_penalised_not_looped(engine, clock):
    case = ordinary(engine, clock)
    case.do("order_correction", date(2025, 9, 28))  # correct by 10-13
    case.sweep(date(2025, 10, 14))
    case.do("ordinary_reinspection", date(2025, 10, 15), result="fail")
    lanes = {t.name: t.lane for t in case.instance.ready_tasks()}
    assert lanes == {"refer_unrectified": "supervising_department"}
    case.do("refer_unrectified", date(2025, 10, 16))
    lanes = {t.name: t.lane for t in case.instance.ready_tasks()}
    assert lanes == {"ordinary_penalty": "fire_rescue"}
    case.do("ordinary_penalty", date(2025, 10, 20))  # new deadline 10-30
    assert case.ready() == ["await_reinspection_request"]
    assert case.instance.data["correct_by"] == "2025-10-30"
    case.sweep(date(2025, 10, 31))
    case.do("ordinary_reinspection", date(2025, 11, 3))
    assert case.instance.completed


def test_fire_agency_led_ordinary_case_penalises_directly(engine, clock):
    case = start(engine, clock)
    to_deliberation(case)
    case.do("collective_deliberation", date(2026, 9, 30), outcome="not_major", override=True,
            override_reason="经集体讨论不构成重大火灾隐患。")  # fmt: skip
    case.do("order_correction", date(2026, 10, 8))  # correct by 10-23
    case.sweep(date(2026, 10, 24))
    case.do("ordinary_reinspection", date(2026, 10, 26), result="fail")
    assert case.ready() == ["ordinary_penalty"]
