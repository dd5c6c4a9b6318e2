"""The warning board (预警公告): graded public warnings published after fires, newest first.

Every logged-in user reads the warnings public in their jurisdiction
(:func:`server.scoping.warning_filter`); the link to the case shows only to those who may see it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from server.public_warnings import SCOPE_LABELS, board_query, parse_year
from server.scoping import visible_case_ids, warning_filter
from server.views.common import filter_args, page_number, paginate

bp = Blueprint("warnings", __name__, url_prefix="/warnings")
FILTERS = ("scope", "year")


def _year(value: str | None) -> int | None:
    try:
        return parse_year(value or "")
    except ValueError:
        return None  # an unusable filter is ignored on the page


@bp.route("")
@login_required
def index() -> Any:
    """Published warnings the user may read, filtered by scope and year, paged."""
    scope = request.args.get("scope") if request.args.get("scope") in SCOPE_LABELS else None
    query = board_query(scope, _year(request.args.get("year"))).where(warning_filter(current_user))
    page = paginate(query, page_number())
    visible = visible_case_ids(current_user, (w.case_id for w in page.items))
    return render_template(
        "warnings/index.html",
        page=page,
        visible_cases=visible,
        scopes=SCOPE_LABELS,
        filters=filter_args(FILTERS),
    )
