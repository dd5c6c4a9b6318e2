"""Every path of bpmn/fire_accountability.bpmn (失火即追责) through the engine, clock moving.

The fire is reported on Tue 2026-09-01. The determination is due 30 calendar days after the
alarm — Thu 10-01 falls in the National Day holiday, so the period ends on the first working
day after it, Thu 10-08 — or 60 days with an approved extension (Sat 10-31 → Mon 11-02), each
plus the testing and appraisal days recorded. The graded public warning runs in parallel from
the grading on; the investigation, review and credit referral run beside it.
"""

from datetime import date

import pytest

from tests.support.driver import CaseDriver
from tests.support.fire_accountability import CREDIT_TASKS
from workflows.lanes import resolve_lane

ALARM = date(2026, 9, 1)
CASE = {"discoverer_agency": "fire_brigade:dingcheng", "district": "dingcheng"}
INVESTIGATION = ["cause_investigation", "record_appraisal", "responsibility_investigation"]


def register(engine, clock, warn=True, **facts):
    """Register the fire; with ``warn`` the graded warning is published (and reported) at once."""
    case = CaseDriver(engine, clock, ALARM, CASE, process="fire_accountability")
    assert case.ready() == ["register_fire"]
    case.do("register_fire", ALARM, **facts)
    if warn:
        case.do("publish_warning", date(2026, 9, 2))
        if "report_warning_to_province" in case.ready():
            case.do("report_warning_to_province", date(2026, 9, 2))
        case.sweep(date(2026, 9, 9))  # the 7 days to amend the casualties have passed
    return case


def agencies(case):
    """{ready task: agency code} as the web app resolves the lanes."""
    data = case.instance.data
    return {t.name: resolve_lane(t.lane, "dingcheng", data) for t in case.instance.ready_tasks()}


def determine_and_serve(case, determined=date(2026, 9, 20), served=date(2026, 9, 22)):
    case.do("cause_investigation", determined)
    assert "serve_determination" in case.ready()
    case.do("serve_determination", served)
    assert "review_request" in case.ready()


def close_review_window(case, served=date(2026, 9, 22)):
    # 15 days after service: Wed 10-07 is a holiday, so the window closes at the end of 10-08.
    assert case.timers()["review_window"] == "2026-10-08T23:59:59+08:00"
    case.sweep(date(2026, 10, 9))
    assert "review_request" not in case.ready()


def investigate_and_refer(case, day=date(2026, 9, 18), replied=date(2026, 9, 25)):
    """The responsibility investigation refers a party for credit punishment: the four
    departments' replies open at once (the referral letters are sent with it) and are given
    here, so that the test goes on with the rest of the investigation."""
    case.do("responsibility_investigation", day)
    assert set(CREDIT_TASKS) <= set(case.ready())
    for task in CREDIT_TASKS:
        case.do(task, replied)


def punish_and_close(case, day=date(2026, 10, 14)):
    assert case.ready() == sorted(CREDIT_TASKS)
    for task in CREDIT_TASKS:
        case.do(task, day)
    assert case.ready() == ["notification_evaluation"]
    case.do("notification_evaluation", date(2026, 10, 20))
    assert case.instance.completed


# --- the graded public warning right after grading (plan §二(六)3) -----------------------------


def test_a_general_residential_fire_needs_no_investigation(engine, clock):
    case = register(engine, clock, warn=False, site_type="residence", direct_loss=20000)
    data = case.instance.data
    assert data["fire_level"] == "general"
    assert data["investigation_mandatory"] is False
    assert data["warning_scope"] == "county"
    # The warning is published beside the simplified determination, not after it; casualties
    # can be amended for 7 days.
    assert case.ready() == ["amend_casualties", "publish_warning", "simplified_determination"]
    assert agencies(case) == {
        "amend_casualties": "fire_brigade:dingcheng",
        "publish_warning": "government:dingcheng",
        "simplified_determination": "fire_brigade:dingcheng",
    }
    case.do("publish_warning", date(2026, 9, 2))
    case.do("simplified_determination", date(2026, 9, 3))
    assert case.ready() == ["amend_casualties"]
    assert case.timers() == {"amendment_window": "2026-09-08T23:59:59+08:00"}
    case.sweep(date(2026, 9, 9))
    assert case.instance.completed
    done = {name for r in case.results for name in r.completed}
    assert done.isdisjoint({*INVESTIGATION, "leadership_investigation", *CREDIT_TASKS})
    assert {"end_simplified", "end_warned", "end_amendment_closed"} <= done
    assert case.codes() == []


