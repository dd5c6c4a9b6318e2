"""The notification centre: a user's messages (missed deadlines, supervisors' follow-ups),
grouped per case, the newest first; opening one marks it read and leads to its task.

Every user has it; the header shows the unread count on every page, through one indexed
count query.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    has_request_context,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from server import reads
from server.models import Notification
from server.notifications import (
    group_query,
    grouped,
    mark_read,
    open_tasks,
    target_of,
    unread_count,
    unread_for_case,
)
from server.scoping import visible_case
from server.views.common import case_url, here, page_number, paginate, safe_next

log = logging.getLogger(__name__)
bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.app_context_processor
def unread_context() -> dict[str, Any]:
    """``unread_notifications``: the current user's unread count (None when logged out)."""
    # Templates may be rendered outside a request (e.g. a PDF from the CLI): no user there.
    if not has_request_context() or not current_user.is_authenticated:
        return {"unread_notifications": None}
    try:
        g.unread_notifications = unread_count(current_user)
        return {"unread_notifications": g.unread_notifications}
    except SQLAlchemyError:
        # The 500 page after a failed transaction must still render.
        log.warning("unread count unavailable", exc_info=True)
        reads.rollback()
        return {"unread_notifications": None}


@bp.app_context_processor
def case_notifications_context() -> dict[str, Any]:
    """Templates call ``case_notifications(case)``: the user's unread reminders about it."""

    def case_notifications(case: Any) -> list[Notification]:
        if not has_request_context() or not current_user.is_authenticated:
            return []
        if g.get("unread_notifications") == 0:
            return []  # nothing unread at all (counted for this page's navigation)
        return unread_for_case(current_user, case.id)

    return {"case_notifications": case_notifications}


@bp.route("")
@login_required
def index() -> Any:
    """The user's messages grouped per case, the case with the newest message first."""
    unread_only = request.args.get("unread") == "1"
    page = paginate(group_query(current_user, unread_only), page_number())
    groups = grouped(current_user, page.items, unread_only)
    task_ids = {n.task_id for group in groups for n in group.items if n.task_id}
    return render_template(
        "notifications/index.html",
        page=page,
        groups=groups,
        workable=open_tasks(current_user, task_ids),
        unread_only=unread_only,
        here=here(),
    )


@bp.route("/<int:notification_id>")
@login_required
def open_message(notification_id: int) -> Any:
    """Open a message: mark it read and go to its task (or its case)."""
    notification = reads.scalar(
        select(Notification).where(
            Notification.id == notification_id, Notification.user_id == current_user.id
        )
    )
    if notification is None:
        abort(404)
    kind, target = target_of(current_user, notification)
    mark_read(current_user, notification_id)
    if kind == "task":
        return redirect(url_for("tasks.show", task_id=target), code=303)
    if kind == "case":
        return redirect(case_url(target), code=303)
    return redirect(url_for("notifications.index"), code=303)


@bp.route("/<int:notification_id>/read", methods=["POST"])
@login_required
def read(notification_id: int) -> Any:
    """Mark one of the user's notifications read."""
    found = reads.scalar(
        select(Notification.id).where(
            Notification.id == notification_id, Notification.user_id == current_user.id
        )
    )
    if found is None:
        abort(404)
    mark_read(current_user, notification_id)
    return redirect(safe_next(url_for("notifications.index")), code=303)


@bp.route("/read-all", methods=["POST"])
@login_required
def read_all() -> Any:
    """Mark all of the user's notifications read."""
    changed = mark_read(current_user)
    flash(f"已将{changed}条消息标为已读" if changed else "没有未读消息", "info")
    return redirect(safe_next(url_for("notifications.index")), code=303)


@bp.route("/case/<int:case_id>/read", methods=["POST"])
@login_required
def read_case(case_id: int) -> Any:
    """Mark the user's notifications about one case read (from the case page)."""
    visible_case(current_user, case_id)  # 404 for a case the user may not see
    changed = mark_read(current_user, case_id=case_id)
    if changed:
        flash(f"已将本案{changed}条督办提醒标为已读", "info")
    return redirect(case_url(case_id), code=303)
