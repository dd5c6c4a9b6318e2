"""The documents' HTML routes: an issued document's PDF, its printing (audited) and its
correction (更正), and the preview on the task page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request
from flask_login import current_user, login_required

from server import operations
from server.attachments import AttachmentTampered
from server.auth import roles_required
from server.documents import (
    document_response,
    find_document,
    pdf_response,
    preview_filled,
)
from server.documents.correction import correct_document, correctable, field_label
from server.documents.printing import print_document
from server.form_render import build_form, describe, parse_form
from server.scoping import correctable_document, visible_case, workable_task
from server.views.common import case_url
from workflows.forms import resolve_form

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


@bp.route("/cases/<int:case_id>/documents/<int:document_id>/print", methods=["POST"])
@login_required
def print_(case_id: int, document_id: int) -> Any:
    """Print a document (POST with the CSRF token: it writes an audit event): the stored PDF
    with a print mark, the printing recorded as ``document_printed``."""
    case = visible_case(current_user, case_id)
    document = find_document(case, document_id)
    if document is None:
        abort(404)
    try:
        printed = print_document(current_user, document)
    except operations.OperationError as exc:
        flash(exc.message, "error")
        return redirect(case_url(case.id) + "#documents", code=303)
    return pdf_response(
        printed.pdf,
        f"{printed.document.title}（{printed.document.number}）打印件{printed.count}.pdf",
        f"document-{printed.document.id}-print-{printed.count}.pdf",
        inline=True,
    )


@bp.route("/cases/<int:case_id>/documents/<int:document_id>/correction", methods=["GET", "POST"])
@roles_required("officer")
def correction(case_id: int, document_id: int) -> Any:
    """The correction (更正) of an issued document: the step's form prefilled with the stored
    values of the fields the document prints (routing fields shown, not editable), and the
    reason. Officers of the issuing agency only (others 404)."""
    document = correctable_document(current_user, case_id, document_id)
    try:
        spec = correctable(document)
    except operations.OperationError as exc:
        flash(exc.message, "error")
        return redirect(case_url(case_id) + "#documents", code=303)
    values: dict[str, Any] = {name: spec.form.get(name) for name in spec.editable}
    errors: dict[str, str] = {}
    reason = ""
    if request.method == "POST":
        values = parse_form(spec.schema, request.form)
        reason = request.form.get("reason", "")
        try:
            replacement = correct_document(current_user, document, values, reason)
        except operations.FormInvalid as exc:
            errors = exc.fields
            flash(exc.message, "error")
        except operations.OperationError as exc:
            flash(exc.message, "error")
            return redirect(case_url(case_id) + "#documents", code=303)
        else:
            flash(
                f"已更正：原文书 {document.number} 已作废，新文书文号 {replacement.number}",
                "success",
            )
            return redirect(case_url(case_id) + "#documents", code=303)
    full = resolve_form(document.task_name, operations.form_options())
    locked = [
        (
            field_label(spec, name),
            "、".join(describe(full, {name: spec.form[name]})[0].values)
            if spec.form.get(name) not in (None, "")
            else "—",
            why,
        )
        for name, why in spec.locked.items()
    ]
    page = render_template(
        "documents/correction.html",
        case=visible_case(current_user, case_id),
        document=document,
        form=build_form(spec.schema, values, {k: v for k, v in errors.items() if k != "reason"}),
        locked=locked,
        reason=reason,
        reason_error=errors.get("reason"),
        fields_error=errors.get("fields"),
    )
    return page, (422 if errors else 200)
