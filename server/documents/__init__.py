"""Official documents (文书) of a case: numbered, rendered and stored with the step that issues
them (see ``docs/documents-engine.md``).

``issue_documents`` runs inside ``operations.complete_task``'s transaction: for each template of
the completed task it takes the next number of (issuing agency, kind, year) with one locked
upsert of ``document_counter``, writes it into the form's read-only number field, renders the
PDF, stores it once by its SHA-256 as an attachment of the case and appends a
``document_issued`` event (kind, number, SHA-256) to the case's hash chain. A rollback gives
the number back: numbers stay gapless.

``preview_filled`` fills the same templates from the form as typed, numbered
"（文号在提交时生成）", for the task page's preview; it writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from flask import Response
from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from server.attachments import store_content
from server.audit import append_event
from server.documents.fonts import document_fonts
from server.documents.render import render
from server.extensions import db
from server.models import (
    Agency,
    AgencyNumbering,
    Attachment,
    Case,
    Document,
    DocumentCounter,
    Task,
    User,
)
from workflows.calendar import SHANGHAI, today_shanghai
from workflows.documents import (
    Filled,
    Template,
    compute,
    default_agency_short,
    fill,
    format_number,
    kinds_shown_to,
    quoted_facts,
    templates_for_task,
)
from workflows.engine import Instance
from workflows.jurisdiction import division_name
from workflows.lanes import LANE_RULES, LaneResolutionError, resolve_lane


def agency_short(agency: Agency) -> str:
    """The agency's 机关代字: the administrator's ``doc_code``, else derived from its name."""
    return agency.doc_code or default_agency_short(agency.name, agency.kind)


def numbering_pattern(agency: Agency, template: Template) -> str:
    """The pattern of ``agency``'s numbers of ``template``'s kind: the administrator's
    ``agency_numbering`` row for the template's counter kind, else the template's own."""
    own = db.session.get(AgencyNumbering, (agency.id, template.counter_kind))
    return own.pattern if own is not None else template.numbering


def document_number(agency: Agency, template: Template, year: int, seq: int) -> str:
    """The number ``seq`` of ``year`` in ``agency``'s pattern for ``template``'s kind."""
    return format_number(numbering_pattern(agency, template), agency_short(agency), year, seq)


def next_seq(agency_id: int, kind: str, year: int) -> int:
    """The next number of (agency, kind, year), counted in the caller's transaction.

    One ``INSERT … ON CONFLICT DO UPDATE SET last = last + 1 RETURNING last``: on PostgreSQL
    the row stays locked until the caller commits, so a concurrent completion waits and then
    counts on from the committed value; SQLite has one writer at a time. A rollback undoes the
    increment, so no number is lost.
    """
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(DocumentCounter)
        .values(agency_id=agency_id, kind=kind, year=year, last=1)
        .on_conflict_do_update(
            index_elements=["agency_id", "kind", "year"],
            set_={"last": DocumentCounter.last + 1},
        )
        .returning(DocumentCounter.last)
    )
    return int(db.session.execute(statement).scalar_one())


def _lane_names(template: Template, case: Case, data: Mapping[str, Any]) -> dict[str, str]:
    """The names of the agencies of the lanes the template names."""
    wanted = {name for ns, name, _ in template.fields() if ns == "lane"}
    names: dict[str, str] = {}
    for lane in sorted(wanted & {rule.lane for rule in LANE_RULES}):
        try:
            code = resolve_lane(lane, case.district, data)
        except LaneResolutionError:
            continue
        agency = db.session.scalar(select(Agency).where(Agency.code == code))
        if agency is not None:
            names[lane] = agency.name
    return names


def build_context(
    template: Template,
    case: Case,
    task: Task,
    case_data: Mapping[str, Any],
    form: Mapping[str, Any],
    user: User,
    number: str | None,
    day: date,
    instance: Instance | None = None,
) -> dict[str, Any]:
    """What the template's fields are filled from: the case data with this task's form, and
    the template's ``[computed]`` values (evaluated over the process data and these).

    :param day: the day of issue (``document.date``).
    :param instance: the case's workflow, for the due times of the timer events the template
        names (``timer.<id>``; none without it).
    """
    context: dict[str, Any] = {k: v for k, v in case_data.items() if isinstance(v, Mapping)}
    context[task.name] = dict(form)
    # decision outputs (fire_level_name …): the case data's plain values
    context["process"] = {k: v for k, v in case_data.items() if not isinstance(v, Mapping)}
    context["timer"] = timer_dues(template, instance, task, form)
    agency = task.agency
    context["case"] = {
        "number": case.number,
        "case_no": case.case_no or "",
        "unit_name": case.unit_name,
        "address": case.address,
        "district": division_name(case.district),
    }
    context["issuer"] = {
        "agency": agency.name,
        "agency_short": agency_short(agency),
        "officer": user.name,
    }
    context["lane"] = _lane_names(template, case, case_data)
    context["document"] = {"name": template.name, "number": number or "", "date": day.isoformat()}
    if template.quotes:
        context["quoted"] = _quoted(case, template.quotes)
    if template.computed:
        from server.engine import get_engine  # the engine holds the case's working calendar

        scope = {**case_data, **context}
        context["computed"] = compute(
            template, scope, get_engine().script_engine.restricted.evaluate
        )
    return context


def timer_dues(
    template: Template, instance: Instance | None, task: Task, form: Mapping[str, Any]
) -> dict[str, str | None]:
    """The due times of the timers the template names, as the process would set them once the
    step is completed with ``form`` (``Instance.timer_due``)."""
    if instance is None:
        return {}
    return {name: instance.timer_due(name, {task.name: dict(form)}) for name in template.timers()}


def _quoted(case: Case, kind: str) -> dict[str, str]:
    """The ``quoted.*`` facts: the case's latest not-void document of ``kind``, as issued."""
    document = db.session.scalar(
        select(Document)
        .where(Document.case_id == case.id, Document.kind == kind, Document.void.is_(False))
        .order_by(Document.id.desc())
        .limit(1)
    )
    if document is None:
        return quoted_facts(None, "", "")
    return quoted_facts(issued_text(document), document.title, document.number)


