"""The supervision dashboard: overdue and due-soon deadlines by agency, district and stage,
compliance per stage, the monthly trend, and a CSV export of every list on the page.

Every figure comes from :mod:`server.supervision`, which scopes by the caller's jurisdiction
(a county supervisor sees the county); this module only reads and validates the filters.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, cast

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from server import reads, supervision
from server.auth import roles_required
from server.charts import bar_chart, trend_chart
from server.csv_export import csv_response
from server.display import DEADLINE_STATE_LABELS, cn_date, district_name, to_shanghai
from server.due import due_soon_days, working_days_left
from server.models import Agency, Case, Deadline, User
from server.operations import today_shanghai
from server.scoping import case_filter, district_options
from server.supervision import Compliance, Count, DeadlineRow, Filters
from server.views.common import here, process_choices

bp = Blueprint("supervision", __name__, url_prefix="/supervision")
FILTER_NAMES = ("district", "agency", "process", "start", "end")
#: Rows of a list drawn on the page; the CSV export always has them all.
LIST_LIMIT = 200
GROUPS = {"agency": "承办单位", "district": "辖区", "stage": "环节"}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# --------------------------------------------------------------------------- filters


@dataclass
class FilterForm:
    """The filters as submitted (``values``), their errors, and the parsed :class:`Filters`."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    filters: Filters = field(default_factory=Filters)
    districts: list[tuple[str, str]] = field(default_factory=list)
    agencies: list[tuple[str, str]] = field(default_factory=list)
    processes: list[tuple[str, str]] = field(default_factory=list)

    @property
    def active(self) -> dict[str, str]:
        """The non-empty filter values (kept in the export links)."""
        return {k: v for k, v in self.values.items() if v}


def agency_options(user: User) -> list[tuple[str, str]]:
    """(code, name) of the agencies answerable for a deadline the user can see."""
    rows = reads.execute(
        select(Agency.code, Agency.name)
        .join(Deadline, Deadline.agency_id == Agency.id)
        .join(Case, Case.id == Deadline.case_id)
        .where(case_filter(user))
        .group_by(Agency.id, Agency.code, Agency.name)
        .order_by(Agency.id)
    )
    return [(code, name) for code, name in rows]


def _parse_date(value: str, label: str) -> tuple[date | None, str | None]:
    """A ``YYYY-MM-DD`` date from a filter, or the Chinese error message."""
    if not value:
        return None, None
    example = "格式如 2026-10-09"
    if not _ISO_DATE.fullmatch(value):
        return None, f"{label}“{value[:20]}”无法识别，{example}"
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None, f"{label}“{value}”不是有效的日期，{example}"
    if not 2000 <= day.year <= 2100:
        return None, f"{label}应在2000年至2100年之间"
    return day, None


def read_filters(user: User, args: Any) -> FilterForm:
    """Parse and check the dashboard filters of a request's query string."""
    values = {name: str(args.get(name, "")).strip()[:40] for name in FILTER_NAMES}
    form = FilterForm(
        values,
        districts=district_options(user),
        agencies=agency_options(user),
        processes=process_choices(),
    )
    for name, options, message in (
        ("district", form.districts, "请从列表中选择辖区"),
        ("agency", form.agencies, "请从列表中选择承办单位"),
        ("process", form.processes, "请从列表中选择流程"),
    ):
        if values[name] and values[name] not in dict(options):
            form.errors[name] = message
    start, error = _parse_date(values["start"], "期间开始日期")
    if error:
        form.errors["start"] = error
    end, error = _parse_date(values["end"], "期间结束日期")
    if error:
        form.errors["end"] = error
    if start and end and start > end:
        form.errors["end"] = "期间结束日期不能早于开始日期"
    if not form.errors:
        form.filters = Filters(
            district=values["district"],
            agency=values["agency"],
            process=values["process"],
            start=start,
            end=end,
        )
    return form


def period_text(filters: Filters) -> str:
    """The chosen period in words."""
    if filters.start and filters.end:
        return f"{cn_date(filters.start)}至{cn_date(filters.end)}"
    if filters.start:
        return f"{cn_date(filters.start)}以后"
    if filters.end:
        return f"{cn_date(filters.end)}以前"
    return "全部期间"


def percent(rate: float | None) -> str:
    """A share as ``87.5%``; ``—`` without data."""
    return "—" if rate is None else f"{rate * 100:.1f}%"


# --------------------------------------------------------------------------- figures


def grouped_counts(
    user: User, filters: Filters, by: str, now: datetime, districts: list[tuple[str, str]]
) -> list[Count]:
    """Counts by agency, district or stage; by district, every district in scope is listed
    (a district without anything overdue is news too) unless one district is chosen."""
    rows = supervision.counts(user, filters, by, now)
    if by == "district" and not filters.district:
        seen = {c.key for c in rows}
        rows += [Count(code, name, 0, 0) for code, name in districts if code not in seen]
    return rows


def deadline_state(row: DeadlineRow, now: datetime) -> str:
    """The state of a deadline in words, as the export shows it."""
    if row.state == "missed" and row.met_at is not None:
        return "逾期后办结"
    if row.state == "missed" or (row.state == "pending" and row.due_at < now):
        return "已逾期"
    return DEADLINE_STATE_LABELS.get(row.state, row.state)


def _local(value: datetime | None) -> str:
    moment = to_shanghai(value)
    return moment.strftime("%Y-%m-%d %H:%M") if isinstance(moment, datetime) else ""


DEADLINE_COLUMNS = (
    ("case_number", "督办编号"),
    ("unit_name", "单位名称"),
    ("district", "辖区"),
    ("agency", "责任单位"),
    ("stage", "环节"),
    ("label", "期限"),
    ("due", "截止时间"),
    ("state", "状态"),
    ("late", "逾期工作日"),
    ("provisional", "暂定期限"),
)


