"""Cases: the list, registering a hazard, the case page and its attachments."""

from __future__ import annotations

import io
import logging
import re
from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import Select, func, select

from server import operations, queries, reads
from server.attachments import (
    MAX_FILES,
    AttachmentRejected,
    AttachmentTampered,
    add_attachment,
    check_form_uploads,
    content_disposition,
    inline_disposition,
    may_preview,
    verified_content,
)
from server.auth import roles_required
from server.case_view import (
    bpmn_source,
    case_deadlines,
    case_record,
    chain_check,
    deadline_rows,
    diagram_states,
    human_size,
    missed_guards,
    process_labels,
)
from server.case_view import timeline as case_timeline
from server.directory import street_of
from server.display import START_LABELS
from server.documents import case_documents
from server.dossier import DOSSIER_ROLES, may_print_dossier, pdf_response, print_dossier
from server.form_render import Field, build_form, parse_form
from server.models import Attachment, Case, Event, Task
from server.overdue import overdue_case_ids
from server.queries import CaseFilters
from server.scoping import case_filter, may_correct, may_work_on, visible_case
from server.views.common import (
    admin_banner,
    case_url,
    district_choices,
    filter_args,
    page_number,
    paginate,
    process_choices,
)
from workflows.forms import resolve_form

log = logging.getLogger(__name__)
_VIEWBOX = re.compile(r'^<svg [^>]*?viewBox="([-0-9. ]+)"')
bp = Blueprint("cases", __name__, url_prefix="/cases")
FILTERS = ("status", "district", "process", "overdue", "attention", "q")
STATUS_CHOICES = (("open", "办理中"), ("closed", "已办结"))
DEFAULT_PROCESS = "major_hazard"


def case_filters(args: Any) -> CaseFilters:
    """The case list's filters from the request's ``args`` (status, district, process,
    overdue, attention, q)."""
    return CaseFilters(
        status=args.get("status", ""),
        district=args.get("district", ""),
        process=args.get("process", ""),
        overdue=True if args.get("overdue") else None,
        attention=bool(args.get("attention")),
        q=args.get("q", ""),
    )


def filtered_cases(user: Any, args: Any, now: datetime) -> Select[Any]:
    """The cases ``user`` may see, narrowed by the list's filters in ``args``, newest first
    (:func:`server.queries.case_list`, which the API runs too)."""
    return queries.case_list(user, case_filters(args), now)


def attention_count(user: Any) -> int:
    """How many cases ``user`` may see need an administrator (their workflow cannot load)."""
    query = select(func.count(Case.id)).where(case_filter(user), Case.needs_attention.is_not(None))
    return reads.scalar(query) or 0


@bp.app_context_processor
def attention_banner_context() -> dict[str, Any]:
    """``attention_cases`` for administrators (one count query), 0 for everyone else."""
    return admin_banner("attention_cases", 0, lambda: attention_count(current_user))


@bp.route("")
@login_required
def index() -> Any:
    """The cases the user may see, filtered and paged, newest first."""
    now = datetime.now(UTC)
    query = filtered_cases(current_user, request.args, now)
    page = paginate(query, page_number())
    overdue_ids = overdue_case_ids([c.id for c in page.items], now)
    return render_template(
        "cases/index.html",
        page=page,
        overdue_ids=overdue_ids,
        processes=process_choices(),
        districts=district_choices(),
        statuses=STATUS_CHOICES,
        filters=filter_args(FILTERS),
    )