def test_the_warning_does_not_wait_for_the_investigation_and_review(engine, clock):
    case = register(engine, clock, warn=False, site_type="industrial_mining", deaths=1)
    assert "publish_warning" in case.ready()
    assert agencies(case)["publish_warning"] == "safety_office:city"
    case.do("publish_warning", date(2026, 9, 2))
    assert case.ready() == sorted(
        [
            *INVESTIGATION,
            "amend_casualties",
            "leadership_investigation",
            "report_warning_to_province",
        ]
    )
    assert agencies(case)["report_warning_to_province"] == "safety_office:city"
    case.do("report_warning_to_province", date(2026, 9, 3))
    assert "publish_warning" not in case.ready()
    assert "report_warning_to_province" not in case.ready()


# --- fatal fire at a factory ------------------------------------------------------------------


def test_a_fatal_factory_fire_is_investigated_by_the_city_and_reported_to_the_province(
    engine, clock
):
    case = register(engine, clock, site_type="industrial_mining", deaths=1, serious_injuries=2)
    data = case.instance.data
    assert (data["fire_level"], data["fire_level_rank"]) == ("general", 1)
    assert data["investigation_mandatory"] is True
    assert data["investigation_basis"].startswith("亡人火灾")
    assert data["investigating_level"] == "city"
    assert data["warning_scope"] == "province"
    # A fatal general fire: the county-level government leads the investigation (87号 §28).
    assert case.ready() == sorted([*INVESTIGATION, "leadership_investigation"])
    assert agencies(case) == {
        "cause_investigation": "fire_detachment:city",
        "record_appraisal": "fire_detachment:city",
        "responsibility_investigation": "fire_detachment:city",
        "leadership_investigation": "government:dingcheng",
    }
    assert case.timers() == {"determination_deadline": "2026-10-08T23:59:59+08:00"}

    case.do(
        "leadership_investigation", date(2026, 9, 25), investigating_government="鼎城区人民政府"
    )
    case.do("responsibility_investigation", date(2026, 9, 18))
    # The findings refer a party: the referral letters go out with them and the four
    # departments' replies open at once, beside the rest of the investigation.
    assert {task: agencies(case)[task] for task in CREDIT_TASKS} == {
        "credit_development_reform": "industry:city:fagai",
        "credit_housing": "industry:city:zhujian",
        "credit_finance": "industry:city:caizheng",
        "credit_market_regulation": "industry:city:shijian",
    }
    for task in CREDIT_TASKS:
        case.do(task, date(2026, 9, 25))
    determine_and_serve(case)
    close_review_window(case)
    assert agencies(case) == {"notification_evaluation": "safety_office:city"}
    # The referral names the parties the responsibility findings referred.
    assert case.instance.data["credit_subjects"] == ["常德市鼎城区某纺织有限公司"]
    case.do("notification_evaluation", date(2026, 10, 20))
    assert case.instance.completed
    assert case.codes() == []
    done = {name for r in case.results for name in r.completed}
    assert "end_closed" in done


