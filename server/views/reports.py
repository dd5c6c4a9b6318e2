"""The 两个清单 on screen (/reports/lists) and as ``.xlsx`` (/reports/lists.xlsx).

Rows come from :func:`server.reports_lists.list_rows` (the API and the workbook use it too);
this module reads the filters and the page number, and renders.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_login import current_user, login_required

from server import reports_lists
from server.display import CASE_STATUS_LABELS
from server.operations import today_shanghai
from server.scoping import visible_case_ids
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
        districts=reports_lists.district_options(current_user),
        departments=reports_lists.department_options(),
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
