"""The reports the plan requires, run as cases: generation, the steps' records, refreshing.

《常德市消防安全专项整治三年行动实施方案》 asks each county's fire safety committee office to
report monthly to the city office (附件8) and every district and department to send a yearly
work report by 10 December. Duban generates each report's draft and runs its submission with
its own engine (``bpmn/monthly_report.bpmn``, ``bpmn/annual_report.bpmn``):

- :func:`generate` (the scheduler on the 1st and on the annual draft date, and ``flask --app
  server report generate``) opens one case per reporting agency and period, started by the
  system (its chain opens with ``case_opened`` without an actor, ``started_by: system``),
  with a ``report`` row holding the figures frozen at that moment; generating again
  opens nothing (unique kind, period, agency);
- the reporting office may refresh the figures while its submission is open
  (:func:`refresh_report`), then submits with its remarks; the city office accepts or returns:
  :func:`record_report_step`, called by :func:`server.operations.complete_task` in the
  completion's transaction, keeps the row's times and remarks in step;
- the deadline, its escalation and the notifications are the engine's and
  :func:`server.operations.sync_case`'s, as for every case.

The figures come from :mod:`server.report_figures` (monthly) and :mod:`server.report_annual`
(annual), computed once there; report cases are never counted as hazards (those modules read
process ``major_hazard`` only).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from server import report_figures
from server.audit import append_event
from server.engine import get_engine
from server.extensions import db
from server.models import Agency, Case, Deadline, Report, Task, User
from server.overdue import is_overdue
from workflows.calendar import SHANGHAI, today_shanghai
from workflows.engine import StepResult
from workflows.jurisdiction import CITY
from workflows.legal_settings import effective

log = logging.getLogger(__name__)

#: Report kind → its process.
PROCESSES = {"monthly": "monthly_report", "annual": "annual_report"}
KIND_BY_PROCESS = {process: kind for kind, process in PROCESSES.items()}
KIND_LABELS = {"monthly": "月报（附件8）", "annual": "年度工作报告"}
SUBMIT_TASKS = {"submit_monthly_report", "submit_annual_report"}
REVIEW_TASKS = {"review_monthly_report", "review_annual_report"}

_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
_YEAR = re.compile(r"[0-9]{4}")


def check_period(kind: str, period: str) -> str:
    """``period`` when it is a period of ``kind`` ("2026-11" / "2026"); ValueError otherwise."""
    pattern = _MONTH if kind == "monthly" else _YEAR if kind == "annual" else None
    if pattern is None:
        raise ValueError(f"未知的报告类型：{kind}")
    if not isinstance(period, str) or not pattern.fullmatch(period) or period < "2000":
        raise ValueError("月份应为 YYYY-MM 格式" if kind == "monthly" else "年度应为 YYYY 格式")
    return period


def period_label(kind: str, period: str) -> str:
    """``2026年11月`` / ``2026年度``."""
    if kind == "monthly":
        return f"{period[:4]}年{int(period[5:])}月"
    return f"{period}年度"


def title(report: Report) -> str:
    """``鼎城区消防安全委员会办公室 2026年11月 月报（附件8）``."""
    period = period_label(report.kind, report.period)
    return f"{report.agency.name} {period} {KIND_LABELS[report.kind]}"


def previous_month(day: date) -> str:
    """The month before ``day``'s, as "YYYY-MM"."""
    year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def annual_draft_date(year: int, settings: Mapping[str, Any] | None = None) -> date:
    """The day the year's annual drafts are generated (administrator data, default 1 November;
    a day past the month's end is its last day)."""
    values = settings if settings is not None else _settings()
    month, day = int(values["annual_report_draft_month"]), int(values["annual_report_draft_day"])
    following = date(year + (month == 12), month % 12 + 1, 1)
    last = (following - date.resolution).day
    return date(year, month, min(day, last))


def _settings() -> dict[str, Any]:
    from server.admin.legal_settings import effective_settings  # it imports operations

    try:
        return effective_settings()
    except Exception:
        return effective()


# --- who reports, and on what ------------------------------------------------------------------


def reporting_agencies(kind: str) -> list[Agency]:
    """The agencies a report of ``kind`` is due from, in directory order: every county's
    safety committee office (monthly, annual) and every city industry department (annual)."""
    query = select(Agency).where(Agency.kind == "safety_office", Agency.division != CITY)
    if kind == "annual":
        query = select(Agency).where(
            ((Agency.kind == "safety_office") & (Agency.division != CITY))
            | ((Agency.kind == "industry") & (Agency.division == CITY))
        )
    return list(db.session.scalars(query.order_by(Agency.id)))


