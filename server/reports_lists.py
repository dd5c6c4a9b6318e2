"""The 两个清单 of the campaign plan (实施方案 三（二）, 四（五）末段): the problem-hazard list
(问题隐患清单) and the rectification-responsibility list (整改责任清单), per district and per
industry department.

One hazard case is one row of each list (REPORTS.md §1.2: "problem and responsibility are two
views of one record"). :func:`list_rows` computes the rows of either list; the page, the API
and the ``.xlsx`` (:func:`workbook`) all call it. Who sees which rows is decided by
:func:`server.scoping.hazard_list_filter`; filters narrow it further.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select

from server import reads
from server.display import CASE_STATUS_LABELS, district_name
from server.models import Agency, Case, Event, User
from server.operations import industry_agency_options
from server.scoping import district_options, hazard_list_filter
from workflows import campaign_areas
from workflows.calendar import SHANGHAI

PROCESS = "major_hazard"
LISTS = ("problems", "responsibilities")
LIST_TITLES = {"problems": "问题隐患清单", "responsibilities": "整改责任清单"}
FILTER_NAMES = ("district", "department", "area", "status")
#: The steps whose forms fill the lists (read from their ``task_completed`` events).
_STEPS = (
    "register_hazard",
    "government_decision",
    "set_rectification_plan",
    "report_rectification_progress",
    "close_case",
)


@dataclass(frozen=True)
class Column:
    """A column of a list: key in the row, Chinese header, kind (text, date, number), width."""

    key: str
    header: str
    kind: str = "text"
    width: int = 14


COLUMNS: dict[str, tuple[Column, ...]] = {
    "problems": (
        Column("number", "督办编号", width=16),
        Column("district", "县市区", width=10),
        Column("unit_name", "单位名称", width=24),
        Column("address", "地址", width=30),
        Column("hazard", "隐患情况", width=40),
        Column("area", "专项整治领域", width=16),
        Column("department", "行业主管部门", width=18),
        Column("found_on", "发现日期", "date", 12),
        Column("verdict", "GB 35181 判定", width=16),
        Column("edition", "标准版本", width=14),
        Column("status", "状态", width=24),
    ),
    "responsibilities": (
        Column("number", "督办编号", width=16),
        Column("district", "县市区", width=10),
        Column("unit_name", "整改责任单位", width=24),
        Column("unit_person", "单位责任人", width=12),
        Column("leader", "责任领导（整改责任人）", width=18),
        Column("supervising", "督促整改部门", width=24),
        Column("department", "行业主管部门", width=18),
        Column("listed", "挂牌督办", width=10),
        Column("measures", "整改措施", width=40),
        Column("rectify_by", "整改期限", "date", 12),
        Column("funds", "安排资金（万元）", "number", 14),
        Column("progress", "整改进展", width=32),
        Column("closed_on", "销案日期", "date", 12),
    ),
}


@dataclass(frozen=True)
class ListFilters:
    """Checked filters: district code, department agency code, area code, status."""

    district: str | None = None
    department: str | None = None
    area: str | None = None
    status: str | None = None


def check_filters(user: User, args: Any) -> tuple[ListFilters, dict[str, str]]:
    """Parse the filters of a query string; the errors by parameter name (Chinese)."""
    values = {name: str(args.get(name, "") or "").strip()[:80] for name in FILTER_NAMES}
    errors: dict[str, str] = {}
    if values["district"] and values["district"] not in dict(district_options(user)):
        errors["district"] = "请从列表中选择县市区"
    if values["department"] and values["department"] not in dict(industry_agency_options()):
        errors["department"] = "请从列表中选择行业主管部门"
    if values["area"] and values["area"] not in campaign_areas.names():
        errors["area"] = "请从列表中选择专项整治领域"
    if values["status"] and values["status"] not in CASE_STATUS_LABELS:
        errors["status"] = "状态只能是 open（办理中）或 closed（已办结）"
    if errors:
        return ListFilters(), errors
    return ListFilters(**{k: v or None for k, v in values.items()}), {}


def cases_query(user: User, filters: ListFilters) -> Select[Any]:
    """The hazard cases of the lists, scoped and filtered, in 督办编号 order."""
    query = select(Case).where(Case.process_id == PROCESS, hazard_list_filter(user))
    if filters.district:
        query = query.where(Case.district == filters.district)
    if filters.department:
        department = select(Agency.id).where(Agency.code == filters.department)
        query = query.where(Case.responsible_department_id.in_(department))
    if filters.area:
        query = query.where(Case.campaign_area == filters.area)
    if filters.status:
        query = query.where(Case.status == filters.status)
    return query.order_by(Case.id)


def count(user: User, filters: ListFilters) -> int:
    """How many rows each list has."""
    query = cases_query(user, filters).order_by(None).subquery()
    return int(reads.scalar(select(func.count()).select_from(query)) or 0)


def _forms(case_ids: Sequence[int]) -> dict[int, dict[str, list[dict[str, Any]]]]:
    """The forms (and registration results) of the list steps, by case and step, in order."""
    found: dict[int, dict[str, list[dict[str, Any]]]] = {i: {} for i in case_ids}
    if not case_ids:
        return found
    rows = reads.execute(
        select(Event.case_id, Event.task_name, Event.data)
        .where(
            Event.case_id.in_(case_ids),
            Event.kind == "task_completed",
            Event.task_name.in_(_STEPS),
        )
        .order_by(Event.case_id, Event.seq)
    )
    for case_id, step, data in rows:
        form = dict((data or {}).get("form") or {})
        form["_result"] = (data or {}).get("result") or {}
        found[case_id].setdefault(step, []).append(form)
    return found


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _last(forms: dict[str, list[dict[str, Any]]], step: str) -> dict[str, Any]:
    return forms.get(step, [{}])[-1]


def _verdict(result: dict[str, Any]) -> str:
    major = result.get("judgement_major")
    if major is None:
        return ""
    return "初判构成重大火灾隐患" if major else "初判不构成重大火灾隐患"


def _row(
    which: str, case: Case, forms: dict[str, list[dict[str, Any]]], departments: dict[int, str]
) -> dict[str, Any]:
    registration = _last(forms, "register_hazard")
    department = departments.get(case.responsible_department_id or 0, "")
    common = {
        "case_id": case.id,
        "number": case.number,
        "district": district_name(case.district),
        "unit_name": case.unit_name,
        "department": department,
    }
    if which == "problems":
        result = registration.get("_result") or {}
        status = CASE_STATUS_LABELS.get(case.status, case.status)
        return common | {
            "address": case.address,
            "hazard": str(registration.get("description", "")),
            "area": campaign_areas.names().get(case.campaign_area or "", ""),
            "found_on": _date(registration.get("found_on")),
            "verdict": _verdict(result),
            "edition": str(result.get("judgement_edition") or ""),
            "status": f"{status}：{case.stage}" if case.stage and case.status == "open" else status,
        }
    decision = _last(forms, "government_decision")
    plan = _last(forms, "set_rectification_plan")
    progress = _last(forms, "report_rectification_progress")
    closing = _last(forms, "close_case")
    listed = plan.get("listed", decision.get("listed"))
    funds = plan.get("funding_amount")
    progress_text = ""
    if progress:
        progress_text = (
            f"{progress.get('percent', '')}%（{progress.get('reported_on', '')}）："
            + str(progress.get("progress", ""))
        )
    closed_on = _date(closing.get("closed_on"))
    if closed_on is None and case.closed_at is not None and case.status == "closed":
        closed_on = case.closed_at.astimezone(SHANGHAI).date()
    return common | {
        "unit_person": str(registration.get("contact_person", "")),
        "leader": str(plan.get("responsible_leader") or decision.get("responsible_person") or ""),
        "supervising": str(
            plan.get("supervising_agency") or decision.get("supervising_departments") or ""
        ),
        "listed": "" if listed is None else ("是" if listed else "否"),
        "measures": str(plan.get("measures", "")),
        "rectify_by": _date(plan.get("rectify_by") or decision.get("rectify_by")),
        "funds": float(funds) if isinstance(funds, int | float) else None,
        "progress": progress_text,
        "closed_on": closed_on,
    }


def rows_of(which: str, cases: Sequence[Case]) -> list[dict[str, Any]]:
    """The rows of list ``which`` for ``cases`` (in their order)."""
    forms = _forms([c.id for c in cases])
    ids = {c.responsible_department_id for c in cases if c.responsible_department_id}
    departments: dict[int, str] = {}
    if ids:
        departments = dict(
            reads.execute(select(Agency.id, Agency.name).where(Agency.id.in_(ids))).all()
        )
    rows = [_row(which, case, forms[case.id], departments) for case in cases]
    codes = {r["supervising"] for r in rows if r.get("supervising")}
    if codes:  # 督促整改部门 is chosen from the agencies: show its name, not its code
        names = dict(
            reads.execute(select(Agency.code, Agency.name).where(Agency.code.in_(codes))).all()
        )
        for row in rows:
            if row.get("supervising") in names:
                row["supervising"] = names[row["supervising"]]
    return rows


def list_rows(
    user: User,
    which: str,
    filters: ListFilters,
    *,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """The rows of list ``which`` (``problems`` or ``responsibilities``) the user may see."""
    query = cases_query(user, filters)
    if limit is not None:
        query = query.limit(limit).offset(offset)
    return rows_of(which, list(reads.scalars(query).unique()))


def workbook(user: User, filters: ListFilters, as_of: date) -> bytes:
    """The two lists as an ``.xlsx``: one sheet per list, Chinese headers, the header row
    frozen, column widths set, dates as dates."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.worksheets[0])
    cases = list(reads.scalars(cases_query(user, filters)).unique())
    for which in LISTS:
        sheet = book.create_sheet(LIST_TITLES[which])
        columns = COLUMNS[which]
        sheet.append(["序号", *(c.header for c in columns)])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="DDE6F0")
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        for n, row in enumerate(rows_of(which, cases), start=1):
            sheet.append([n, *(row[c.key] for c in columns)])
        sheet.freeze_panes = "A2"
        sheet.column_dimensions["A"].width = 6
        for index, column in enumerate(columns, start=2):
            letter = get_column_letter(index)
            sheet.column_dimensions[letter].width = column.width
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                if column.kind == "date":
                    cell.number_format = "yyyy-mm-dd"
                elif column.kind == "number":
                    cell.number_format = "0.00"
                else:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.oddFooter.center.text = f"截至 {as_of.year}年{as_of.month}月{as_of.day}日"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
