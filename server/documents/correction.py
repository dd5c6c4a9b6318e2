"""Correcting (更正) an issued document: the old one is voided, keeping its number; a new one
is issued with the next number of the same counter (see ``docs/documents-engine.md``).

Only an officer of the issuing agency corrects (``server.scoping.correctable_document``). What
may be corrected: the fields of the issuing step's form that the template prints, except its
number field and the fields that decide routing (read by a BPMN or DMN expression, the
template's ``when`` or ``title_by``: ``workflows.routing``) — a routing error is not a
document correction. One transaction: the step's stored form is amended in the workflow state
(the chain keeps the original in the ``task_completed`` event and both the original and the
amended values in ``document_voided``), the old document is marked void (reason, time, by
whom, replaced by), the new document is rendered and numbered, and ``document_voided`` then
``document_issued`` are appended to the case's chain.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from server.audit import append_event
from server.case_facts import amended_forms
from server.documents import (
    document_facts,
    document_number,
    issue_date,
    issue_one,
    next_seq,
    timer_dues,
)
from server.extensions import db
from server.models import Case, Document, Event, Task, User
from server.operations import (
    Conflict,
    FormInvalid,
    _transaction,
    form_options,
    load_instance,
    lock_case,
)
from workflows.calendar import SHANGHAI, today_shanghai
from workflows.documents import Template, templates
from workflows.forms import resolve_form, validate_form
from workflows.routing import process_reads

#: The longest reason (更正原因) kept.
MAX_REASON = 500


@dataclass(frozen=True)
class Correctable:
    """What a correction of one document may change, and the values it starts from."""

    document: Document
    template: Template
    completion: Event
    """The ``task_completed`` event of the step that issued the document."""
    form: dict[str, Any]
    """The step's form as stored (amended by earlier corrections)."""
    editable: tuple[str, ...]
    """The fields the officer may correct, in the form's order."""
    locked: dict[str, str]
    """Fields the template prints that may not be corrected → why (Chinese)."""
    schema: dict[str, Any]
    """The step's form schema narrowed to :attr:`editable` (for the page and validation)."""


def _completion(document: Document, events: list[Event]) -> Event | None:
    """The ``task_completed`` event of the step that issued ``document`` (for a replacement,
    the step of the document it replaced)."""
    target = document.id
    for event in events:  # a replacement: the completion its voided predecessor names
        if event.kind == "document_voided" and event.data.get("replaced_by") == target:
            seq = event.data.get("completion")
            return next((e for e in events if e.seq == seq), None)
    issued = next(
        (e for e in events if e.kind == "document_issued" and e.data.get("document") == target),
        None,
    )
    if issued is None:
        return None
    return next(
        (
            e
            for e in events
            if e.seq > issued.seq
            and e.kind == "task_completed"
            and e.task_name == document.task_name
        ),
        None,
    )


def correctable(document: Document) -> Correctable:
    """What may be corrected in ``document`` (an issued one, not void).

    :raises Conflict: void already, or its step's record cannot be found.
    """
    if document.void:
        raise Conflict("该文书已作废，不能再更正")
    template = templates().get(document.kind)
    if template is None:
        raise Conflict("该文书的模板已不存在，不能更正")
    events = list(
        db.session.scalars(
            select(Event).where(Event.case_id == document.case_id).order_by(Event.seq)
        )
    )
    completion = _completion(document, events)
    if completion is None:
        raise Conflict("找不到生成该文书的办理记录，不能更正")
    form = amended_forms(events).get(completion.seq, {})
    task = document.task_name
    case = db.session.get(Case, document.case_id)
    assert case is not None
    from server.engine import get_engine

    process = get_engine().catalog.get(case.process_id, case.process_version)
    reads = process_reads(process.files)
    full = resolve_form(task, form_options())
    props = full.get("properties", {})
    printed = {name for ns, name, _ in template.fields() if ns == task and name in props}
    fixed: dict[str, str] = {}
    if template.number_field:
        fixed[template.number_field.partition(".")[2]] = "文号由系统生成"
    for ref in (template.when[0] if template.when else None, template.title_by):
        if ref and ref.partition(".")[0] == task:
            fixed[ref.partition(".")[2]] = "决定是否生成文书或文书标题，属于流程走向"
    locked: dict[str, str] = {}
    editable = []
    order = full.get("x-order") or list(props)
    for name in order:
        if name not in printed:
            continue
        if name in fixed:
            locked[name] = fixed[name]
        elif reads.decides_routing(task, name):
            locked[name] = "决定流程走向或期限，不属于文书更正"
        else:
            editable.append(name)
    schema = {
        **{k: v for k, v in full.items() if k not in ("properties", "required", "x-order")},
        "properties": {name: props[name] for name in editable},
        "required": [name for name in full.get("required", []) if name in editable],
        "x-order": editable,
        "x-rules": [rule for rule in full.get("x-rules", []) if rule.get("field") in editable],
    }
    return Correctable(document, template, completion, form, tuple(editable), locked, schema)


