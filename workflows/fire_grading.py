"""Fire grading for the accountability process (失火即追责): the four decisions, standalone.

The rules live in four DMN files in ``bpmn/`` only (SpiffWorkflow reads one decision per
file): ``fire_level.dmn``, ``fire_investigation_mode.dmn``, ``fire_investigating_level.dmn``
and ``fire_warning_scope.dmn``. The process runs its four decisions
as business rule tasks in this order — fire level, whether to investigate, the investigating
level, the public-warning scope — each reading the registration ``register_fire`` (and the
later ones the fire level's rank). :func:`grade` runs the same tables in the same order, for
the CLI, the registration preview and the tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from workflows import decisions

BPMN_DIR = Path(__file__).resolve().parent.parent / "bpmn"

#: The decisions (id → DMN file) in the order the process takes them.
DECISIONS: dict[str, Path] = {
    "fire_level": BPMN_DIR / "fire_level.dmn",
    "investigation_mode": BPMN_DIR / "fire_investigation_mode.dmn",
    "investigating_level": BPMN_DIR / "fire_investigating_level.dmn",
    "warning_scope": BPMN_DIR / "fire_warning_scope.dmn",
}

SITE_TYPES: dict[str, str] = {
    "crowded_place": "人员密集场所",
    "industrial_mining": "工矿企业",
    "production_business": "其他生产经营场所",
    "non_production": "非生产经营场所",
    "residence": "居民住宅",
}
FIRE_LEVELS: dict[str, str] = {
    "especially_serious": "特别重大火灾",
    "serious": "重大火灾",
    "larger": "较大火灾",
    "general": "一般火灾",
}
INVESTIGATING_LEVELS: dict[str, str] = {"province": "省级", "city": "市级", "county": "县级"}
WARNING_SCOPES: dict[str, str] = {
    "county": "事故发生地全县范围",
    "city": "全市范围",
    "province": "上报省级",
}


@dataclass(frozen=True)
class Verdict:
    """One decision's answer and the rule that gave it."""

    value: Any
    basis: str


@dataclass(frozen=True)
class FireGrading:
    """The four verdicts for one fire."""

    level: Verdict  # especially_serious / serious / larger / general
    level_rank: int  # 4 … 1
    investigation_mandatory: Verdict  # bool
    investigating_level: Verdict  # province / city / county
    warning_scope: Verdict  # province / city / county

    @property
    def leadership_investigation(self) -> bool:
        """Fires of level 较大 and above also pursue leadership responsibility."""
        return bool(self.investigation_mandatory.value) and self.level_rank >= 2


@cache
def _script_engine() -> Any:
    # Imported here: the script environment imports workflow modules for its helpers.
    from workflows.script_env import DubanScriptEngine

    return DubanScriptEngine()


def run_decisions(data: Mapping[str, Any]) -> dict[str, Any]:
    """Run the four decisions in process order on task ``data`` (with ``register_fire``);
    return the data with every decision's outputs added, as the process would hold it."""
    state = dict(data)
    for decision, path in DECISIONS.items():
        state.update(decisions.evaluate(path, decision, state, _script_engine()))
    return state


def grade(
    *,
    deaths: int = 0,
    serious_injuries: int = 0,
    direct_loss: int = 0,
    households_affected: int = 0,
    site_type: str = "non_production",
    major_social_impact: bool = False,
) -> FireGrading:
    """Grade a fire from its registration facts (direct loss in yuan)."""
    if site_type not in SITE_TYPES:
        raise ValueError(f"unknown site type {site_type!r}; one of {', '.join(SITE_TYPES)}")
    facts = {
        "deaths": deaths,
        "serious_injuries": serious_injuries,
        "direct_loss": direct_loss,
        "households_affected": households_affected,
        "site_type": site_type,
        "major_social_impact": major_social_impact,
    }
    out = run_decisions({"register_fire": facts})
    return FireGrading(
        level=Verdict(out["fire_level"], out["fire_level_basis"]),
        level_rank=int(out["fire_level_rank"]),
        investigation_mandatory=Verdict(
            bool(out["investigation_mandatory"]), out["investigation_basis"]
        ),
        investigating_level=Verdict(out["investigating_level"], out["investigating_level_basis"]),
        warning_scope=Verdict(out["warning_scope"], out["warning_scope_basis"]),
    )
