"""The 两个清单 on screen (/reports/lists) and as ``.xlsx`` (/reports/lists.xlsx).

Rows come from :func:`server.reports_lists.list_rows` (the API and the workbook use it too);
this module reads the filters and the page number, and renders.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select

from server import operations, reads, reports_lists
from server.display import CASE_STATUS_LABELS
from server.models import Task
from server.operations import today_shanghai
from server.scoping import district_options, task_filter, visible_case_ids
from server.views.common import Page, page_number
from workflows import campaign_areas

bp = Blueprint("reports", __name__, url_prefix="/reports")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(content: bytes) -> Response:
    """An ``.xlsx`` download named 两个清单-<date>.xlsx."""
    name = f"两个清单-{today_shanghai().isoformat()}.xlsx"
    response = Response(content, mimetype=XLSX)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=lists.xlsx; filename*=UTF-8''{_quote(name)}"
    )
    return response


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)


@bp.route("/lists")
@login_required
def lists() -> Any:
    """Both lists of the user's scope, filtered, one page of each."""
    which = request.args.get("list", "problems")
    if which not in reports_lists.LISTS:
        which = "problems"
    filters, errors = reports_lists.check_filters(current_user, request.args)
    total = 0 if errors else reports_lists.count(current_user, filters)
    size = int(current_app.config.get("PAGE_SIZE", 20))
    page = Page([], 1, size, total)
    page.number = min(page_number(), page.pages)
    rows: list[dict[str, Any]] = []
    if not errors:
        rows = reports_lists.list_rows(
            current_user, which, filters, limit=size, offset=(page.number - 1) * size
        )
    page.items = rows
    active = {k: v for k in reports_lists.FILTER_NAMES if (v := request.args.get(k, ""))}
    return render_template(
        "reports/lists.html",
        which=which,
        titles=reports_lists.LIST_TITLES,
        columns=reports_lists.COLUMNS[which],
        page=page,
        errors=errors,
        active=active,
        values={k: request.args.get(k, "") for k in reports_lists.FILTER_NAMES},
        districts=district_options(current_user),
        departments=operations.industry_agency_options(),
        areas=list(campaign_areas.names().items()),
        statuses=list(CASE_STATUS_LABELS.items()),
        visible=visible_case_ids(current_user, [r["case_id"] for r in rows]),
    )


@bp.route("/lists.xlsx")
@login_required
def lists_xlsx() -> Any:
    """Both lists of the user's scope, filtered, as one workbook (every row)."""
    filters, errors = reports_lists.check_filters(current_user, request.args)
    if errors:
        abort(400)
    return xlsx_response(reports_lists.workbook(current_user, filters, today_shanghai()))


# --- the reports' submissions (server/report_cases.py) -----------------------------------------


def _download(content: bytes, name: str, mimetype: str, ascii_name: str) -> Response:
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f"attachment; filename={ascii_name}; filename*=UTF-8''{_quote(name)}"
    )
    return response


def _statuses(reports: list[Any]) -> dict[int, Any]:
    from datetime import UTC, datetime

    from server import report_cases

    now = datetime.now(UTC)
    deadlines = report_cases.deadlines_by_case([r.case_id for r in reports])
    return {r.id: report_cases.status_of(r, deadlines[r.case_id], now) for r in reports}


@bp.route("/submissions")
@login_required
def submissions() -> Any:
    """Every report of a period the user may see, by reporting agency, with its stage and
    whether it is late; for monthly reports the consolidated table of the counties."""
    from server import report_cases

    kind, period, errors = report_cases.parse_filters(request.args, today_shanghai())
    if errors:
        abort(400, "；".join(errors.values()))
    reports = report_cases.visible_reports(current_user, kind, period)
    consolidated = report_cases.consolidated(reports) if kind == "monthly" and reports else []
    return render_template(
        "reports/submissions.html",
        kind=kind,
        period=period,
        period_label=report_cases.period_label(kind, period),
        kinds=report_cases.KIND_LABELS,
        reports=reports,
        statuses=_statuses(reports),
        consolidated=consolidated,
        columns=report_cases.report_table(reports[0]).columns if consolidated else (),
    )


@bp.route("/submissions.xlsx")
@login_required
def submissions_xlsx() -> Any:
    """The monthly reports of a month the user may see, one sheet each, and the 汇总 sheet."""
    from server import report_cases

    kind, period, errors = report_cases.parse_filters(request.args, today_shanghai())
    if errors or kind != "monthly":
        abort(400, "；".join(errors.values()) or "只有月报可以汇总下载")
    reports = report_cases.visible_reports(current_user, kind, period)
    if not reports:
        abort(404)
    return _download(
        report_cases.submissions_workbook(reports),
        f"月报汇总-{period}.xlsx",
        XLSX,
        f"monthly-{period}.xlsx",
    )


@bp.route("/submissions/<int:report_id>")
@login_required
def submission(report_id: int) -> Any:
    """One report: its frozen table, remarks, stage and deadline."""
    from server import report_cases

    report = _visible(report_id)
    # the user's own open step of the report, if any (an officer of the agency that holds it)
    task = reads.scalar(
        select(Task).where(
            Task.case_id == report.case_id, Task.state == "ready", task_filter(current_user)
        )
    )
    return render_template(
        "reports/submission.html",
        report=report,
        title=report_cases.title(report),
        status=_statuses([report])[report.id],
        table=report_cases.table_view(report),
        # refreshing is the reporting office's, while its submission step is open
        may_refresh=task is not None and task.name in report_cases.SUBMIT_TASKS,
        task=task,
    )


def _visible(report_id: int) -> Any:
    from server import operations, report_cases

    try:
        return report_cases.visible_report(current_user, report_id)
    except operations.NotFound:
        abort(404)


@bp.route("/submissions/<int:report_id>.xlsx")
@login_required
def submission_xlsx(report_id: int) -> Any:
    """One report's tables as ``.xlsx``."""
    from server import report_cases

    report = _visible(report_id)
    return _download(
        report_cases.report_workbook(report),
        f"{report_cases.title(report)}.xlsx",
        XLSX,
        f"report-{report.id}.xlsx",
    )


@bp.route("/submissions/<int:report_id>.pdf")
@login_required
def submission_pdf(report_id: int) -> Any:
    """An annual report as PDF (its tables attached)."""
    from server import report_cases

    report = _visible(report_id)
    if report.kind != "annual":
        abort(404)
    return _download(
        report_cases.report_pdf(report),
        f"{report_cases.title(report)}.pdf",
        "application/pdf",
        f"report-{report.id}.pdf",
    )


@bp.route("/submissions/<int:report_id>/refresh", methods=["POST"])
@login_required
def refresh(report_id: int) -> Any:
    """The reporting office recomputes the draft's figures before submitting."""
    from flask import flash, redirect, url_for

    from server import operations, report_cases

    report = _visible(report_id)
    try:
        report_cases.refresh_report(current_user, report)
    except operations.Forbidden:
        abort(403)
    except operations.OperationError as exc:
        flash(exc.message, "error")
    else:
        flash("已按最新数据重新生成报表", "success")
    target = request.form.get("next", "")
    task = report_cases.submission_task(report)
    if target == "task" and task is not None:
        return redirect(url_for("tasks.show", task_id=task.id), code=303)
    return redirect(url_for("reports.submission", report_id=report.id), code=303)
