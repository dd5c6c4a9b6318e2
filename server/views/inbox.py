"""The officer's inbox: the ready tasks of the user's agency, earliest deadline first; keyword
search, sortable columns, the arrival time with a 新 mark, bulk claim and 转办 (reassignment to
a colleague). The query is :func:`server.queries.inbox`, which the API runs too.

The page shows a hundred rows: each row's display values (dates, badge, links) are computed
once here (:class:`InboxRow`), so that the template only writes them out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from server import operations, queries, reads
from server.auth import landing_url, roles_required
from server.display import (
    Badge,
    cn_date,
    cn_datetime,
    cn_short_datetime,
    district_name,
    overdue_badge,
    utc,
)
from server.engine import get_engine
from server.models import User
from server.scoping import workable_task
from server.views.common import (
    UrlPattern,
    filter_args,
    here,
    page_number,
    paginate,
    process_choices,
    quote_segment,
    safe_next,
)
from workflows.calendar import SHANGHAI

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


@dataclass(frozen=True, slots=True)
class InboxRow:
    """One row of the inbox page: a ready task and its case, as the page shows them."""

    id: str
    label: str
    case_id: int
    number: str
    case_no: str | None
    unit_name: str
    address: str
    district: str  # the division's Chinese name
    claimed_by_id: int | None
    claimant: str  # the claimant's name, or 未认领
    arrived: str  # the arrival, short (12月9日 14:05) ...
    arrived_title: str  # ... and in full
    new: bool  # arrived within queries.NEW_FOR (the 新 mark)
    due: str  # the due date, or —
    badge: Badge  # overdue, due soon, working days left
    case_url: str
    task_url: str
    claim_url: str
    release_url: str
    reassign_url: str


def inbox_rows(rows: list[Any], now: datetime) -> list[InboxRow]:
    """The display values of a page of plain inbox rows (:func:`server.queries.inbox_rows`),
    each link built from a pattern made once and the calendar looked up once."""
    case_url = UrlPattern("cases.show", "case_id")
    task_url = UrlPattern("tasks.show", "task_id")
    claim_url = UrlPattern("tasks.claim", "task_id")
    release_url = UrlPattern("tasks.release", "task_id")
    reassign_url = UrlPattern("inbox.reassign", "task_id")
    calendar = get_engine().calendar
    this_year = datetime.now(SHANGHAI).year
    shown = []
    for row in rows:
        task, case = row.task, row.case
        arrived = utc(task.created_at)
        segment = quote_segment(task.id)
        shown.append(
            InboxRow(
                id=task.id,
                label=task.label,
                case_id=task.case_id,
                number=case.number,
                case_no=case.case_no,
                unit_name=case.unit_name,
                address=case.address,
                district=district_name(case.district),
                claimed_by_id=task.claimed_by_id,
                claimant=row.claimed_by.name if task.claimed_by_id is not None else "未认领",
                arrived=cn_short_datetime(arrived, this_year),
                arrived_title=cn_datetime(arrived),
                new=queries.is_new(task, now),
                due=cn_date(task.due_at) if task.due_at else "—",
                badge=overdue_badge(task.due_at, now=now, calendar=calendar),
                case_url=case_url(task.case_id),
                task_url=task_url.quoted(segment),
                claim_url=claim_url.quoted(segment),
                release_url=release_url.quoted(segment),
                reassign_url=reassign_url.quoted(segment),
            )
        )
    return shown


@bp.route("/")
@login_required
def index() -> Any:
    """The ready tasks of the user's agency, searched, filtered, sorted and paged (officers;
    others go to their landing page, which is where their work is)."""
    if not current_user.has_role("officer"):
        return redirect(landing_url(current_user))
    now = datetime.now(UTC)
    filters = inbox_filters(request.args)
    page = paginate(
        queries.inbox(current_user, filters, now),
        page_number(),
        rows=lambda window: queries.inbox_rows(window, filters),
    )
    page.items = inbox_rows(page.items, now)
    return render_template(
        "inbox/index.html",
        page=page,
        stages=reads.execute(queries.inbox_stages(current_user)).all(),
        processes=process_choices(),
        districts=[(d.code, d.name) for d in queries.served_districts(current_user)],
        filters=filter_args(FILTERS),
        current=filters,
        sorts=queries.INBOX_SORTS,
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
