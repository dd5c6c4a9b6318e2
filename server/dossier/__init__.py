"""The case dossier (案卷): the complete record of a case as a PDF, with its audit chain verified.

:func:`print_dossier` is the operation behind every way of printing (the case page, the API, the
CLI and the auditors' batch export): it verifies the case's hash chain, gathers what the case
page shows (:mod:`server.case_view`), sets it as PDF (:mod:`server.dossier.document`) and records
the printing as a ``dossier_printed`` audit event. The event is appended after the verification,
so it does not change what was verified, and it carries the verified head hash and the SHA-256
of the PDF handed out, so a printed dossier can be matched to the log.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from flask import Response, current_app
from pypdf import PdfReader
from pypdf.errors import PdfReadError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from server.attachments import AttachmentTampered, verified_content
from server.audit import ChainCheck, append_event, verify_chain
from server.case_view import (
    bpmn_source,
    case_deadlines,
    case_record,
    deadline_rows,
    diagram_states,
    human_size,
    missed_guards,
    process_labels,
    timeline,
)
from server.display import CASE_STATUS_LABELS, district_name, overdue_badge
from server.dossier.document import (
    AttachmentRow,
    DossierData,
    IssuedDocument,
    OpenTaskRow,
    StageRow,
    render,
)
from server.dossier.fonts import DEFAULT_SEARCH, DossierFont, find_font
from server.engine import get_engine
from server.extensions import db
from server.models import Attachment, Case, Document, Event, User
from server.operations import Conflict, Forbidden
from server.scoping import case_filter

#: Roles that print dossiers from the case page and the API (administrators may use the CLI).
DOSSIER_ROLES = ("auditor", "supervisor")
#: The dossier's title by process.
TITLES = {"major_hazard": "火灾隐患督办案卷", "fire_accountability": "火灾事故调查处理案卷"}


@dataclass(frozen=True)
class PrintedDossier:
    """A printed dossier and what it says about the audit chain."""

    case_id: int
    number: str
    pdf: bytes
    pages: int
    check: ChainCheck
    font: DossierFont
    sha256: str

    @property
    def filename(self) -> str:
        """The name to save it under (``案卷-DB2026-000017.pdf``)."""
        return f"案卷-{self.number}.pdf"


def may_print_dossier(user: User) -> bool:
    """Whether the case page offers ``user`` the dossier (auditors and supervisors)."""
    return any(user.has_role(role) for role in DOSSIER_ROLES)


def dossier_font() -> DossierFont:
    """The font of this app's dossiers (``DOSSIER_FONT``, else the installed CJK fonts)."""
    config = current_app.config
    search = tuple(config.get("DOSSIER_FONT_SEARCH", DEFAULT_SEARCH))
    return find_font(config.get("DOSSIER_FONT") or "", search)


def issued_documents(case: Case) -> list[IssuedDocument]:
    """The case's documents in issue order, each with its stored PDF re-hashed against the
    SHA-256 recorded at issue (None, with the reason, when missing or changed)."""
    documents = db.session.scalars(
        select(Document).where(Document.case_id == case.id).order_by(Document.id)
    )
    issued = []
    for document in documents:
        pdf: bytes | None = None
        problem = ""
        attachment = db.session.get(Attachment, document.attachment_id)
        try:
            if attachment is None or attachment.sha256 != document.sha256:
                raise AttachmentTampered("文书文件缺失")
            pdf = verified_content(attachment)
            PdfReader(io.BytesIO(pdf)).pages  # noqa: B018 - a file pypdf cannot read fails here
        except AttachmentTampered:
            problem = "存放的文件缺失，或其内容与签发时记录的 SHA-256 不符；请联系管理员核查。"
        except PdfReadError:
            pdf = None
            problem = "存放的文件无法作为 PDF 读取；请联系管理员核查。"
        issued.append(
            IssuedDocument(
                number=document.number,
                title=document.title,
                issuer=document.agency.name,
                issued_at=document.issued_at,
                void=document.void,
                sha256=document.sha256,
                pdf=pdf,
                problem=problem,
            )
        )
    return issued


