"""The officer's inbox: the ready tasks of the user's agency, earliest deadline first; keyword
search, sortable columns, the arrival time with a 新 mark, bulk claim and 转办 (reassignment to
a colleague). The query is :func:`server.queries.inbox_query`, which the API runs too.

The page shows a hundred rows: the table's rows are written here (:func:`table_rows`), each
link from a pattern made once per page, not through the template."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    get_template_attribute,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import bindparam, select

from server import operations, queries, reads
from server.auth import landing_url, roles_required
from server.display import (
    cn_date,
    cn_datetime,
    cn_short_datetime,
    district_name,
    escape_text,
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
    paginate_bound,
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


def colleagues(user: Any) -> list[Any]:
    """The active officers of ``user``'s agency other than ``user`` (转办 targets): rows of
    their ``username`` and ``name``, by name."""
    found = reads.columns(_COLLEAGUES, {"agency_id": user.agency_id, "user_id": user.id})
    return [row for row in found if OFFICER in row.roles.split(",")]


# Built once (building a statement per request costs more than running it).
_COLLEAGUES = (
    select(User.username, User.name, User.roles)
    .where(
        User.agency_id == bindparam("agency_id"),
        User.active.is_(True),
        User.id != bindparam("user_id"),
    )
    .order_by(User.name, User.id)
)
OFFICER = "officer"


def table_rows(
    rows: list[Any], now: datetime, *, here: str, csrf_field: Markup, colleagues: list[Any]
) -> Markup:
    """The ``<tr>`` rows of the inbox table, for a page of plain inbox rows
    (:func:`server.queries.inbox_rows` without ``full``).

    Written here rather than in the template: through Jinja a row cost ~25 µs (an attribute
    lookup, an escape and a yield for each of its ~25 values), a quarter of the page at 100
    rows; here a few µs. Every value is escaped as the template's autoescape did
    (:func:`server.display.escape_text`: :func:`markupsafe.escape`'s output as a plain str);
    the due date's two cells (its date, the badge as the ``badge`` macro writes it) are written
    once per distinct due date; the claim buttons as ``claim_buttons`` (``_macros.html``); the
    links are built from a URL pattern made once per page (werkzeug's URL building costs ~10 µs
    a link).

    :param here: the page's URL, to come back to after a form.
    :param csrf_field: the ``csrf()`` macro's hidden field, the same for every form.
    :param colleagues: the 转办 targets offered on the rows the user claimed.
    """
    esc = escape_text
    case_url = UrlPattern("cases.show", "case_id")
    task_url = UrlPattern("tasks.show", "task_id")
    claim_url = UrlPattern("tasks.claim", "task_id")
    release_url = UrlPattern("tasks.release", "task_id")
    reassign_url = UrlPattern("inbox.reassign", "task_id")
    calendar = get_engine().calendar
    this_year = datetime.now(SHANGHAI).year
    back = f'{csrf_field}<input type="hidden" name="next" value="{esc(here)}">'
    options = "".join(
        f'<option value="{esc(p.username)}">{esc(p.name)}</option>' for p in colleagues
    )
    mine = current_user.id
    # A due date's cells (its date and badge), once per distinct due date of the page.
    due_cells: dict[Any, str] = {}
    out: list[str] = []
    for n, row in enumerate(rows, 1):
        segment = quote_segment(row.id)
        link = esc(task_url.quoted(segment))
        number, label = esc(row.number), esc(row.label)
        arrived = utc(row.created_at)
        unclaimed = row.claimed_by_id is None
        out.append('\n    <tr>\n      <td data-label="案件编号">')
        if unclaimed:
            out.append(
                f'<input type="checkbox" name="task" value="{esc(row.id)}" form="bulk-claim"'
                f' class="row-select" aria-label="选择 {number} {label}"> '
            )
        out.append(f'<a href="{esc(case_url(row.case_id))}">{number}</a>')
        if row.case_no:
            out.append(f'<br><span class="muted small">{esc(row.case_no)}</span>')
        out.append(
            f'</td>\n      <td data-label="单位名称">{esc(row.unit_name)}<br>'
            f'<span class="muted small">{esc(row.address)}</span></td>'
            f'\n      <td data-label="辖区">{esc(district_name(row.district))}</td>'
            f'\n      <td data-label="当前环节"><a href="{link}">{label}</a></td>'
            f'\n      <td data-label="到达时间"><span title="{esc(cn_datetime(arrived))}">'
            f"{esc(cn_short_datetime(arrived, this_year))}</span>"
        )
        if queries.is_new(row, now):
            out.append(' <span class="badge badge-new" title="24小时内到达">新</span>')
        cells = due_cells.get(row.due_at)
        if cells is None:
            badge = overdue_badge(row.due_at, now=now, calendar=calendar)
            due = cn_date(row.due_at) if row.due_at else "—"
            title = f' title="{esc(badge.title)}"' if badge.title else ""
            cells = due_cells[row.due_at] = (
                f'</td>\n      <td data-label="截止时间">{esc(due)}</td>'
                f'\n      <td data-label="状态"><span class="badge badge-{esc(badge.kind)}"{title}>'
                f"{esc(badge.text)}</span></td>"
            )
        claimant = row.claimant if not unclaimed else "未认领"
        out.append(
            f'{cells}\n      <td data-label="认领人">{esc(claimant)}</td>'
            f'\n      <td data-label="操作" class="actions">'
            f'\n        <a href="{link}" class="button button-primary button-small">办理</a>'
            "\n        "
        )
        if unclaimed:
            out.append(
                f'\n<form method="post" action="{esc(claim_url.quoted(segment))}"'
                f' class="inline-form">\n  {back}\n  <button type="submit"'
                ' class="button button-secondary button-small">认领</button>\n</form>'
            )
        elif row.claimed_by_id == mine:
            out.append(
                f'\n<form method="post" action="{esc(release_url.quoted(segment))}"'
                f' class="inline-form">\n  {back}\n  <button type="submit"'
                ' class="button button-quiet button-small">取消认领</button>\n</form>'
            )
            if colleagues:
                out.append(
                    f'\n        <form method="post" action="{esc(reassign_url.quoted(segment))}"'
                    ' class="inline-form reassign-form">'
                    f"\n          {back}"
                    f'\n          <label class="visually-hidden" for="to-{n}">转办给</label>'
                    f'\n          <select id="to-{n}" name="to" required>'
                    f'\n            <option value="">转办给…</option>{options}'
                    "\n          </select>"
                    '\n          <button type="submit" class="button button-quiet button-small">'
                    "转办</button>\n        </form>"
                )
        out.append("\n      </td>\n    </tr>")
    return Markup("".join(out))  # noqa: S704 - every value above is escaped


@bp.route("/")
@login_required
def index() -> Any:
    """The ready tasks of the user's agency, searched, filtered, sorted and paged (officers;
    others go to their landing page, which is where their work is)."""
    if not current_user.has_role("officer"):
        return redirect(landing_url(current_user))
    now = datetime.now(UTC)
    filters = inbox_filters(request.args)
    stages = reads.columns(*queries.inbox_stages(current_user)).all()
    page = paginate_bound(
        queries.inbox_query(current_user, filters, now, full=False),
        page_number(),
        # unfiltered, the inbox holds the steps' tasks: no second count
        total=None if queries.narrowed(filters) else sum(count for _, _, count in stages),
    )
    targets = colleagues(current_user)
    back = here()
    csrf_field = get_template_attribute("_macros.html", "csrf")()
    return render_template(
        "inbox/index.html",
        page=page,
        rows=table_rows(page.items, now, here=back, csrf_field=csrf_field, colleagues=targets),
        stages=[(name, label) for name, label, _ in stages],
        processes=process_choices(),
        districts=[(d.code, d.name) for d in queries.served_districts(current_user)],
        filters=filter_args(FILTERS),
        current=filters,
        sorts=queries.INBOX_SORTS,
        here=back,
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
