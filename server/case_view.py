"""What a case shows, for the case page and the PDF dossier alike.

The case page (:mod:`server.views.cases`) and the dossier (:mod:`server.dossier`) must tell the
same story: the same deadlines with the same state and working days late, the same timeline
with form data under the forms' Chinese labels, the same done / current / overdue steps on the
diagram. Both read them from here.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload, lazyload

from server import operations, overdue, queries
from server.audit import ChainCheck, verify_events
from server.display import Badge, campaign_area_name, cn_datetime, event_label, overdue_badge, utc
from server.engine import get_engine
from server.extensions import db
from server.form_render import Shown, describe
from server.models import Attachment, Case, Deadline, Document, Event, Task
from workflows.fire_grading import FIRE_LEVELS, INVESTIGATING_LEVELS, PROCEDURES, WARNING_SCOPES
from workflows.forms import load_form, resolve_form


@dataclass
class DeadlineRow:
    """A deadline as the case page shows it."""

    label: str
    due: datetime
    agency: str
    state: str
    badge: Badge
    when: datetime | None
    late: int
    provisional: bool
    finished: datetime | None = None
    """When the guarded work was done (on time or late); None while it is not."""
    status: str = overdue.PENDING
    """:func:`server.overdue.deadline_status` (the one definition of overdue)."""
    id: int = 0
    overdue_open: bool = False
    """Overdue and its work not done: a supervisor may urge it (催办)."""


@dataclass
class TimelineEntry:
    """One event of the case, ready to show."""

    at: datetime
    kind: str
    title: str
    actor: str
    agency: str
    lines: list[str] = field(default_factory=list)
    shown: list[Shown] = field(default_factory=list)
    verdict: dict[str, Any] | None = None
    seq: int = 0
    hash: str = ""


@dataclass
class CaseRecord:
    """The rows of one case: its tasks, events (chain order) and attachments."""

    case: Case
    tasks: list[Task]
    events: list[Event]
    attachments: list[Attachment]


@dataclass(frozen=True)
class DiagramStates:
    """BPMN element ids to mark on the case's diagram."""

    done: tuple[str, ...]
    current: tuple[str, ...]
    overdue: tuple[str, ...]


def case_record(case: Case) -> CaseRecord:
    """Load the tasks, events and attachments of a case (each in one query)."""
    params = {"case_id": case.id}
    tasks = list(db.session.scalars(_CASE_TASKS, params))
    events = case_events(case)
    attachments = list(db.session.scalars(queries.CASE_ATTACHMENTS, params))
    return CaseRecord(case, tasks, events, attachments)


def case_events(case: Case) -> list[Event]:
    """The case's events in chain order, with their actors and agencies."""
    return list(db.session.scalars(_CASE_EVENTS, {"case_id": case.id}))


# The case page's statements, built once with the case bound as ``case_id`` (building a
# statement and its cache key per request cost more than running it).
_CASE_TASKS = (
    select(Task)
    .where(Task.case_id == bindparam("case_id"))
    # their case is ``case``, already in the session: not joined again to every task; who
    # claimed them joined (one statement: selectinload's second pass cost more)
    .options(joinedload(Task.claimed_by), lazyload(Task.case))
    .order_by(Task.created_at, Task.id)
)
_CASE_EVENTS = (
    select(Event)
    .where(Event.case_id == bindparam("case_id"))
    # one statement: the actors and agencies joined, not selected by id afterwards
    .options(joinedload(Event.actor), joinedload(Event.agency))
    .order_by(Event.seq)
)
_CASE_DEADLINES = (
    select(Deadline)
    .where(Deadline.case_id == bindparam("case_id"))
    .options(joinedload(Deadline.agency))
    .order_by(Deadline.due_at, Deadline.id)
)


def process_labels(case: Case) -> dict[str, str]:
    """BPMN id → Chinese name of the tasks of the case's process version ({} if unknown)."""
    try:
        return dict(get_engine().catalog.get(case.process_id, case.process_version).labels)
    except KeyError:
        return {}


def case_deadlines(case: Case) -> list[Deadline]:
    """The case's deadline rows, by due time, with their agencies."""
    return list(db.session.scalars(_CASE_DEADLINES, {"case_id": case.id}))