def issue_date(template: Template, form: Mapping[str, Any], today: date) -> date:
    ns, _, name = template.date.partition(".")
    value = form.get(name) if ns in template.tasks else None
    try:
        return date.fromisoformat(str(value)) if value else today
    except ValueError:
        return today


def issue_documents(
    user: User,
    case: Case,
    task: Task,
    case_data: Mapping[str, Any],
    form: dict[str, Any],
    now: datetime,
    instance: Instance | None = None,
) -> dict[str, Any]:
    """Issue the documents of a completed task (inside the completion's transaction).

    :param case_data: the workflow's data as the completed task sees it, before this completion
        (the earlier steps of its branch, the case's shared facts: ``Instance.task_data``).
    :param form: the validated form data of the step.
    :param instance: the case's workflow before this completion (for ``timer.<id>`` fields).
    :returns: the form data with each document's number in its read-only number field.
    """
    form = dict(form)
    for template in templates_for_task(task.name):
        if not template.applies(form):
            if template.number_field:  # read-only: a client's typed number is not kept
                form.pop(template.number_field.partition(".")[2], None)
            continue
        day = issue_date(template, form, now.astimezone(SHANGHAI).date())
        agency = task.agency
        seq = next_seq(agency.id, template.counter_kind, day.year)
        number = document_number(agency, template, day.year, seq)
        if template.number_field:
            form[template.number_field.partition(".")[2]] = number
        issue_one(
            template,
            user,
            case,
            task,
            case_data,
            form,
            now,
            day=day,
            seq=seq,
            number=number,
            instance=instance,
        )
    return form


def document_facts(document: Document) -> dict[str, Any]:
    """What the events about a document (issued, voided, printed) say of it: its id, kind, title
    and number (read back by ``server.case_facts``)."""
    return {
        "document": document.id,
        "kind": document.kind,
        "title": document.title,
        "number": document.number,
    }