def test_a_county_investigation_of_a_crowded_place_fire_warns_city_wide(engine, clock):
    case = register(engine, clock, warn=False, site_type="crowded_place")
    assert case.instance.data["investigating_level"] == "county"
    assert case.instance.data["warning_scope"] == "city"
    assert set(agencies(case).values()) == {"fire_brigade:dingcheng", "safety_office:city"}
    assert case.timers()["amendment_window"] == "2026-09-08T23:59:59+08:00"
    case.do("publish_warning", date(2026, 9, 2))
    assert "report_warning_to_province" not in case.ready()  # no report to the province
    # Neither fatal nor of social impact: no government-led investigation.
    assert case.ready() == sorted([*INVESTIGATION, "amend_casualties"])
    case.sweep(date(2026, 9, 9))
    case.do("responsibility_investigation", date(2026, 9, 18))
    determine_and_serve(case)
    close_review_window(case)
    punish_and_close(case)


# --- government-led investigation by level (87号 §28, 条例493 §19) ---------------------------


def test_a_larger_fire_is_investigated_by_the_city_government(engine, clock):
    case = register(engine, clock, site_type="production_business", deaths=3)
    data = case.instance.data
    assert (data["fire_level"], data["fire_level_rank"]) == ("larger", 2)
    assert data["fire_level_basis"].startswith("死亡3人以上10人以下，构成较大火灾")
    assert case.ready() == sorted([*INVESTIGATION, "leadership_investigation"])
    assert agencies(case)["leadership_investigation"] == "government:city"
    case.do("leadership_investigation", date(2026, 9, 25))
    case.do("responsibility_investigation", date(2026, 9, 18))
    determine_and_serve(case)
    close_review_window(case)
    punish_and_close(case)


@pytest.mark.parametrize(
    ("facts", "government"),
    [
        ({"deaths": 1}, "government:dingcheng"),  # general, fatal: the county government
        ({"major_social_impact": True, "impact_note": "网络广泛传播"}, "government:dingcheng"),
        ({"deaths": 10}, "government:city"),  # 重大: the province's, recorded by the city
        ({"deaths": 30}, "government:city"),  # 特别重大: the State Council's, recorded likewise
    ],
)
def test_the_government_investigation_goes_to_the_government_of_its_level(
    engine, clock, facts, government
):
    case = register(engine, clock, site_type="industrial_mining", **facts)
    assert agencies(case)["leadership_investigation"] == government


def test_the_investigation_waits_for_the_government_investigation(engine, clock):
    case = register(engine, clock, site_type="production_business", direct_loss=10_000_000)
    assert case.instance.data["fire_level"] == "larger"
    investigate_and_refer(case)
    determine_and_serve(case)
    close_review_window(case)
    assert case.ready() == ["leadership_investigation"]
    case.do("leadership_investigation", date(2026, 10, 9))
    assert case.ready() == ["notification_evaluation"]


# --- determination deadline and extension -----------------------------------------------------


def test_an_approved_extension_moves_the_determination_deadline_to_60_days(engine, clock):
    case = register(engine, clock, site_type="industrial_mining")
    case.do(
        "cause_investigation",
        date(2026, 9, 25),
        outcome="request_extension",
    )
    assert "approve_extension" in case.ready()
    assert agencies(case)["approve_extension"] == "fire_detachment:city"
    # The approval has no deadline of its own; the determination's is counted again after it.
    assert case.timers() == {}
    case.do("approve_extension", date(2026, 9, 28))
    assert "cause_determination_extended" in case.ready()
    assert case.timers() == {"extended_determination_deadline": "2026-11-02T23:59:59+08:00"}
    # Past the first 30 days nothing is overdue: the extension was granted.
    case.sweep(date(2026, 10, 20))
    assert case.codes() == []
    case.do("cause_determination_extended", date(2026, 10, 28))
    assert case.instance.data["determination"]["determined_on"] == "2026-10-28"
    assert "serve_determination" in case.ready()
    # Service within 7 days of the determination: 11-04.
    assert case.timers()["service_deadline"] == "2026-11-04T23:59:59+08:00"


