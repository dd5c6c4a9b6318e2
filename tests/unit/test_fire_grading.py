"""The four decisions of the accountability process at every threshold (DOMAIN.md §4).

Each decision's basis cites its article; property-only jurisdiction and the simplified
procedure's loss limit are legal settings (bpmn/legal_settings.json).

"以上" includes the number: 3 deaths is 较大, 2 is 一般. The tables run through
SpiffWorkflow's DMN engine (:mod:`workflows.fire_grading`), the same tables the process runs.
"""

from datetime import date

import pytest

from workflows import legal_settings
from workflows.fire_grading import grade, key_dates, report, run_decisions

YI = 100_000_000  # 1亿元
WAN = 10_000


@pytest.mark.parametrize(
    ("facts", "level", "basis"),
    [
        ({"deaths": 2}, "general", "为一般火灾"),
        ({"deaths": 3}, "larger", "死亡3人以上10人以下"),
        ({"deaths": 9}, "larger", "死亡3人以上10人以下"),
        ({"deaths": 10}, "serious", "死亡10人以上30人以下"),
        ({"deaths": 29}, "serious", "死亡10人以上30人以下"),
        ({"deaths": 30}, "especially_serious", "死亡30人以上"),
        ({"serious_injuries": 9}, "general", "为一般火灾"),
        ({"serious_injuries": 10}, "larger", "重伤10人以上50人以下"),
        ({"serious_injuries": 49}, "larger", "重伤10人以上50人以下"),
        ({"serious_injuries": 50}, "serious", "重伤50人以上100人以下"),
        ({"serious_injuries": 99}, "serious", "重伤50人以上100人以下"),
        ({"serious_injuries": 100}, "especially_serious", "重伤100人以上"),
        ({"direct_loss": 1000 * WAN - 1}, "general", "为一般火灾"),
        ({"direct_loss": 1000 * WAN}, "larger", "直接财产损失1000万元以上5000万元以下"),
        ({"direct_loss": 5000 * WAN - 1}, "larger", "直接财产损失1000万元以上5000万元以下"),
        ({"direct_loss": 5000 * WAN}, "serious", "直接财产损失5000万元以上1亿元以下"),
        ({"direct_loss": YI - 1}, "serious", "直接财产损失5000万元以上1亿元以下"),
        ({"direct_loss": YI}, "especially_serious", "直接财产损失1亿元以上"),
        # The highest level reached by any measure wins.
        ({"deaths": 3, "serious_injuries": 50}, "serious", "重伤50人以上100人以下"),
        ({"deaths": 1, "serious_injuries": 1, "direct_loss": YI}, "especially_serious", "1亿元"),
        ({"deaths": 30, "direct_loss": 1000 * WAN}, "especially_serious", "死亡30人以上"),
    ],
)
def test_fire_level(facts, level, basis):
    grading = grade(**facts)
    assert grading.level.value == level
    assert basis in grading.level.basis
    assert grading.level_rank == {"general": 1, "larger": 2, "serious": 3}.get(level, 4)


ART6 = "第六条第一款"


@pytest.mark.parametrize(
    ("facts", "level", "basis"),
    [
        ({}, "county", "第（三）项"),
        ({"deaths": 1}, "city", "死亡一人以上"),
        ({"deaths": 9}, "city", "死亡一人以上"),
        ({"deaths": 10}, "province", "死亡十人以上"),
        ({"serious_injuries": 9}, "county", "重伤十人以下或者受灾三十户以下"),
        ({"serious_injuries": 10}, "city", "重伤十人以上"),
        ({"serious_injuries": 19}, "city", "重伤十人以上"),
        ({"serious_injuries": 20}, "province", "重伤二十人以上"),
        # Deaths and serious injuries together (第六条第一款第（一）项 "死亡、重伤二十人以上").
        ({"deaths": 5, "serious_injuries": 15}, "province", "死亡、重伤合计二十人以上"),
        ({"deaths": 5, "serious_injuries": 14}, "city", "死亡一人以上"),
        ({"deaths": 1, "serious_injuries": 19}, "province", "死亡、重伤合计二十人以上"),
        ({"deaths": 9, "serious_injuries": 10}, "city", "死亡一人以上"),
        ({"households_affected": 29}, "county", "受灾三十户以下"),
        ({"households_affected": 30}, "city", "受灾三十户以上"),
        ({"households_affected": 49}, "city", "受灾三十户以上"),
        ({"households_affected": 50}, "province", "受灾五十户以上"),
        # Minor injuries do not move a fire up; they do make it more than a property-only fire.
        ({"minor_injuries": 30}, "county", "第（三）项"),
    ],
)
def test_investigating_level(facts, level, basis):
    grading = grade(**facts)
    assert grading.investigating_level.value == level
    assert basis in grading.investigating_level.basis
    assert "《火灾事故调查规定》" in grading.investigating_level.basis
    assert "第六条" in grading.investigating_level.basis


