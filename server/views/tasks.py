"""Working a task: its form, completing it, claiming and releasing it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from server import operations
from server.auth import roles_required
from server.documents import issued_text, shown_documents
from server.form_render import build_form, parse_form
from server.models import Task
from server.scoping import workable_task
from server.views.common import case_url, safe_next
from workflows.documents import templates_for_task
from workflows.forms import prefill_values

bp = Blueprint("tasks", __name__, url_prefix="/tasks")
DONE_MESSAGE = "所办任务已完成，案件已进入下一环节"


def _render(
    task: Task,
    schema: dict[str, Any],
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    extra_rows: dict[str, int] | None = None,
    status: int = 200,
) -> Any:
    """The task page with a form drawn from ``values`` and ``errors``."""
    form = build_form(schema, values, errors, extra_rows=extra_rows)
    return render_template(
        "tasks/show.html",
        task=task,
        case=task.case,
        form=form,
        now=datetime.now(UTC),
        documents=templates_for_task(task.name),
        shown=[(doc, issued_text(doc)) for doc in shown_documents(task)],
    ), status


@bp.route("/<task_id>", methods=["GET", "POST"])
@roles_required("officer")
def show(task_id: str) -> Any:
    """The task's form (GET); complete the task with the submitted form (POST)."""
    task = workable_task(current_user, task_id)
    if task.state != "ready":
        flash("该任务已办结，无需再次办理", "info")
        return redirect(case_url(task.case_id))
    schema = operations.task_form(task)
    if request.method == "GET":  # fields an earlier step decided start with its value
        try:
            case_data = operations.load_instance(task.case).data
        except operations.OperationError:  # an unreadable state: the form without prefill;
            case_data = {}  # submitting it says why (the case is marked for the administrator)
        return _render(task, schema, prefill_values(schema, case_data))
    data = parse_form(schema, request.form)
    more = request.form.get("_add_rows")
    if more:  # 增加空行: show the form again with more blank rows, nothing is saved
        return _render(task, schema, data, extra_rows={more: 3})
    try:
        operations.complete_task(current_user, task, data)
    except operations.FormInvalid as exc:
        return _render(task, schema, data, exc.fields or {"_form": exc.message}, status=422)
    except operations.OperationError as exc:
        flash(exc.message, "error")
        return redirect(case_url(task.case_id))
    flash(DONE_MESSAGE, "success")
    return redirect(case_url(task.case_id))


@bp.route("/<task_id>/claim", methods=["POST"])
@roles_required("officer")
def claim(task_id: str) -> Any:
    """Take a task so that colleagues see who works on it."""
    task = workable_task(current_user, task_id)
    try:
        operations.claim_task(current_user, task)
    except operations.OperationError as exc:
        flash(exc.message, "error")
    else:
        flash(f"已认领：{task.label}", "success")
    return redirect(safe_next(url_for("inbox.index")), code=303)


@bp.route("/<task_id>/release", methods=["POST"])
@roles_required("officer")
def release(task_id: str) -> Any:
    """Give a claimed task back to the agency's pool."""
    task = workable_task(current_user, task_id)
    try:
        operations.release_task(current_user, task)
    except operations.OperationError as exc:
        flash(exc.message, "error")
    else:
        flash(f"已取消认领：{task.label}", "info")
    return redirect(safe_next(url_for("inbox.index")), code=303)