def gather(case: Case, user: User, check: ChainCheck, now: datetime) -> DossierData:
    """Everything the dossier prints about ``case``, in words."""
    record = case_record(case)
    deadlines = case_deadlines(case)
    labels = process_labels(case)
    try:
        version = get_engine().catalog.get(case.process_id, case.process_version)
        process_name = version.name
        bpmn: str | None = bpmn_source(case)
    except KeyError:
        process_name, bpmn = case.process_id, None
    people_ids = {t.completed_by_id for t in record.tasks if t.completed_by_id}
    if case.opened_by_id is not None:  # None: opened by the system (a report)
        people_ids.add(case.opened_by_id)
    people = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(people_ids)))}
    done = sorted(
        (t for t in record.tasks if t.state == "completed"),
        key=lambda t: (t.completed_at or t.created_at, t.created_at),
    )
    stages = [
        StageRow(
            label=t.label,
            agency=t.agency.name,
            person=people[t.completed_by_id].name if t.completed_by_id in people else "系统",
            completed_at=t.completed_at,
        )
        for t in done
    ]
    calendar = get_engine().calendar
    open_tasks = [
        OpenTaskRow(
            label=t.label,
            agency=t.agency.name,
            due=t.due_at,
            status=overdue_badge(t.due_at, now=now, calendar=calendar).text,
            claimed_by=t.claimed_by.name if t.claimed_by else "未认领",
        )
        for t in record.tasks
        if t.state == "ready"
    ]
    entries = timeline(record.events, labels, hashes_in_lines=False)
    opener = people.get(case.opened_by_id) if case.opened_by_id is not None else None
    return DossierData(
        number=case.number,
        case_no=case.case_no,
        unit_name=case.unit_name,
        address=case.address,
        district=district_name(case.district),
        process_name=process_name,
        title=TITLES.get(case.process_id, "督办案卷"),
        process_version=case.process_version,
        status=CASE_STATUS_LABELS.get(case.status, case.status),
        stage=case.stage,
        discoverer=case.discoverer_agency.name,
        opened_by=opener.name if opener else "",
        opened_at=case.opened_at,
        closed_at=case.closed_at,
        printed_by=f"{user.name}（{user.agency.name}，{user.username}）",
        printer=user.name,
        printed_at=now,
        check=check,
        needs_attention=case.needs_attention,
        verdict=next((e.verdict for e in entries if e.verdict), None),
        stages=stages,
        open_tasks=open_tasks,
        deadlines=deadline_rows(case, {t.id: t for t in record.tasks}, now, deadlines),
        timeline=entries,
        attachments=[
            AttachmentRow(
                filename=a.filename,
                mime=a.mime,
                size=human_size(a.size),
                uploaded_by=a.uploaded_by.name,
                uploaded_at=a.uploaded_at,
                sha256=a.sha256,
            )
            for a in record.attachments
        ],
        documents=issued_documents(case),
        bpmn=bpmn,
        states=diagram_states(record.tasks, record.events, missed_guards(deadlines)),
    )


def print_dossier(
    user: User, case: Case, *, export_id: str | None = None, now: datetime | None = None
) -> PrintedDossier:
    """Verify the case's audit chain, set the dossier and record the printing (committed).

    :param export_id: the batch export this dossier belongs to, if any (kept in the event).
    :raises Forbidden: when ``user`` may not print dossiers or not see this case.
    :raises Conflict: when another event joined the case's chain while printing.
    """
    if not (may_print_dossier(user) or user.has_role("admin")):
        raise Forbidden("只有审计/督查人员和督办人可以打印案卷")
    if db.session.scalar(select(Case.id).where(Case.id == case.id, case_filter(user))) is None:
        raise Forbidden("该案件不在您的查看范围内")
    now = now or datetime.now(UTC)
    seen = case.event_seq  # the chain's length as this printing found it
    check = verify_chain(case.id, files=True)  # the chain, the facts shown, the files
    font = dossier_font()
    pdf, pages = render(gather(case, user, check, now), font)
    digest = hashlib.sha256(pdf).hexdigest()
    data = {
        "chain_ok": check.ok,
        "events": check.events,
        "head": check.head,
        "problems": len(check.problems),
        "pages": pages,
        "sha256": digest,
        "font": font.family,
        "font_embedded": font.embedded,
    }
    if export_id:
        data["export"] = export_id
    _record_printing(case, user, data, seen, now)
    return PrintedDossier(case.id, case.number, pdf, pages, check, font, digest)


#: Attempts to append ``dossier_printed`` while only other printings join the chain.
APPEND_ATTEMPTS = 10


def _record_printing(
    case: Case, user: User, data: dict[str, Any], seen: int, now: datetime
) -> None:
    """Append the ``dossier_printed`` event (committed).

    Another printing of the same case at the same moment (two auditors, two exports) extends the
    chain from the same head, and one of the two appends is refused. That is no change to the
    case: the dossier shows the record up to the head it verified, which its event names, so
    the event is appended after the other printings. Any other new event means the case moved
    while it was printed: :class:`Conflict`.
    """
    for _attempt in range(APPEND_ATTEMPTS):
        try:
            append_event(case.id, "dossier_printed", actor=user, data=data, at=now)
            db.session.commit()
            return
        except (IntegrityError, StaleDataError) as exc:
            db.session.rollback()
            joined = db.session.scalars(
                select(Event.kind).where(Event.case_id == case.id, Event.seq > seen)
            ).all()
            if any(kind != "dossier_printed" for kind in joined):
                raise Conflict("打印期间案件有新的办理记录，请重新打印") from exc
    raise Conflict("同时打印该案卷的人过多，请稍后重新打印")


def pdf_response(printed: PrintedDossier) -> Response:
    """The dossier as an HTTP response (shown in the browser, saved under its Chinese name)."""
    response = Response(printed.pdf, mimetype="application/pdf")
    fallback = f"dossier-{printed.number}.pdf"
    response.headers["Content-Disposition"] = (
        f"inline; filename=\"{fallback}\"; filename*=UTF-8''{quote(printed.filename, safe='')}"
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Audit-Chain"] = "ok" if printed.check.ok else "failed"
    return response