@pytest.mark.parametrize(
    ("facts", "level"),
    [
        # Property-only fires: the province's jurisdiction rule, administrator data whose
        # defaults are the 较大/重大 loss thresholds (bpmn/legal_settings.json).
        ({"direct_loss": 1000 * WAN - 1}, "county"),
        ({"direct_loss": 1000 * WAN}, "city"),
        ({"direct_loss": 5000 * WAN - 1}, "city"),
        ({"direct_loss": 5000 * WAN}, "province"),
        ({"direct_loss": YI}, "province"),
        # The loss tiers are compared for fires with casualties too, and the higher of the
        # casualty/household tier and the loss tier wins: a 特别重大 loss with one minor injury
        # is not left to the county (an interpretation of §6, documented in the DMN).
        ({"direct_loss": YI, "minor_injuries": 1}, "province"),
        ({"direct_loss": YI, "serious_injuries": 1}, "province"),
        ({"direct_loss": 1000 * WAN, "serious_injuries": 1}, "city"),
        ({"direct_loss": 1000 * WAN - 1, "serious_injuries": 9}, "county"),
        ({"direct_loss": 1000 * WAN, "households_affected": 50}, "province"),
        ({"direct_loss": 6000 * WAN, "households_affected": 35}, "province"),
        ({"direct_loss": 100, "households_affected": 35}, "city"),
        ({"direct_loss": 6000 * WAN, "deaths": 1}, "province"),
    ],
)
def test_property_only_fires_follow_the_default_settings(facts, level):
    grading = grade(**facts)
    assert grading.investigating_level.value == level


def test_property_only_fires_follow_the_administrators_settings():
    settings = {
        **legal_settings.defaults(),
        "fire_property_only_city_min_loss": 200 * WAN,
        "fire_property_only_province_min_loss": 800 * WAN,
    }
    cases = [(200 * WAN - 1, "county"), (200 * WAN, "city"), (800 * WAN - 1, "city"),
             (800 * WAN, "province")]  # fmt: skip
    for loss, level in cases:
        grading = grade(direct_loss=loss, settings=settings)
        assert grading.investigating_level.value == level, loss
    basis = grade(direct_loss=800 * WAN, settings=settings).investigating_level.basis
    assert "8000000元" in basis and "直接财产损失达到" in basis


@pytest.mark.parametrize(
    ("facts", "mandatory", "basis"),
    [
        ({"deaths": 1, "site_type": "residence"}, True, "亡人火灾"),
        ({"site_type": "crowded_place"}, True, "人员密集场所火灾"),
        ({"site_type": "industrial_mining"}, True, "工矿企业火灾"),
        ({"site_type": "production_business", "serious_injuries": 10}, True, "较大以上火灾"),
        ({"site_type": "production_business"}, False, "不在“失火即追责”逐起调查追责范围"),
        ({"site_type": "non_production"}, False, "不在“失火即追责”逐起调查追责范围"),
        # A general fire with social impact: the county government investigates (87号 §28).
        ({"site_type": "residence", "major_social_impact": True}, True, "87号 第二十八条"),
        ({"site_type": "residence", "serious_injuries": 9}, False, "不在"),
    ],
)
def test_whether_the_fire_is_investigated(facts, mandatory, basis):
    grading = grade(**facts)
    assert grading.investigation_mandatory.value is mandatory
    assert basis in grading.investigation_mandatory.basis
    assert any(source in grading.investigation_mandatory.basis for source in ("二(六)3", "87号"))


SIMPLE = {"site_type": "residence", "direct_loss": 3 * WAN}  # meets all four conditions