def deadline_rows(
    case: Case, tasks: dict[str, Task], now: datetime, deadlines: list[Deadline] | None = None
) -> list[DeadlineRow]:
    """The case's deadlines with their state, badge and working days late.

    :param tasks: the case's task rows by id (a deadline is met when its task is completed).
    :param deadlines: the case's deadline rows (:func:`case_deadlines`), if already read.
    """
    calendar = get_engine().calendar
    rows = []
    for d in case_deadlines(case) if deadlines is None else deadlines:
        due = utc(d.due_at)
        guarded = tasks.get(d.task_id or "")
        finished = utc(guarded.completed_at) if guarded and guarded.completed_at else None
        if d.state != "pending" and d.met_at:
            finished = utc(d.met_at)  # a missed deadline gets its met_at when done, late
        status = overdue.deadline_status(d.state, due, d.met_at, case.status == "open", now)
        state = overdue.STATUS_LABELS[status]
        if status == overdue.MET:
            when, late = (utc(d.met_at) if d.met_at else finished), 0
            badge = Badge(state, "closed")
        elif status == overdue.MET_LATE:
            when = utc(d.missed_at) if d.missed_at else finished
            late = calendar.working_days_between(due, finished or now)
            badge = Badge(f"逾期{late}个工作日后办结" if late else "逾期后办结", "closed")
        elif status == overdue.OVERDUE:
            when = utc(d.missed_at) if d.missed_at else None
            late = calendar.working_days_between(due, now)
            badge = Badge(f"逾期{late}个工作日" if late else "已逾期", "overdue")
        elif status == overdue.LAPSED:
            when = utc(d.missed_at) if d.missed_at else None
            late = calendar.working_days_between(due, when or now)
            badge = Badge(state, "closed")
        else:
            when, late = None, 0
            badge = overdue_badge(due, now=now, calendar=calendar)
        rows.append(
            DeadlineRow(
                label=d.label,
                due=due,
                agency=d.agency.name if d.agency else "",
                state=state,
                badge=badge,
                when=when,
                late=late,
                provisional=d.provisional,
                finished=finished if d.state != "pending" else None,
                status=status,
                id=d.id,
                overdue_open=status == overdue.OVERDUE,
            )
        )
    return rows


@functools.cache
def _form_option_names(name: str) -> tuple[str, ...] | None:
    """The option lists (``x-options``) a task's form names, None when it has no form; the
    forms are files read once for the process's life."""
    try:
        schema = load_form(name)
    except KeyError:
        return None
    found: list[str] = []
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            listed = node.get("x-options")
            if isinstance(listed, str) and listed not in found:
                found.append(listed)
            stack.extend(node.values())
    return tuple(found)


@functools.lru_cache(maxsize=256)
def _resolved_form_of(name: str, lists: tuple[tuple[str, tuple[Any, ...]], ...]) -> Any:
    return resolve_form(name, {listed: list(pairs) for listed, pairs in lists})


def _resolved_form(name: str, options: Mapping[str, Any]) -> Any:
    """``resolve_form(name, options)``, None without a form; shared by the requests that see the
    same option lists (the database's agencies), so the caller must not change it. Resolving
    copies every choice into the schema: ~0.5 ms a form, for each completed step on the page."""
    names = _form_option_names(name)
    if names is None:
        return None
    lists = tuple(
        (listed, tuple(tuple(pair) for pair in options[listed]))
        for listed in names
        if listed in options
    )
    return _resolved_form_of(name, lists)


