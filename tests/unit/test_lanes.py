"""Lane resolution: (lane, jurisdiction, case data) → agency code, without a database."""

import pytest

from workflows.jurisdiction import DIVISIONS
from workflows.lanes import LaneResolutionError, escalation_targets, resolve_lane

CASE = {"case": {"discoverer_agency": "street:wuling:nanping", "district": "wuling"}}


@pytest.mark.parametrize("division", [d.code for d in DIVISIONS])
def test_fixed_lanes_follow_the_division(division):
    assert resolve_lane("fire_rescue", division, CASE) == f"fire_brigade:{division}"
    assert resolve_lane("government", division, CASE) == f"government:{division}"
    assert resolve_lane("safety_office", division, CASE) == f"safety_office:{division}"


def test_discoverer_is_the_registering_agency():
    assert resolve_lane("discoverer", "wuling", CASE) == "street:wuling:nanping"


def test_supervising_department_for_an_ordinary_hazard_at_discovery():
    assert resolve_lane("supervising_department", "wuling", CASE) == "street:wuling:nanping"


def test_supervising_department_when_fire_rescue_found_it_not_major():
    data = {**CASE, "collective_deliberation": {"outcome": "not_major"}}
    assert resolve_lane("supervising_department", "wuling", data) == "fire_brigade:wuling"


def test_supervising_department_named_by_the_government():
    data = {
        **CASE,
        "collective_deliberation": {"outcome": "major"},
        "government_decision": {"decision": "agree"},
        "set_rectification_plan": {"supervising_agency": "industry:city:zhujian"},
    }
    assert resolve_lane("supervising_department", "wuling", data) == "industry:city:zhujian"


def test_supervising_department_named_by_fire_rescue_after_disagreement():
    data = {
        **CASE,
        "collective_deliberation": {"outcome": "major"},
        "government_decision": {"decision": "disagree"},
        "enforce_by_fire_rescue": {"supervising_agency": "street:wuling:nanping"},
    }
    assert resolve_lane("supervising_department", "wuling", data) == "street:wuling:nanping"


def test_unknown_district_or_lane_is_an_error():
    with pytest.raises(LaneResolutionError):
        resolve_lane("fire_rescue", "atlantis", CASE)
    with pytest.raises(LaneResolutionError):
        resolve_lane("no_such_lane", "wuling", CASE)
    with pytest.raises(LaneResolutionError):
        resolve_lane("discoverer", "wuling", {})


def test_escalation_goes_one_level_up():
    assert escalation_targets("street:wuling:nanping", "wuling") == [
        "street:wuling:nanping",
        "government:wuling",
    ]
    assert escalation_targets("fire_brigade:lixian", "lixian") == [
        "fire_brigade:lixian",
        "government:lixian",
    ]
    assert escalation_targets("government:lixian", "lixian") == [
        "government:lixian",
        "safety_office:city",
    ]