@pytest.mark.parametrize(
    ("facts", "procedure", "basis"),
    [
        (SIMPLE, "simplified", "同时具备四项条件"),
        ({**SIMPLE, "site_type": "non_production"}, "simplified", "同时具备四项条件"),
        ({**SIMPLE, "site_type": "production_business"}, "simplified", "同时具备四项条件"),
        ({**SIMPLE, "direct_loss": 0}, "simplified", "同时具备四项条件"),
        # (一) no deaths and no injuries at all, a minor injury included.
        ({**SIMPLE, "deaths": 1}, "general", "有人员死亡"),
        ({**SIMPLE, "serious_injuries": 1}, "general", "有人员受伤（含轻伤）"),
        ({**SIMPLE, "serious_injuries": 9}, "general", "有人员受伤（含轻伤）"),
        ({**SIMPLE, "minor_injuries": 1}, "general", "有人员受伤（含轻伤）"),
        # (二) a slight loss: below the administrator's limit (default 5万元, not included).
        ({**SIMPLE, "direct_loss": 5 * WAN - 1}, "simplified", "同时具备四项条件"),
        ({**SIMPLE, "direct_loss": 5 * WAN}, "general", "直接财产损失轻微"),
        ({**SIMPLE, "direct_loss": 900 * WAN}, "general", "直接财产损失轻微"),
        # (三) the parties do not dispute the facts; (四) no suspicion of arson.
        ({**SIMPLE, "facts_disputed": True}, "general", "有异议"),
        ({**SIMPLE, "arson_suspected": True}, "general", "放火嫌疑"),
        # A fire with social impact is investigated by the government: never simplified.
        ({**SIMPLE, "major_social_impact": True}, "general", "产生社会影响"),
        # 失火即追责: whole-chain investigation keeps the general procedure.
        ({**SIMPLE, "site_type": "crowded_place"}, "general", "失火即追责"),
        ({**SIMPLE, "site_type": "industrial_mining"}, "general", "失火即追责"),
    ],
)
def test_procedure(facts, procedure, basis):
    grading = grade(**facts)
    assert grading.procedure.value == procedure
    assert basis in grading.procedure.basis
    assert "《火灾事故调查规定》" in grading.procedure.basis or "二(六)3" in grading.procedure.basis


def test_simplified_iff_the_four_conditions_hold_and_not_investigated_along_the_chain():
    for site in ("crowded_place", "industrial_mining", "production_business", "non_production",
                 "residence"):  # fmt: skip
        for extra in ({}, {"minor_injuries": 1}, {"facts_disputed": True},
                      {"arson_suspected": True}, {"direct_loss": 5 * WAN}):  # fmt: skip
            facts = {**SIMPLE, "site_type": site, **extra}
            grading = grade(**facts)
            four = not extra
            expected = four and not grading.investigation_mandatory.value
            assert (grading.procedure.value == "simplified") is expected, facts


def test_the_simplified_loss_limit_is_the_administrators():
    settings = {**legal_settings.defaults(), "fire_simplified_direct_loss_below": 10 * WAN}
    assert grade(**{**SIMPLE, "direct_loss": 10 * WAN - 1}, settings=settings).procedure.value == (
        "simplified"
    )
    general = grade(**{**SIMPLE, "direct_loss": 10 * WAN}, settings=settings).procedure
    assert general.value == "general"
    assert "100000元" in general.basis


def test_old_registrations_without_the_new_facts_still_run():
    # Data stored before minor injuries, dispute and arson were recorded: the tables default them.
    old = {"deaths": 0, "serious_injuries": 0, "direct_loss": 20000, "households_affected": 0,
           "site_type": "residence", "major_social_impact": False}  # fmt: skip
    out = run_decisions({"register_fire": old})
    assert out["procedure"] == "simplified"
    assert out["investigating_level"] == "county"


@pytest.mark.parametrize(
    ("facts", "scope", "basis"),
    [
        ({"site_type": "non_production"}, "county", "非生产经营场所一般火灾"),
        ({"site_type": "residence"}, "county", "非生产经营场所一般火灾"),
        ({"site_type": "production_business"}, "city", "生产经营场所一般火灾"),
        ({"site_type": "crowded_place"}, "city", "生产经营场所一般火灾"),
        ({"site_type": "industrial_mining"}, "city", "生产经营场所一般火灾"),
        ({"site_type": "residence", "deaths": 1}, "province", "亡人火灾"),
        ({"site_type": "industrial_mining", "deaths": 1}, "province", "亡人火灾"),
        ({"site_type": "residence", "major_social_impact": True}, "province", "较大社会影响"),
        ({"site_type": "non_production", "direct_loss": 1000 * WAN}, "province", "较大以上火灾"),
    ],
)
def test_warning_scope(facts, scope, basis):
    grading = grade(**facts)
    assert grading.warning_scope.value == scope
    assert basis in grading.warning_scope.basis


