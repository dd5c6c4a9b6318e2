"""The figures of the campaign reports, computed once: the county monthly table (附件8) and the
annual report's tables (``server/report_annual.py``) both read :func:`period_table`; the CLI
(``server/cli_reports.py``), the report pages and the ``.xlsx`` (:func:`monthly_workbook`) read
the same :class:`FigureTable`.

The Changde plan (实施方案 四（五）末段) asks each county 消安委办 to report monthly
"按附表（附件8）要求" on 老旧小区消防车通道治理、高层建筑综合整治、大型商业综合体管理达标、
石化企业消防安全能力建设、老旧场所突出风险治理、农村“五改” — the table itself was not found
(REPORTS.md §0, §2.4). The table below is Duban's design (REPORTS.md §4 proposal, restricted to
what the case data holds); the reasoning is in docs/reports.md, "Monthly table (附件8): design
and reasoning".

Rows: one per campaign area (``bpmn/campaign_areas.json``, catalogue order; a retired area only
when it has a figure; hazards whose area is missing or unknown under ``unclassified`` 未分类, only
when there are some), then ``total`` (合计) = the column sums (every hazard is in exactly one
area, so the sums are distinct counts: REPORTS.md §4.4 R3).

Every figure counts **hazards (处)**: cases of process ``major_hazard``, one hazard each (never
units, never events: REPORTS.md §4.4 R2). ``[a, b)`` below are Asia/Shanghai instants: ``P`` =
from 00:00 of ``period_start`` to 00:00 after ``period_end`` (本月), ``C`` = from 00:00 of
``cumulative_start`` to the same end (累计), ``E`` = the end of the period (期末); a period not
over yet ends at the computation's moment (``computed_at``, 数据截至). Every rule
reads a moment the system recorded when the thing happened (event, document, case times), so a
table recomputed later for a past period gives the same figures.

=======================  =====================================================================
key (group / header)     rule (each hazard counted at most once per cell)
=======================  =====================================================================
found_month, found_cum   发现隐患 本月/累计: ``case.opened_at`` (registration 登记) in P / C
major_month, major_cum   认定重大火灾隐患: first ``task_completed`` event of
                         ``collective_deliberation`` with form ``outcome == "major"``: its
                         ``at`` in P / C
rectified_month, _cum    整改完成: first ``task_completed`` event of ``reinspection`` or
                         ``ordinary_reinspection`` with form ``result == "pass"`` (复查合格):
                         its ``at`` in P / C
in_rectification         整改中 期末数: opened before E, not closed before E (``closed_at``),
                         no passing re-inspection before E
overdue                  逾期未办 期末数: :func:`server.overdue.case_clause_at` (E), the one
                         definition of overdue evaluated as at E
listed_month, listed_cum 挂牌督办: the earliest non-void Document of kind
                         ``listed_supervision_notice`` (挂牌督办通知): ``issued_at`` in P / C
supervised_month, _cum   督办: a ``follow_up`` event with ``action == "supervise"`` or a
                         ``task_completed`` event of ``rectification_overdue_measures`` with
                         form ``measure == "supervision"``, ``at`` in P / C
interviewed_month, _cum  约谈: the same with ``interview`` / ``interview``
exposed_month, _cum      曝光: the same with ``expose`` / ``exposure``
=======================  =====================================================================

``extra`` (scope-level; fires have no campaign area and no industry department, so a
department's table has no ``extra``):

==========================  ===================================================================
fires_month/_cum            cases of process ``fire_accountability`` with ``opened_at`` in P / C
fires_determined_month/_cum fires whose earliest non-void 火灾事故认定书 (Document kinds
                            ``fire_determination``, ``fire_determination_extended``,
                            ``simplified_fire_determination``) has ``issued_at`` in P / C
warnings_month/_cum         graded public warnings (``public_warning`` rows) with
                            ``published_at`` in P / C, by the fire's district
==========================  ===================================================================

Scopes: a district = its cases (``case.district``); a department = the hazards naming it as
responsible industry department (``case.responsible_department_id``); the city = every case.

The default ``cumulative_start`` is 1 January of the period's year (本年累计): Duban's proposal,
not found in a source (REPORTS.md §4.1 proposes "since the campaign start"; pass another date to
get that).
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select, union_all

from server import reads
from server.models import Agency, Case, Document, Event, PublicWarning
from server.overdue import case_clause_at
from workflows import campaign_areas
from workflows.calendar import SHANGHAI
from workflows.jurisdiction import DIVISIONS, DIVISIONS_BY_CODE, division_name

HAZARDS = "major_hazard"
FIRES = "fire_accountability"
CITY_NAME = "常德市"
TOTAL = "total"
UNCLASSIFIED = "unclassified"
UNCLASSIFIED_NAME = "未分类"
SCOPE_KINDS = ("district", "department", "city")


@dataclass(frozen=True)
class Scope:
    """Whose figures: a district (``code`` = division code), an industry department (``code``
    = its agency code) or the city (``code`` None)."""

    kind: str
    code: str | None = None

    @property
    def name(self) -> str:
        """鼎城区 / 市住房和城乡建设局 / 常德市."""
        if self.kind == "district":
            return division_name(self.code or "")
        if self.kind == "department":
            found = reads.scalar(select(Agency.name).where(Agency.code == self.code))
            return str(found or self.code)
        return CITY_NAME

    def check(self) -> None:
        """:raises ValueError: (Chinese) for an unknown kind, district or department."""
        if self.kind == "city":
            if self.code is not None:
                raise ValueError("全市统计不能指定代码")
        elif self.kind == "district":
            if self.code not in DIVISIONS_BY_CODE:
                raise ValueError(f"没有代码为“{self.code}”的县市区")
        elif self.kind == "department":
            kind = reads.scalar(select(Agency.kind).where(Agency.code == self.code))
            if kind != "industry":
                raise ValueError(f"没有代码为“{self.code}”的行业主管部门")
        else:
            raise ValueError(f"统计范围只能是 {'、'.join(SCOPE_KINDS)}")

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "code": self.code}


@dataclass(frozen=True)
class FigureColumn:
    """A column of the table: key in the rows' values, Chinese header, Chinese group (the
    upper header row)."""

    key: str
    header: str
    group: str


MONTH, CUMULATIVE, END = "本月", "累计", "期末数"

COLUMNS: tuple[FigureColumn, ...] = (
    FigureColumn("found_month", MONTH, "发现隐患"),
    FigureColumn("found_cum", CUMULATIVE, "发现隐患"),
    FigureColumn("major_month", MONTH, "认定重大火灾隐患"),
    FigureColumn("major_cum", CUMULATIVE, "认定重大火灾隐患"),
    FigureColumn("rectified_month", MONTH, "整改完成"),
    FigureColumn("rectified_cum", CUMULATIVE, "整改完成"),
    FigureColumn("in_rectification", END, "整改中"),
    FigureColumn("overdue", END, "逾期未办"),
    FigureColumn("listed_month", MONTH, "挂牌督办"),
    FigureColumn("listed_cum", CUMULATIVE, "挂牌督办"),
    FigureColumn("supervised_month", MONTH, "督办"),
    FigureColumn("supervised_cum", CUMULATIVE, "督办"),
    FigureColumn("interviewed_month", MONTH, "约谈"),
    FigureColumn("interviewed_cum", CUMULATIVE, "约谈"),
    FigureColumn("exposed_month", MONTH, "曝光"),
    FigureColumn("exposed_cum", CUMULATIVE, "曝光"),
)
KEYS = tuple(c.key for c in COLUMNS)

EXTRA_LABELS: dict[str, str] = {
    "fires_month": "本月登记火灾（起）",
    "fires_cum": "累计登记火灾（起）",
    "fires_determined_month": "本月作出火灾事故认定（起）",
    "fires_determined_cum": "累计作出火灾事故认定（起）",
    "warnings_month": "本月发布分级公开预警（次）",
    "warnings_cum": "累计发布分级公开预警（次）",
}

#: The counting rule of each column group, in Chinese (the workbook's 填报说明 sheet, the pages).
GROUP_RULES: dict[str, str] = {
    "发现隐患": "在本系统登记的火灾隐患（处），以登记时间计；“累计”自累计起始日起算。",
    "认定重大火灾隐患": "消防救援机构集体讨论认定为重大火灾隐患的隐患（处），以认定时间计。",
    "整改完成": "复查合格的隐患（处），以首次复查合格的时间计。",
    "整改中": "统计期末已登记、尚未复查合格且未办结的隐患（处），含正在判定的隐患。",
    "逾期未办": (
        "统计期末有法定办理期限已过而该环节未办理的在办隐患（处），与系统“逾期”标识同一口径。"
    ),
    "挂牌督办": "人民政府已下达挂牌督办通知的隐患（处），以通知作出时间计（作废的通知不计）。",
    "督办": (
        "督办人记录“督办”措施或整改逾期后人民政府采取“督办”措施的隐患（处），同一隐患多次只计一处。"
    ),
    "约谈": "记录“约谈”措施的隐患（处），来源同上。",
    "曝光": "记录“曝光”措施的隐患（处），来源同上。",
}
EXTRA_RULES: dict[str, str] = {
    "fires": "在本系统登记的火灾（起），以登记时间计。",
    "fires_determined": "已作出火灾事故认定（含简易程序）的火灾（起），以首份认定书作出时间计。",
    "warnings": "发布的分级公开预警（次），以发布时间计，按火灾所在县市区统计。",
}

#: 督办 / 约谈 / 曝光: the values of ``follow_up.action`` and of
#: ``rectification_overdue_measures.measure`` that count as each.
MEASURES: dict[str, tuple[str, ...]] = {
    "supervised": ("supervise", "supervision"),
    "interviewed": ("interview",),
    "exposed": ("expose", "exposure"),
}
FIRE_DETERMINATIONS = (
    "fire_determination",
    "fire_determination_extended",
    "simplified_fire_determination",
)
REINSPECTIONS = ("reinspection", "ordinary_reinspection")


@dataclass(frozen=True)
class FigureRow:
    """One row: a campaign area (or ``total``) and one int per column key."""

    code: str
    name: str
    values: dict[str, int]


@dataclass(frozen=True)
class FigureTable:
    """The figures of one scope for one period (see the module docstring for every rule)."""

    scope: Scope
    period_start: date
    period_end: date
    cumulative_start: date
    rows: tuple[FigureRow, ...]
    extra: dict[str, int]
    computed_at: datetime
    columns: tuple[FigureColumn, ...] = field(default=COLUMNS)

    def to_json(self) -> dict[str, Any]:
        """JSON-able (stored as a frozen snapshot); :meth:`from_json` reads it back."""
        return {
            "scope": self.scope.to_json(),
            "scope_name": self.scope.name,
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "cumulative_start": self.cumulative_start.isoformat(),
            "columns": [{"key": c.key, "header": c.header, "group": c.group} for c in self.columns],
            "rows": [{"code": r.code, "name": r.name, "values": dict(r.values)} for r in self.rows],
            "extra": dict(self.extra),
            "extra_labels": {k: EXTRA_LABELS.get(k, k) for k in self.extra},
            "computed_at": self.computed_at.isoformat(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FigureTable:
        scope = data["scope"]
        columns = tuple(
            FigureColumn(str(c["key"]), str(c["header"]), str(c["group"]))
            for c in data.get("columns") or ()
        )
        return cls(
            scope=Scope(str(scope["kind"]), scope.get("code")),
            period_start=date.fromisoformat(data["period_start"]),
            period_end=date.fromisoformat(data["period_end"]),
            cumulative_start=date.fromisoformat(data["cumulative_start"]),
            rows=tuple(
                FigureRow(
                    str(r["code"]), str(r["name"]), {k: int(v) for k, v in r["values"].items()}
                )
                for r in data["rows"]
            ),
            extra={str(k): int(v) for k, v in (data.get("extra") or {}).items()},
            computed_at=datetime.fromisoformat(data["computed_at"]),
            columns=columns or COLUMNS,
        )

    def total(self, key: str) -> int:
        """The 合计 row's value of column ``key``."""
        for row in self.rows:
            if row.code == TOTAL:
                return row.values[key]
        raise KeyError(TOTAL)

    def totals(self) -> dict[str, int]:
        return next(dict(r.values) for r in self.rows if r.code == TOTAL)

    @property
    def is_month(self) -> bool:
        """Whether the period is one calendar month (its 本月 columns then read 本月)."""
        start, end = self.period_start, self.period_end
        return start.day == 1 and (end + timedelta(days=1)).day == 1 and start.month == end.month

    def header(self, column: FigureColumn) -> str:
        """The column's lower header: 本月 for a month, 本期 for another period."""
        return column.header if column.header != MONTH or self.is_month else "本期"