def issue_one(
    template: Template,
    user: User,
    case: Case,
    task: Task,
    case_data: Mapping[str, Any],
    form: Mapping[str, Any],
    now: datetime,
    *,
    day: date,
    seq: int,
    number: str | None = None,
    instance: Instance | None = None,
    event: Mapping[str, Any] | None = None,
) -> Document:
    """Render one numbered document of ``task`` (its number taken: ``seq`` of the year of
    ``day``, its 成文日期), store its PDF once as an attachment of the case, add its row and a
    ``document_issued`` event (with ``event``'s extra data, e.g. the document a correction
    replaces). ``number``: ``seq`` formatted by :func:`document_number` when the caller already
    has it. ``instance``: the case's workflow, for the template's ``timer.<id>`` fields."""
    agency = task.agency
    year = day.year
    if number is None:
        number = document_number(agency, template, year, seq)
    context = build_context(template, case, task, case_data, form, user, number, day, instance)
    filled = fill(template, context)
    content = render(filled, document_fonts())
    sha256 = store_content(content)
    filename = f"{filled.title}（{number}）.pdf".replace("/", "／")[-200:]
    attachment = Attachment(
        case_id=case.id,
        filename=filename,
        mime="application/pdf",
        size=len(content),
        sha256=sha256,
        uploaded_by_id=user.id,
        uploaded_at=now,
    )
    db.session.add(attachment)
    db.session.flush()
    document = Document(
        case_id=case.id,
        attachment_id=attachment.id,
        kind=template.kind,
        title=filled.title,
        number=number,
        agency_id=agency.id,
        year=year,
        seq=seq,
        task_id=task.id,
        task_name=task.name,
        sha256=sha256,
        issued_at=now,
        issued_by_id=user.id,
        void=False,
        filled=filled.to_json(),
    )
    db.session.add(document)
    db.session.flush()
    append_event(
        case.id,
        "document_issued",
        actor=user,
        data={
            "task": task.name,
            **document_facts(document),
            "name": template.name,
            "sha256": sha256,
            "attachment": attachment.id,
            "filename": filename,
            "size": len(content),
            **(event or {}),
        },
        at=now,
    )
    return document


def preview_filled(user: User, task: Task, form: Mapping[str, Any]) -> list[Filled]:
    """The documents a completion of ``task`` with ``form`` would issue, unnumbered."""
    from server.operations import load_instance  # operations imports this package lazily

    templates = templates_for_task(task.name, form)
    if not templates:
        return []
    instance = load_instance(task.case)
    case_data = instance.task_data(task.id)
    today = today_shanghai()
    filled = []
    for template in templates:
        day = issue_date(template, form, today)
        context = build_context(
            template, task.case, task, case_data, form, user, None, day, instance
        )
        filled.append(fill(template, context))
    return filled


def case_documents(case: Case) -> list[Document]:
    """The documents of a case in the order they were issued."""
    return list(db.session.scalars(_CASE_DOCUMENTS, {"case_id": case.id}))


# Built once (the case page reads it: building a statement per request cost more than running it).
_CASE_DOCUMENTS = (
    select(Document).where(Document.case_id == bindparam("case_id")).order_by(Document.id)
)


def shown_documents(task: Task) -> list[Document]:
    """The case's documents the step ``task`` decides on (``workflows.documents.SHOWN_TO_TASK``),
    not void, in the order they were issued. The caller has scoped the task."""
    kinds = kinds_shown_to(task.name)
    if not kinds:
        return []
    query = (
        select(Document)
        .where(Document.case_id == task.case_id, Document.kind.in_(kinds), Document.void.is_(False))
        .order_by(Document.id)
    )
    return list(db.session.scalars(query))


def issued_text(document: Document) -> Filled | None:
    """The document's text exactly as issued (stored with it), or None for a document issued
    before the text was stored: never re-filled from the case's current data."""
    return Filled.from_json(document.filled) if document.filled else None


def document_content(document: Document) -> bytes:
    """The PDF's bytes, re-hashed against the SHA-256 recorded at issue.

    :raises server.attachments.AttachmentTampered: missing or changed on disk.
    """
    from server.attachments import verified_content

    attachment = db.session.get(Attachment, document.attachment_id)
    if attachment is None or attachment.sha256 != document.sha256:
        from server.attachments import AttachmentTampered

        raise AttachmentTampered("文书文件缺失，无法下载")
    return verified_content(attachment)


def download_name(document: Document) -> str:
    """A file name for the download."""
    return f"{document.title}（{document.number}）.pdf"


def find_document(case: Case, document_id: int) -> Document | None:
    """The document ``document_id`` of ``case`` (a visible case: the caller checked)."""
    return db.session.scalar(
        select(Document).where(Document.id == document_id, Document.case_id == case.id)
    )


def pdf_response(content: bytes, filename: str, fallback: str, *, inline: bool) -> Response:
    """A PDF answer saved under its Chinese name."""
    response = Response(content, mimetype="application/pdf")
    disposition = "inline" if inline else "attachment"
    response.headers["Content-Disposition"] = (
        f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def document_response(document: Document) -> Response:
    """An issued document's PDF (re-hashed against its SHA-256 first).

    :raises server.attachments.AttachmentTampered: missing or changed on disk.
    """
    return pdf_response(
        document_content(document),
        download_name(document),
        f"document-{document.id}.pdf",
        inline=False,
    )
