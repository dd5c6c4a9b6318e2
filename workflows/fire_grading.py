"""Fire grading for the accountability process (失火即追责): the four decisions, standalone.

The rules live in four DMN files in ``bpmn/`` only (SpiffWorkflow reads one decision per
file): ``fire_level.dmn``, ``fire_investigation_mode.dmn``, ``fire_investigating_level.dmn``
and ``fire_warning_scope.dmn``. The process runs its four decisions
as business rule tasks in this order — fire level; whether the fire is investigated along the
whole chain and which procedure (简易/一般) applies; the investigating level; the public-warning
scope — each reading the registration ``register_fire``, the case's legal ``settings`` (the
administrator's figures, e.g. the simplified procedure's loss limit) and, for the later ones,
the fire level's rank. :func:`grade` runs the same tables in the same order, for the
``grade-fire`` commands, the previews and the tests; :func:`main` is ``grade-fire``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from workflows import decisions, legal_settings
from workflows.calendar import SHANGHAI, WorkingCalendar, today_shanghai

BPMN_DIR = Path(__file__).resolve().parent.parent / "bpmn"

#: The decisions (id → DMN file) in the order the process takes them.
DECISIONS: dict[str, Path] = {
    "fire_level": BPMN_DIR / "fire_level.dmn",
    "investigation_mode": BPMN_DIR / "fire_investigation_mode.dmn",
    "investigating_level": BPMN_DIR / "fire_investigating_level.dmn",
    "warning_scope": BPMN_DIR / "fire_warning_scope.dmn",
}

#: What the four decisions write into the case data (each verdict, its name and its basis).
DECISION_OUTPUTS: tuple[str, ...] = (
    "fire_level",
    "fire_level_name",
    "fire_level_rank",
    "fire_level_basis",
    "investigation_mandatory",
    "investigation_basis",
    "procedure",
    "procedure_basis",
    "investigating_level",
    "investigating_level_basis",
    "warning_scope",
    "warning_scope_name",
    "warning_scope_basis",
)

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
PROCEDURES: dict[str, str] = {"simplified": "简易程序", "general": "一般程序"}
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
    investigation_mandatory: Verdict  # bool: the plan's whole-chain investigation (失火即追责)
    procedure: Verdict  # simplified / general (《火灾事故调查规定》 ch. 3)
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
    return the data with every decision's outputs added, as the process would hold it.

    ``data["settings"]`` holds the legal settings the tables read; the documented defaults
    (``bpmn/legal_settings.json``) are used when ``data`` has none.
    """
    state = dict(data)
    state.setdefault("settings", legal_settings.defaults())
    for decision, path in DECISIONS.items():
        state.update(decisions.evaluate(path, decision, state, _script_engine()))
    return state


def grade(
    *,
    deaths: int = 0,
    serious_injuries: int = 0,
    minor_injuries: int = 0,
    direct_loss: int = 0,
    households_affected: int = 0,
    site_type: str = "non_production",
    major_social_impact: bool = False,
    facts_disputed: bool = False,
    arson_suspected: bool = False,
    settings: Mapping[str, Any] | None = None,
) -> FireGrading:
    """Grade a fire from its registration facts (direct loss in yuan).

    :param settings: the legal settings to apply (the server passes the effective ones); the
        documented defaults when omitted.
    """
    if site_type not in SITE_TYPES:
        raise ValueError(f"unknown site type {site_type!r}; one of {', '.join(SITE_TYPES)}")
    for name, count in (
        ("deaths", deaths),
        ("serious_injuries", serious_injuries),
        ("minor_injuries", minor_injuries),
        ("direct_loss", direct_loss),
        ("households_affected", households_affected),
    ):
        if count < 0:
            raise ValueError(f"{name} cannot be negative")
    facts = {
        "deaths": deaths,
        "serious_injuries": serious_injuries,
        "minor_injuries": minor_injuries,
        "direct_loss": direct_loss,
        "households_affected": households_affected,
        "site_type": site_type,
        "major_social_impact": major_social_impact,
        "facts_disputed": facts_disputed,
        "arson_suspected": arson_suspected,
    }
    values = legal_settings.defaults() if settings is None else dict(settings)
    out = run_decisions({"register_fire": facts, "settings": values})
    return FireGrading(
        level=Verdict(out["fire_level"], out["fire_level_basis"]),
        level_rank=int(out["fire_level_rank"]),
        investigation_mandatory=Verdict(
            bool(out["investigation_mandatory"]), out["investigation_basis"]
        ),
        procedure=Verdict(out["procedure"], out["procedure_basis"]),
        investigating_level=Verdict(out["investigating_level"], out["investigating_level_basis"]),
        warning_scope=Verdict(out["warning_scope"], out["warning_scope_basis"]),
    )


#: Calendar days from the alarm within which the fire is determined (《火灾事故调查规定》 §18:
#: "应当自接到火灾报警之日起三十日内作出火灾事故认定") — the process's timer.
DETERMINATION_DAYS = 30
#: Days from the fire within which changed casualties are reported again (《生产安全事故报告和
#: 调查处理条例》 §13: "道路交通事故、火灾事故自发生之日起7日内…应当及时补报").
CASUALTY_AMENDMENT_DAYS = 7