_MONTH = re.compile(r"(\d{4})-(\d{1,2})")


def month_period(month: str) -> tuple[date, date]:
    """``"2026-11"`` → (2026-11-01, 2026-11-30).

    :raises ValueError: (Chinese) when ``month`` is not ``YYYY-MM``.
    """
    matched = _MONTH.fullmatch(str(month).strip())
    if not matched:
        raise ValueError(f"月份“{month}”格式不对，应为 YYYY-MM，例如 2026-11")
    year, number = int(matched[1]), int(matched[2])
    if not 1 <= number <= 12 or not 2000 <= year <= 2099:
        raise ValueError(f"月份“{month}”不存在")
    start = date(year, number, 1)
    following = date(year + 1, 1, 1) if number == 12 else date(year, number + 1, 1)
    return start, following - timedelta(days=1)


def month_label(start: date) -> str:
    """2026年11月."""
    return f"{start.year}年{start.month}月"


def _instant(day: date) -> datetime:
    """00:00 Asia/Shanghai of ``day``, in UTC."""
    return datetime.combine(day, time(0), SHANGHAI).astimezone(UTC)


def _scope_clause(scope: Scope) -> ColumnElement[bool]:
    if scope.kind == "district":
        return Case.district == scope.code
    if scope.kind == "department":
        department = select(Agency.id).where(Agency.code == scope.code).scalar_subquery()
        return Case.responsible_department_id == department
    return literal(True)


