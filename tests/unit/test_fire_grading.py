"""The four decisions of the accountability process at every threshold (DOMAIN.md §4).

"以上" includes the number: 3 deaths is 较大, 2 is 一般. The tables run through
SpiffWorkflow's DMN engine (:mod:`workflows.fire_grading`), the same tables the process runs.
"""

from datetime import date

import pytest

from workflows.fire_grading import grade, run_decisions

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


@pytest.mark.parametrize(
    ("facts", "level", "basis"),
    [
        ({}, "county", "未达到市级调查标准"),
        ({"deaths": 1}, "city", "死亡1人以上"),
        ({"deaths": 9}, "city", "死亡1人以上"),
        ({"deaths": 10}, "province", "死亡10人以上"),
        ({"serious_injuries": 9}, "county", "未达到"),
        ({"serious_injuries": 10}, "city", "重伤10人以上"),
        ({"serious_injuries": 19}, "city", "重伤10人以上"),
        ({"serious_injuries": 20}, "province", "重伤20人以上"),
        ({"households_affected": 29}, "county", "未达到"),
        ({"households_affected": 30}, "city", "受灾30户以上"),
        ({"households_affected": 49}, "city", "受灾30户以上"),
        ({"households_affected": 50}, "province", "受灾50户以上"),
        # Losses do not decide who investigates.
        ({"direct_loss": YI}, "county", "未达到"),
    ],
)
def test_investigating_level(facts, level, basis):
    grading = grade(**facts)
    assert grading.investigating_level.value == level
    assert basis in grading.investigating_level.basis


@pytest.mark.parametrize(
    ("facts", "mandatory", "basis"),
    [
        ({"deaths": 1, "site_type": "residence"}, True, "亡人火灾"),
        ({"site_type": "crowded_place"}, True, "人员密集场所火灾"),
        ({"site_type": "industrial_mining"}, True, "工矿企业火灾"),
        ({"site_type": "production_business", "serious_injuries": 10}, True, "较大以上火灾"),
        ({"site_type": "production_business"}, False, "按简易程序认定"),
        ({"site_type": "non_production"}, False, "按简易程序认定"),
        ({"site_type": "residence", "serious_injuries": 9}, False, "按简易程序认定"),
    ],
)
def test_whether_the_fire_is_investigated(facts, mandatory, basis):
    grading = grade(**facts)
    assert grading.investigation_mandatory.value is mandatory
    assert basis in grading.investigation_mandatory.basis


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
    for key in ("fire_level", "fire_level_basis", "investigation_mandatory", "investigating_level",
                "warning_scope", "warning_scope_basis"):  # fmt: skip
        assert data[key] == expected[key]


def test_an_unknown_site_type_is_refused():
    with pytest.raises(ValueError, match="unknown site type"):
        grade(site_type="castle")