def key_dates(on: date, calendar: WorkingCalendar | None = None) -> dict[str, Any]:
    """The dates the law counts from a fire alarmed on ``on``.

    ``determination_due``: the end of the 30th calendar day after the alarm, moved off a final
    rest day — exactly the process's ``determination_deadline`` timer
    (``calendar_days_after(register_fire["alarm_on"], 30)``); appraisal time and an approved
    extension are not known yet and would move it. ``casualty_amendment_until``: the end of the
    7th day after the fire, the last day a death or injury changes the fire's figures (条例493
    §13); it bounds which casualties count, so it is not moved off rest days.
    """
    calendar = calendar or WorkingCalendar()
    due = calendar.calendar_days_after(on, DETERMINATION_DAYS)
    window_end = datetime.combine(
        on + timedelta(days=CASUALTY_AMENDMENT_DAYS), datetime.max.time(), SHANGHAI
    ).replace(microsecond=0)
    return {
        "fire_on": on.isoformat(),
        "determination_due": due.iso(),
        "determination_due_provisional": due.provisional,
        "casualty_amendment_until": window_end.isoformat(),
    }


def report(
    grading: FireGrading, on: date, calendar: WorkingCalendar | None = None
) -> dict[str, Any]:
    """The ``grade-fire`` JSON: each verdict's code and Chinese name, ``basis`` (a mapping from
    verdict to the text of the rule that gave it, each citing its article) and ``dates``."""
    return {
        "fire_level": grading.level.value,
        "fire_level_name": FIRE_LEVELS[grading.level.value],
        "fire_level_rank": grading.level_rank,
        "investigation_mandatory": grading.investigation_mandatory.value,
        "leadership_investigation": grading.leadership_investigation,
        "procedure": grading.procedure.value,
        "procedure_name": PROCEDURES[grading.procedure.value],
        "investigating_level": grading.investigating_level.value,
        "investigating_level_name": INVESTIGATING_LEVELS[grading.investigating_level.value],
        "warning_scope": grading.warning_scope.value,
        "warning_scope_name": WARNING_SCOPES[grading.warning_scope.value],
        "basis": {
            "fire_level": grading.level.basis,
            "investigation_mandatory": grading.investigation_mandatory.basis,
            "procedure": grading.procedure.basis,
            "investigating_level": grading.investigating_level.basis,
            "warning_scope": grading.warning_scope.basis,
        },
        "dates": key_dates(on, calendar),
    }


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"cannot be negative: {text!r}")
    return value


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None


def main(
    argv: Sequence[str] | None = None,
    *,
    settings: Mapping[str, Any] | None = None,
    calendar: WorkingCalendar | None = None,
) -> int:
    """``grade-fire``: print the four fire decisions as JSON (see :func:`report`).

    :param settings: the legal settings (``flask … grade-fire`` passes the effective ones from
        the database; ``python -m workflows grade-fire`` the documented defaults).
    :param calendar: the working-day calendar (with the administrator's years, in the server).
    """
    parser = argparse.ArgumentParser(
        prog="grade-fire",
        description="火灾定级、调查程序、调查层级和预警范围 (runs the four DMN tables)",
    )
    parser.add_argument("--deaths", type=_count, default=0, help="死亡人数")
    parser.add_argument("--serious-injuries", type=_count, default=0, help="重伤人数")
    parser.add_argument("--minor-injuries", type=_count, default=0, help="轻伤人数")
    parser.add_argument("--direct-loss", type=_count, default=0, help="直接财产损失（元）")
    parser.add_argument("--households", type=_count, default=0, help="受灾户数")
    parser.add_argument("--site", choices=list(SITE_TYPES), required=True, help="场所类型")
    parser.add_argument("--disputed", action="store_true", help="当事人对火灾事故事实有异议")
    parser.add_argument("--arson-suspected", action="store_true", help="有放火嫌疑")
    parser.add_argument("--major-social-impact", action="store_true", help="有较大社会影响")
    parser.add_argument(
        "--on",
        type=_day,
        default=None,
        help="火灾（接警）日期 YYYY-MM-DD, default today (Asia/Shanghai): the dates in the "
        "output are counted from it",
    )
    args = parser.parse_args(argv)
    today = today_shanghai()
    on = args.on or today
    if on > today:
        parser.error(f"--on {on.isoformat()} is after today ({today.isoformat()})")
    grading = grade(
        deaths=args.deaths,
        serious_injuries=args.serious_injuries,
        minor_injuries=args.minor_injuries,
        direct_loss=args.direct_loss,
        households_affected=args.households,
        site_type=args.site,
        major_social_impact=args.major_social_impact,
        facts_disputed=args.disputed,
        arson_suspected=args.arson_suspected,
        settings=settings,
    )
    sys.stdout.write(json.dumps(report(grading, on, calendar), ensure_ascii=False) + "\n")
    return 0