def timeline(
    events: list[Event], labels: dict[str, str], *, hashes_in_lines: bool = True
) -> list[TimelineEntry]:
    """The case's events with Chinese names, actors and form data under labels.

    :param labels: BPMN id → Chinese task name (see :func:`process_labels`).
    :param hashes_in_lines: whether an entry's lines may quote a hash (an earlier printing's
        head hash); the dossier keeps every hash in its appendix instead.
    """
    options = operations.form_options()
    names: dict[str, str] | None = None
    schemas: dict[str, Any] = {}

    def agency_names() -> dict[str, str]:
        """Agency code → name (read only for the events that name agencies)."""
        nonlocal names
        if names is None:
            names = dict(options.get("agencies", []))
        return names

    def schema_of(name: str) -> Any:
        """The resolved form of a task name (None without a form), read only."""
        if name not in schemas:
            schemas[name] = _resolved_form(name, options)
        return schemas[name]

    entries = []
    for event in events:
        data = event.data or {}
        task_label = data.get("label") or labels.get(event.task_name or "", event.task_name or "")
        title = event_label(event.kind)
        entry = TimelineEntry(
            at=event.at,
            kind=event.kind,
            title=f"{title}：{task_label}" if task_label else title,
            actor=event.actor.name if event.actor else "系统",
            agency=event.agency.name if event.agency else "",
            seq=event.seq,
            hash=event.hash,
        )
        if event.kind == "task_completed":
            form_data = data.get("form")
            if isinstance(form_data, dict) and event.task_name:
                entry.shown = describe(schema_of(event.task_name), form_data)
            if isinstance(data.get("result"), dict) and data["result"]:
                entry.verdict = data["result"]
            if data.get("late_reason"):
                late = data.get("working_days_late")
                entry.lines.append(
                    f"逾期办结（期限 {cn_datetime(data.get('due'))}"
                    + (f"，逾期{late}个工作日" if late else "")
                    + "）"
                )
                entry.lines.append(f"逾期原因：{data['late_reason']}")
        elif event.kind == "case_opened":
            entry.lines.append(f"督办编号 {data.get('number', '')}")
        elif event.kind in ("deadline_missed", "timer_fired"):
            entry.title = f"{title}：{data.get('label', task_label)}"
            if data.get("due"):
                entry.lines.append(f"期限 {cn_datetime(data['due'])}")
        elif event.kind == "escalation":
            entry.title = f"{title}：{data.get('name') or data.get('code', '')}"
            targets = [agency_names().get(t, t) for t in data.get("targets", [])]
            if targets:
                entry.lines.append("通报 " + "、".join(targets))
        elif event.kind == "task_reassigned":
            entry.lines.append(f"转给 {data.get('to_name', '')}（{data.get('to', '')}）")
        elif event.kind == "attachment_added":
            entry.lines.append(f"{data.get('filename', '')}（{human_size(data.get('size', 0))}）")
            if data.get("task_label"):
                entry.title = f"{title}（随“{data['task_label']}”表单上传）"
        elif event.kind == "document_issued":
            entry.lines.append(f"{data.get('title', '')}（{data.get('number', '')}）")
            if data.get("correction"):
                entry.lines.append("更正后重新生成")
        elif event.kind == "document_voided":
            entry.lines.append(
                f"原文书《{data.get('title', '')}》（{data.get('number', '')}）作废，"
                f"文号保留不再使用；更正后文号 {data.get('replacement_number', '')}"
            )
            entry.lines.append(f"更正原因：{data.get('reason', '')}")
            schema = schema_of(event.task_name) if event.task_name else None
            before = describe(schema, data.get("original") or {})
            after = describe(schema, data.get("amended") or {})
            for old, new in zip(before, after, strict=False):
                entry.lines.append(
                    f"{old.label}：{'、'.join(old.values)} → {'、'.join(new.values)}"
                )
        elif event.kind == "document_printed":
            entry.lines.append(
                f"《{data.get('title', '')}》（{data.get('number', '')}）"
                f"第{data.get('count', '')}次打印，原件 SHA-256 {str(data.get('sha256', ''))[:16]}…"
            )
        elif event.kind == "follow_up":
            entry.title = f"{title}：{data.get('label', '')}" if data.get("label") else title
            if data.get("note"):
                entry.lines.append(str(data["note"]))
            if data.get("notified"):
                entry.lines.append("通报 " + "、".join(map(str, data["notified"])))
        elif event.kind == "case_reclassified":
            entry.lines.extend(_reclassification_lines(data, agency_names()))
        elif event.kind == "dossier_printed":
            verified = "通过" if data.get("chain_ok") else "未通过"
            head = f"，链头哈希 {data.get('head', '')}" if hashes_in_lines else ""
            entry.lines.append(f"打印时审计链校验{verified}（{data.get('events', 0)}个事件{head}）")
            if data.get("export"):
                entry.lines.append(f"批量导出任务 {data['export']}")
        elif event.kind == "deadlines_recomputed":
            for change in data.get("changes", []):
                if isinstance(change, dict):
                    entry.lines.append(
                        f"{change.get('label', '')}：{cn_datetime(change.get('before'))} → "
                        f"{cn_datetime(change.get('after'))}"
                    )
        entries.append(entry)
    return entries


def _reclassification_lines(data: dict[str, Any], agency_names: dict[str, str]) -> list[str]:
    """What a ``case_reclassified`` event changed, and why."""
    before, after = data.get("from") or {}, data.get("to") or {}

    def area(values: dict[str, Any]) -> str:
        return campaign_area_name(values.get("campaign_area"))

    def department(values: dict[str, Any]) -> str:
        code = values.get("responsible_department")
        return agency_names.get(code, code) if code else "未指定"

    return [
        f"专项整治领域：{area(before)} → {area(after)}",
        f"行业主管部门：{department(before)} → {department(after)}",
        f"修改原因：{data.get('reason', '')}",
    ]


def human_size(size: Any) -> str:
    """A file size for people."""
    size = int(size or 0)
    if size < 1024:
        return f"{size} 字节"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def missed_guards(deadlines: list[Deadline]) -> list[str]:
    """Names of the tasks whose deadline was missed (marked overdue), of the case's deadline
    rows (:func:`case_deadlines`)."""
    return [d.guards for d in deadlines if d.state == "missed" and d.guards is not None]