def scope_of(agency: Agency) -> report_figures.Scope:
    """The figures' scope of a reporting agency: its district, or its department."""
    if agency.kind == "industry":
        return report_figures.Scope("department", agency.code)
    return report_figures.Scope("district", agency.division)


def compute_snapshot(kind: str, period: str, agency: Agency) -> dict[str, Any]:
    """The figures of a report, JSON-able, computed now (frozen by the caller)."""
    scope = scope_of(agency)
    if kind == "monthly":
        return report_figures.monthly_table(scope, period).to_json()
    from server import report_annual

    return report_annual.annual_snapshot(scope, int(period))


# --- generation --------------------------------------------------------------------------------


def existing(kind: str, period: str) -> dict[int, Report]:
    """The reports of ``kind`` and ``period`` already generated, by reporting agency id."""
    rows = db.session.scalars(select(Report).where(Report.kind == kind, Report.period == period))
    return {row.agency_id: row for row in rows}


def generate(kind: str, period: str, now: datetime | None = None) -> list[Report]:
    """Open the missing report cases of ``kind`` for ``period`` (one per reporting agency);
    returns the new reports (none when every agency has one: generation is idempotent).

    Each case is opened in its own transaction; a second generator racing for the same agency
    fails on the unique (kind, period, agency) and leaves it to the first.
    """
    from server.operations import Conflict

    check_period(kind, period)
    now = now or datetime.now(UTC)
    have = existing(kind, period)
    created: list[Report] = []
    for agency in reporting_agencies(kind):
        if agency.id in have:
            continue
        try:
            created.append(_open(kind, period, agency, now))
        except Conflict:
            log.info("report %s %s of %s generated meanwhile", kind, period, agency.code)
    return created


def _open(kind: str, period: str, agency: Agency, now: datetime) -> Report:
    """Open one report case, started by the system (its own transaction)."""
    from server.operations import _transaction, add_case, sync_case

    engine = get_engine()
    process = PROCESSES[kind]
    settings = _settings()
    district = agency.division
    facts = {"reporting_agency": agency.code, "district": district, "kind": kind, "period": period}
    snapshot = compute_snapshot(kind, period, agency)
    with _transaction(keep_loaded=True):
        instance = engine.start(process, facts, settings)
        case = add_case(
            instance,
            now,
            district=district,
            unit_name=agency.name,
            address=f"{period_label(kind, period)}{KIND_LABELS[kind]}",
            discoverer_agency_id=agency.id,
            opened_by_id=None,
        )
        report = Report(
            kind=kind,
            period=period,
            agency_id=agency.id,
            scope_kind=scope_of(agency).kind,
            scope_code=scope_of(agency).code or "",
            case_id=case.id,
            snapshot=snapshot,
            generated_at=now,
        )
        db.session.add(report)
        db.session.flush()  # the unique (kind, period, agency) refuses a second generator here
        append_event(
            case.id,
            "case_opened",
            data={
                "process": process,
                "version": instance.version,
                "number": case.number,
                "settings": settings,
                "started_by": "system",
                "report": {"kind": kind, "period": period, "agency": agency.code},
                "unit_name": case.unit_name,
                "address": case.address,
                "district": district,
                "agency_id": agency.id,
            },
            at=now,
        )
        sync_case(case, instance, StepResult(), actor=None, now=now)
    return report


def due_generations(
    today: date, settings: Mapping[str, Any] | None = None
) -> list[tuple[str, str]]:
    """The (kind, period) whose drafts are due on ``today``: the previous month's monthly
    reports (from the 1st), and the year's annual reports from the annual draft date."""
    due = [("monthly", previous_month(today))]
    if today >= annual_draft_date(today.year, settings):
        due.append(("annual", str(today.year)))
    return due


def generate_due(now: datetime | None = None) -> dict[str, int]:
    """Generate every report whose draft date has come (the scheduler's job): for each
    (kind, period) of :func:`due_generations`, the missing cases."""
    now = now or datetime.now(UTC)
    counts: dict[str, int] = {}
    for kind, period in due_generations(now.astimezone(SHANGHAI).date()):
        counts[f"{kind}:{period}"] = len(generate(kind, period, now))
    return counts


# --- the steps ---------------------------------------------------------------------------------


def report_of_case(case_id: int) -> Report | None:
    """The report a case runs, or None (not a report case)."""
    return db.session.scalar(select(Report).where(Report.case_id == case_id))