def test_a_refused_extension_keeps_the_30_days(engine, clock):
    case = register(engine, clock, site_type="industrial_mining")
    case.do(
        "cause_investigation",
        date(2026, 9, 25),
        outcome="request_extension",
    )
    case.do("approve_extension", date(2026, 9, 28), approved=False)
    assert case.timers()["extended_determination_deadline"] == "2026-10-08T23:59:59+08:00"
    case.sweep(date(2026, 10, 9))
    assert case.codes() == ["determination_overdue"]


def test_a_late_determination_escalates_once(engine, clock):
    case = register(engine, clock, site_type="crowded_place")
    case.sweep(date(2026, 10, 9))
    assert case.codes() == ["determination_overdue"]
    case.sweep(date(2026, 10, 20))
    assert case.codes() == ["determination_overdue"]
    assert "cause_investigation" in case.ready()  # still to be done (non-interrupting)


# --- review -------------------------------------------------------------------------------


def test_no_review_request_continues_when_the_window_closes(engine, clock):
    case = register(engine, clock, site_type="crowded_place")
    case.do("responsibility_investigation", date(2026, 9, 18))
    determine_and_serve(case)
    case.sweep(date(2026, 10, 8))  # the last day of the window: still open
    assert "review_request" in case.ready()
    close_review_window(case)
    assert case.ready() == sorted(CREDIT_TASKS)
    assert case.codes() == []
    fired = [t.timer for r in case.results for t in r.fired_timers]
    assert fired == ["amendment_window", "review_window"]
    assert all(t.window for r in case.results for t in r.fired_timers)


def test_a_review_request_is_accepted_decided_and_redetermined(engine, clock):
    case = register(engine, clock, site_type="crowded_place")
    investigate_and_refer(case)
    determine_and_serve(case)
    case.do("review_request", date(2026, 9, 30))
    assert case.ready() == ["review_acceptance"]
    assert agencies(case) == {"review_acceptance": "fire_detachment:city"}
    # Acceptance within 7 days of receipt: 10-07 is a holiday → 10-08.
    assert case.timers() == {"acceptance_deadline": "2026-10-08T23:59:59+08:00"}
    case.do("review_acceptance", date(2026, 10, 8))
    assert case.ready() == ["review_decision"]
    assert case.timers() == {"review_decision_deadline": "2026-11-09T23:59:59+08:00"}
    case.do("review_decision", date(2026, 10, 30), outcome="redetermine")
    assert case.ready() == ["re_determination"]
    assert agencies(case) == {"re_determination": "fire_brigade:dingcheng"}
    case.do("re_determination", date(2026, 11, 10))
    assert case.ready() == ["notification_evaluation"]
    assert case.codes() == []


def test_a_review_request_refused_goes_on_to_the_credit_referral(engine, clock):
    case = register(engine, clock, site_type="crowded_place")
    case.do("responsibility_investigation", date(2026, 9, 18))
    determine_and_serve(case)
    case.do("review_request", date(2026, 9, 30))
    case.sweep(date(2026, 10, 9))  # acceptance decided late
    assert case.codes() == ["acceptance_overdue"]
    case.do("review_acceptance", date(2026, 10, 9), accepted=False, reason="超过复核申请期限。")
    assert case.ready() == sorted(CREDIT_TASKS)


def test_an_upheld_review_goes_on_to_the_credit_referral(engine, clock):
    case = register(engine, clock, site_type="crowded_place")
    case.do("responsibility_investigation", date(2026, 9, 18))
    determine_and_serve(case)
    case.do("review_request", date(2026, 9, 30))
    case.do("review_acceptance", date(2026, 10, 8))
    case.do("review_decision", date(2026, 10, 30))
    punish_and_close(case, date(2026, 11, 2))


# --- credit joint punishment ------------------------------------------------------------------


def test_no_credit_punishment_when_no_party_is_referred(engine, clock):
    case = register(engine, clock, site_type="crowded_place")
    parties = [
        {
            "name": "常德市鼎城区某KTV",
            "party_type": "unit",
            "responsibility": "principal",
            "facts": "疏散通道堆放杂物。",
            "handling": "责令改正并罚款",
            "credit_referral": False,
        }
    ]
    case.do("responsibility_investigation", date(2026, 9, 18), parties=parties)
    determine_and_serve(case)
    close_review_window(case)
    assert case.ready() == ["notification_evaluation"]
    done = {name for r in case.results for name in r.completed}
    assert done.isdisjoint({"mark_referred", *CREDIT_TASKS})