@bp.route("/new", methods=["GET", "POST"])
@roles_required("officer")
def new() -> Any:
    """Open a case (register a hazard or a fire): the start form of a process the user's
    agency may open cases of; on success the case page."""
    startable = operations.startable_processes(current_user)
    process_id = request.args.get("process") or (
        DEFAULT_PROCESS if DEFAULT_PROCESS in startable else next(iter(startable), "")
    )
    if process_id not in startable:
        abort(404)
    schema = resolve_form(operations.start_form(process_id), operations.form_options())
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    extra: dict[str, int] = {}
    status = 200
    preview: dict[str, Any] | None = None
    if request.method == "POST":
        values = parse_form(schema, request.form)
        more = request.form.get("_add_rows")
        if more:
            extra = {more: 3}
        elif request.form.get("_preview"):
            try:
                preview = operations.preview_registration(current_user, process_id, values)
            except operations.FormInvalid as exc:
                errors, status = exc.fields or {"_form": exc.message}, 422
            except operations.OperationError as exc:
                errors, status = {"_form": exc.message}, exc.status
        else:
            try:
                uploads = check_form_uploads(request.files.getlist(FILES_FIELD))
                case = operations.start_case(current_user, process_id, values, uploads)
            except AttachmentRejected as exc:
                errors, status = {FILES_FIELD: exc.message}, 422
            except operations.FormInvalid as exc:
                errors, status = exc.fields or {"_form": exc.message}, 422
            except operations.OperationError as exc:
                flash(exc.message, "error")
                errors, status = {"_form": exc.message}, exc.status
            else:
                flash(f"已登记，督办编号 {case.number}", "success")
                return redirect(case_url(case.id))
    elif not current_user.agency.is_city_level:
        values = {"district": current_user.agency.division}
        street = street_of(current_user.agency)
        if street and "street" in schema.get("properties", {}):
            values["street"] = street  # a street's own officers register in their street
    form = build_form(schema, values, errors, extra_rows=extra, more_fields=[_files_field()])
    return render_template(
        "cases/new.html",
        form=form,
        process_id=process_id,
        start_label=START_LABELS[process_id],
        preview=preview,
    ), status


FILES_FIELD = "files"


def _files_field() -> Field:
    """The photos and scans sent with the registration."""
    limit = current_app.config["MAX_CONTENT_LENGTH"] // 1048576
    return Field(
        path=FILES_FIELD,
        label="现场照片和材料",
        help=f"可选：现场照片（JPG、PNG）或材料扫描件（PDF），最多{MAX_FILES}个，合计不超过"
        f"{limit}MB；登记时一并保存到案件附件。表单有误时需重新选择文件。",
        widget="files",
    )


# --------------------------------------------------------------------------- case page


def _diagram(
    case: Case, tasks: list[Task], events: list[Event], missed: list[str]
) -> Markup | None:
    """The process diagram with done, current and overdue steps marked (None if unavailable)."""
    try:
        from workflows.diagram_svg import render_svg
    except ImportError:
        return None
    states = diagram_states(tasks, events, missed)
    try:
        svg = render_svg(
            bpmn_source(case), done=states.done, current=states.current, overdue=states.overdue
        )
    except Exception:  # a drawing problem must not hide the case
        log.exception("diagram of case %s failed", case.id)
        return None
    return Markup(_natural_size(svg))  # noqa: S704 - render_svg returns escaped, script-free SVG


def _natural_size(svg: str) -> str:
    """Give the SVG its viewBox size in pixels: shrunk to the page width, a whole process
    is unreadable, so the page scrolls it instead (no inline style needed)."""
    match = _VIEWBOX.search(svg)
    if match is None or not svg.startswith("<svg "):
        return svg
    width, height = (round(float(v)) for v in match.group(1).split()[2:4])
    return f'<svg width="{width}" height="{height}" ' + svg[len("<svg ") :]


def _case_diagram(case: Case) -> Markup | None:
    """The diagram of a case, drawn from its indexed rows."""
    tasks = list(reads.scalars(select(Task).where(Task.case_id == case.id)))
    events = list(
        reads.scalars(select(Event).where(Event.case_id == case.id, Event.kind == "task_completed"))
    )
    return _diagram(case, tasks, events, missed_guards(case_deadlines(case)))


@bp.route("/<int:case_id>")
@login_required
def show(case_id: int) -> Any:
    """The case page: facts, verdict, diagram, open tasks, deadlines, attachments, timeline."""
    case = visible_case(current_user, case_id)
    now = datetime.now(UTC)
    record = case_record(case)
    tasks, events = record.tasks, record.events
    timeline = case_timeline(events, process_labels(case))
    verdict = next((e.verdict for e in timeline if e.verdict), None)
    deadlines = case_deadlines(case)
    documents = case_documents(case)
    return render_template(
        "cases/show.html",
        case=case,
        now=now,
        open_tasks=[t for t in tasks if t.state == "ready"],
        workable_ids={t.id for t in tasks if t.state == "ready" and may_work_on(current_user, t)},
        deadlines=deadline_rows(case, {t.id: t for t in tasks}, now, deadlines),
        timeline=list(reversed(timeline)),
        verdict=verdict,
        attachments=record.attachments,
        documents=documents,
        diagram=_diagram(case, tasks, events, missed_guards(deadlines)),
        may_attach=current_user.has_role("officer"),
        size=human_size,
        may_print=may_print_dossier(current_user),
        may_correct=may_correct,
        # Every fact shown is checked against the chain; files re-hashed when they changed.
        check=chain_check(record, documents),
    )