def diagram_states(tasks: list[Task], events: list[Event], missed: list[str]) -> DiagramStates:
    """The steps done (completed task rows or task_completed events), current (ready task rows)
    and overdue (a missed deadline guards them)."""
    done = {t.name for t in tasks if t.state == "completed"}
    done |= {e.task_name for e in events if e.kind == "task_completed" and e.task_name}
    current = {t.name for t in tasks if t.state == "ready"}
    return DiagramStates(tuple(sorted(done)), tuple(sorted(current)), tuple(sorted(set(missed))))


def bpmn_source(case: Case) -> str:
    """The BPMN text of the case's own process version.

    :raises KeyError: when the version is unknown.
    """
    return get_engine().catalog.get(case.process_id, case.process_version).bpmn_source


@dataclass(frozen=True)
class VerdictLine:
    """One decision a process took at registration: what was decided, and on what basis."""

    label: str
    value: str
    basis: str

    def sentence(self) -> str:
        """``label：value（basis）`` for a line of text."""
        return f"{self.label}：{self.value}" + (f"（{self.basis}）" if self.basis else "")


_MAJOR = {True: "初步判定为重大火灾隐患", False: "初步判定不构成重大火灾隐患（按一般火灾隐患处理）"}
_INVESTIGATION = {True: "逐起调查、追究责任", False: "不在逐起调查追责范围"}
# (output, label, Chinese value of the output, output holding the basis)
_DECISIONS: tuple[tuple[str, str, Mapping[Any, str], str], ...] = (
    ("judgement_major", "GB 35181", _MAJOR, "judgement_basis"),
    ("fire_level", "火灾等级", FIRE_LEVELS, "fire_level_basis"),
    ("investigation_mandatory", "调查处理", _INVESTIGATION, "investigation_basis"),
    ("procedure", "调查程序", PROCEDURES, "procedure_basis"),
    ("investigating_level", "调查层级", INVESTIGATING_LEVELS, "investigating_level_basis"),
    ("warning_scope", "预警范围", WARNING_SCOPES, "warning_scope_basis"),
)
# Fires registered on process versions before the procedure decision existed: their process
# took the simplified path exactly when the fire was not investigated along the whole chain.
_LEGACY_PROCEDURE_BASIS = (
    "本案登记时的流程版本：逐起调查追责的火灾适用一般程序，其余火灾适用简易程序"
)


def _with_legacy_procedure(verdict: Mapping[str, Any]) -> Mapping[str, Any]:
    if "procedure" in verdict or "investigation_mandatory" not in verdict:
        return verdict
    procedure = "general" if verdict["investigation_mandatory"] else "simplified"
    return {**verdict, "procedure": procedure, "procedure_basis": _LEGACY_PROCEDURE_BASIS}


_MAJOR_AID = {
    True: "按已被代替的标准初判为重大火灾隐患（仅供参考），函告消防救援机构判定",
    False: "按已被代替的标准初判未达到判定条件（仅供参考），函告消防救援机构判定",
}


def _judgement_line(verdict: Mapping[str, Any]) -> VerdictLine:
    """The GB 35181 line, naming the edition used (and the one in force when it differs)."""
    edition = str(verdict.get("judgement_edition") or "GB 35181")
    major = verdict["judgement_major"]
    basis = str(verdict.get("judgement_basis") or "")
    if verdict.get("judgement_superseded"):
        applicable = verdict.get("judgement_applicable_edition") or "后续版本"
        return VerdictLine(
            f"{edition}（已被 {applicable} 代替）", _MAJOR_AID.get(major, str(major)), basis
        )
    return VerdictLine(edition, _MAJOR.get(major, str(major)), basis)


def verdict_lines(verdict: Mapping[str, Any] | None) -> list[VerdictLine]:
    """The decisions recorded with a registration, in Chinese (the GB 35181 judgement of a
    hazard, labelled with the edition used; the fire level, investigation, procedure (简易/一般),
    investigating level and warning scope of a fire)."""
    if not verdict:
        return []
    verdict = _with_legacy_procedure(verdict)
    return [
        _judgement_line(verdict)
        if key == "judgement_major"
        else VerdictLine(
            label, names.get(verdict[key], str(verdict[key])), str(verdict.get(basis) or "")
        )
        for key, label, names, basis in _DECISIONS
        if key in verdict
    ]


def chain_check(record: CaseRecord, documents: Sequence[Document] | None = None) -> ChainCheck:
    """The case's audit chain verified for its page, on the rows the page already loaded:
    events, the facts its rows show (``documents``: the case's document rows, if read), and
    its attachment files (re-hashed when their size or mtime changed since last hashed)."""
    return verify_events(
        record.case.id,
        record.events,
        case=record.case,
        files=True,
        cached=True,
        tasks=record.tasks,
        attachments=record.attachments,
        documents=documents,
    )