def test_a_department_that_never_acknowledges_escalates_once(engine, clock):
    case = register(engine, clock, site_type="crowded_place")
    determine_and_serve(case)
    case.do("review_request", date(2026, 9, 30))
    case.do("review_acceptance", date(2026, 10, 9), accepted=False, reason="逾期申请。")
    case.do("responsibility_investigation", date(2026, 10, 12))  # refers: the letters go out
    due = "2026-10-26T23:59:59+08:00"  # 10 working days after Mon 10-12, the referral
    assert case.timers() == {f"{task}_deadline": due for task in CREDIT_TASKS}
    for task in CREDIT_TASKS[:3]:
        case.do(task, date(2026, 10, 20))
    case.sweep(date(2026, 10, 26))
    assert case.codes() == []
    case.sweep(date(2026, 10, 27))
    assert case.codes() == ["credit_overdue"]
    assert case.escalations[0].timer == "credit_market_regulation_deadline"
    case.sweep(date(2026, 11, 30))
    assert case.codes() == ["credit_overdue"]
    assert case.ready() == ["credit_market_regulation"]
    case.do("credit_market_regulation", date(2026, 12, 1))
    case.do("notification_evaluation", date(2026, 12, 2))
    assert case.instance.completed


@pytest.mark.parametrize("task", CREDIT_TASKS)
def test_each_department_task_uses_the_shared_form(engine, clock, task):
    from workflows.forms import load_form

    assert load_form(task)["title"] == "信用联合惩戒"


# --- testing and appraisal time is not counted (火灾事故调查规定 第十八条) -----------------------


def test_recorded_appraisal_periods_move_the_waiting_determination_deadline(engine, clock):
    case = register(engine, clock, site_type="crowded_place")
    assert case.timers()["determination_deadline"] == "2026-10-08T23:59:59+08:00"
    assert agencies(case)["record_appraisal"] == "fire_brigade:dingcheng"
    # 10 days of metallography (both ends count): 30 + 10 days from 09-01 = Sun 10-11 → 10-12.
    result = case.do("record_appraisal", date(2026, 9, 19), started_on="2026-09-10")
    assert case.timers()["determination_deadline"] == "2026-10-12T23:59:59+08:00"
    moved = [(b.due.date().isoformat(), a.due.date().isoformat()) for b, a in result.moved_timers]
    assert moved == [("2026-10-08", "2026-10-12")]
    # A second appraisal overlapping the first adds only its own days (09-20 to 09-22): 43 days.
    assert "record_appraisal" in case.ready()
    case.do("record_appraisal", date(2026, 9, 22), started_on="2026-09-15")
    assert case.timers()["determination_deadline"] == "2026-10-14T23:59:59+08:00"
    # The old 30-day limit passes without an escalation.
    case.sweep(date(2026, 10, 9))
    assert case.codes() == []
    case.sweep(date(2026, 10, 15))
    assert case.codes() == ["determination_overdue"]
    # Once the determination is made the appraisal register closes by itself.
    case.do("cause_investigation", date(2026, 10, 15))
    assert "record_appraisal" not in case.ready()
    assert case.instance.data["appraisal_periods"][0]["item"] == "起火部位残留导线熔痕金相检验"


def test_appraisal_days_also_extend_the_extended_determination_deadline(engine, clock):
    case = register(engine, clock, site_type="industrial_mining")
    case.do("record_appraisal", date(2026, 9, 14), started_on="2026-09-05")  # 10 days
    case.do("cause_investigation", date(2026, 9, 25), outcome="request_extension")
    case.do("approve_extension", date(2026, 9, 28))
    # 60 + 10 days from 09-01: Tue 11-10.
    assert case.timers() == {"extended_determination_deadline": "2026-11-10T23:59:59+08:00"}
    case.do("record_appraisal", date(2026, 10, 30), started_on="2026-10-29")  # 2 more days
    assert case.timers() == {"extended_determination_deadline": "2026-11-12T23:59:59+08:00"}