def field_label(spec: Correctable, name: str) -> str:
    """The Chinese label of a field of the step's form."""
    node = resolve_form(spec.document.task_name, form_options()).get("properties", {})
    return str(node.get(name, {}).get("title", name))


def correct_document(
    user: User, document: Document, fields: Any, reason: Any, now: datetime | None = None
) -> Document:
    """Void ``document`` and issue its correction with the next number of its counter.

    :param fields: the corrected values of editable fields (others refused, naming them).
    :param reason: 更正原因 (required).
    :raises FormInvalid: a bad field or reason, naming it (nothing changed).
    :raises Conflict: already void, or the case changed meanwhile.
    """
    now = now or datetime.now(UTC)
    with _transaction(keep_loaded=True):
        case = lock_case(document.case_id)
        db.session.refresh(document)
        spec = correctable(document)  # read under the case's lock: the chain as it stands
        changes = _checked_changes(spec, fields, reason)
        template = spec.template
        task = db.session.get(Task, document.task_id)
        if task is None:
            raise Conflict("找不到生成该文书的环节")
        instance = load_instance(case)
        seq = next_seq(document.agency_id, template.counter_kind, document.year)
        number = document_number(task.agency, template, document.year, seq)
        amended = {**spec.form, **changes}
        if template.number_field:
            amended[template.number_field.partition(".")[2]] = number
        instance.amend_form(document.task_name, spec.form, amended)
        case_data = instance.task_data(task.id)  # the step's branch as it completed
        case_data[document.task_name] = amended
        replacement = issue_one(
            template,
            user,
            case,
            task,
            case_data,
            amended,
            now,
            day=issue_date(template, amended, document.issued_at.astimezone(SHANGHAI).date()),
            seq=seq,
            timers=timer_dues(template, instance, task, amended),
            event={"replaces": document.id, "correction": True},
        )
        document.void = True
        document.void_reason = str(reason).strip()
        document.voided_at = now
        document.voided_by_id = user.id
        document.replaced_by_id = replacement.id
        original = {k: spec.form.get(k) for k in amended if spec.form.get(k) != amended[k]}
        append_event(
            case.id,
            "document_voided",
            actor=user,
            task_name=document.task_name,
            data={
                **document_facts(document),
                "reason": document.void_reason,
                "replaced_by": replacement.id,
                "replacement_number": number,
                "completion": spec.completion.seq,
                "original": original,
                "amended": {k: amended[k] for k in original},
            },
            at=now,
        )
        _amend_case_row(case, spec.completion, amended)
        case.state = instance.dumps()
    return replacement


def _checked_changes(spec: Correctable, fields: Any, reason: Any) -> dict[str, Any]:
    """The fields that change, checked (the reason too).

    :raises FormInvalid: naming each bad field.
    """
    errors: dict[str, str] = {}
    if not isinstance(reason, str) or not reason.strip():
        errors["reason"] = "请填写更正原因"
    elif len(reason.strip()) > MAX_REASON:
        errors["reason"] = f"更正原因不能超过{MAX_REASON}个字"
    if not isinstance(fields, Mapping):
        raise FormInvalid("更正内容有误", {**errors, "fields": "应为字段及其更正后的值"})
    for name in fields:
        if name in spec.locked:
            errors[str(name)] = f"“{field_label(spec, str(name))}”不能更正：{spec.locked[name]}"
        elif name not in spec.editable:
            errors[str(name)] = "该字段不在文书中，不能更正"
    if errors:
        raise FormInvalid("更正内容有误，请按提示修改", errors)
    changes = {name: value for name, value in fields.items() if spec.form.get(name) != value}
    amended = {**spec.form, **changes}
    found = validate_form(
        spec.document.task_name, amended, today=today_shanghai(), options=form_options()
    )
    errors = {path: message for path, message in found.items() if path.split(".")[0] in changes}
    if errors:
        raise FormInvalid("更正内容有误，请按提示修改", errors)
    if not changes:
        raise FormInvalid("没有更正任何内容", {"fields": "请修改需要更正的内容"})
    ns, _, date_name = spec.template.date.partition(".")
    if ns == spec.document.task_name and date_name in changes:
        try:
            year = date.fromisoformat(str(changes[date_name])).year
        except ValueError:
            year = spec.document.year
        if year != spec.document.year:
            raise FormInvalid(
                "更正不能改变文书的年度（文号按年度编号）",
                {date_name: "更正后的日期须与原文书同一年度"},
            )
    return changes


def _amend_case_row(case: Case, completion: Event, form: Mapping[str, Any]) -> None:
    """Keep the case row's facts read from a form (``server.case_facts``) in step with it."""
    first = db.session.scalar(
        select(Event.seq)
        .where(Event.case_id == case.id, Event.kind == "task_completed")
        .order_by(Event.seq)
        .limit(1)
    )
    if completion.seq == first:  # the registration: the unit and address shown
        case.unit_name = str(form.get("unit_name", case.unit_name))
        case.address = str(form.get("address", case.address))
    if completion.task_name == "file_case" and form.get("case_no"):
        case.case_no = str(form["case_no"])
