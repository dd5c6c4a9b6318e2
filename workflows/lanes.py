"""Lane resolution: which concrete agency works a lane of a given case.

BPMN lanes name roles (``fire_rescue``, ``government`` …). The rule table below maps
(lane, case jurisdiction, case data) to an agency code (see :mod:`workflows.jurisdiction`).
Rules are tried in order; the first whose condition holds and which yields an agency wins.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from workflows.jurisdiction import CITY, DIVISIONS_BY_CODE, agency_code

Data = Mapping[str, Any]


class LaneResolutionError(LookupError):
    """No rule yields an agency for a lane of a case."""


def _field(data: Data, form: str, name: str) -> str | None:
    value = data.get(form)
    if isinstance(value, Mapping):
        found = value.get(name)
        return found if isinstance(found, str) and found else None
    return None


def _discoverer(district: str, data: Data) -> str | None:
    return _field(data, "case", "discoverer_agency")


def _top(data: Data, name: str) -> str | None:
    value = data.get(name)
    return value if isinstance(value, str) and value else None


def _investigated_by_county(data: Data) -> bool:
    return _top(data, "investigating_level") == "county"


def _warned_county_wide(data: Data) -> bool:
    return _top(data, "warning_scope") == "county"


def _fixed(code: str) -> Callable[[str, Data], str]:
    return lambda district, data: code


def _city(kind: str) -> Callable[[str, Data], str]:
    return _fixed(agency_code(kind, CITY))


#: City departments asked for credit joint punishment (信用联合惩戒): lane → department code.
CREDIT_DEPARTMENTS: dict[str, str] = {
    "development_reform": "industry:city:fagai",
    "housing": "industry:city:zhujian",
    "finance": "industry:city:caizheng",
    "market_regulation": "industry:city:shijian",
}


def _determined_not_major_by_fire_rescue(data: Data) -> bool:
    return _field(data, "collective_deliberation", "outcome") == "not_major"


@dataclass(frozen=True)
class LaneRule:
    """One row of the table: for ``lane``, when ``applies`` holds, ``agency`` gives the code."""

    lane: str
    description: str
    agency: Callable[[str, Data], str | None]
    applies: Callable[[Data], bool] = lambda data: True


LANE_RULES: tuple[LaneRule, ...] = (
    LaneRule("discoverer", "the agency that registered the hazard", _discoverer),
    LaneRule(
        "fire_rescue",
        "the fire rescue brigade of the case's division",
        lambda district, data: agency_code("fire_brigade", district),
    ),
    LaneRule(
        "government",
        "the people's government of the case's division",
        lambda district, data: agency_code("government", district),
    ),
    LaneRule(
        "safety_office",
        "the fire safety committee office of the case's division",
        lambda district, data: agency_code("safety_office", district),
    ),
    LaneRule(
        "supervising_department",
        "the department the government named in the rectification plan",
        lambda district, data: _field(data, "set_rectification_plan", "supervising_agency"),
        lambda data: _field(data, "government_decision", "decision") == "agree",
    ),
    LaneRule(
        "supervising_department",
        "the department fire rescue named when enforcing under its own powers",
        lambda district, data: _field(data, "enforce_by_fire_rescue", "supervising_agency"),
    ),
    LaneRule(
        "supervising_department",
        "for an ordinary hazard found not major at deliberation: the fire rescue brigade",
        lambda district, data: agency_code("fire_brigade", district),
        _determined_not_major_by_fire_rescue,
    ),
    LaneRule(
        "supervising_department",
        "for an ordinary hazard judged at discovery: the discovering agency",
        _discoverer,
    ),
    # The fire-accountability process (失火即追责).
    LaneRule(
        "investigator",
        "a fire investigated at county level: the fire rescue brigade of the case's division",
        lambda district, data: agency_code("fire_brigade", district),
        _investigated_by_county,
    ),
    LaneRule(
        "investigator",
        "a fire investigated at city or province level: the city fire rescue detachment "
        "(for a provincial investigation it records the corps' work)",
        _city("fire_detachment"),
    ),
    LaneRule(
        "reviewer",
        "extension approvals and reviews: the city fire rescue detachment (the level above a "
        "brigade; for city-level investigations it records the provincial corps' decisions)",
        _city("fire_detachment"),
    ),
    LaneRule(
        "city_government",
        "leadership responsibility of a fire of level 较大 or above: the city government "
        "(process versions before the government-led investigation by level)",
        _city("government"),
    ),
    # 国办发〔2017〕87号 §28 and 国务院令第493号 §19: a general fire (fatal, or of social impact)
    # is investigated by the county-level government, 较大 by the city, 重大 by the province,
    # 特别重大 by the State Council; the system has no provincial or national users, so the
    # city government records the higher government's investigation.
    LaneRule(
        "investigating_government",
        "a general fire: the people's government of the case's division",
        lambda district, data: agency_code("government", district),
        lambda data: data.get("fire_level_rank") == 1,
    ),
    LaneRule(
        "investigating_government",
        "a fire of level 较大 or above: the city government (for 重大 and 特别重大 it records the "
        "provincial government's or the State Council's investigation)",
        _city("government"),
    ),
    LaneRule(
        "warning_publisher",
        "a county-wide warning: the people's government of the case's division",
        lambda district, data: agency_code("government", district),
        _warned_county_wide,
    ),
    LaneRule(
        "warning_publisher",
        "a city-wide warning or one reported to the province: the city safety committee office",
        _city("safety_office"),
    ),
    LaneRule("city_safety_office", "the city fire safety committee office", _city("safety_office")),
    # The reports the plan requires (bpmn/monthly_report.bpmn, bpmn/annual_report.bpmn): the
    # system generates a draft for each reporting agency and names it in the case's data.
    LaneRule(
        "reporting_office",
        "a report's reporting agency, named by the system in the case data "
        "(monthly: a county's safety committee office; annual: also a city industry department)",
        lambda district, data: _field(data, "case", "reporting_agency"),
    ),
    *(
        LaneRule(lane, f"credit joint punishment: {code}", _fixed(code))
        for lane, code in CREDIT_DEPARTMENTS.items()
    ),
)

#: Lanes whose first task a city-level agency of the same line may also work (the city fire
#: rescue detachment may register a fire in any division, as a brigade does in its own).
CITY_LEVEL_STARTERS: dict[str, str] = {"fire_rescue": "fire_detachment:city"}

#: Processes no user opens: the system starts one case per reporting agency and period (the
#: monthly report on the 1st, the annual report on its draft date; server/report_cases.py).
SYSTEM_STARTED: frozenset[str] = frozenset({"monthly_report", "annual_report"})

# Who is told when a deadline of an agency is missed: the level above.
LEVEL_ABOVE: dict[str, str] = {
    "fire_brigade": "government",
    "government": "safety_office:city",
    "safety_office": "safety_office:city",
}
# The same for city-level agencies: departments answer to the city safety committee office
# (which coordinates its member departments), the office and the detachment to the city
# government.
CITY_LEVEL_ABOVE: dict[str, str] = {
    "industry": "safety_office:city",
    "safety_office": "government:city",
    "fire_detachment": "government:city",
    "government": "government:city",
}


def resolve_lane(lane: str, district: str, data: Data) -> str:
    """Return the agency code that works ``lane`` for a case in ``district`` with ``data``.

    :raises LaneResolutionError: when the district is unknown or no rule applies.
    """
    if district not in DIVISIONS_BY_CODE and district != CITY:
        raise LaneResolutionError(f"unknown district {district!r}")
    for rule in LANE_RULES:
        if rule.lane == lane and rule.applies(data):
            agency = rule.agency(district, data)
            if agency:
                return agency
    raise LaneResolutionError(f"no agency for lane {lane!r} in {district!r}")


def may_start(lane: str, agency: str, district: str, data: Data) -> bool:
    """Whether ``agency`` may open a case whose first task is in ``lane``: the agency the lane
    resolves to, or the city-level agency named in :data:`CITY_LEVEL_STARTERS`.

    The ``discoverer`` lane is open to every agency that discovers hazards: a property of the
    agency the caller checks (it resolves to no agency before a case exists).
    """
    if CITY_LEVEL_STARTERS.get(lane) == agency:
        return True
    try:
        return resolve_lane(lane, district, data) == agency
    except LaneResolutionError:
        return False


def escalation_targets(agency: str, district: str) -> list[str]:
    """Return the agencies told about a missed deadline of ``agency``: itself and the level above.

    A county-level agency escalates to its division's government, the government to the city
    fire safety committee office (消安委办).
    """
    kind, _, rest = agency.partition(":")
    if rest.split(":", 1)[0] == CITY:
        target = CITY_LEVEL_ABOVE.get(kind, "government:city")
    else:
        above = LEVEL_ABOVE.get(kind, "government")
        target = above if ":" in above else agency_code(above, district)
    return [agency] if target == agency else [agency, target]
