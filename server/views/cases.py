"""Cases: the list, registering a hazard, the case page and its attachments."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import selectinload

from server import operations
from server.attachments import AttachmentRejected, add_attachment, content_disposition, stored_path
from server.auth import roles_required
from server.display import Badge, cn_datetime, overdue_badge, utc
from server.engine import get_engine
from server.extensions import db
from server.form_render import Shown, build_form, describe, parse_form
from server.models import Attachment, Case, Deadline, Event, Task
from server.scoping import case_filter, task_filter, visible_case
from server.views.common import (
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
FILTERS = ("status", "district", "process", "overdue", "q")
STATUS_CHOICES = (("open", "办理中"), ("closed", "已办结"))
DEFAULT_PROCESS = "major_hazard"


def _overdue_clause(now: datetime) -> Any:
    """Cases with a missed deadline or a pending one already past due."""
    return exists().where(
        Deadline.case_id == Case.id,
        or_(Deadline.state == "missed", and_(Deadline.state == "pending", Deadline.due_at < now)),
    )


@bp.route("")
@login_required
def index() -> Any:
    """The cases the user may see, filtered and paged, newest first."""
    now = datetime.now(UTC)
    query = select(Case).where(case_filter(current_user))
    args = request.args
    if args.get("status"):
        query = query.where(Case.status == args["status"])
    if args.get("district"):
        query = query.where(Case.district == args["district"])
    if args.get("process"):
        query = query.where(Case.process_id == args["process"])
    if args.get("overdue"):
        query = query.where(_overdue_clause(now))
    text = args.get("q", "").strip()[:100]
    if text:
        query = query.where(
            or_(
                Case.number.contains(text, autoescape=True),
                Case.case_no.contains(text, autoescape=True),
                Case.unit_name.contains(text, autoescape=True),
            )
        )
    page = paginate(query.order_by(Case.opened_at.desc(), Case.id.desc()), page_number())
    overdue_ids = set(
        db.session.scalars(
            select(Case.id).where(Case.id.in_([c.id for c in page.items]), _overdue_clause(now))
        )
    )
    return render_template(
        "cases/index.html",
        page=page,
        overdue_ids=overdue_ids,
        processes=process_choices(),
        districts=district_choices(),
        statuses=STATUS_CHOICES,
        filters=filter_args(FILTERS),
    )


def _may_register() -> None:
    """404 unless the user's agency may register hazards."""
    if not current_user.agency.can_discover:
        abort(404)


@bp.route("/new", methods=["GET", "POST"])
@roles_required("officer")
def new() -> Any:
    """Register a hazard: the start form of a process; on success the case page."""
    _may_register()
    process_id = request.args.get("process", DEFAULT_PROCESS)
    if process_id not in get_engine().catalog.process_ids():
        abort(404)
    schema = resolve_form(operations.start_form(process_id), operations.form_options())
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    extra: dict[str, int] = {}
    status = 200
    if request.method == "POST":
        values = parse_form(schema, request.form)
        more = request.form.get("_add_rows")
        if more:
            extra = {more: 3}
        else:
            try:
                case = operations.start_case(current_user, process_id, values)
            except operations.FormInvalid as exc:
                errors, status = exc.fields or {"_form": exc.message}, 422
            except operations.OperationError as exc:
                flash(exc.message, "error")
                errors, status = {"_form": exc.message}, exc.status
            else:
                flash(f"隐患已登记，督办编号 {case.number}", "success")
                return redirect(case_url(case.id))
    elif not current_user.agency.is_city_level:
        values = {"district": current_user.agency.division}
    form = build_form(schema, values, errors, extra_rows=extra)
    return render_template("cases/new.html", form=form, process_id=process_id), status


# --------------------------------------------------------------------------- case page


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


def _deadline_rows(case: Case, tasks: dict[str, Task], now: datetime) -> list[DeadlineRow]:
    """The case's deadlines with their state, badge and working days late."""
    calendar = get_engine().calendar
    rows = []
    deadlines = db.session.scalars(
        select(Deadline)
        .where(Deadline.case_id == case.id)
        .options(selectinload(Deadline.agency))
        .order_by(Deadline.due_at, Deadline.id)
    )
    for d in deadlines:
        due = utc(d.due_at)
        guarded = tasks.get(d.task_id or "")
        finished = utc(guarded.completed_at) if guarded and guarded.completed_at else None
        if d.state == "met":
            when = utc(d.met_at) if d.met_at else finished
            late = calendar.working_days_between(due, when) if when and when > due else 0
            state = "逾期后办结" if late else "已按期办结"
            badge = Badge(state if not late else f"逾期{late}个工作日后办结", "closed")
        elif d.state == "missed" or due < now:
            when = utc(d.missed_at) if d.missed_at else None
            late = calendar.working_days_between(due, finished or now)
            state = "已逾期"
            badge = Badge(f"逾期{late}个工作日" if late else "已逾期", "overdue")
            if finished:
                badge = Badge(f"已逾期，{late}个工作日后办结" if late else "已逾期", "overdue")
        else:
            when, late, state = None, 0, "未到期"
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
            )
        )
    return rows


