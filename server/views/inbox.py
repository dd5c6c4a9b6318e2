"""The officer's inbox: the ready tasks of the user's agency, earliest deadline first."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, redirect, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from server import reads
from server.auth import landing_url
from server.models import Case, Task
from server.scoping import task_filter
from server.views.common import (
    district_choices,
    filter_args,
    here,
    page_number,
    paginate,
    process_choices,
)

bp = Blueprint("inbox", __name__)
FILTERS = ("process", "district", "stage", "overdue")


@bp.route("/")
@login_required
def index() -> Any:
    """The ready tasks of the user's agency, filtered and paged (officers; others go to the
    case list, which is where their work is)."""
    if not current_user.has_role("officer"):
        return redirect(landing_url(current_user))
    now = datetime.now(UTC)
    base = (
        select(Task)
        .join(Case, Case.id == Task.case_id)
        .where(task_filter(current_user), Task.state == "ready")
    )
    stages = reads.execute(
        base.with_only_columns(Task.name, Task.label).distinct().order_by(Task.label)
    ).all()
    query = base.options(selectinload(Task.claimed_by))
    args = request.args
    if args.get("process"):
        query = query.where(Case.process_id == args["process"])
    if args.get("district"):
        query = query.where(Case.district == args["district"])
    if args.get("stage"):
        query = query.where(Task.name == args["stage"])
    if args.get("overdue"):
        query = query.where(Task.due_at < now)
    query = query.order_by(Task.due_at.asc().nulls_last(), Task.created_at, Task.id)
    page = paginate(query, page_number())
    return render_template(
        "inbox/index.html",
        page=page,
        now=now,
        stages=stages,
        processes=process_choices(),
        districts=district_choices(),
        filters=filter_args(FILTERS),
        here=here(),
    )
