"""The officer's inbox: the ready tasks of the user's agency, earliest deadline first; keyword
search, sortable columns, the arrival time with a 新 mark, bulk claim and 转办 (reassignment to
a colleague). The query is :func:`server.queries.inbox`, which the API runs too."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from server import operations, queries, reads
from server.auth import landing_url, roles_required
from server.models import User
from server.overdue import overdue_task_ids
from server.scoping import workable_task
from server.views.common import (
    filter_args,
    here,
    page_number,
    paginate,
    process_choices,
    safe_next,
)

bp = Blueprint("inbox", __name__)
FILTERS = ("process", "district", "stage", "overdue", "q", "sort", "order")


def inbox_filters(args: Any) -> queries.InboxFilters:
    """The inbox's filters and order from the request (an unknown sort or order: the default)."""
    sort = args.get("sort", "due")
    order = args.get("order", "asc")
    return queries.InboxFilters(
        process=args.get("process", ""),
        district=args.get("district", ""),
        stage=args.get("stage", ""),
        overdue=True if args.get("overdue") else None,
        q=args.get("q", ""),
        sort=sort if sort in queries.INBOX_SORTS else "due",
        order=order if order in queries.ORDERS else "asc",
    )


def colleagues(user: Any) -> list[User]:
    """The active officers of ``user``'s agency other than ``user`` (转办 targets)."""
    found = reads.scalars(
        select(User)
        .where(User.agency_id == user.agency_id, User.active.is_(True), User.id != user.id)
        .order_by(User.name, User.id)
    )
    return [u for u in found if u.has_role("officer")]


@bp.route("/")
@login_required
def index() -> Any:
    """The ready tasks of the user's agency, searched, filtered, sorted and paged (officers;
    others go to their landing page, which is where their work is)."""
    if not current_user.has_role("officer"):
        return redirect(landing_url(current_user))
    now = datetime.now(UTC)
    filters = inbox_filters(request.args)
    page = paginate(queries.inbox(current_user, filters, now), page_number())
    return render_template(
        "inbox/index.html",
        page=page,
        now=now,
        stages=reads.execute(queries.inbox_stages(current_user)).all(),
        processes=process_choices(),
        districts=[(d.code, d.name) for d in queries.served_districts(current_user)],
        filters=filter_args(FILTERS),
        current=filters,
        sorts=queries.INBOX_SORTS,
        overdue_ids=overdue_task_ids(page.items, now),
        new_ids={t.id for t in page.items if queries.is_new(t, now)},
        colleagues=colleagues(current_user),
        here=here(),
    )


@bp.route("/inbox/claim", methods=["POST"])
@roles_required("officer")
def claim() -> Any:
    """Claim the selected tasks at once, all or nothing."""
    ids = list(dict.fromkeys(i for i in request.form.getlist("task") if i))
    back = safe_next(url_for("inbox.index"))
    if not ids:
        flash("请先勾选要认领的任务", "error")
        return redirect(back, code=303)
    if len(ids) > operations.MAX_BULK_CLAIM:
        flash(f"一次最多认领 {operations.MAX_BULK_CLAIM} 项任务", "error")
        return redirect(back, code=303)
    tasks = [workable_task(current_user, task_id) for task_id in ids]
    try:
        operations.claim_tasks(current_user, tasks)
    except operations.OperationError as exc:
        flash(exc.message, "error")
    else:
        flash(f"已认领 {len(tasks)} 项任务", "success")
    return redirect(back, code=303)


@bp.route("/inbox/<task_id>/reassign", methods=["POST"])
@roles_required("officer")
def reassign(task_id: str) -> Any:
    """转办: give a task the user claimed to a colleague of the same agency."""
    task = workable_task(current_user, task_id)
    back = safe_next(url_for("inbox.index"))
    username = request.form.get("to", "").strip()
    colleague = reads.scalar(select(User).where(User.username == username)) if username else None
    try:
        operations.reassign_task(current_user, task, colleague)
    except operations.NotFound:
        abort(404)  # the form offers colleagues only: another agency's user is not to be seen
    except operations.OperationError as exc:
        flash(exc.message, "error")
    else:
        flash(f"已转办：{task.label} → {colleague.name if colleague else ''}", "success")
    return redirect(back, code=303)