def test_the_extension_approval_names_the_approving_body_and_its_document():
    from workflows.forms import load_form, validate_form

    form = load_form("approve_extension")
    assert {"approving_body", "opinion"} <= set(form["required"])
    # the 审批表's number is generated on submission (documents/determination_extension_approval)
    assert "approval_no" not in form["required"]
    assert form["properties"]["approval_no"]["readOnly"] is True
    assert "湖南省消防救援总队" in form["description"]
    data = {"approved": True, "decided_on": "2026-09-28", "approver": "李强（支队长）"}
    assert set(validate_form("approve_extension", data, today=date(2026, 9, 28))) >= {
        "approving_body",
        "opinion",
    }


# --- service by public notice (火灾事故调查规定 第三十三条、第三十五条) ---------------------


def test_service_by_public_notice_opens_the_review_window_when_the_notice_period_ends(
    engine, clock
):
    case = register(engine, clock, site_type="crowded_place")
    case.do("cause_investigation", date(2026, 9, 20))
    case.do(
        "serve_determination",
        date(2026, 9, 24),
        method="notice",
        served_on=None,
        notice_published_on="2026-09-24",
    )
    # Notice 09-24 + 20 days: deemed served at the end of Wed 10-14; + 15 days: Thu 10-29.
    assert case.timers()["review_window"] == "2026-10-29T23:59:59+08:00"
    case.sweep(date(2026, 10, 20))  # 15 days after the notice itself: the window is still open
    assert "review_request" in case.ready()


# --- review: direct determination, the review period, re-determination's own timer ------------


def review_requested(engine, clock):
    case = register(engine, clock, site_type="crowded_place")
    investigate_and_refer(case)
    determine_and_serve(case)
    case.do("review_request", date(2026, 9, 30))
    case.do("review_acceptance", date(2026, 10, 8))
    return case


def test_the_review_body_may_determine_directly(engine, clock):
    case = review_requested(engine, clock)
    case.do("review_decision", date(2026, 10, 30), outcome="determined_directly")
    assert case.ready() == ["notification_evaluation"]
    done = {name for r in case.results for name in r.completed}
    assert "re_determination" not in done
    assert "review_decision" in done
    assert case.codes() == []


def test_re_determination_has_its_own_deadline(engine, clock):
    case = review_requested(engine, clock)
    case.do("review_decision", date(2026, 10, 30), outcome="redetermine")
    # 15 days (a legal setting) after the review decision of Fri 10-30: Sat 11-14 → Mon 11-16.
    assert case.timers() == {"redetermination_deadline": "2026-11-16T23:59:59+08:00"}
    case.sweep(date(2026, 11, 17))
    assert case.codes() == ["redetermination_overdue"]
    assert "re_determination" in case.ready()


def test_the_review_decision_period_is_a_legal_setting(engine, clock):
    from workflows.legal_settings import defaults

    settings = {**defaults(), "fire_review_decision_days": 20}
    assert defaults()["fire_review_decision_days"] == 30
    assert defaults()["fire_redetermination_days"] == 15
    case = CaseDriver(engine, clock, ALARM, CASE, process="fire_accountability")
    case.instance = engine.start("fire_accountability", CASE, settings=settings)
    case.roundtrip()
    case.do("register_fire", ALARM, site_type="crowded_place")
    investigate_and_refer(case)
    determine_and_serve(case)
    case.do("review_request", date(2026, 9, 30))
    case.do("review_acceptance", date(2026, 10, 8))
    # 20 days after Thu 10-08: Wed 10-28.
    assert case.timers() == {"review_decision_deadline": "2026-10-28T23:59:59+08:00"}


