"""A case's rows checked against its audit chain: what the case page and the dossier show must
be what the hash-chained events say.

The chain proves the events; the ``case``, ``task`` and ``attachment`` rows that the pages read
are a convenience copy, written in the same transaction as the events. A row changed behind the
application's back (``UPDATE case SET unit_name = …``) leaves the chain intact, so each fact a
page shows is compared with the event that established it:

==========================  ==============================================================
row fact                    event that says it
==========================  ==============================================================
督办编号, process, version  ``case_opened`` (its data), opened by / at, discovering agency
unit, address, district     the registration: the first ``task_completed`` (its form)
立案编号                    the last completed ``file_case`` task's form
status, closed at           ``case_closed`` (present or not, and its time)
completed tasks             one ``task_completed`` each: name, label, person, time
attachments                 one ``attachment_added`` each: id, name, size, SHA-256,
                            uploader, time; and, when asked, the file's bytes re-hashed
documents                   one ``document_issued`` each: number, kind, SHA-256; void (and
                            its replacement) exactly when a ``document_voided`` says so
==========================  ==============================================================

A correction (更正) of a document amends the issuing step's form: the ``task_completed``
event keeps the form as submitted and the ``document_voided`` event the amended values (with
the originals), so facts read from a form are compared with it as amended
(:func:`amended_forms`).

What is left out: the stage, open tasks and deadlines are derived from the workflow state
(``case.state``), which no event carries; the timeline is drawn from the events themselves.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from server.extensions import db
from server.models import Attachment, Case, Document, Event, Task


def _instant(value: datetime | None) -> str | None:
    """A datetime as a comparable UTC string (SQLite returns naive UTC, PostgreSQL aware)."""
    if value is None:
        return None
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def fact_problems(
    case: Case,
    events: Sequence[Event],
    *,
    files: bool = False,
    cached: bool = False,
    tasks: Sequence[Task] | None = None,
    attachments: Sequence[Attachment] | None = None,
    documents: Sequence[Document] | None = None,
) -> list[str]:
    """The differences between ``case``'s rows and its chain ``events`` (in seq order), in
    Chinese, one line each; empty when every fact shown agrees with the chain.

    :param files: also re-hash each attachment's file (:func:`server.attachments.file_problem`;
        ``cached``: trusting this process's digest of an unchanged inode, size and time).
    :param tasks: the case's task rows, when the caller has loaded them (else read here).
    :param attachments: the case's attachment rows, likewise.
    :param documents: the case's document rows, likewise.
    """
    problems: list[str] = []

    def differs(what: str, shown: Any, chained: Any) -> None:
        if shown != chained:
            problems.append(
                f"案件记录的{what}（{_text(shown)}）与审计链记载的（{_text(chained)}）不符"
            )

    opened = next((e for e in events if e.kind == "case_opened"), None)
    system_opened = opened is not None and opened.data.get("started_by") == "system"
    if opened is not None:
        differs("督办编号", case.number, opened.data.get("number"))
        differs("流程", case.process_id, opened.data.get("process"))
        differs("流程版本", case.process_version, opened.data.get("version"))
        differs("登记人", case.opened_by_id, opened.actor_id)
        if system_opened:  # a report's draft: the reporting agency is named in the event
            differs("报送单位", case.discoverer_agency_id, opened.data.get("agency_id"))
        else:
            differs("发现单位", case.discoverer_agency_id, opened.agency_id)
        differs("登记时间", _instant(case.opened_at), _instant(opened.at))
    elif events:
        problems.append("审计链中没有立案登记事件")
    completions = [e for e in events if e.kind == "task_completed"]
    forms = amended_forms(events)
    if system_opened and opened is not None:  # no registration form: the event names them
        differs("单位名称", case.unit_name, _text(opened.data.get("unit_name", "")))
        differs("地址", case.address, _text(opened.data.get("address", "")))
        differs("辖区", case.district, _text(opened.data.get("district")))
    elif completions:
        form = forms.get(completions[0].seq, {})
        differs("单位名称", case.unit_name, _text(form.get("unit_name", "")))
        differs("地址", case.address, _text(form.get("address", "")))
        differs("辖区", case.district, _text(form.get("district")))
    filed = [e for e in completions if e.task_name == "file_case"]
    case_no = forms.get(filed[-1].seq, {}).get("case_no") if filed else None
    differs("立案编号", case.case_no or None, case_no or None)
    closed = next((e for e in events if e.kind == "case_closed"), None)
    differs("案件状态", case.status, "closed" if closed else "open")
    differs("办结时间", _instant(case.closed_at), _instant(closed.at) if closed else None)

    problems += _task_problems(case, completions, tasks)
    problems += _attachment_problems(case, events, files, cached, attachments)
    problems += _document_problems(case, events, documents)
    return problems


def amended_forms(events: Sequence[Event]) -> dict[int, dict[str, Any]]:
    """Each ``task_completed`` event's form (by the event's seq) as amended by the corrections
    (更正) recorded after it: a ``document_voided`` event names the completion it amends
    (``completion``: that event's seq) and the ``amended`` values, in chain order.

    The chain keeps the form as submitted and every amendment with its original values; the
    case's rows and the workflow show the amended form, so facts are compared with it.
    """
    forms: dict[int, dict[str, Any]] = {}
    for event in events:
        data = event.data if isinstance(event.data, dict) else {}
        if event.kind == "task_completed":
            form = data.get("form")
            forms[event.seq] = dict(form) if isinstance(form, dict) else {}
        elif event.kind == "document_voided":
            amended, seq = data.get("amended"), data.get("completion")
            if isinstance(amended, dict) and seq in forms:
                forms[seq].update(amended)
    return forms


def _task_problems(
    case: Case, completions: Sequence[Event], tasks: Sequence[Task] | None
) -> list[str]:
    """Completed task rows (the dossier's 办理经过) against the ``task_completed`` events."""
    if tasks is None:
        tasks = db.session.scalars(select(Task).where(Task.case_id == case.id)).all()
    rows = [t for t in tasks if t.state == "completed"]

    def key(name: str | None, label: Any, person: int | None, at: datetime | None) -> tuple:
        return (name, _text(label), person, _instant(at))

    shown = Counter(key(t.name, t.label, t.completed_by_id, t.completed_at) for t in rows)
    chained = Counter(key(e.task_name, e.data.get("label"), e.actor_id, e.at) for e in completions)
    problems = []
    for name, label, _person, _at in sorted((shown - chained).elements(), key=str):
        problems.append(f"办理记录“{label or name}”（办理人、时间）在审计链中没有对应的办理事件")
    for name, label, _person, _at in sorted((chained - shown).elements(), key=str):
        problems.append(f"审计链记载的办理“{label or name}”在案件的办理记录中缺失或被改动")
    return problems


def _attachment_problems(
    case: Case,
    events: Sequence[Event],
    files: bool,
    cached: bool,
    attachments: Sequence[Attachment] | None,
) -> list[str]:
    """Attachment rows against the ``attachment_added`` events (and the files, if asked)."""
    from server.attachments import file_problem  # it appends events through server.audit

    if attachments is None:
        attachments = db.session.scalars(
            select(Attachment).where(Attachment.case_id == case.id)
        ).all()
    rows = sorted(attachments, key=lambda a: a.id)
    # an issued document's PDF is an attachment established by its document_issued event
    added = {
        e.data.get("attachment"): e
        for e in events
        if e.kind in ("attachment_added", "document_issued")
    }
    problems = []
    for row in rows:
        event = added.pop(row.id, None)
        if event is None:
            problems.append(f"附件“{row.filename}”在审计链中没有上传记录")
            continue
        chained = (
            event.data.get("filename"),
            event.data.get("sha256"),
            event.data.get("size"),
            event.actor_id,
            _instant(event.at),
        )
        if (row.filename, row.sha256, row.size, row.uploaded_by_id, _instant(row.uploaded_at)) != (
            chained
        ):
            problems.append(
                f"附件“{row.filename}”的记录（文件名、大小、SHA-256、上传人或时间）与审计链"
                f"记载的“{_text(chained[0])}”不符"
            )
        elif files:
            problem = file_problem(row, cached=cached)
            if problem:
                problems.append(problem)
    for event in added.values():
        problems.append(f"审计链记载的附件“{_text(event.data.get('filename'))}”在案件记录中缺失")
    return problems


def _document_problems(
    case: Case, events: Sequence[Event], documents: Sequence[Document] | None
) -> list[str]:
    """Document rows (文号, SHA-256, void or in force, replacement) against the
    ``document_issued`` and ``document_voided`` events."""
    if documents is None:
        documents = db.session.scalars(select(Document).where(Document.case_id == case.id)).all()
    issued = {e.data.get("document"): e for e in events if e.kind == "document_issued"}
    voided = {e.data.get("document"): e for e in events if e.kind == "document_voided"}
    problems = []
    for row in sorted(documents, key=lambda d: d.id):
        event = issued.pop(row.id, None)
        if event is None:
            problems.append(f"文书“{row.number}”在审计链中没有生成记录")
            continue
        if (row.number, row.sha256, row.kind) != (
            event.data.get("number"),
            event.data.get("sha256"),
            event.data.get("kind"),
        ):
            problems.append(
                f"文书“{row.number}”的记录（文号、种类或 SHA-256）与审计链记载的"
                f"“{_text(event.data.get('number'))}”不符"
            )
        void = voided.get(row.id)
        if bool(row.void) != (void is not None):
            state = "已作废" if row.void else "有效"
            problems.append(f"文书“{row.number}”的记录为{state}，与审计链记载的不符")
        elif void is not None and row.replaced_by_id != void.data.get("replaced_by"):
            problems.append(f"文书“{row.number}”的更正文书与审计链记载的不符")
    # A chained document without a row is not reported: databases migrated from before the
    # document table keep the events of documents whose rows they never had (its PDF is still
    # an attachment, checked above).
    return problems