def _hazards(scope: Scope) -> ColumnElement[bool]:
    return and_(Case.process_id == HAZARDS, _scope_clause(scope))


def _within(column: Any, start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(column >= start, column < end)


def _count(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _first_event(*conditions: ColumnElement[bool]) -> Any:
    """Per case, the moment of its first event matching ``conditions`` (a subquery)."""
    return (
        select(Event.case_id.label("case_id"), func.min(Event.at).label("at"))
        .where(*conditions)
        .group_by(Event.case_id)
        .subquery()
    )


def _first_document(kinds: Sequence[str]) -> Any:
    return (
        select(Document.case_id.label("case_id"), func.min(Document.issued_at).label("at"))
        .where(Document.kind.in_(kinds), Document.void.is_(False))
        .group_by(Document.case_id)
        .subquery()
    )


def _add(figures: dict[str | None, dict[str, int]], rows: Any, keys: Sequence[str]) -> None:
    for area, *values in rows:
        target = figures.setdefault(area, dict.fromkeys(KEYS, 0))
        for key, value in zip(keys, values, strict=True):
            target[key] += int(value or 0)


def _area_figures(
    scope: Scope, month: tuple[datetime, datetime], cumulative: tuple[datetime, datetime]
) -> dict[str | None, dict[str, int]]:
    """The hazard figures by ``case.campaign_area`` (a few grouped queries)."""
    end = month[1]
    figures: dict[str | None, dict[str, int]] = {}
    area = Case.campaign_area

    rectified = _first_event(
        Event.kind == "task_completed",
        Event.task_name.in_(REINSPECTIONS),
        Event.data[("form", "result")].as_string() == "pass",
    )
    found = (
        select(
            area,
            _count(_within(Case.opened_at, *month)),
            _count(_within(Case.opened_at, *cumulative)),
            _count(
                and_(
                    Case.opened_at < end,
                    or_(Case.closed_at.is_(None), Case.closed_at >= end),
                    or_(rectified.c.at.is_(None), rectified.c.at >= end),
                )
            ),
            _count(_within(rectified.c.at, *month)),
            _count(_within(rectified.c.at, *cumulative)),
            _count(case_clause_at(end)),
        )
        .outerjoin(rectified, rectified.c.case_id == Case.id)
        .where(_hazards(scope))
        .group_by(area)
    )
    _add(
        figures,
        reads.execute(found),
        (
            "found_month",
            "found_cum",
            "in_rectification",
            "rectified_month",
            "rectified_cum",
            "overdue",
        ),
    )

    major = _first_event(
        Event.kind == "task_completed",
        Event.task_name == "collective_deliberation",
        Event.data[("form", "outcome")].as_string() == "major",
    )
    listed = _first_document(("listed_supervision_notice",))
    for first, keys in (
        (major, ("major_month", "major_cum")),
        (listed, ("listed_month", "listed_cum")),
    ):
        query = (
            select(
                area,
                _count(_within(first.c.at, *month)),
                _count(_within(first.c.at, *cumulative)),
            )
            .join(first, first.c.case_id == Case.id)
            .where(_hazards(scope))
            .group_by(area)
        )
        _add(figures, reads.execute(query), keys)

    measures = union_all(
        select(
            Event.case_id.label("case_id"),
            Event.at.label("at"),
            Event.data[("action",)].as_string().label("measure"),
        ).where(Event.kind == "follow_up"),
        select(
            Event.case_id.label("case_id"),
            Event.at.label("at"),
            Event.data[("form", "measure")].as_string().label("measure"),
        ).where(
            Event.kind == "task_completed", Event.task_name == "rectification_overdue_measures"
        ),
    ).subquery()
    kind = case(
        *((measures.c.measure.in_(values), literal(key)) for key, values in MEASURES.items()),
        else_=literal(""),
    )
    in_month = case((_within(measures.c.at, *month), measures.c.case_id))
    in_cumulative = case((_within(measures.c.at, *cumulative), measures.c.case_id))
    query = (
        select(
            area,
            kind,
            func.count(func.distinct(in_month)),
            func.count(func.distinct(in_cumulative)),
        )
        .join(measures, measures.c.case_id == Case.id)
        .where(_hazards(scope), measures.c.at < end)
        .group_by(area, kind)
    )
    for code, which, in_m, in_c in reads.execute(query):
        if which:
            _add(figures, [(code, in_m, in_c)], (f"{which}_month", f"{which}_cum"))
    return figures


def _extra(
    scope: Scope, month: tuple[datetime, datetime], cumulative: tuple[datetime, datetime]
) -> dict[str, int]:
    if scope.kind == "department":
        return {}
    fires = and_(Case.process_id == FIRES, _scope_clause(scope))
    determined = _first_document(FIRE_DETERMINATIONS)
    row = reads.execute(
        select(
            _count(_within(Case.opened_at, *month)),
            _count(_within(Case.opened_at, *cumulative)),
            _count(_within(determined.c.at, *month)),
            _count(_within(determined.c.at, *cumulative)),
        )
        .outerjoin(determined, determined.c.case_id == Case.id)
        .where(fires)
    ).one()
    warnings = select(
        _count(_within(PublicWarning.published_at, *month)),
        _count(_within(PublicWarning.published_at, *cumulative)),
    )
    if scope.kind == "district":
        warnings = warnings.where(PublicWarning.district == scope.code)
    published = reads.execute(warnings).one()
    values = [*row, *published]
    return {key: int(value or 0) for key, value in zip(EXTRA_LABELS, values, strict=True)}


def period_table(
    scope: Scope, start: date, end: date, cumulative_start: date | None = None
) -> FigureTable:
    """The figures of ``scope`` for ``start``..``end`` (inclusive Asia/Shanghai dates), the
    累计 columns counted from ``cumulative_start`` (default: 1 January of ``end``'s year).

    :raises ValueError: (Chinese) for an unknown scope or an empty / inverted period.
    """
    scope.check()
    if end < start:
        raise ValueError("统计期间的结束日期不能早于开始日期")
    cumulative_start = cumulative_start or date(end.year, 1, 1)
    if cumulative_start > start:
        raise ValueError("累计起始日期不能晚于统计期间的开始日期")
    computed_at = datetime.now(UTC)
    # A period not over yet ends now: its 期末 figures are today's, never a projection.
    month = (_instant(start), min(_instant(end + timedelta(days=1)), computed_at))
    cumulative = (_instant(cumulative_start), month[1])
    figures = _area_figures(scope, month, cumulative)
    rows: list[FigureRow] = []
    for area in campaign_areas.areas():
        values = figures.pop(area.code, None)
        if values is None and area.retired:
            continue
        rows.append(FigureRow(area.code, area.name, values or dict.fromkeys(KEYS, 0)))
    if figures:  # no or an unknown area: kept visible, not silently dropped
        unknown = dict.fromkeys(KEYS, 0)
        for values in figures.values():
            for key in KEYS:
                unknown[key] += values[key]
        rows.append(FigureRow(UNCLASSIFIED, UNCLASSIFIED_NAME, unknown))
    total = {key: sum(row.values[key] for row in rows) for key in KEYS}
    rows.append(FigureRow(TOTAL, "合计", total))
    return FigureTable(
        scope=scope,
        period_start=start,
        period_end=end,
        cumulative_start=cumulative_start,
        rows=tuple(rows),
        extra=_extra(scope, month, cumulative),
        computed_at=computed_at,
    )


def monthly_table(scope: Scope, month: str) -> FigureTable:
    """The monthly table (附件8) of ``scope`` for ``month`` (``YYYY-MM``), 本年累计."""
    start, end = month_period(month)
    return period_table(scope, start, end)


def consolidated_rows(tables: Sequence[FigureTable]) -> list[tuple[str, dict[str, int]]]:
    """The city's consolidated view: (scope name, its 合计 row) per table, then ("合计", the
    sums)."""
    rows = [(table.scope.name, table.totals()) for table in tables]
    sums = {key: sum(values.get(key, 0) for _name, values in rows) for key in KEYS}
    return [*rows, ("合计", sums)]


def scope_options() -> list[Scope]:
    """Every district, then every industry department (directory order)."""
    departments = reads.scalars(
        select(Agency.code).where(Agency.kind == "industry").order_by(Agency.id)
    )
    return [Scope("district", d.code) for d in DIVISIONS] + [
        Scope("department", code) for code in departments
    ]


# --- the .xlsx -------------------------------------------------------------------------------

#: Footer fields of the table (REPORTS.md §2.1: the Ningbo template's sign-off block), in order.
FOOTER_FIELDS = (("filled_by", "填报人"), ("reviewed_by", "审核人"), ("phone", "联系电话"),
                 ("filled_on", "填报日期"))  # fmt: skip
NOTE = (
    "备注：本表由督办系统根据案件记录自动统计，单位为处（隐患）；“本月”为统计期间内发生数，"
    "“累计”自{cumulative}起算，“期末数”为统计期间末的状态；各栏统计口径见“填报说明”工作表。"
)


def _title(table: FigureTable) -> str:
    period = (
        month_label(table.period_start)
        if table.is_month
        else (f"{table.period_start.isoformat()}至{table.period_end.isoformat()}")
    )
    return f"{table.scope.name}消防安全专项整治三年行动进展情况统计表（{period}）"


def data_as_of(table: FigureTable) -> str:
    """数据截至: the period's last day once it is over, else the moment of the computation."""
    computed = table.computed_at.astimezone(SHANGHAI)
    if computed.date() > table.period_end:
        return _cn(table.period_end)
    return f"{_cn(computed.date())}{computed:%H:%M}"


def _cn(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _sheet_title(name: str, used: set[str]) -> str:
    title = re.sub(r"[\[\]\*\?/\\:]", "", name)[:31] or "表"
    base, n = title, 2
    while title in used:
        title = f"{base[:28]}({n})"
        n += 1
    used.add(title)
    return title


def monthly_workbook(
    tables: Sequence[FigureTable], remarks: Mapping[str, str] | None = None
) -> bytes:
    """The monthly tables as an ``.xlsx``: one sheet per table (its scope's name), plus a 汇总
    sheet (:func:`consolidated_rows`) when there are several.

    ``remarks`` may hold the footer's ``filled_by`` 填报人, ``reviewed_by`` 审核人, ``phone``
    联系电话, ``filled_on`` 填报日期 and a free ``remarks`` text added to the 备注 line.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    if not tables:
        raise ValueError("没有要导出的统计表")
    remarks = remarks or {}
    thin = Side(style="thin", color="808080")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    head_fill = PatternFill("solid", fgColor="DDE6F0")
    book = Workbook()
    book.remove(book.worksheets[0])
    used: set[str] = set()

    def frame(sheet: Any, table: FigureTable, width: int) -> None:
        sheet.append([_title(table)])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
        sheet["A1"].font = Font(bold=True, size=14)
        sheet["A1"].alignment = centre
        sheet.row_dimensions[1].height = 30
        unit = remarks.get("unit") if len(tables) == 1 else None
        sheet.append(
            [
                f"填报单位（盖章）：{unit or table.scope.name}",
                *([None] * 3),
                f"统计期间：{_cn(table.period_start)}至{_cn(table.period_end)}",
                *([None] * 5),
                f"数据截至：{data_as_of(table)}",
            ]
        )

    def header(sheet: Any, first: str, table: FigureTable | None) -> None:
        top, bottom = 3, 4
        sheet.cell(top, 1, first)
        sheet.merge_cells(start_row=top, start_column=1, end_row=bottom, end_column=1)
        column = 2
        groups: list[tuple[str, list[FigureColumn]]] = []
        for c in COLUMNS:
            if groups and groups[-1][0] == c.group:
                groups[-1][1].append(c)
            else:
                groups.append((c.group, [c]))
        for group, members in groups:
            sheet.cell(top, column, group)
            if len(members) > 1:
                sheet.merge_cells(
                    start_row=top, start_column=column, end_row=top,
                    end_column=column + len(members) - 1,
                )  # fmt: skip
            for offset, c in enumerate(members):
                sheet.cell(bottom, column + offset, table.header(c) if table else c.header)
            column += len(members)
        for row in sheet.iter_rows(min_row=top, max_row=bottom, max_col=len(COLUMNS) + 1):
            for cell in row:
                cell.font = Font(bold=True)
                cell.fill = head_fill
                cell.alignment = centre
                cell.border = box
        sheet.freeze_panes = "B5"
        sheet.column_dimensions["A"].width = 30
        for index in range(2, len(COLUMNS) + 2):
            sheet.column_dimensions[get_column_letter(index)].width = 9

    def body(sheet: Any, rows: Sequence[tuple[str, Mapping[str, int]]]) -> None:
        for name, values in rows:
            sheet.append([name, *(int(values.get(k, 0)) for k in KEYS)])
            last = sheet.max_row
            for cell in sheet[last]:
                cell.border = box
                cell.alignment = centre if cell.column > 1 else Alignment(wrap_text=True)
                if cell.column > 1:
                    cell.number_format = "0"
            if name == "合计":
                for cell in sheet[last]:
                    cell.font = Font(bold=True)

    def footer(sheet: Any, table: FigureTable, extra: Mapping[str, int]) -> None:
        sheet.append([])
        for key, value in extra.items():
            sheet.append([EXTRA_LABELS.get(key, key), int(value)])
        note = NOTE.format(cumulative=_cn(table.cumulative_start))
        if remarks.get("remarks"):
            note += f"\n{remarks['remarks']}"
        sheet.append([note])
        sheet.merge_cells(
            start_row=sheet.max_row, start_column=1, end_row=sheet.max_row,
            end_column=len(COLUMNS) + 1,
        )  # fmt: skip
        sheet.cell(sheet.max_row, 1).alignment = Alignment(wrap_text=True, vertical="top")
        sheet.row_dimensions[sheet.max_row].height = 45
        sheet.append([])
        cells: list[Any] = []
        for key, label in FOOTER_FIELDS:
            cells += [f"{label}：{remarks.get(key, '')}", None, None, None]
        sheet.append(cells)

    for table in tables:
        sheet = book.create_sheet(_sheet_title(table.scope.name, used))
        frame(sheet, table, len(COLUMNS) + 1)
        header(sheet, "专项整治领域", table)
        body(sheet, [(row.name, row.values) for row in table.rows])
        footer(sheet, table, table.extra)
    explain = book.create_sheet(_sheet_title("填报说明", used))
    explain.append(["栏目", "统计口径"])
    for group, rule in GROUP_RULES.items():
        explain.append([group, rule])
    for key, rule in EXTRA_RULES.items():
        explain.append([EXTRA_LABELS[f"{key}_month"].removeprefix("本月"), rule])
    explain.append(
        [
            "说明",
            "各栏均按隐患（处）计，同一隐患在一个栏目中只计一次；每处隐患归入一个专项整治领域，"
            "合计为各领域之和。本表格式为督办系统的建议格式，待市消安委办下发附件8后按其调整。",
        ]
    )
    for cell in explain[1]:
        cell.font = Font(bold=True)
        cell.fill = head_fill
    explain.column_dimensions["A"].width = 26
    explain.column_dimensions["B"].width = 90
    for row in explain.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    if len(tables) > 1:
        first = tables[0]
        sheet = book.create_sheet(_sheet_title("汇总", used), 0)
        frame(sheet, replace(first, scope=Scope("city")), len(COLUMNS) + 1)
        header(sheet, "县市区", first)
        body(sheet, consolidated_rows(tables))
        sums: dict[str, int] = {}
        for table in tables:
            for key, value in table.extra.items():
                sums[key] = sums.get(key, 0) + value
        footer(sheet, first, sums)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
