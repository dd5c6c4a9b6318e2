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
)

# Who is told when a deadline of an agency is missed: the level above.
LEVEL_ABOVE: dict[str, str] = {
    "fire_brigade": "government",
    "government": "safety_office:city",
    "safety_office": "safety_office:city",
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


def escalation_targets(agency: str, district: str) -> list[str]:
    """Return the agencies told about a missed deadline of ``agency``: itself and the level above.

    A county-level agency escalates to its division's government, the government to the city
    fire safety committee office (消安委办).
    """
    kind = agency.split(":", 1)[0]
    above = LEVEL_ABOVE.get(kind, "government")
    target = above if ":" in above else agency_code(above, district)
    return [agency] if target == agency else [agency, target]
