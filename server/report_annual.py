"""The annual work report (年度工作报告) of the three-year campaign: its snapshot, PDF and workbook.

The plan (实施方案 三, last paragraph) asks every district and department to send the year's
report "12月10日前 … 报市安委会办公室和市消安委办公室". Of the report's sections
(``../shared/REPORTS.md`` §3.2) the system fills those it holds the data for — 总体情况和主要
数据, “两个清单”落实情况, 执法和督办 — and the appendices (the year's table, the listed hazards);
the office writes the rest (its ``remarks``, printed as their own section). docs/reports.md,
"Annual report".

- :func:`annual_snapshot` computes everything once and returns plain JSON (frozen with the
  report when it is generated: the PDF of a submitted report never changes with later data).
  Every figure of the campaign-area table is :func:`server.report_figures.period_table`'s
  (never recomputed here); the monthly trend is the same function over each month; the on-time
  rates classify the scope's deadlines with :func:`server.overdue.deadline_status`, the one
  overdue definition; the listed hazards are the 两个清单's rows
  (:func:`server.reports_lists.rows_of`) with their outcome.
- :func:`annual_pdf` draws a snapshot (plus the office's remarks and sign-off) in the documents'
  GB/T 9704 layout (:mod:`server.documents.render`, its fonts from
  :mod:`server.documents.fonts`) and embeds the ``.xlsx`` tables as PDF file attachments.
- :func:`annual_workbook` is the snapshot's tables as ``.xlsx``.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import or_, select

from server import reads, report_figures
from server.engine import get_engine
from server.models import Agency, Case, Deadline
from server.overdue import LAPSED, MET, MET_LATE, OVERDUE, case_clause_at, deadline_status
from server.report_figures import FigureTable, Scope
from server.report_figures import _scope_clause as scope_clause
from server.reports_lists import rows_of
from server.supervision import stage_of
from workflows import campaign_areas
from workflows.calendar import SHANGHAI

#: Version of the snapshot's JSON shape (a stored snapshot keeps the shape it was made with).
SNAPSHOT_VERSION = 1
#: The processes whose deadlines the on-time rates count.
RATE_PROCESSES = ("major_hazard", "fire_accountability")
#: Where the plan sends the report (实施方案 三, last paragraph).
ADDRESSEE = "市安委会办公室、市消安委办公室"
#: The plan's due date of the annual report (month, day): 12月10日前.
DUE = (12, 10)
#: Figure keys (``report_figures.COLUMNS``) the report's text and charts name; every one must
#: be a column of the table (checked when a snapshot is made).
FOUND, RECTIFIED = "found_month", "rectified_month"


class AnnualReportError(ValueError):
    """A request the annual report cannot be made for (message in Chinese)."""


def report_title(scope_name: str, year: int) -> str:
    """``鼎城区2026年度消防安全专项整治工作报告``."""
    return f"{scope_name}{year}年度消防安全专项整治工作报告"


def year_period(year: int, as_of: date) -> tuple[date, date]:
    """The report's period: 1 January of ``year`` to 31 December or ``as_of`` if earlier.

    :raises AnnualReportError: a year before 2000 or after 2100, or one that has not begun at
        ``as_of``.
    """
    if not 2000 <= year <= 2100:
        raise AnnualReportError(f"年度 {year} 不在 2000—2100 之间")
    start = date(year, 1, 1)
    if as_of < start:
        raise AnnualReportError(f"{year}年尚未开始，不能生成年度报告")
    return start, min(date(year, 12, 31), as_of)


def month_starts(start: date, end: date) -> list[tuple[date, date]]:
    """(first day, last day) of every calendar month from ``start``'s to ``end``'s, the last
    one cut at ``end``."""
    months = []
    first = start.replace(day=1)
    while first <= end:
        following = (first + timedelta(days=32)).replace(day=1)
        months.append((max(first, start), min(following - timedelta(days=1), end)))
        first = following
    return months


def _moment(day: date) -> datetime:
    """The end of ``day`` in Asia/Shanghai (the first instant of the next day), or now if that
    is earlier: a deadline due tonight has not fallen due yet."""
    return min(datetime.combine(day + timedelta(days=1), time(), SHANGHAI), datetime.now(UTC))


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# ---------------------------------------------------------------------------------------------
# Scope


def _deadline_clause(scope: Scope) -> Any:
    """Deadlines of ``scope``: those of its cases (:func:`report_figures._scope_clause`, the
    figures' definition of a scope); for a department also its own duties (the deadlines its
    officers answer for, e.g. a reply on credit measures after a fire)."""
    if scope.kind == "department":
        department = select(Agency.id).where(Agency.code == scope.code).scalar_subquery()
        return or_(scope_clause(scope), Deadline.agency_id == department)
    return scope_clause(scope)


# ---------------------------------------------------------------------------------------------
# On-time rates


def classify(
    state: str,
    due_at: datetime,
    met_at: datetime | None,
    closed_at: datetime | None,
    moment: datetime,
) -> str | None:
    """A deadline's status at ``moment`` (:func:`server.overdue.deadline_status`, the one
    definition), read from its recorded times so that a past ``moment`` is judged as then: a
    step done after ``moment`` counts as not done yet. None when it had not fallen due."""
    due, met, closed = _aware(due_at), _aware(met_at), _aware(closed_at)
    assert due is not None
    if due >= moment:
        return None
    if met is not None and met >= moment:
        state, met = "missed", None
    case_open = closed is None or closed >= moment
    return deadline_status(state, due, met, case_open, moment)


def on_time_rates(scope: Scope, start: date, end: date) -> dict[str, Any]:
    """The scope's deadlines that fell due from ``start`` to ``end`` (inclusive, Shanghai
    dates), per process and stage: how many fell due, were met on time, met late, are overdue,
    lapsed; and the rate (met on time / fell due, None when none fell due)."""
    moment = _moment(end)
    query = (
        select(
            Deadline.label,
            Deadline.state,
            Deadline.due_at,
            Deadline.met_at,
            Case.process_id,
            Case.closed_at,
        )
        .join(Case, Deadline.case_id == Case.id)
        .where(
            Case.process_id.in_(RATE_PROCESSES),
            _deadline_clause(scope),
            Deadline.due_at >= datetime.combine(start, time(), SHANGHAI),
            Deadline.due_at < moment,
        )
    )
    tally: dict[tuple[str, str], dict[str, int]] = defaultdict(
        lambda: {"due": 0, MET: 0, MET_LATE: 0, OVERDUE: 0, LAPSED: 0}
    )
    for label, state, due_at, met_at, process, closed_at in reads.execute(query):
        status = classify(state, due_at, met_at, closed_at, moment)
        if status is None:
            continue
        counts = tally[(process, stage_of(label))]
        counts["due"] += 1
        counts[status] += 1
    catalog = get_engine().catalog
    names = {pid: catalog.latest(pid).name for pid in RATE_PROCESSES}
    stages: list[dict[str, Any]] = [
        {
            "process": process,
            "process_name": names[process],
            "stage": stage,
            **counts,
            "rate": _rate(counts[MET], counts["due"]),
        }
        for (process, stage), counts in sorted(
            tally.items(), key=lambda item: (RATE_PROCESSES.index(item[0][0]), item[0][1])
        )
    ]
    sums = {
        key: sum(int(s[key]) for s in stages) for key in ("due", MET, MET_LATE, OVERDUE, LAPSED)
    }
    total: dict[str, Any] = {**sums, "rate": _rate(sums[MET], sums["due"])}
    return {"stages": stages, "total": total}


def _rate(met: int, due: int) -> float | None:
    return round(met / due, 4) if due else None


# ---------------------------------------------------------------------------------------------
# Listed hazards


def listed_hazards(scope: Scope, start: date, end: date) -> list[dict[str, Any]]:
    """The hazards of ``scope`` under 挂牌督办 in the period (the 整改责任清单's 挂牌督办 = 是,
    opened by ``end`` and not closed before ``start``), each with its outcome: 销案 date, or
    still open and whether overdue (:mod:`server.overdue`) at ``end``."""
    moment = _moment(end)
    query = (
        select(Case)
        .where(
            Case.process_id == "major_hazard",
            scope_clause(scope),
            Case.opened_at < moment,
            or_(
                Case.closed_at.is_(None),
                Case.closed_at >= datetime.combine(start, time(), SHANGHAI),
            ),
        )
        .order_by(Case.id)
    )
    cases = list(reads.scalars(query).unique())
    rows = rows_of("responsibilities", cases)
    chosen = [(case, row) for case, row in zip(cases, rows, strict=True) if row["listed"] == "是"]
    ids = [case.id for case, _ in chosen]
    overdue = set(reads.scalars(select(Case.id).where(Case.id.in_(ids), case_clause_at(moment))))
    areas = campaign_areas.names()
    result = []
    for case, row in chosen:
        closed_on = row["closed_on"] if case.status == "closed" else None
        if closed_on is not None and closed_on > end:
            closed_on = None  # closed after the period: still open at its end
        late = closed_on is None and case.id in overdue
        if closed_on is not None:
            outcome = f"已销案（{closed_on.year}年{closed_on.month}月{closed_on.day}日）"
        else:
            outcome = "整改中，逾期" if late else "整改中"
        result.append(
            {
                "case_id": case.id,
                "number": case.number,
                "district": row["district"],
                "unit_name": case.unit_name,
                "address": case.address,
                "area": areas.get(case.campaign_area or "", ""),
                "department": row["department"],
                "leader": row["leader"],
                "rectify_by": row["rectify_by"].isoformat() if row["rectify_by"] else None,
                "closed_on": closed_on.isoformat() if closed_on else None,
                "overdue": late,
                "outcome": outcome,
            }
        )
    return result


# ---------------------------------------------------------------------------------------------
# Snapshot


def _check_keys() -> None:
    keys = {c.key for c in report_figures.COLUMNS}
    missing = {FOUND, RECTIFIED} - keys
    if missing:  # a renamed figure would otherwise print zeros
        raise RuntimeError(f"report_figures has no column {sorted(missing)}")


def annual_snapshot(scope: Scope, year: int, as_of: date | None = None) -> dict[str, Any]:
    """Everything the annual report of ``scope`` for ``year`` shows, as JSON (frozen at
    generation): the year's figure table, the monthly trend, the on-time rates, the listed
    hazards and what the charts draw.

    :param as_of: the day the figures run to (default today, Asia/Shanghai); the period is
        1 January to 31 December or ``as_of`` if earlier.
    :raises AnnualReportError: a year the report cannot be made for.
    """
    _check_keys()
    as_of = as_of or datetime.now(SHANGHAI).date()
    start, end = year_period(year, as_of)
    table = report_figures.period_table(scope, start, end)
    months = []
    for first, last in month_starts(start, end):
        month = report_figures.period_table(scope, first, last)
        months.append(
            {
                "month": first.strftime("%Y-%m"),
                "found": month.total(FOUND),
                "rectified": month.total(RECTIFIED),
            }
        )
    return {
        "version": SNAPSHOT_VERSION,
        "kind": "annual",
        "year": year,
        "as_of": as_of.isoformat(),
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
        "due_on": date(year, *DUE).isoformat(),
        "scope": {"kind": scope.kind, "code": scope.code, "name": scope.name},
        "title": report_title(scope.name, year),
        "table": table.to_json(),
        "columns": annual_columns(table),
        "extra_labels": annual_extra_labels(table),
        "months": months,
        "on_time": on_time_rates(scope, start, end),
        "listed": listed_hazards(scope, start, end),
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def annual_columns(table: FigureTable) -> list[dict[str, str]]:
    """The columns the report prints, as JSON: the year's (本期, headed 本年) and the year-end
    states (期末数); the 累计 columns only when they count from before the year (by default
    they count from 1 January and equal the year's)."""
    same = table.cumulative_start >= table.period_start
    chosen = []
    for column in table.columns:
        header = table.header(column)
        if header == report_figures.CUMULATIVE and same:
            continue
        header = "本年" if header == "本期" else header
        chosen.append({"key": column.key, "header": header, "group": column.group})
    return chosen


def annual_extra_labels(table: FigureTable) -> dict[str, str]:
    """The labels of the table's ``extra`` figures the report prints (本月 read as 本年; the
    累计 ones left out when they equal the year's, as :func:`annual_columns`)."""
    same = table.cumulative_start >= table.period_start
    labels = {}
    for key in table.extra:
        label = report_figures.EXTRA_LABELS.get(key, key)
        if same and label.startswith("累计"):
            continue
        labels[key] = "本年" + label[2:] if label.startswith("本月") else label
    return labels


def snapshot_table(snapshot: Mapping[str, Any]) -> FigureTable:
    """The snapshot's figure table."""
    return FigureTable.from_json(snapshot["table"])


def area_rows(snapshot: Mapping[str, Any]) -> list[tuple[str, int, int]]:
    """(area name, found, rectified) per campaign area (no 合计): the bars' data."""
    rows = snapshot["table"]["rows"]
    return [
        (row["name"], int(row["values"].get(FOUND, 0)), int(row["values"].get(RECTIFIED, 0)))
        for row in rows
        if row["code"] != "total"
    ]


def month_rows(snapshot: Mapping[str, Any]) -> list[tuple[str, int, int]]:
    """(``1月``, found, rectified) per month: the trend's data."""
    return [
        (f"{int(m['month'][5:])}月", int(m["found"]), int(m["rectified"]))
        for m in snapshot["months"]
    ]


def total(snapshot: Mapping[str, Any], key: str) -> int:
    """The 合计 row's value of figure ``key`` (0 when the snapshot's table has no such key)."""
    for row in snapshot["table"]["rows"]:
        if row["code"] == "total":
            return int(row["values"].get(key, 0))
    return 0


# ---------------------------------------------------------------------------------------------
# Workbook

LISTED_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("number", "督办编号", 16),
    ("district", "县市区", 10),
    ("unit_name", "单位名称", 26),
    ("address", "地址", 30),
    ("area", "专项整治领域", 16),
    ("department", "行业主管部门", 18),
    ("leader", "责任领导", 14),
    ("rectify_by", "整改期限", 12),
    ("closed_on", "销案日期", 12),
    ("outcome", "办理结果", 22),
)
RATE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("due", "到期"),
    (MET, "按期办结"),
    (MET_LATE, "逾期后办结"),
    (OVERDUE, "逾期未办"),
    (LAPSED, "逾期未办，案件已办结"),
)
#: The workbook's sheets, in order.
SHEETS = ("年度数据", "月度趋势", "按期办结率", "挂牌督办隐患", "其他数据")