# --- casualties amended within 7 days (国务院令第493号 第十三条) ------------------------------


def test_amended_casualties_regrade_the_fire_and_reroute_the_investigation(engine, clock):
    case = register(engine, clock, warn=False, site_type="crowded_place", serious_injuries=2)
    assert case.instance.data["investigating_level"] == "county"
    assert agencies(case)["cause_investigation"] == "fire_brigade:dingcheng"
    case.do("publish_warning", date(2026, 9, 2))
    case.do("record_appraisal", date(2026, 9, 3))
    # One of the injured dies on 09-05: a fatal fire, investigated by the city (令121 §6).
    case.do("amend_casualties", date(2026, 9, 5), deaths=1, serious_injuries=1)
    data = case.instance.data
    assert data["register_fire"]["deaths"] == 1
    assert (data["investigating_level"], data["warning_scope"]) == ("city", "province")
    assert data["investigation_basis"].startswith("亡人火灾")
    assert agencies(case)["cause_investigation"] == "fire_detachment:city"
    assert agencies(case)["record_appraisal"] == "fire_detachment:city"
    # Another amendment is possible until the 7 days end; then the task closes by itself.
    assert "amend_casualties" in case.ready()
    case.sweep(date(2026, 9, 9))
    assert "amend_casualties" not in case.ready()
    # The facts stay amended for the branches that go on (the determination and beyond).
    case.do("responsibility_investigation", date(2026, 9, 18))
    determine_and_serve(case)
    assert agencies(case)["review_request"] == "fire_detachment:city"


# --- an amendment re-routes as well as re-grades (条例493 §13, §20 ¶2; 令121 ch. 3) ------------

GENERAL_OPENED = sorted(
    [*INVESTIGATION, "amend_casualties", "leadership_investigation", "report_warning_to_province"]
)


def milestones(case):
    return [bpmn_id for result in case.results for bpmn_id, _ in result.milestones]


def test_an_open_simplified_determination_is_withdrawn_when_the_fire_becomes_fatal(engine, clock):
    case = register(engine, clock, warn=False, site_type="residence", direct_loss=2000)
    case.do("publish_warning", date(2026, 9, 2))
    assert case.ready() == ["amend_casualties", "simplified_determination"]
    case.do("amend_casualties", date(2026, 9, 3), deaths=1, serious_injuries=0)
    data = case.instance.data
    assert (data["procedure"], data["warning_scope"], data["investigating_level"]) == (
        "general", "province", "city",
    )  # fmt: skip
    # The simplified determination is withdrawn; the general procedure runs, with the review
    # right, the government-led investigation (87号 §28) and the province report (plan §二(六)3).
    assert case.ready() == GENERAL_OPENED
    assert sorted(milestones(case)) == ["province_newly_required", "simplified_withdrawn"]
    assert agencies(case)["cause_investigation"] == "fire_detachment:city"
    assert agencies(case)["leadership_investigation"] == "government:dingcheng"
    assert case.timers()["determination_deadline"] == "2026-10-08T23:59:59+08:00"
    case.do("report_warning_to_province", date(2026, 9, 4))
    case.do("leadership_investigation", date(2026, 9, 15))
    case.sweep(date(2026, 9, 9))
    case.do("responsibility_investigation", date(2026, 9, 18))
    determine_and_serve(case)
    close_review_window(case)
    punish_and_close(case)


def test_a_simplified_determination_already_made_is_superseded_by_the_general_procedure(
    engine, clock
):
    case = register(engine, clock, warn=False, site_type="residence", direct_loss=2000)
    case.do("publish_warning", date(2026, 9, 2))
    case.do("simplified_determination", date(2026, 9, 2))
    assert not case.instance.completed  # the casualties may still change until 09-08
    case.do("amend_casualties", date(2026, 9, 4), deaths=1, serious_injuries=0)
    assert case.ready() == GENERAL_OPENED
    assert sorted(milestones(case)) == ["province_newly_required", "simplified_superseded"]


