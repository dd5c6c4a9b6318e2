"""Working a task: its form, completing it, claiming and releasing it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from server import operations, queries, reads, report_cases
from server.attachments import MAX_FILES, AttachmentRejected, check_form_uploads
from server.auth import roles_required
from server.case_view import human_size
from server.documents import issued_text, shown_documents
from server.form_render import Field, build_form, parse_form
from server.models import Task, TaskDraft
from server.overdue import task_is_overdue
from server.scoping import workable_task
from server.views.common import case_url, safe_next
from workflows.documents import templates_for_task
from workflows.forms import prefill_values

bp = Blueprint("tasks", __name__, url_prefix="/tasks")
DONE_MESSAGE = "所办任务已完成，案件已进入下一环节"
FILES_FIELD = "files"


def _more_fields(task: Task, late_reason: str, now: datetime) -> list[Field]:
    """The fields the task page adds to the step's form: the reason for lateness when the
    step is overdue, and the photos and scans sent with it."""
    fields = []
    if task_is_overdue(task, now):
        fields.append(
            Field(
                path=operations.LATE_REASON,
                label="逾期原因",
                help="本环节已超过办理期限，请说明逾期办理的原因（记入办理记录和案卷）。",
                widget="textarea",
                required=True,
                value=late_reason,
                max_length=operations.LATE_REASON_MAX,
            )
        )
    fields.append(
        Field(
            path=FILES_FIELD,
            label="随表上传照片或扫描件",
            help=f"可选，如现场照片、签收的送达回证扫描件：JPG、PNG 或 PDF 文件，最多"
            f"{MAX_FILES}个，合计不超过{current_app.config['MAX_CONTENT_LENGTH'] // 1048576}MB。"
            "提交办理结果时一并保存；表单有误时需重新选择文件。",
            widget="files",
        )
    )
    return fields


def _render(
    task: Task,
    schema: dict[str, Any],
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    extra_rows: dict[str, int] | None = None,
    status: int = 200,
    late_reason: str = "",
    draft: TaskDraft | None = None,
) -> Any:
    """The task page with a form drawn from ``values`` and ``errors``."""
    now = datetime.now(UTC)
    form = build_form(
        schema,
        values,
        errors,
        extra_rows=extra_rows,
        more_fields=_more_fields(task, late_reason, now),
    )
    attachments = list(reads.scalars(queries.CASE_ATTACHMENTS, {"case_id": task.case_id}))
    report = report_cases.report_of_case(task.case_id)  # a report's draft is shown above
    return render_template(
        "tasks/show.html",
        report=report,
        report_title=report_cases.title(report) if report else "",
        report_view=report_cases.table_view(report) if report else None,
        task=task,
        case=task.case,
        form=form,
        now=now,
        overdue=task_is_overdue(task, now),
        draft=draft,
        attachments=attachments,
        size=human_size,
        documents=templates_for_task(task.name),
        shown=[(doc, issued_text(doc)) for doc in shown_documents(task)],
    ), status


def _draft_of(task: Task) -> TaskDraft | None:
    return reads.get(TaskDraft, (task.id, current_user.id))


@bp.route("/<task_id>", methods=["GET", "POST"])
@roles_required("officer")
def show(task_id: str) -> Any:
    """The task's form (GET); complete the task with the submitted form, or save it as a
    draft (POST)."""
    task = workable_task(current_user, task_id)
    if task.state != "ready":
        flash("该任务已办结，无需再次办理", "info")
        return redirect(case_url(task.case_id))
    schema = operations.task_form(task)
    if request.method == "GET":
        draft = _draft_of(task)
        if draft is not None:  # the officer's unfinished form, as saved
            return _render(
                task, schema, draft.data, late_reason=draft.late_reason or "", draft=draft
            )
        try:  # fields an earlier step decided start with its value
            case_data = operations.load_instance(task.case).data
        except operations.OperationError:  # an unreadable state: the form without prefill;
            case_data = {}  # submitting it says why (the case is marked for the administrator)
        return _render(task, schema, prefill_values(schema, case_data))
    data = parse_form(schema, request.form)
    late_reason = request.form.get(operations.LATE_REASON, "")
    more = request.form.get("_add_rows")
    if more:  # 增加空行: show the form again with more blank rows, nothing is saved
        return _render(task, schema, data, extra_rows={more: 3}, late_reason=late_reason)
    action = request.form.get("_draft")
    if action == "save":  # 保存草稿: kept as typed, not validated
        try:
            operations.save_draft(current_user, task, data, late_reason)
        except operations.OperationError as exc:
            flash(exc.message, "error")
        else:
            flash("草稿已保存，下次打开本任务时继续填写", "success")
        return redirect(url_for("tasks.show", task_id=task.id), code=303)
    if action == "discard":
        operations.delete_draft(current_user, task)
        flash("草稿已删除", "info")
        return redirect(url_for("tasks.show", task_id=task.id), code=303)
    try:
        uploads = check_form_uploads(request.files.getlist(FILES_FIELD))
        operations.complete_task(
            current_user,
            task,
            data,
            late_reason=late_reason,
            require_late_reason=True,
            uploads=uploads,
        )
    except AttachmentRejected as exc:
        errors = {FILES_FIELD: exc.message}
        return _render(task, schema, data, errors, status=422, late_reason=late_reason)
    except operations.FormInvalid as exc:
        errors = exc.fields or {"_form": exc.message}
        return _render(task, schema, data, errors, status=422, late_reason=late_reason)
    except operations.OperationError as exc:
        flash(exc.message, "error")
        return redirect(case_url(task.case_id))
    flash(DONE_MESSAGE, "success")
    return redirect(url_for("tasks.done", task_id=task.id))


@bp.route("/<task_id>/done")
@roles_required("officer")
def done(task_id: str) -> Any:
    """After completing a task: the steps that came next, who holds them and when they are
    due; the way back to the inbox."""
    task = workable_task(current_user, task_id)
    if task.state != "completed" or task.completed_at is None:
        return redirect(url_for("tasks.show", task_id=task.id))
    following = list(reads.scalars(queries.following_tasks(task)))
    return render_template(
        "tasks/done.html",
        task=task,
        case=task.case,
        following=following,
        now=datetime.now(UTC),
        own=[t for t in following if t.agency_id == current_user.agency_id and t.state == "ready"],
    )


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
