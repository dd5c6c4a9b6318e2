"""The documents' HTML routes: an issued document's PDF, and the preview on the task page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required

from server import operations
from server.attachments import AttachmentTampered
from server.auth import roles_required
from server.documents import document_response, find_document, preview_filled
from server.form_render import parse_form
from server.scoping import visible_case, workable_task

bp = Blueprint("documents", __name__)


@bp.route("/cases/<int:case_id>/documents/<int:document_id>.pdf")
@login_required
def download(case_id: int, document_id: int) -> Any:
    """An issued document of a visible case (scoped like its attachments)."""
    case = visible_case(current_user, case_id)
    document = find_document(case, document_id)
    if document is None:
        abort(404)
    try:
        return document_response(document)
    except AttachmentTampered as exc:
        page = render_template(
            "errors/error.html", code=exc.status, title="文书文件已被改动", message=exc.message
        )
        return page, exc.status


@bp.route("/tasks/<task_id>/document-preview", methods=["POST"])
@roles_required("officer")
def preview(task_id: str) -> Any:
    """The documents the task would issue, drawn from the form as typed: unnumbered
    (“文号在提交时生成”), nothing written, nothing validated."""
    task = workable_task(current_user, task_id)
    if task.state != "ready":
        abort(404)
    data = parse_form(operations.task_form(task), request.form)
    return render_template(
        "documents/preview.html",
        task=task,
        case=task.case,
        documents=preview_filled(current_user, task, data),
    )