def test_a_simplified_case_closes_when_the_amendment_window_ends(engine, clock):
    case = register(engine, clock, warn=False, site_type="residence", direct_loss=2000)
    case.do("publish_warning", date(2026, 9, 2))
    case.do("simplified_determination", date(2026, 9, 2))
    # Amended, still without casualties: the simplified procedure stands.
    case.do("amend_casualties", date(2026, 9, 3), deaths=0, serious_injuries=0)
    assert case.ready() == ["amend_casualties"]
    # The simplified branch waits for the same end of the window; the sweep that closes it
    # (next_timer_at) closes both.
    assert case.timers() == {"amendment_window": "2026-09-08T23:59:59+08:00"}
    case.sweep(date(2026, 9, 8))
    assert not case.instance.completed
    case.sweep(date(2026, 9, 9))
    assert case.instance.completed
    assert milestones(case) == []


def test_a_general_fire_amended_to_fatal_gets_the_government_investigation_and_province_report(
    engine, clock
):
    case = register(engine, clock, warn=False, site_type="residence", direct_loss=200_000)
    case.do("publish_warning", date(2026, 9, 2))
    assert case.instance.data["procedure"] == "general"
    assert case.ready() == sorted([*INVESTIGATION, "amend_casualties"])
    case.do("amend_casualties", date(2026, 9, 3), deaths=1, serious_injuries=0)
    assert case.ready() == GENERAL_OPENED
    assert sorted(milestones(case)) == ["leadership_newly_required", "province_newly_required"]
    assert agencies(case)["leadership_investigation"] == "government:dingcheng"
    # A further amendment does not open them twice.
    case.do("amend_casualties", date(2026, 9, 5), deaths=2, serious_injuries=0)
    assert case.ready() == GENERAL_OPENED


def test_a_warning_published_after_an_amendment_goes_by_the_amended_facts(engine, clock):
    case = register(engine, clock, warn=False, site_type="residence", direct_loss=200_000)
    case.do("amend_casualties", date(2026, 9, 2), deaths=1, serious_injuries=0)
    assert "report_warning_to_province" not in case.ready()  # the warning is not published yet
    case.do("publish_warning", date(2026, 9, 3))
    assert "report_warning_to_province" in case.ready()


def test_the_amendment_window_is_not_moved_off_rest_days(engine, clock):
    # 条例493 §13 “自发生之日起7日内”: a fire on 09-24 counts casualties until the end of 10-01,
    # National Day or not (grade-fire's casualty_amendment_until says the same).
    day = date(2026, 9, 24)
    case = CaseDriver(engine, clock, day, CASE, process="fire_accountability")
    case.do("register_fire", day, site_type="residence", direct_loss=200_000)
    assert case.timers() == {
        "amendment_window": "2026-10-01T23:59:59+08:00",
        "determination_deadline": "2026-10-26T23:59:59+08:00",
    }
    case.sweep(date(2026, 10, 2))
    assert "amend_casualties" not in case.ready()


def test_the_credit_reply_period_is_a_legal_setting(engine, clock):
    from workflows.legal_settings import defaults

    assert defaults()["credit_reply_working_days"] == 10
    settings = {**defaults(), "credit_reply_working_days": 5}
    case = CaseDriver(engine, clock, ALARM, CASE, "fire_accountability", settings=settings)
    case.do("register_fire", ALARM, site_type="crowded_place")
    case.sweep(date(2026, 9, 9))
    case.do("publish_warning", date(2026, 9, 9))
    determine_and_serve(case)
    case.do("review_request", date(2026, 9, 30))
    case.do("review_acceptance", date(2026, 10, 9), accepted=False, reason="逾期申请。")
    case.do("responsibility_investigation", date(2026, 10, 12))
    due = "2026-10-19T23:59:59+08:00"  # 5 working days after Mon 10-12, the referral
    assert case.timers() == {f"{task}_deadline": due for task in CREDIT_TASKS}