@bp.route("/<int:case_id>/diagram.svg")
@login_required
def diagram(case_id: int) -> Any:
    """The case's process diagram alone (to open in its own tab and zoom)."""
    case = visible_case(current_user, case_id)
    svg = _case_diagram(case)
    if svg is None:
        abort(404)
    response = Response(
        '<?xml version="1.0" encoding="UTF-8"?>\n' + str(svg), mimetype="image/svg+xml"
    )
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/<int:case_id>/dossier.pdf", methods=["POST"])
@roles_required(*DOSSIER_ROLES)
def dossier(case_id: int) -> Any:
    """The case dossier as PDF, its audit chain verified; the printing is itself audited.

    A POST with the form's CSRF token (the button on the case page and the audit page): the
    printing writes an audit event, which a cross-site link or a plain GET must not (405).
    """
    case = visible_case(current_user, case_id)
    try:
        printed = print_dossier(current_user, case)
    except operations.OperationError as exc:
        flash(exc.message, "error")
        return redirect(case_url(case.id), code=303)
    return pdf_response(printed)


# --------------------------------------------------------------------------- attachments


def _attachable_case(case_id: int) -> Case:
    """The case, if the user may attach files to it: an officer of an agency that discovered
    the case or has (had) a task in it, which for an officer is exactly the visible scope."""
    if not current_user.has_role("officer"):
        abort(404)
    return visible_case(current_user, case_id)


@bp.route("/<int:case_id>/attachments", methods=["POST"])
@login_required
def upload(case_id: int) -> Any:
    """Attach a file to the case."""
    case = _attachable_case(case_id)
    try:
        attachment = add_attachment(current_user, case, request.files.get("file"))
    except AttachmentRejected as exc:
        # The case page again, with the reason and a 4xx (413 too large, 415 wrong type,
        # 422 otherwise): nothing was stored.
        flash(f"附件未上传：{exc.message}", "error")
        return show(case.id), exc.status
    except operations.OperationError as exc:
        flash(exc.message, "error")
        return show(case.id), exc.status
    flash(f"附件已上传：{attachment.filename}", "success")
    return redirect(url_for("cases.show", case_id=case.id, _anchor="attachments"), code=303)


@bp.route("/<int:case_id>/attachments/<int:attachment_id>")
@login_required
def download(case_id: int, attachment_id: int) -> Any:
    """Download an attachment of a visible case (always as a download, never rendered)."""
    case = visible_case(current_user, case_id)
    attachment = reads.scalar(
        select(Attachment).where(Attachment.id == attachment_id, Attachment.case_id == case.id)
    )
    if attachment is None:
        abort(404)
    try:
        content = verified_content(attachment)  # re-hashed: a file changed on disk is refused
    except AttachmentTampered as exc:
        page = render_template(
            "errors/error.html", code=exc.status, title="附件文件已被改动", message=exc.message
        )
        return page, exc.status
    response = send_file(
        io.BytesIO(content), mimetype=attachment.mime, conditional=True, etag=False, max_age=0
    )
    response.headers["Content-Disposition"] = content_disposition(attachment)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


#: The preview's own policy: no script runs and nothing else loads in it (the browser's PDF
#: viewer shows the document itself, as an object of its own origin), and only this app's
#: pages may frame it.
PREVIEW_CSP = "default-src 'none'; img-src 'self'; object-src 'self'; frame-ancestors 'self'"


@bp.route("/<int:case_id>/attachments/<int:attachment_id>/inline")
@login_required
def inline(case_id: int, attachment_id: int) -> Any:
    """A photo or PDF of a visible case shown in the page (thumbnail, PDF viewer): served
    ``inline`` with the type recorded at upload (checked against its content then), re-hashed
    like a download; other files are only downloaded (404 here)."""
    case = visible_case(current_user, case_id)
    attachment = reads.scalar(
        select(Attachment).where(Attachment.id == attachment_id, Attachment.case_id == case.id)
    )
    if attachment is None or not may_preview(attachment):
        abort(404)
    try:
        content = verified_content(attachment)
    except AttachmentTampered as exc:
        abort(exc.status)
    response = send_file(
        io.BytesIO(content), mimetype=attachment.mime, conditional=True, etag=False, max_age=0
    )
    response.headers["Content-Disposition"] = inline_disposition(attachment)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = PREVIEW_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Cache-Control"] = "private, no-store"
    return response