def _timeline(events: list[Event], labels: dict[str, str]) -> list[TimelineEntry]:
    """The case's events with Chinese names, actors and form data under labels."""
    options = operations.form_options()
    agency_names = dict(options.get("agencies", []))
    schemas: dict[str, Any] = {}

    def schema_of(name: str) -> Any:
        """The resolved form of a task name (cached; None without a form)."""
        if name not in schemas:
            try:
                schemas[name] = resolve_form(name, options)
            except KeyError:
                schemas[name] = None
        return schemas[name]

    from server.display import event_label

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
        )
        if event.kind == "task_completed":
            form_data = data.get("form")
            if isinstance(form_data, dict) and event.task_name:
                entry.shown = describe(schema_of(event.task_name), form_data)
            if isinstance(data.get("result"), dict) and data["result"]:
                entry.verdict = data["result"]
        elif event.kind == "case_opened":
            entry.lines.append(f"督办编号 {data.get('number', '')}")
        elif event.kind in ("deadline_missed", "timer_fired"):
            entry.title = f"{title}：{data.get('label', task_label)}"
            if data.get("due"):
                entry.lines.append(f"期限 {cn_datetime(data['due'])}")
        elif event.kind == "escalation":
            entry.title = f"{title}：{data.get('name') or data.get('code', '')}"
            targets = [agency_names.get(t, t) for t in data.get("targets", [])]
            if targets:
                entry.lines.append("通报 " + "、".join(targets))
        elif event.kind == "attachment_added":
            entry.lines.append(f"{data.get('filename', '')}（{_size(data.get('size', 0))}）")
        entries.append(entry)
    return entries


def _size(size: Any) -> str:
    """A file size for people."""
    size = int(size or 0)
    if size < 1024:
        return f"{size} 字节"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def _diagram(
    case: Case, tasks: list[Task], events: list[Event], missed: list[str]
) -> Markup | None:
    """The process diagram with done, current and overdue steps marked (None if unavailable)."""
    try:
        from workflows.diagram_svg import render_svg
    except ImportError:
        return None
    done = {t.name for t in tasks if t.state == "completed"}
    done |= {e.task_name for e in events if e.kind == "task_completed" and e.task_name}
    current = {t.name for t in tasks if t.state == "ready"}
    try:
        source = get_engine().catalog.get(case.process_id, case.process_version).bpmn_source
        svg = render_svg(
            source, done=sorted(done), current=sorted(current), overdue=sorted(set(missed))
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
    tasks = list(db.session.scalars(select(Task).where(Task.case_id == case.id)))
    events = list(
        db.session.scalars(
            select(Event).where(Event.case_id == case.id, Event.kind == "task_completed")
        )
    )
    return _diagram(case, tasks, events, _missed_guards(case))


def _missed_guards(case: Case) -> list[str]:
    """Names of the tasks whose deadline was missed (marked overdue)."""
    return list(
        db.session.scalars(
            select(Deadline.guards).where(
                Deadline.case_id == case.id,
                Deadline.state == "missed",
                Deadline.guards.is_not(None),
            )
        )
    )


@bp.route("/<int:case_id>")
@login_required
def show(case_id: int) -> Any:
    """The case page: facts, verdict, diagram, open tasks, deadlines, attachments, timeline."""
    case = visible_case(current_user, case_id)
    now = datetime.now(UTC)
    tasks = list(
        db.session.scalars(
            select(Task)
            .where(Task.case_id == case.id)
            .options(selectinload(Task.claimed_by))
            .order_by(Task.created_at, Task.id)
        )
    )
    events = list(
        db.session.scalars(
            select(Event)
            .where(Event.case_id == case.id)
            .options(selectinload(Event.actor), selectinload(Event.agency))
            .order_by(Event.seq)
        )
    )
    attachments = list(
        db.session.scalars(
            select(Attachment)
            .where(Attachment.case_id == case.id)
            .options(selectinload(Attachment.uploaded_by))
            .order_by(Attachment.uploaded_at, Attachment.id)
        )
    )
    missed = _missed_guards(case)
    try:
        labels = get_engine().catalog.get(case.process_id, case.process_version).labels
    except KeyError:
        labels = {}
    timeline = _timeline(events, labels)
    verdict = next((e.verdict for e in timeline if e.verdict), None)
    return render_template(
        "cases/show.html",
        case=case,
        now=now,
        open_tasks=[t for t in tasks if t.state == "ready"],
        workable_ids=set(
            db.session.scalars(
                select(Task.id).where(
                    Task.case_id == case.id, Task.state == "ready", task_filter(current_user)
                )
            )
        ),
        deadlines=_deadline_rows(case, {t.id: t for t in tasks}, now),
        timeline=list(reversed(timeline)),
        verdict=verdict,
        attachments=attachments,
        diagram=_diagram(case, tasks, events, missed),
        may_attach=current_user.has_role("officer"),
        size=_size,
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
        flash(f"附件未上传：{exc.message}", "error")
        return redirect(url_for("cases.show", case_id=case.id, _anchor="attachments"), code=303)
    except operations.OperationError as exc:
        flash(exc.message, "error")
        return redirect(url_for("cases.show", case_id=case.id, _anchor="attachments"), code=303)
    flash(f"附件已上传：{attachment.filename}", "success")
    return redirect(url_for("cases.show", case_id=case.id, _anchor="attachments"), code=303)


@bp.route("/<int:case_id>/attachments/<int:attachment_id>")
@login_required
def download(case_id: int, attachment_id: int) -> Any:
    """Download an attachment of a visible case (always as a download, never rendered)."""
    case = visible_case(current_user, case_id)
    attachment = db.session.scalar(
        select(Attachment).where(Attachment.id == attachment_id, Attachment.case_id == case.id)
    )
    if attachment is None:
        abort(404)
    path = stored_path(attachment.sha256)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=attachment.mime, conditional=True, max_age=0)
    response.headers["Content-Disposition"] = content_disposition(attachment)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response