def _deadline_rows(rows: Iterable[DeadlineRow], now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "case_number": r.case_number,
            "unit_name": r.unit_name,
            "district": r.district_name,
            "agency": r.agency_name,
            "stage": r.stage,
            "label": r.label,
            "due": _local(r.due_at),
            "state": deadline_state(r, now),
            "late": r.overdue_days,
            "provisional": "是" if r.provisional else "否",
        }
        for r in rows
    ]


@dataclass(frozen=True)
class Export:
    """One CSV download: its file title, columns and rows."""

    title: str
    columns: tuple[tuple[str, str], ...]
    rows: Callable[[User, FilterForm, datetime], list[dict[str, Any]]]


def _counts_export(by: str) -> Export:
    def rows(user: User, form: FilterForm, now: datetime) -> list[dict[str, Any]]:
        counts = grouped_counts(user, form.filters, by, now, form.districts)
        return [{"label": c.label, "overdue": c.overdue, "due_soon": c.due_soon} for c in counts]

    return Export(
        f"按{GROUPS[by]}统计",
        (("label", GROUPS[by]), ("overdue", "逾期"), ("due_soon", "即将到期")),
        rows,
    )


def _compliance_rows(user: User, form: FilterForm, now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "stage": c.stage,
            "met": c.met,
            "missed": c.missed,
            "met_late": c.met_late,
            "total": c.total,
            "rate": percent(c.rate),
        }
        for c in supervision.compliance(user, form.filters)
    ]


EXPORTS: dict[str, Export] = {
    "overdue": Export(
        "逾期期限",
        DEADLINE_COLUMNS,
        lambda u, f, now: _deadline_rows(supervision.overdue(u, f.filters, now), now),
    ),
    "due_soon": Export(
        "即将到期期限",
        DEADLINE_COLUMNS,
        lambda u, f, now: _deadline_rows(supervision.due_soon(u, f.filters, now), now),
    ),
    "by_agency": _counts_export("agency"),
    "by_district": _counts_export("district"),
    "by_stage": _counts_export("stage"),
    "compliance": Export(
        "各环节按期办结率",
        (
            ("stage", "环节"),
            ("met", "按期办结"),
            ("missed", "逾期"),
            ("met_late", "其中逾期后办结"),
            ("total", "合计"),
            ("rate", "按期率"),
        ),
        _compliance_rows,
    ),
    "trend": Export(
        "月度趋势",
        (("month", "月份"), ("met", "按期办结"), ("missed", "逾期"), ("pending", "未到期")),
        lambda u, f, now: supervision.monthly_trend(u, f.filters),
    ),
    "deadlines": Export(
        "全部期限",
        DEADLINE_COLUMNS,
        lambda u, f, now: _deadline_rows(supervision.all_deadlines(u, f.filters, now), now),
    ),
}


# --------------------------------------------------------------------------- views


def scope_text(user: User) -> str:
    """Whose deadlines the dashboard counts."""
    if user.has_role("admin") or user.agency.is_city_level:
        return "全市"
    return district_name(user.agency.division)


def _chart(title: str, counts: list[Count]) -> Markup:
    """The bars of the groups with something to show (the table lists the zeros)."""
    svg = bar_chart(
        title, [(c.label, c.overdue, c.due_soon) for c in counts if c.overdue or c.due_soon]
    )
    return Markup(svg)  # noqa: S704 - bar_chart escapes every text it draws


@bp.route("")
@roles_required("supervisor")
def dashboard() -> Any:
    """The dashboard (a bad filter answers 422 with the message, and no figures)."""
    form = read_filters(current_user, request.args)
    now = datetime.now(UTC)
    context: dict[str, Any] = {
        "form": form,
        "now": now,
        "scope": scope_text(current_user),
        "groups": GROUPS,
        "limit": LIST_LIMIT,
        "soon_days": due_soon_days(),
        "working_days_left": working_days_left,
        "here": here(),
    }
    if form.errors:
        return render_template("supervision/dashboard.html", **context), 422
    filters, user = form.filters, current_user
    counts = {by: grouped_counts(user, filters, by, now, form.districts) for by in GROUPS}
    trend = supervision.monthly_trend(user, filters)
    rates: list[Compliance] = supervision.compliance(user, filters)
    context.update(
        overdue=supervision.overdue(user, filters, now),
        due_soon=supervision.due_soon(user, filters, now),
        counts=counts,
        charts={by: _chart(f"按{GROUPS[by]}：逾期与即将到期", rows) for by, rows in counts.items()},
        compliance=rates,
        overall=Compliance("全部", sum(c.met for c in rates), sum(c.missed for c in rates)),
        trend=trend,
        trend_chart=Markup(trend_chart("按月统计（按截止日期）", trend)),  # noqa: S704 - escaped
        period=period_text(filters),
        percent=percent,
        export_url=lambda kind: url_for(
            "supervision.export", kind=kind, **cast(dict[str, Any], form.active)
        ),
    )
    return render_template("supervision/dashboard.html", **context)


@bp.route("/export/<kind>.csv")
@roles_required("supervisor")
def export(kind: str) -> Any:
    """One list of the dashboard as CSV (UTF-8 with BOM, Chinese headers), same filters."""
    spec = EXPORTS.get(kind)
    if spec is None:
        abort(404)
    form = read_filters(current_user, request.args)
    if form.errors:
        return dashboard()
    now = datetime.now(UTC)
    filename = f"{spec.title}_{today_shanghai():%Y%m%d}.csv"
    return csv_response(filename, spec.columns, spec.rows(current_user, form, now))