def test_leadership_responsibility_from_larger_fires_on():
    assert not grade(deaths=2, site_type="industrial_mining").leadership_investigation
    assert grade(deaths=3).leadership_investigation
    assert grade(direct_loss=YI).leadership_investigation


def test_the_process_holds_what_the_standalone_tables_give(engine, clock):
    from tests.support.driver import CaseDriver
    from tests.support.fire_accountability import sample

    facts = {"deaths": 4, "serious_injuries": 12, "households_affected": 31}
    day = date(2026, 9, 1)
    case = CaseDriver(
        engine,
        clock,
        day,
        {"discoverer_agency": "fire_brigade:dingcheng", "district": "dingcheng"},
        process="fire_accountability",
    )
    case.do("register_fire", day, **facts)
    expected = run_decisions({"register_fire": sample("register_fire", day, **facts)})
    data = case.instance.data
    for key in ("fire_level", "fire_level_basis", "investigation_mandatory", "procedure",
                "procedure_basis", "investigating_level", "warning_scope",
                "warning_scope_basis"):  # fmt: skip
        assert data[key] == expected[key]


def test_an_unknown_site_type_is_refused():
    with pytest.raises(ValueError, match="unknown site type"):
        grade(site_type="castle")


def test_the_process_takes_the_general_procedure_for_5_deaths_and_15_serious_injuries(
    engine, clock
):
    from tests.support.driver import CaseDriver

    facts = {"deaths": 5, "serious_injuries": 15, "site_type": "residence"}
    day = date(2026, 9, 1)
    case = CaseDriver(
        engine,
        clock,
        day,
        {"discoverer_agency": "fire_brigade:dingcheng", "district": "dingcheng"},
        process="fire_accountability",
    )
    case.do("register_fire", day, **facts)
    data = case.instance.data
    assert (data["investigating_level"], data["procedure"]) == ("province", "general")


def test_key_dates_count_from_the_fire():
    # 30 calendar days from the alarm (§18), moved off a final rest day: 2026-10-01 is 国庆.
    dates = key_dates(date(2026, 9, 1))
    assert dates["determination_due"] == "2026-10-08T23:59:59+08:00"
    assert dates["determination_due_provisional"] is False
    # 7 days of the fire for changed casualties (条例493 §13), not moved off rest days.
    assert dates["casualty_amendment_until"] == "2026-09-08T23:59:59+08:00"
    assert key_dates(date(2026, 6, 1))["determination_due"] == "2026-07-01T23:59:59+08:00"


def test_report_names_every_verdict_and_its_basis():
    out = report(grade(deaths=5, serious_injuries=15), date(2026, 9, 1))
    assert out["fire_level"] == "larger" and out["fire_level_name"] == "较大火灾"
    assert (out["investigating_level"], out["procedure"]) == ("province", "general")
    assert out["procedure_name"] == "一般程序"
    assert set(out["basis"]) == {"fire_level", "investigation_mandatory", "procedure",
                                 "investigating_level", "warning_scope"}  # fmt: skip
    assert "第三条" in out["basis"]["fire_level"]


@pytest.mark.parametrize(
    "facts",
    [
        # The two cases the issue names: serious injuries, and a ¥9M loss, used to go simplified.
        {"site_type": "residence", "serious_injuries": 9, "direct_loss": 3 * WAN},
        {"site_type": "residence", "direct_loss": 900 * WAN},
        {"site_type": "non_production", "minor_injuries": 1, "direct_loss": 3 * WAN},
        {"site_type": "residence", "direct_loss": 3 * WAN, "facts_disputed": True},
        {"site_type": "residence", "direct_loss": 3 * WAN, "arson_suspected": True},
    ],
)
def test_the_gateway_sends_general_procedure_fires_to_the_investigation(engine, clock, facts):
    from tests.support.driver import CaseDriver

    day = date(2026, 9, 1)
    case = CaseDriver(
        engine,
        clock,
        day,
        {"discoverer_agency": "fire_brigade:dingcheng", "district": "dingcheng"},
        process="fire_accountability",
    )
    case.do("register_fire", day, **facts)
    data = case.instance.data
    assert (data["procedure"], data["investigation_mandatory"]) == ("general", False)
    ready = case.ready()
    assert "cause_investigation" in ready and "simplified_determination" not in ready