def rate_text(rate: float | None) -> str:
    """``92.5%``, or ``—`` without deadlines."""
    return "—" if rate is None else f"{rate * 100:.1f}%"


def annual_workbook(snapshot: Mapping[str, Any]) -> bytes:
    """The snapshot's tables as ``.xlsx`` (:data:`SHEETS`): the year's figures by campaign
    area, the monthly trend, the on-time rates by stage, the listed hazards and the scope-level
    figures; Chinese headers, the header row frozen, dates as dates."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.worksheets[0])

    def sheet_of(name: str, headers: Sequence[str], widths: Sequence[int]) -> Any:
        sheet = book.create_sheet(name)
        sheet.append(list(headers))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="DDE6F0")
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        sheet.freeze_panes = "A2"
        for index, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.oddFooter.center.text = f"{snapshot['title']}（截至 {_cn(snapshot['period_end'])}）"
        return sheet

    columns = snapshot["columns"]
    sheet = sheet_of(
        SHEETS[0], ["专项整治领域", *(c["header"] for c in columns)], [24, *(12 for _ in columns)]
    )
    for row in snapshot["table"]["rows"]:
        sheet.append([row["name"], *(int(row["values"].get(c["key"], 0)) for c in columns)])
    sheet = sheet_of(SHEETS[1], ["月份", "发现隐患", "整改隐患"], [10, 12, 12])
    for month in snapshot["months"]:
        sheet.append([month["month"], month["found"], month["rectified"]])
    sheet = sheet_of(
        SHEETS[2],
        ["流程", "环节", *(h for _, h in RATE_COLUMNS), "按期办结率"],
        [18, 24, 8, 10, 12, 10, 20, 12],
    )
    for stage in [
        *snapshot["on_time"]["stages"],
        {**snapshot["on_time"]["total"], "process_name": "合计", "stage": ""},
    ]:
        rate = stage["rate"]
        sheet.append(
            [stage["process_name"], stage["stage"], *(stage[k] for k, _ in RATE_COLUMNS), rate]
        )
        sheet.cell(sheet.max_row, 8).number_format = "0.0%"
    sheet = sheet_of(
        SHEETS[3],
        ["序号", *(h for _, h, _ in LISTED_COLUMNS)],
        [6, *(w for _, _, w in LISTED_COLUMNS)],
    )
    for n, item in enumerate(snapshot["listed"], start=1):
        values: list[Any] = [n]
        for key, _header, _width in LISTED_COLUMNS:
            value = item.get(key)
            values.append(
                date.fromisoformat(value) if key in ("rectify_by", "closed_on") and value else value
            )
        sheet.append(values)
        for column in (9, 10):
            sheet.cell(sheet.max_row, column).number_format = "yyyy-mm-dd"
    sheet = sheet_of(SHEETS[4], ["项目", "数量"], [30, 10])
    for key, label in snapshot["extra_labels"].items():
        sheet.append([label, int(snapshot["table"]["extra"].get(key, 0))])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def year_table_workbook(
    snapshot: Mapping[str, Any], remarks: Mapping[str, str] | None = None
) -> bytes:
    """The year's figures in the monthly table's format (:func:`report_figures.monthly_workbook`
    of the snapshot's table; ``remarks`` its footer: 填报单位, 填报人, 审核人, 联系电话 …)."""
    return report_figures.monthly_workbook([snapshot_table(snapshot)], remarks)


def _cn(value: str | date) -> str:
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return f"{day.year}年{day.month}月{day.day}日"


def annual_pdf(
    snapshot: Mapping[str, Any], remarks: str = "", signatures: Mapping[str, str] | None = None
) -> bytes:
    """The report as PDF (:mod:`server.report_annual_pdf`), with :func:`annual_workbook` and the
    year table in the monthly format attached as embedded files."""
    from server.report_annual_pdf import render_annual

    return render_annual(snapshot, remarks, dict(signatures or {}))