def record_report_step(case: Case, task: Task, data: Mapping[str, Any], now: datetime) -> None:
    """Keep the report row in step with a completed step (in the completion's transaction):
    a submission records the remarks and the time, a review the acceptance or the return."""
    if case.process_id not in KIND_BY_PROCESS:
        return
    report = report_of_case(case.id)
    if report is None:
        return
    if task.name in SUBMIT_TASKS:
        report.remarks = dict(data)
        report.submitted_at = now
    elif task.name in REVIEW_TASKS:
        if data.get("decision") == "accept":
            report.accepted_at = now
        else:
            report.returned_at = now
            report.return_reason = str(data.get("reason") or "")


def submission_task(report: Report) -> Task | None:
    """The report's open submission task (drafting or resubmitting), or None."""
    return db.session.scalar(
        select(Task).where(
            Task.case_id == report.case_id, Task.state == "ready", Task.name.in_(SUBMIT_TASKS)
        )
    )


def refresh_report(user: User, report: Report, now: datetime | None = None) -> Report:
    """The reporting office recomputes its report's figures before submitting (按最新数据重新
    生成): the snapshot is replaced and the case's chain records it.

    :raises Forbidden: for a user who is not an officer of the reporting agency.
    :raises Conflict: when the report is not waiting for its submission.
    """
    from server.operations import Conflict, Forbidden, _transaction, lock_case

    if not user.has_role("officer") or user.agency_id != report.agency_id:
        raise Forbidden("只有报送单位的承办人可以重新生成报表")
    now = now or datetime.now(UTC)
    with _transaction(keep_loaded=True):
        lock_case(report.case_id)
        if submission_task(report) is None:
            raise Conflict("报告已报送，不能再重新生成；被退回后可重新生成")
        report.snapshot = compute_snapshot(report.kind, report.period, report.agency)
        report.refreshed_at = now
        append_event(
            report.case_id,
            "report_refreshed",
            actor=user,
            data={"kind": report.kind, "period": report.period},
            at=now,
        )
    return report


# --- what the pages show -----------------------------------------------------------------------


@dataclass(frozen=True)
class ReportStatus:
    """Where a report stands: its stage (Chinese), whether it is late, when it is due."""

    code: str  # draft | returned | submitted | accepted
    label: str
    late: bool  # a deadline missed (met late or still open past due)
    due_at: datetime | None  # the submission deadline (the earliest)
    deadlines: tuple[Deadline, ...]


STAGE_LABELS = {
    "draft": "待报送",
    "returned": "已退回，待重新报送",
    "submitted": "已报送，待审核",
    "accepted": "已采纳",
}


def status_of(report: Report, deadlines: Sequence[Deadline], now: datetime) -> ReportStatus:
    """The report's stage and lateness from its row and its case's deadline rows."""
    if report.accepted_at is not None:
        code = "accepted"
    elif report.submitted_at is not None and (
        report.returned_at is None or report.submitted_at > report.returned_at
    ):
        code = "submitted"
    elif report.returned_at is not None:
        code = "returned"
    else:
        code = "draft"
    late = any(d.missed_at is not None or is_overdue(d, now, case_open=True) for d in deadlines)
    due = min((d.due_at for d in deadlines), default=None)
    return ReportStatus(code, STAGE_LABELS[code], late, due, tuple(deadlines))


def deadlines_by_case(case_ids: Sequence[int]) -> dict[int, list[Deadline]]:
    """The deadline rows of the given cases (one query), by case id."""
    found: dict[int, list[Deadline]] = {case_id: [] for case_id in case_ids}
    if case_ids:
        rows = db.session.scalars(
            select(Deadline).where(Deadline.case_id.in_(case_ids)).order_by(Deadline.due_at)
        )
        for row in rows:
            found[row.case_id].append(row)
    return found


def today() -> date:
    """Today in Asia/Shanghai (for the pages' default period)."""
    return today_shanghai()


def visible_reports(user: User, kind: str, period: str) -> list[Report]:
    """The reports of ``kind`` and ``period`` ``user`` may see, in directory order."""
    from server.scoping import report_filter

    query = (
        select(Report)
        .where(Report.kind == kind, Report.period == period, report_filter(user))
        .order_by(Report.agency_id)
    )
    return list(db.session.scalars(query))


def visible_report(user: User, report_id: int) -> Report:
    """The report if ``user`` may see it.

    :raises NotFound: when it does not exist or is out of the user's scope.
    """
    from server.operations import NotFound
    from server.scoping import report_filter

    report = db.session.scalar(select(Report).where(Report.id == report_id, report_filter(user)))
    if report is None:
        raise NotFound("未找到该报告")
    return report


def report_table(report: Report) -> report_figures.FigureTable:
    """The report's frozen figure table (an annual snapshot holds the year's table)."""
    data = report.snapshot if report.kind == "monthly" else report.snapshot["table"]
    return report_figures.FigureTable.from_json(data)


def footer(report: Report) -> dict[str, str]:
    """The sign-off fields of the report's workbook and PDF from its remarks."""
    remarks = report.remarks or {}
    filled_on = str(remarks.get("filled_on", ""))
    return {
        "filled_by": str(remarks.get("preparer", "")),
        "reviewed_by": str(remarks.get("reviewer", "")),
        "phone": str(remarks.get("contact_phone", "")),
        "filled_on": filled_on,
        "remarks": str(remarks.get("remarks", "")),
    }


def report_workbook(report: Report) -> bytes:
    """One report as ``.xlsx``: the monthly table with its sign-off, or the annual tables."""
    if report.kind == "monthly":
        return report_figures.monthly_workbook([report_table(report)], footer(report))
    from server import report_annual

    return report_annual.annual_workbook(report.snapshot)


def report_pdf(report: Report) -> bytes:
    """An annual report as PDF with its tables attached (:func:`report_annual.annual_pdf`).

    :raises NotFound: for a monthly report (its format is the table, ``.xlsx``).
    """
    from server import report_annual
    from server.operations import NotFound

    if report.kind != "annual":
        raise NotFound("月报没有 PDF 格式，请下载 Excel")
    remarks = report.remarks or {}
    signatures = {k: v for k, v in footer(report).items() if k != "remarks" and v}
    return report_annual.annual_pdf(report.snapshot, str(remarks.get("work_summary", "")),
                                    signatures)  # fmt: skip


def consolidated(reports: Sequence[Report]) -> list[tuple[str, dict[str, int]]]:
    """The city's consolidated table of monthly reports: each county's 合计, then the sums
    (:func:`report_figures.consolidated_rows` of the frozen tables)."""
    return report_figures.consolidated_rows([report_table(r) for r in reports])


def submissions_workbook(reports: Sequence[Report]) -> bytes:
    """Every given monthly report's table, one sheet each, and the 汇总 sheet."""
    return report_figures.monthly_workbook([report_table(r) for r in reports])


def parse_filters(args: Mapping[str, str], today: date) -> tuple[str, str, dict[str, str]]:
    """The ``kind`` and ``period`` of a submissions query (default: last month's monthly
    reports), with field errors (Chinese) naming the bad parameter."""
    errors: dict[str, str] = {}
    kind = args.get("kind") or "monthly"
    if kind not in PROCESSES:
        errors["kind"] = "报告类型只能是 monthly（月报）或 annual（年度工作报告）"
        kind = "monthly"
    default = previous_month(today) if kind == "monthly" else str(today.year)
    period = args.get("period") or default
    try:
        check_period(kind, period)
    except ValueError as exc:
        errors["period"] = str(exc)
        period = default
    return kind, period, errors


def report_json(report: Report, status: ReportStatus, *, full: bool = False) -> dict[str, Any]:
    """A report as the API shows it (``full``: with the snapshot and the remarks)."""

    def iso(value: datetime | None) -> str | None:
        return value.astimezone(UTC).isoformat() if value is not None else None

    data: dict[str, Any] = {
        "id": report.id,
        "kind": report.kind,
        "period": report.period,
        "title": title(report),
        "agency": {"code": report.agency.code, "name": report.agency.name},
        "scope": {"kind": report.scope_kind, "code": report.scope_code},
        "case_id": report.case_id,
        "case_number": report.case.number,
        "stage": status.code,
        "stage_label": status.label,
        "late": status.late,
        "due_at": iso(status.due_at),
        "generated_at": iso(report.generated_at),
        "refreshed_at": iso(report.refreshed_at),
        "submitted_at": iso(report.submitted_at),
        "returned_at": iso(report.returned_at),
        "return_reason": report.return_reason,
        "accepted_at": iso(report.accepted_at),
    }
    if full:
        data["remarks"] = report.remarks
        data["snapshot"] = report.snapshot
    return data


@dataclass(frozen=True)
class TableView:
    """What a page draws of a frozen table: the table, its column groups in order (group,
    span), and the Chinese labels of its scope-level figures."""

    table: report_figures.FigureTable
    groups: list[tuple[str, int]]
    extra_labels: dict[str, str]


def table_view(report: Report) -> TableView:
    """The report's frozen table, ready for ``reports/_figures.html``."""
    table = report_table(report)
    groups: list[tuple[str, int]] = []
    for column in table.columns:
        if groups and groups[-1][0] == column.group:
            groups[-1] = (column.group, groups[-1][1] + 1)
        else:
            groups.append((column.group, 1))
    return TableView(table, groups, dict(report_figures.EXTRA_LABELS))
